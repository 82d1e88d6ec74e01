"""`cms`: the command line, over the same services as the web app and the flows.

Each command opens one unit of work. A user mistake (CmsError) prints one clear
message in the user's locale and exits 2, with nothing written; anything else is
a bug and shows its traceback.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Optional

import typer

from cms_workflows.core.errors import CmsError
from cms_workflows.core.i18n import pick, t

app = typer.Typer(help="碳管理体系工作流与文件控制 / carbon management system workflows", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
users_app = typer.Typer(help="用户与岗位任命 / users and position assignments", no_args_is_help=True)
sites_app = typer.Typer(help="站点 / sites", no_args_is_help=True)
policy_app = typer.Typer(help="权限策略 / access policy", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(sites_app, name="sites")
app.add_typer(policy_app, name="policy")
from cms_workflows.cli import accounting as accounting_cli  # noqa: E402
app.add_typer(accounting_cli.app, name="accounting")
from cms_workflows.cli import documents as documents_cli  # noqa: E402
app.add_typer(documents_cli.app, name="doc")


class State:
    actor: str = "admin"


state = State()


def acting_user(ctx: typer.Context) -> str:
    """The acting user from the root `cms` options (--as / CMS_USER), for the sub-command apps. Read from the
    context because under `python -m cms_workflows.cli` this module's `state` lives in __main__, not here."""
    return ctx.find_root().params.get("as_user") or state.actor


@app.callback()
def _global(
    as_user: Optional[str] = typer.Option(None, "--as", envvar="CMS_USER", help="acting user (default admin)"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="CMS_DATA_DIR", help="data folder"),
) -> None:
    if data_dir is not None:
        os.environ["CMS_DATA_DIR"] = str(data_dir)
    state.actor = as_user or "admin"


def database(check_schema: bool = True):
    """The configured database; unless it is `cms init` asking, one whose schema is current."""
    from cms_workflows.bootstrap import metadata  # noqa: F401  (complete model registry)
    from cms_workflows.core.db import Database, alembic_config

    db = Database.from_settings()
    if check_schema:
        from alembic.script import ScriptDirectory

        current = db.current_revisions()
        if not current:
            raise CmsError("cli.not_initialized", url=_safe_url(db.url))
        if current != set(ScriptDirectory.from_config(alembic_config(db.url)).get_heads()):
            raise CmsError("cli.needs_upgrade", url=_safe_url(db.url))
    return db


