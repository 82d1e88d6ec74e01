"""`cms users …`, `cms sites …`, `cms positions`: the organisation the access rules are written against."""

from __future__ import annotations

from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, parse_date, print_table
from cms_workflows.core.i18n import pick, t

users_app = typer.Typer(no_args_is_help=True)
sites_app = typer.Typer(no_args_is_help=True)


def positions() -> None:
    from cms_workflows.org import queries as org_queries

    db = database()
    with db.read() as session:
        deps = {d.code: d for d in org_queries.list_departments(session)}
        rows = []
        for p in org_queries.list_positions(session):
            d = deps[p.department_code]
            # the department's code is what `doc new --dept` and the registers take
            rows.append([pick(d.name_zh, d.name_en), d.code, p.code, pick(p.name_zh, p.name_en), t(f"cli.source_{p.source}")])
    print_table([t("cli.col_department"), t("cli.col_department_code"), t("cli.col_code"), t("cli.col_position"),
                 t("cli.col_source")], rows)


# ---------------------------------------------------------------- sites


@sites_app.command("add")
def sites_add(ctx: typer.Context, code: str, name: str = typer.Option(..., "--name"),
              name_en: str = typer.Option("", "--name-en")) -> None:
    from cms_workflows.org import service as org

    with database().unit_of_work() as session:
        org.create_site(session, acting_user(ctx), code, name, name_en)
    typer.echo(t("cli.site_added", code=code))


@sites_app.command("list")
def sites_list() -> None:
    from cms_workflows.org import queries as org_queries

    with database().read() as session:
        rows = [[s.code, s.name_zh, s.name_en] for s in org_queries.list_sites(session)]
    print_table([t("cli.col_code"), t("cli.col_site_name"), t("cli.col_site_name_en")], rows)


# ---------------------------------------------------------------- users


@users_app.command("add")
def users_add(ctx: typer.Context, username: str, name: str = typer.Option(..., "--name"),
              email: Optional[str] = typer.Option(None, "--email")) -> None:
    from cms_workflows.org import service as org

    with database().unit_of_work() as session:
        org.create_user(session, acting_user(ctx), username, name, email)
    typer.echo(t("cli.user_added", username=username))


@users_app.command("assign")
def users_assign(
    ctx: typer.Context,
    username: str,
    position: str,
    site: str = typer.Option(..., "--site"),
    valid_from: Optional[str] = typer.Option(None, "--from"),
    valid_to: Optional[str] = typer.Option(None, "--to"),
) -> None:
    from cms_workflows.org import service as org

    start, end = parse_date(valid_from, "--from"), parse_date(valid_to, "--to")
    with database().unit_of_work() as session:
        row = org.assign(session, acting_user(ctx), username, position, site, start, end)
    until = t("cli.until", date=row.valid_to) if row.valid_to else ""
    typer.echo(t("cli.assigned", username=username, position=position, site=site, valid_from=row.valid_from, valid_to=until, id=row.id))


@users_app.command("end")
def users_end(ctx: typer.Context, assignment_id: int, reason: str = typer.Option(..., "--reason"),
              on: Optional[str] = typer.Option(None, "--date")) -> None:
    from cms_workflows.org import service as org

    end = parse_date(on, "--date")
    with database().unit_of_work() as session:
        row = org.end_assignment(session, acting_user(ctx), assignment_id, end, reason)
    typer.echo(t("cli.assignment_ended", id=row.id, date=row.valid_to))


@users_app.command("deactivate")
def users_deactivate(ctx: typer.Context, username: str, reason: str = typer.Option(..., "--reason")) -> None:
    from cms_workflows.org import service as org

    with database().unit_of_work() as session:
        org.deactivate_user(session, acting_user(ctx), username, reason)
    typer.echo(t("cli.deactivated", username=username))


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    from cms_workflows.org import queries as org_queries

    rows = []
    with database().read() as session:
        today = session.clock.today()
        for u, assignments in org_queries.users_with_assignments(session, acting_user(ctx)):
            labels = []
            for a in assignments:
                label = f"#{a.id} {a.position_code}@{a.site_code} {a.valid_from}~{a.valid_to or ''}"
                labels.append(label if org_queries.is_held(a, today) else f"({label})")
            rows.append([u.username, u.display_name, t("cli.active" if u.active else "cli.inactive"), "; ".join(labels)])
    print_table([t("cli.col_username"), t("cli.col_name"), t("cli.col_active"), t("cli.col_positions")], rows)
