"""What every process flow does the same way (issue 11 item 3; DESIGN "Processes, flows and people").

A process flow is thin: it calls the process engine (`processes.engine.advance`) and the process's
triggers (`processes.registry.process(kind).triggers`), one Prefect task per unit of work (one trigger,
one case moved on as far as it goes), tasks taking and returning plain values (case numbers, kinds, a
day). Everything a task does is idempotent in the database (a case key opens one case, a stage task key
makes one task, the engine takes a step only while its condition holds), so a flow run twice, or killed
half way and run again, does nothing twice. Retries are for transient errors only (the database or the
network away for a moment), never for a CmsError: bad data does not get better by trying again.

`FLOWS` names each flow's deployment, the process kinds it moves and the duty of policies/duties.yaml
whose calendar its schedule follows; prefect.yaml declares the same (tests/flows check that they agree).
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from cms_workflows.core.errors import CmsError

RUN_AT = (7, 0)  # hour, minute: after the daily sweep (06:30) has generated the day's duty tasks
REFERENCE_YEAR = 2025  # a year without 29 February: where a schedule's day falls in an ordinary year
RETRIES, RETRY_DELAYS = 3, [2, 10, 30]  # seconds: a restarted database or a dropped connection comes back


@dataclass(frozen=True)
class ProcessFlow:
    deployment: str  # deployment name, also the flow's name after "cms-"
    function: str  # the flow function in flows/<function>.py
    kinds: tuple[str, ...]  # the process kinds it moves (processes.registry)
    duty: str | None = None  # the duty in policies/duties.yaml whose calendar the schedule follows
    description: str = ""

    @property
    def flow_name(self) -> str:
        return f"cms-{self.deployment}"

    @property
    def entrypoint(self) -> str:
        return f"flows/{self.function}.py:{self.function}"

    def cron(self) -> str | None:
        """When the duty's occurrence is generated (its due date less its lead days, in an ordinary year),
        at RUN_AT: the day the process's triggers open its case; None for a flow run on demand."""
        if self.duty is None:
            return None
        from cms_workflows.duties.definitions import load

        duty = next(d for d in load() if d.code == self.duty)
        due = duty_rule(duty).after(_midnight(date(REFERENCE_YEAR, 1, 1)), inc=True).date()
        opens = due - timedelta(days=duty.lead_days)
        if opens.year != REFERENCE_YEAR:  # the lead time reaches into the year before: same day and month
            opens = opens.replace(year=REFERENCE_YEAR)
        return f"{RUN_AT[1]} {RUN_AT[0]} {opens.day} {opens.month} *"


def duty_rule(duty):
    from cms_workflows.duties.definitions import parse_rule

    return parse_rule(duty.recurrence, duty.start)


def _midnight(day: date):
    from datetime import datetime

    return datetime(day.year, day.month, day.day)


FLOWS = (
    ProcessFlow("carbon-review", "carbon_review", ("carbon_review",), "annual_carbon_review",
                "cms: carbon review (R-6.2.3): open the annual review when due, move carbon review cases on"),
    ProcessFlow("compliance-evaluation", "compliance_evaluation", ("compliance_evaluation",), "compliance_evaluation",
                "cms: compliance evaluation (R-6.2.2, R-9.1.3): open the 12-monthly evaluation, move cases on"),
    ProcessFlow("internal-audit", "internal_audit", ("audit_programme", "internal_audit"), "internal_audit_programme",
                "cms: internal audit (R-9.2): open the year's audit programme, move programme and audit cases on"),
    ProcessFlow("management-review", "management_review", ("management_review",), "management_review",
                "cms: management review (R-9.3): open the review when due, move review cases on"),
    ProcessFlow("corrective-action", "corrective_action", ("corrective_action",), None,
                "cms: nonconformity and corrective action (R-10.1, R-10.2): move cases on"),
    ProcessFlow("deviation", "deviation", ("deviation",), None,
                "cms: baseline deviation investigation (R-9.1.1.3): open investigations, move cases on"),
)


def spec(deployment: str) -> ProcessFlow:
    return next(f for f in FLOWS if f.deployment == deployment)


class ProcessFlowFailed(RuntimeError):
    """A trigger or a case failed (shown in the run's log); the others have still run."""


