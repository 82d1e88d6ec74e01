"""`cms registers parameters|objectives|actions …` (R-6.3.1, R-6.3.3, R-6.3.4): the shared verbs come from
`cli.registers`, which calls `attach` with its groups (this module does not import it: no cycle); here are
the commands of these registers and the action plans' own verbs —
`actions progress` (report progress), `actions history` (the reports of a plan) and `actions behind`
(the plans behind schedule on a day)."""

from __future__ import annotations

from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, parse_date, print_table
from cms_workflows.core.i18n import t


def commands(name: str):
    """(add, change, import) of a carbon performance register."""
    from cms_workflows.registers import actions, objectives, parameters

    return {"parameters": (parameters.add_parameter, parameters.change_parameter, parameters.import_parameters),
            "objectives": (objectives.add_objective, objectives.change_objective, objectives.import_objectives),
            "actions": (actions.add_plan, actions.change_plan, actions.import_plans)}[name]


def attach(groups: dict[str, typer.Typer]) -> None:
    """Add the action plans' own verbs to their group (R-6.3.4)."""
    group = groups["actions"]

    @group.command("progress")
    def progress(ctx: typer.Context, code: str, on: str = typer.Option(..., "--date"),
                 percent: int = typer.Option(..., "--percent"), note: str = typer.Option("", "--note"),
                 evidence: str = typer.Option("", "--evidence")) -> None:
        from cms_workflows.registers import actions

        with database().unit_of_work() as uow:
            actions.record_progress(uow, acting_user(ctx), code, parse_date(on, "date"), percent, note=note,
                                    evidence=evidence)
        typer.echo(t("registers.performance.cli.progress_recorded", code=code, percent=percent, date=on))

    @group.command("history")
    def history(ctx: typer.Context, code: str) -> None:
        from cms_workflows.registers import performance_queries

        with database().read() as uow:
            reports = performance_queries.progress_history(uow, acting_user(ctx), code)
        if not reports:
            typer.echo(t("registers.cli.none"))
            return
        print_table([t("registers.performance.cli.col.date"), t("registers.performance.cli.col.percent"), t("registers.performance.cli.col.note"),
                     t("registers.performance.cli.col.evidence"), t("registers.performance.cli.col.recorded_by")],
                    [[r.reported_on.isoformat(), f"{r.percent}%", r.note.replace("\n", " "), r.evidence, r.recorded_by]
                     for r in reports])

    @group.command("behind")
    def behind(ctx: typer.Context, on: Optional[str] = typer.Option(None, "--date")) -> None:
        from cms_workflows.registers import performance_queries

        with database().read() as uow:
            day = parse_date(on, "date") or uow.clock.today()
            found = performance_queries.behind_schedule(uow, acting_user(ctx), day)
        if not found:
            typer.echo(t("registers.performance.cli.none_behind", date=day.isoformat()))
            return
        print_table([t("registers.actions.col.code"), t("registers.actions.col.title"), t("registers.actions.col.ends_on"),
                     t("registers.performance.cli.col.expected"), t("registers.performance.cli.col.percent"), t("registers.actions.col.owner_position")],
                    [[b.plan.code, b.plan.title.replace("\n", " "), b.plan.ends_on.isoformat(), f"{b.expected}%",
                      f"{b.reported}%", b.plan.owner_position] for b in found])
