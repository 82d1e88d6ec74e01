"""The own verbs of `cms registers changes|competence|training` (R-6.4, R-6.2.3, R-7.2): raise an
unscheduled carbon review for a planned change and list those awaiting one, list the holders lacking
a required training, record a training and list a course's records. The common verbs (add, change,
list, import, export, template) come from `cli.registers`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, parse_date, print_table
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.i18n import t


def add_verbs(groups: dict[str, typer.Typer]) -> None:
    """Attach the verbs to the register groups of `cli.registers` (passed in: no import cycle)."""
    for group, name, fn in ((groups["changes"], "raise-review", raise_review),
                            (groups["changes"], "awaiting-review", awaiting_review),
                            (groups["competence"], "gaps", gaps), (groups["training"], "record", record),
                            (groups["training"], "records", records)):
        group.command(name)(fn)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ValidationFailed("registers.bad_file", reason=f"{path}: {e.strerror}") from None


def raise_review(ctx: typer.Context, code: str, reason: str = typer.Option(..., "--reason")) -> None:
    from cms_workflows.registers import changes

    with database().unit_of_work() as uow:
        changes.raise_review(uow, acting_user(ctx), code, reason)
    typer.echo(t("registers.cli.review_raised", code=code))


def awaiting_review(ctx: typer.Context) -> None:
    from cms_workflows.registers import people_queries, queries

    with database().read() as uow:
        queries.rows(uow, acting_user(ctx), "changes")  # may the user read the register at all
        found = people_queries.changes_awaiting_review(uow)
    if not found:
        typer.echo(t("registers.cli.none"))
        return
    print_table([t("registers.changes.col.code"), t("registers.cli.col.title"), t("registers.cli.col.kind"),
                 t("registers.cli.col.raised_by"), t("registers.cli.col.reason")],
                [[c.code, c.title, t(f"registers.changes.kind.{c.kind}"), c.review_raised_by or "",
                  c.review_reason.replace("\n", " ")] for c in found])


def gaps(ctx: typer.Context, on: Optional[str] = typer.Option(None, "--date")) -> None:
    from cms_workflows.registers import people_queries

    with database().read() as uow:
        found = people_queries.competence_gaps(uow, acting_user(ctx), parse_date(on, "date") if on else None)
    if not found:
        typer.echo(t("registers.cli.no_gaps"))
        return
    print_table([t("registers.cli.col.position"), t("registers.cli.col.site"), t("registers.cli.col.user"),
                 t("registers.cli.col.competence"), t("registers.cli.col.course")],
                [[g.position, g.site, g.username, g.competence, g.course] for g in found])


def record(ctx: typer.Context, code: str, user: str = typer.Option(..., "--user"),
           on: str = typer.Option(..., "--date"), result: str = typer.Option(..., "--result"),
           evidence: str = typer.Option("", "--evidence"), file: Optional[Path] = typer.Option(None, "--file")) -> None:
    from cms_workflows.registers import competence

    data = _read(file) if file is not None else None
    with database().unit_of_work() as uow:
        rec = competence.record(uow, acting_user(ctx), code, user, parse_date(on, "date"), result, evidence=evidence,
                                file=data, filename=file.name if file else None)
    typer.echo(t("registers.cli.training_recorded", user=rec.username, code=code,
                 result=t(f"registers.training.result.{rec.result}")))


def records(ctx: typer.Context, code: str) -> None:
    from cms_workflows.registers import people_queries

    with database().read() as uow:
        found = people_queries.training_records(uow, acting_user(ctx), code)
    if not found:
        typer.echo(t("registers.cli.none"))
        return
    print_table([t("registers.cli.col.user"), t("registers.cli.col.trained_on"), t("registers.cli.col.result"),
                 t("registers.cli.col.evidence"), t("registers.cli.col.recorded_by")],
                [[r.username, r.trained_on.isoformat(), t(f"registers.training.result.{r.result}"),
                  r.evidence or (r.evidence_filename or ""), r.recorded_by] for r in found])
