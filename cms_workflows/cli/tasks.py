"""`cms tasks …`: the tasks of the signed-in user (X-3) — list, claim, release, complete, calendar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, parse_date, print_table
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import pick, t

app = typer.Typer(no_args_is_help=True)


def _who(task) -> str:
    from cms_workflows.access import position_labels

    if task.assignee:
        return task.assignee
    labels = position_labels().get(task.position)
    name = pick(*labels) if labels else task.position
    return f"{name}@{task.site}" + (f" ({task.claimed_by})" if task.claimed_by else "")


def _print(tasks) -> None:
    from cms_workflows.tasks.queries import title

    if not tasks:
        typer.echo(t("cli.tasks.none"))
        return
    rows = [[str(x.id), x.due.isoformat(), title(x), x.clause, _who(x), t(f"tasks.state.{x.status}"),
             t(f"tasks.evidence_kind.{x.evidence_kind}")] for x in tasks]
    print_table([t(f"cli.tasks.col_{c}") for c in ("id", "due", "title", "clause", "who", "status", "evidence")], rows)


@app.command("mine")
def mine(ctx: typer.Context) -> None:
    from cms_workflows.tasks import queries

    with database().read() as uow:
        _print(queries.tasks_for_user(uow, acting_user(ctx)))


@app.command("list")
def list_(ctx: typer.Context, site: Optional[str] = typer.Option(None, "--site"),
          status: Optional[str] = typer.Option(None, "--status"),
          position: Optional[str] = typer.Option(None, "--position")) -> None:
    from cms_workflows.tasks import queries

    with database().read() as uow:
        _print(queries.list_tasks(uow, acting_user(ctx), site=site, status=status, position=position))


@app.command("overdue")
def overdue(ctx: typer.Context, site: Optional[str] = typer.Option(None, "--site"),
            on: Optional[str] = typer.Option(None, "--date")) -> None:
    from cms_workflows.tasks import queries

    day = parse_date(on, "--date")
    with database().read() as uow:
        _print(queries.overdue(uow, acting_user(ctx), day or uow.clock.today(), site=site))


@app.command("claim")
def claim(ctx: typer.Context, task: str) -> None:
    from cms_workflows.tasks import service

    with database().unit_of_work() as uow:
        row = service.claim(uow, acting_user(ctx), task)
    typer.echo(t("cli.tasks.claimed", id=row.id))


@app.command("release")
def release(ctx: typer.Context, task: str) -> None:
    from cms_workflows.tasks import service

    with database().unit_of_work() as uow:
        row = service.release(uow, acting_user(ctx), task)
    typer.echo(t("cli.tasks.released", id=row.id))


def _read_evidence(path: Path) -> tuple[str, bytes]:
    from cms_workflows.core import limits

    try:
        limits.check("max_upload_bytes", path.stat().st_size)
        return path.name, path.read_bytes()
    except OSError as exc:
        raise ValidationFailed("tasks.invalid_completion", problems=[
            problem("--file", "cli.tasks.unreadable_file", path=str(path), reason=exc.strerror or str(exc))]) from None


@app.command("complete")
def complete(ctx: typer.Context, task: str, outcome: str = typer.Option(..., "--outcome"),
             comment: str = typer.Option("", "--comment"),
             file: Optional[Path] = typer.Option(None, "--file"),
             document: Optional[str] = typer.Option(None, "--document"),
             record: Optional[str] = typer.Option(None, "--record")) -> None:
    from cms_workflows.tasks import service

    from cms_workflows import bootstrap
    from cms_workflows.core.errors import CmsError

    evidence = _read_evidence(file) if file is not None else None
    db = database()
    with db.unit_of_work() as uow:
        row = service.complete(uow, acting_user(ctx), task, outcome=outcome, comment=comment, file=evidence,
                               document=document, record=record)
        key = row.key
    typer.echo(t("cli.tasks.completed", id=row.id, evidence=row.evidence_ref or "—"))
    try:  # the task was the last of its case's stage: the case moves on now, not at the next sweep
        moved = bootstrap.after_task(db, key)
    except CmsError as exc:  # the completion stands; the daily sweep tries the case again
        typer.echo(t("cli.tasks.case_not_moved", error=exc.message()), err=True)
        return
    if moved:
        typer.echo(t("cli.tasks.case_moved", case=key.split(":")[1], steps=" → ".join(moved)))


@app.command("cancel")
def cancel(ctx: typer.Context, task: str, reason: str = typer.Option(..., "--reason")) -> None:
    from cms_workflows.tasks import service

    with database().unit_of_work() as uow:
        row = service.cancel(uow, acting_user(ctx), task, reason)
    typer.echo(t("cli.tasks.cancelled", id=row.id))


@app.command("language")
def language(ctx: typer.Context, locale: str) -> None:
    from cms_workflows.tasks import service

    actor = acting_user(ctx)
    with database().unit_of_work() as uow:
        pref = service.set_locale(uow, actor, str(actor), locale)
    typer.echo(t("cli.tasks.language_set", language=pref.locale))


@app.command("ics")
def ics(ctx: typer.Context, user: Optional[str] = typer.Option(None, "--user"),
        position: Optional[str] = typer.Option(None, "--position"),
        site: str = typer.Option("*", "--site"),
        out: Optional[Path] = typer.Option(None, "--out")) -> None:
    from cms_workflows.tasks import calendar

    with database().read() as uow:
        actor = acting_user(ctx)
        if position:
            data = calendar.position_calendar(uow, actor, position, site)
        else:
            data = calendar.user_calendar(uow, actor, user)
    if out is None:
        sys.stdout.buffer.write(data)
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise ValidationFailed("cli.tasks.cannot_write", problems=[
            problem("--out", "cli.tasks.unwritable_file", path=str(out), reason=exc.strerror or str(exc))]) from None
    typer.echo(t("cli.tasks.ics_written", path=str(out)))