def parse_date(value: Optional[str], field: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        from cms_workflows.core.errors import ValidationFailed

        raise ValidationFailed("error.validation", problems=[{"field": field, "message": f"{value!r}: YYYY-MM-DD"}]) from None


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        typer.echo("  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(r)).rstrip())
        if n == 0:
            typer.echo("  ".join("-" * w for w in widths))


# ---------------------------------------------------------------- installation


@app.command()
def init(
    admin: str = typer.Option("admin", help="username of the first system administrator"),
    admin_name: str = typer.Option("系统管理员", help="display name of the administrator"),
) -> None:
    """创建或升级数据库（迁移），载入附录A岗位，建立系统用户与管理员 / create or upgrade the database."""
    from cms_workflows.bootstrap import installation

    db = database(check_schema=False)
    result = installation.initialize(db, admin=admin, admin_name=admin_name)
    typer.echo(t("cli.initialized", url=_safe_url(db.url), revisions=", ".join(sorted(db.current_revisions()))))
    if result.admin_created:
        typer.echo(t("cli.admin_created", username=admin))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def verify(
    no_anchor: bool = typer.Option(False, "--no-anchor", help="do not record the verified head"),
) -> None:
    """核验审核追踪哈希链与文件库 / verify the audit chain and every stored file; exit 1 on the first break."""
    from cms_workflows.audit.verification import verify_installation

    report = verify_installation(database(), record_anchor=not no_anchor)
    for line in report.lines:
        typer.echo(line)
    if not report.ok:
        typer.echo(t("cli.verify_failed"), err=True)
        raise typer.Exit(1)


@app.command("export-evidence")
def export_evidence(out: Path = typer.Argument(..., help="the zip file to write")) -> None:
    """导出证据包（审核事件、文件、清单与独立核验脚本）/ export the evidence pack for an external auditor."""
    from cms_workflows.audit import evidence

    manifest = evidence.export(database(), state.actor, out)
    typer.echo(t("cli.evidence_written", path=str(out), events=manifest["events"], files=sum(1 for m in manifest["members"] if m.startswith("files/"))))


@app.command()
def positions() -> None:
    """列出部门与岗位（附录A表A.1及增设岗位）/ list departments and positions."""
    from cms_workflows.org import service as org

    db = database()
    with db.read() as session:
        deps = {d.code: d for d in org.list_departments(session)}
        rows = []
        for p in org.list_positions(session):
            d = deps[p.department_code]
            rows.append([pick(d.name_zh, d.name_en), p.code, pick(p.name_zh, p.name_en), t(f"cli.source_{p.source}")])
    print_table([t("cli.col_department"), t("cli.col_code"), t("cli.col_position"), t("cli.col_source")], rows)


@app.command()
def demo(
    directory: Path = typer.Option(Path("cms-demo"), "--dir", help="folder for the demo's fresh database and files"),
) -> None:
    """一个完整PDCA年度的演示：新建SQLite数据库，运行全部流程，生成受控Word记录与证据包 / the main job."""
    from cms_workflows import demo as demo_run

    demo_run.run(directory, echo=typer.echo)


# ---------------------------------------------------------------- policy


@policy_app.command("check")
def policy_check() -> None:
    """检查 model.conf / policy.csv / vocabulary.yaml / approval routes / check the policy files."""
    from cms_workflows.bootstrap import installation

    for line in installation.check_policies():
        typer.echo(line)


# ---------------------------------------------------------------- sites


@sites_app.command("add")
def sites_add(code: str, name: str = typer.Option(..., "--name"), name_en: str = typer.Option("", "--name-en")) -> None:
    """添加站点 / add a site."""
    from cms_workflows.org import service as org

    with database().unit_of_work() as session:
        org.create_site(session, state.actor, code, name, name_en)
    typer.echo(t("cli.site_added", code=code))


@sites_app.command("list")
def sites_list() -> None:
    from cms_workflows.org import service as org

    with database().read() as session:
        rows = [[s.code, s.name_zh, s.name_en] for s in org.list_sites(session)]
    print_table([t("cli.col_code"), t("cli.col_name"), "English"], rows)


# ---------------------------------------------------------------- users


@users_app.command("add")
def users_add(
    username: str,
    name: str = typer.Option(..., "--name", help="display name"),
    email: Optional[str] = typer.Option(None, "--email"),
) -> None:
    """添加用户 / add a user."""
    from cms_workflows.org import service as org

    with database().unit_of_work() as session:
        org.create_user(session, state.actor, username, name, email)
    typer.echo(t("cli.user_added", username=username))


@users_app.command("assign")
def users_assign(
    username: str,
    position: str,
    site: str = typer.Option(..., "--site", help='site code, or "*" for company-wide'),
    valid_from: Optional[str] = typer.Option(None, "--from", help="YYYY-MM-DD (default today)"),
    valid_to: Optional[str] = typer.Option(None, "--to", help="YYYY-MM-DD, last day held"),
) -> None:
    """任命用户到某站点的岗位 / assign a user to a position at a site."""
    from cms_workflows.org import service as org

    start, end = parse_date(valid_from, "--from"), parse_date(valid_to, "--to")
    with database().unit_of_work() as session:
        row = org.assign(session, state.actor, username, position, site, start, end)
    until = t("cli.until", date=row.valid_to) if row.valid_to else ""
    typer.echo(t("cli.assigned", username=username, position=position, site=site, valid_from=row.valid_from, valid_to=until, id=row.id))


@users_app.command("end")
def users_end(
    assignment_id: int,
    reason: str = typer.Option(..., "--reason"),
    on: Optional[str] = typer.Option(None, "--date", help="last day held, YYYY-MM-DD (default today)"),
) -> None:
    """结束任职（不删除记录）/ end an assignment (nothing is deleted)."""
    from cms_workflows.org import service as org

    end = parse_date(on, "--date")
    with database().unit_of_work() as session:
        row = org.end_assignment(session, state.actor, assignment_id, end, reason)
    typer.echo(t("cli.assignment_ended", id=row.id, date=row.valid_to))


@users_app.command("deactivate")
def users_deactivate(username: str, reason: str = typer.Option(..., "--reason")) -> None:
    """停用用户并结束其全部任职 / deactivate a user and end their assignments."""
    from cms_workflows.org import service as org

    with database().unit_of_work() as session:
        org.deactivate_user(session, state.actor, username, reason)
    typer.echo(t("cli.deactivated", username=username))


@users_app.command("list")
def users_list() -> None:
    """列出用户及其任职 / list users with their assignments."""
    from cms_workflows.access import Resource, require
    from cms_workflows.org import service as org

    today = date.today()
    with database().read() as session:
        require(session, state.actor, "read", Resource("user"))
        by_user: dict[str, list[str]] = {}
        for a, u in org.list_assignments(session):
            current = a.valid_from <= today and (a.valid_to is None or a.valid_to >= today)
            label = f"#{a.id} {a.position_code}@{a.site_code} {a.valid_from}~{a.valid_to or ''}"
            by_user.setdefault(u.username, []).append(label if current else f"({label})")
        rows = [
            [u.username, u.display_name, t("cli.active" if u.active else "cli.inactive"), "; ".join(by_user.get(u.username, []))]
            for u in org.list_users(session)
        ]
    print_table([t("cli.col_username"), t("cli.col_name"), t("cli.col_active"), t("cli.col_positions")], rows)


# ---------------------------------------------------------------- entry point


def main() -> None:
    try:
        # without standalone mode click returns the code of a typer.Exit instead of exiting
        result = app(standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except CmsError as exc:
        typer.echo(t("cli.error_prefix") + exc.message(), err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except _click_exceptions() as exc:
        exc.show()
        sys.exit(exc.exit_code)


def _click_exceptions():
    import click

    return click.ClickException


if __name__ == "__main__":
    main()
