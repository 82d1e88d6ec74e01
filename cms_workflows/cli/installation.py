"""`cms init`, `cms policy check`, `cms demo`: setting up an installation and showing what it does."""

from __future__ import annotations

from pathlib import Path

import typer

from cms_workflows.cli.common import database, safe_url
from cms_workflows.core.i18n import t

policy_app = typer.Typer(no_args_is_help=True)


def init(admin: str = typer.Option("admin"), admin_name: str = typer.Option("系统管理员")) -> None:
    from cms_workflows.bootstrap import installation

    db = database(check_schema=False)
    result = installation.initialize(db, admin=admin, admin_name=admin_name)
    typer.echo(t("cli.initialized", url=safe_url(db.url), revisions=", ".join(sorted(db.current_revisions()))))
    if result.admin_created:
        typer.echo(t("cli.admin_created", username=admin))


@policy_app.command("check")
def policy_check() -> None:
    from cms_workflows.bootstrap import installation

    for line in installation.check_policies():
        typer.echo(line)


def demo(directory: Path = typer.Option(Path("cms-demo"), "--dir")) -> None:
    from cms_workflows import demo as demo_run

    demo_run.run(directory, echo=typer.echo)
