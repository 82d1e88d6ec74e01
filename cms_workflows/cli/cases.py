"""`cms cases …`: the PDCA cases (issue 11) — list, show (stage, texts, items, tasks), timeline, cancel, and
the human steps of every process (`steps`, `open`, `do`: the step table is `processes.steps`).
"""

from __future__ import annotations

import json
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, print_table, require_readable
from cms_workflows.core.i18n import t

app = typer.Typer(no_args_is_help=True)


def _state(case) -> str:
    return t(f"processes.state.{case.status}")


@app.command("list")
def list_(ctx: typer.Context, kind: Optional[str] = typer.Option(None, "--kind"),
          site: Optional[str] = typer.Option(None, "--site"),
          open_only: bool = typer.Option(False, "--open")) -> None:
    from cms_workflows.processes import queries

    with database().read() as uow:
        found = queries.list_cases(uow, acting_user(ctx), kind=kind, site=site, open_only=open_only)
        if not found:  # none, or none the user may read: the latter says so and fails (issue 15)
            require_readable(uow, acting_user(ctx), queries.case_object_types(kind), "cli.what.cases")
    if not found:
        typer.echo(t("cli.cases.none"))
        return
    rows = [[c.number, t(f"processes.kind.{c.kind}"), c.site, _state(c), t(f"cli.cases.trigger_{c.trigger}"),
             c.due.isoformat() if c.due else "—", c.document_number or "—"] for c in found]
    print_table([t(f"cli.cases.col_{n}") for n in ("number", "kind", "site", "status", "trigger", "due", "report")],
                rows)


@app.command("show")
def show(ctx: typer.Context, number: str) -> None:
    from cms_workflows.processes import queries
    from cms_workflows.tasks.queries import title

    with database().read() as uow:
        view = queries.show(uow, acting_user(ctx), number)
    case = view.case
    typer.echo(t("cli.cases.header", number=case.number, kind=t(f"processes.kind.{case.kind}"), site=case.site,
                 status=_state(case), trigger=t(f"cli.cases.trigger_{case.trigger}"), ref=case.trigger_ref or "—"))
    if view.parent or view.children:
        typer.echo(t("cli.cases.related", parent=view.parent or "—", children=", ".join(view.children) or "—"))
    if case.document_number:
        typer.echo(t("cli.cases.report", document=case.document_number))
    for field, text in view.texts.items():
        typer.echo(f"  {field}: {text}")
    for kind, rows in view.items.items():
        typer.echo(t("cli.cases.items", kind=kind, count=len(rows)))
        for item, data in rows:
            typer.echo(f"    {item.seq}. [{item.status or '—'}] {json.dumps(data, ensure_ascii=False, sort_keys=True)}")
    if view.tasks:
        print_table([t(f"cli.tasks.col_{c}") for c in ("id", "due", "title", "status")],
                    [[str(x.id), x.due.isoformat(), title(x), t(f"tasks.state.{x.status}")] for x in view.tasks])


@app.command("timeline")
def timeline(ctx: typer.Context, number: str) -> None:
    from cms_workflows.processes import queries

    with database().read() as uow:
        events = queries.timeline(uow, acting_user(ctx), number)
    print_table([t(f"cli.cases.col_{n}") for n in ("seq", "when", "actor", "event")],
                [[str(e.seq), e.occurred_at[:19].replace("T", " "), e.actor, e.action] for e in events])


@app.command("cancel")
def cancel(ctx: typer.Context, number: str, reason: str = typer.Option(..., "--reason")) -> None:
    from cms_workflows.processes import engine

    with database().unit_of_work() as uow:
        case = engine.cancel_case(uow, acting_user(ctx), number, reason)
    typer.echo(t("cli.cases.cancelled", number=case.number))


@app.command("steps")
def steps_(kind: Optional[str] = typer.Argument(None)) -> None:
    from cms_workflows.processes.steps import describe, steps

    known = steps()
    for code in ([kind] if kind else sorted(known)):
        if code not in known:
            from cms_workflows.processes.steps import step_of

            step_of(code, "")  # the unknown kind, named with the known ones
        typer.echo(f"{code}  {t(f'processes.kind.{code}')}")
        for verb, fn in sorted(known[code].items()):
            fields = " ".join(f"{n}={ty}" if required else f"[{n}={ty}]" for n, ty, required in describe(fn))
            typer.echo(f"  {verb} {fields}".rstrip())


@app.command("open")
def open_(ctx: typer.Context, kind: str, fields: list[str] = typer.Argument(None)) -> None:
    from cms_workflows.processes.steps import OPEN, arguments, step_of

    fn = step_of(kind, OPEN)
    values = arguments(fn, fields or [])
    with database().unit_of_work() as uow:
        case = fn(uow, acting_user(ctx), **values)
    typer.echo(t("cli.cases.opened", number=case.number, kind=t(f"processes.kind.{case.kind}"),
                 status=_state(case)))


@app.command("do")
def do(ctx: typer.Context, number: str, step: str, fields: list[str] = typer.Argument(None)) -> None:
    from cms_workflows.processes.steps import arguments, step_of
    from cms_workflows.processes import cases, engine

    db = database()
    with db.read() as uow:
        kind = cases.get_case(uow, number).kind
    fn = step_of(kind, step)
    values = arguments(fn, fields or [])
    with db.unit_of_work() as uow:
        fn(uow, acting_user(ctx), number, **values)
    moved = engine.advance(db, number)
    with db.read() as uow:
        case = cases.get_case(uow, number)
    typer.echo(t("cli.cases.done", number=number, step=step, status=_state(case),
                 moved=" → ".join(moved) if moved else "—"))