def transient(_task, _task_run, state) -> bool:
    """Retry only what may pass by itself: a database that is locked, restarting or unreachable, a
    dropped connection. Never a CmsError (refused, invalid, not found) nor a bug."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        state.result()
    except CmsError:
        return False
    except OperationalError:
        return True
    except DBAPIError as exc:
        return bool(exc.connection_invalidated)
    except (ConnectionError, TimeoutError):
        return True
    except Exception:  # noqa: BLE001 - a bug: fail at once, with its traceback in the run's log
        return False
    return False


_IN_PROCESS: list = []  # the installation of a caller running flows in its own process (`running_on`)


@contextmanager
def running_on(db):
    """Flows run in this process, while inside, act on `db` (its clock included) instead of the CMS_*
    settings' database: `cms demo` plays its year this way, its flows in Prefect's local mode."""
    _IN_PROCESS.append(db)
    try:
        yield db
    finally:
        _IN_PROCESS.pop()


@contextmanager
def installation():
    """The installation's database from the serving process's CMS_* settings (no connection string
    travels as a flow parameter), or the one a caller running flows in-process handed in."""
    from cms_workflows.bootstrap import configure
    from cms_workflows.core.db import Database

    configure()
    if _IN_PROCESS:
        yield _IN_PROCESS[-1]
        return
    db = Database.from_settings()
    try:
        yield db
    finally:
        db.dispose()


def registered(kinds: tuple[str, ...]) -> list:
    """The processes of `kinds` that exist (issue 11 lands process by process)."""
    from cms_workflows.processes.registry import processes

    known = processes()
    return [known[k] for k in kinds if k in known]


@task(name="case-trigger", cache_policy=NO_CACHE, retries=RETRIES, retry_delay_seconds=RETRY_DELAYS,
      retry_condition_fn=transient)
def run_trigger(kind: str, index: int, day: date) -> list[str]:
    """One trigger of a process for `day`: the case numbers it opened (none when they exist already)."""
    from cms_workflows.processes.registry import process

    with installation() as db:
        opened = process(kind).triggers[index](db, day)
    get_run_logger().info("%s trigger %d on %s: opened %s", kind, index, day, opened or "nothing")
    return list(opened)


@task(name="open-cases", cache_policy=NO_CACHE, retries=RETRIES, retry_delay_seconds=RETRY_DELAYS,
      retry_condition_fn=transient)
def open_cases(kinds: tuple[str, ...]) -> list[str]:
    from cms_workflows.processes.engine import open_numbers

    with installation() as db, db.read() as uow:
        return [n for kind in kinds for n in open_numbers(uow, kind)]


@task(name="case-advance", cache_policy=NO_CACHE, retries=RETRIES, retry_delay_seconds=RETRY_DELAYS,
      retry_condition_fn=transient)
def advance_case(number: str, kinds: tuple[str, ...], flow: str) -> list[str]:
    """Move one case on as far as its conditions allow (each step its own unit of work): the steps taken."""
    from cms_workflows.processes import cases, engine

    with installation() as db:
        with db.read() as uow:
            kind = cases.get_case(uow, number).kind
        if kind not in kinds:
            raise CmsError("flows.wrong_kind", number=number, kind=kind, flow=flow, kinds=", ".join(kinds))
        moved = engine.advance(db, number)
    get_run_logger().info("%s: %s", number, " → ".join(moved) if moved else "nothing ready")
    return moved


def run_process(flow: ProcessFlow, case_number: str | None, day: date | None) -> dict:
    """The body of every process flow: one case moved on, or (no case named) the triggers of `day`
    (default today in the installation's zone) and then every open case of the flow's kinds."""
    kinds = tuple(p.kind for p in registered(flow.kinds))
    if case_number:
        return {"case": case_number, "moved": advance_case(case_number, flow.kinds, flow.deployment)}
    from cms_workflows.core.clock import Clock
    from cms_workflows.core.config import get_settings

    day = day or Clock(get_settings().timezone).today()
    failed, opened, moved = [], [], {}
    for proc in registered(flow.kinds):
        for index, trigger in enumerate(proc.triggers):
            name = f"trigger-{proc.kind}-{getattr(trigger, '__name__', index)}-{day.isoformat()}"
            state = run_trigger.with_options(task_run_name=name)(proc.kind, index, day, return_state=True)
            if state.is_failed():
                failed.append(name)
            else:
                opened += state.result()
    for number in open_cases(kinds) if kinds else []:
        state = advance_case.with_options(task_run_name=f"advance-{number}")(number, kinds, flow.deployment,
                                                                             return_state=True)
        if state.is_failed():  # the other cases still move on
            failed.append(number)
        elif state.result():
            moved[number] = state.result()
    if failed:
        raise ProcessFlowFailed(", ".join(failed))
    return {"day": day.isoformat(), "opened": opened, "moved": moved}


def deployment_of(flow: ProcessFlow, function, timezone: str | None = None):
    """The deployment `cms serve` serves for `flow`: its schedule (if any) in the installation's zone."""
    from prefect.schedules import Cron

    from cms_workflows.core.config import get_settings

    cron = flow.cron()
    schedules = [Cron(cron, timezone=timezone or get_settings().timezone)] if cron else []
    return function.to_deployment(name=flow.deployment, schedules=schedules, description=flow.description)


def deployments(timezone: str | None = None) -> list:
    """Every process flow's deployment (flows/<function>.py)."""
    found = []
    for flow in FLOWS:
        module = importlib.import_module(f"cms_workflows.flows.{flow.function}")
        found.append(module.deployment(timezone))
    return found
