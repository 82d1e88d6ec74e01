"""The demo's calendar (issue 11): the PDCA year is played day by day on the installation's own clock.

The data year Y is accounted in January of the process year P = Y + 1; P's days then come one after
another: on each day the demo sets the clock (a `FixedClock`), runs the daily sweep (which opens the
cases their triggers ask for and moves every case on), and the demo users do that day's work through
the same service commands the CLI and the web call. After a person completes a case's task, the case
moves on in-process (`engine.after_task`), as `cms tasks complete` does.

Two ways to run the automatic part, so that `bench/cycle.py` can show what orchestration costs:
- through Prefect (the default, `cms demo`): the daily sweep and the processes' scheduled flows are real
  Prefect flow runs in Prefect's local mode, acting on this installation (`flows.cases.running_on`);
- through the services alone: the same sweep and triggers called directly.
"""

from __future__ import annotations

from datetime import date, datetime

from cms_workflows.core.clock import FixedClock


class DemoYear:
    def __init__(self, db, data_year: int, echo, *, via_flows: bool = True, plants=None,
                 procedure: str | None = None) -> None:
        from cms_workflows.demo import company

        self.db, self.data_year, self.year = db, data_year, data_year + 1
        self.procedure = procedure  # the document-control scene's procedure, revised during the year
        self.echo, self.via_flows = echo, via_flows
        self.plants = plants or company.SITES  # (code, Chinese name, English name) of each plant
        self.sites = [code for code, _zh, _en in self.plants]
        self.flow_runs = 0
        if not isinstance(db.clock, FixedClock):
            db.clock = FixedClock(datetime(self.year, 1, 5, 9, 0))

    # ------------------------------------------------------------ the calendar

    def on(self, month: int, day: int, hour: int = 9) -> date:
        """Move the installation's clock to that day of the process year."""
        clock = self.db.clock
        moment = datetime(self.year, month, day, hour, 0, tzinfo=clock.zone)
        if moment < clock.moment:  # a scene written out of order: the year's record would go back in time
            raise RuntimeError(f"demo calendar goes back from {clock.moment:%Y-%m-%d} to {moment:%Y-%m-%d}")
        clock.moment = moment
        return clock.today()

    @property
    def today(self) -> date:
        return self.db.clock.today()

    def sweep(self) -> None:
        """The daily sweep of today: duties, cases opened and moved on, reminders, escalations, mail."""
        if self.via_flows:
            from cms_workflows.flows.cases import running_on
            from cms_workflows.flows.daily_sweep import daily_sweep

            with running_on(self.db):
                daily_sweep(day=self.today)
            self.flow_runs += 1
        else:
            from cms_workflows.bootstrap import sweep

            sweep(self.db, self.today)

    def process_flow(self, deployment: str) -> None:
        """A process's scheduled flow on its day (its triggers, then its open cases moved on)."""
        if self.via_flows:
            import importlib

            from cms_workflows.flows.cases import running_on, spec

            flow = spec(deployment)
            function = getattr(importlib.import_module(f"cms_workflows.flows.{flow.function}"), flow.function)
            with running_on(self.db):
                function(day=self.today)
            self.flow_runs += 1
            return
        from cms_workflows.flows.cases import spec
        from cms_workflows.processes import engine
        from cms_workflows.processes.registry import processes

        known = processes()
        for kind in spec(deployment).kinds:
            for trigger in known[kind].triggers:
                trigger(self.db, self.today)
            with self.db.read() as uow:
                numbers = engine.open_numbers(uow, kind)
            for number in numbers:
                engine.advance(self.db, number)

    # ------------------------------------------------------------ people's work

    def do(self, fn, actor: str, *args, **kwargs):
        """One command in one unit of work, as the CLI and the web run them."""
        with self.db.unit_of_work() as uow:
            return fn(uow, actor, *args, **kwargs)

    def read(self, fn, *args, **kwargs):
        with self.db.read() as uow:
            return fn(uow, *args, **kwargs)

    def advance(self, number: str) -> list[str]:
        from cms_workflows.processes import engine

        return engine.advance(self.db, number)

    def complete(self, key: str, user: str, outcome: str, **evidence) -> list[str]:
        """A person completes a task (by its key); the case it belongs to moves on."""
        from cms_workflows.processes import engine
        from cms_workflows.tasks import service as tasks

        self.do(tasks.complete, user, key, outcome=outcome, **evidence)
        return engine.after_task(self.db, key)

    def case(self, number: str):
        from cms_workflows.processes import cases

        return self.read(cases.get_case, number)

    def case_tasks(self, number: str, prefix: str = "") -> list:
        from cms_workflows.processes import cases

        return self.read(lambda uow: cases.stage_tasks(uow, cases.get_case(uow, number), prefix))

    def open_cases(self, kind: str) -> list[str]:
        from cms_workflows.processes import engine

        return self.read(engine.open_numbers, kind)


def prepare_prefect(home) -> None:
    """Prefect's local mode keeps its state in the demo folder, quietly (FACTS.md: its telemetry raced
    the database migration; a fresh home needs more than the default start-up time)."""
    import os

    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def play(db, data_year: int, echo, *, via_flows: bool = True, plants=None, procedure: str | None = None) -> dict:
    """The PDCA year of the process year after `data_year`; echoes what it made and returns the numbers."""
    from cms_workflows.core.i18n import t
    from cms_workflows.demo import processes
    from cms_workflows.processes import queries

    if via_flows:
        prepare_prefect(db.settings.data_dir / "prefect")
    year = DemoYear(db, data_year, echo, via_flows=via_flows, plants=plants, procedure=procedure)
    made = processes.run(year)
    with db.read() as uow:
        found = list(reversed(queries.list_cases(uow, "gm")))
    for case in found:
        echo(t("demo.proc_case", number=case.number, kind=t(f"processes.kind.{case.kind}"),
               status=t(f"processes.state.{case.status}"), report=case.document_number or "—"))
    echo(t("demo.proc_done", cases=len(found), runs=year.flow_runs) if via_flows else
         t("demo.proc_done_services", cases=len(found)))
    return made
