"""`cms init`, `cms policy check`, `cms demo`: setting up an installation and showing what it does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import database, safe_url
from cms_workflows.core.i18n import t

policy_app = typer.Typer(no_args_is_help=True)


def init(admin: str = typer.Option("admin"), admin_name: str = typer.Option("系统管理员"),
         admin_password_stdin: bool = typer.Option(False, "--admin-password-stdin"),
         signing_key: Optional[Path] = typer.Option(None, "--signing-key")) -> None:
    from cms_workflows.bootstrap import installation

    db = database(check_schema=False)
    key = None
    configured = db.settings.signing_key
    if signing_key is None and configured is not None and not Path(configured).exists():
        signing_key = Path(configured)  # CMS_SIGNING_KEY names a key not made yet: this is where it goes
    if signing_key is not None:  # first: an existing key, or a path inside the data folder, stops init here
        from cms_workflows.audit.checkpoints import create_signing_key

        key = create_signing_key(db.settings, signing_key)
    result = installation.initialize(db, admin=admin, admin_name=admin_name)
    if result.app_role:
        typer.echo(t("cli.app_role_granted", role=result.app_role))
    if key is not None:
        typer.echo(t("cli.signing_key_created", **key))
    typer.echo(t("cli.initialized", url=safe_url(db.url), revisions=", ".join(sorted(db.current_revisions()))))
    if result.admin_created:
        typer.echo(t("cli.admin_created", username=admin))
        _first_sign_in(db, admin, admin_password_stdin)
    else:
        typer.echo(_admin_kept(db, admin))


def _admin_kept(db, admin: str) -> str:
    """What `init` did about `--admin` on an installation that has its administrator already: nothing, said."""
    from cms_workflows.org import queries as org_queries

    with db.read() as session:
        admins = sorted({u for u, p, _s in org_queries.active_assignments(session) if p == "system_admin"})
    if admin in admins:
        return t("cli.admin_exists_unchanged", username=admin)
    return t("cli.admin_not_created", username=admin, admins="、".join(admins))


def _first_sign_in(db, admin: str, from_stdin: bool) -> None:
    """The administrator's first password: from standard input, typed twice at a terminal, or (neither)
    generated and shown once. Whoever initialises the installation is then signed in as the administrator."""
    from cms_workflows.cli.identity import read_secret, sign_in
    from cms_workflows.identity import service as identity

    generated = not from_stdin and not sys.stdin.isatty()
    password = identity.generated_password() if generated else read_secret("cli.new_password_prompt", from_stdin, confirm=True)
    with db.unit_of_work() as uow:
        identity.set_password(uow, admin, admin, password)
    if generated:
        typer.echo(t("cli.admin_password_generated", username=admin, password=password))
    typer.echo(sign_in(db, admin, password))


@policy_app.command("check")
def policy_check() -> None:
    from cms_workflows.bootstrap import installation

    for line in installation.check_policies():
        typer.echo(line)


def demo(directory: Path = typer.Option(Path("cms-demo"), "--dir")) -> None:
    from cms_workflows import demo as demo_run
    from cms_workflows.cli.progress import progress

    with progress("cli.progress.demo", demo_run.STEPS) as on_progress:
        demo_run.run(directory, echo=typer.echo, on_progress=on_progress)
