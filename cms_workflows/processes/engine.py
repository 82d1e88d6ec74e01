"""The engine that moves cases on (DESIGN "Processes, flows and people"; issue 11 item 3).

The database is the source of truth: a case moves on when the condition of one of its stage's automatic
steps holds (`Process.auto`: the stage's tasks are done, an approved calculation run exists, the report's
route has decided). `advance` takes such steps one unit of work each until none holds, so running it
twice, or after a kill half way, does nothing twice. It runs:
- after a command that may complete a stage (`after_task`: a task of a case was completed),
- from the Prefect flow of each process (`flows/`), and
- in the daily sweep (`sweep`), which also opens the cases their triggers ask for (a due duty, a planned
  change marked for a review, a deviation over the threshold…), so a missed event loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select

from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import CmsError, ValidationFailed
from cms_workflows.processes import cases
from cms_workflows.processes.models import Case
from cms_workflows.processes.registry import process, processes

log = logging.getLogger("cms_workflows.processes")
FINAL = ("approved", "closed", "cancelled")
MAX_STEPS = 20  # a case has at most a handful of automatic steps in a row; more is a loop


def ready_step(uow, case: Case) -> str | None:
    """The first automatic step the case's stage allows now, or None."""
    for step in process(case.kind).auto.get(case.status, []):
        if step.ready(uow, case):
            return step.command
    return None


@command("processes.case.advance", action="advance", resource=cases.case_loader, audit_object=cases.AUDIT_OBJECT)
def advance_case(cmd: Command, number: str) -> str | None:
    """Take the automatic step that is ready (the system agent): the transition taken, or None."""
    case = cmd.subject
    step = ready_step(cmd.uow, case)
    if step is None:
        cmd.object_id = case.number
        return None
    cases.move(cmd, case, step)
    return step


def advance(db, number: str, actor: str = cases.SYSTEM) -> list[str]:
    """Move the case on as far as its conditions allow, one unit of work per step; the steps taken."""
    taken: list[str] = []
    for _ in range(MAX_STEPS):
        with db.read() as uow:
            case = cases.get_case(uow, number)
            if case.status in FINAL or ready_step(uow, case) is None:
                return taken
        with db.unit_of_work() as uow:
            step = advance_case(uow, actor, number)
            if step is None:  # someone else moved it in between
                uow.rollback()
                return taken
        taken.append(step)
    raise RuntimeError(f"case {number}: more than {MAX_STEPS} automatic steps in a row")


def after_task(db, task_key: str) -> list[str]:
    """A task was completed: if it is a case's, move that case on (in-process, the default)."""
    if not task_key.startswith(cases.TASK_PREFIX):
        return []
    number = task_key[len(cases.TASK_PREFIX):].split(":", 1)[0]
    return advance(db, number)


def open_numbers(uow, kind: str | None = None) -> list[str]:
    q = select(Case.number).where(Case.status.not_in(FINAL)).order_by(Case.id)
    if kind:
        q = q.where(Case.kind == kind)
    return list(uow.exec(q))


@dataclass
class SweepResult:
    opened: list[str] = field(default_factory=list)
    moved: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def sweep(db, day: date) -> SweepResult:
    """Open the cases the triggers ask for, then move every open case on as far as it goes. A trigger or a
    case that fails is reported and the others still run."""
    from cms_workflows.core.i18n import t

    result = SweepResult()
    for proc in processes().values():
        for trigger in proc.triggers:
            try:
                result.opened += trigger(db, day)
            except CmsError as exc:
                result.errors.append(f"{proc.kind}: {exc.message()}")
    with db.read() as uow:
        numbers = open_numbers(uow)
    for number in numbers:
        try:
            moved = advance(db, number)
        except CmsError as exc:
            result.errors.append(f"{number}: {exc.message()}")
            continue
        if moved:
            result.moved[number] = moved
    if result.errors:
        log.warning(t("processes.sweep_errors", count=len(result.errors)))
    return result


MAX_REASON = 500


@command("processes.case.cancel", action="cancel", resource=cases.case_loader, audit_object=cases.AUDIT_OBJECT)
def cancel_case(cmd: Command, number: str, reason: str) -> Case:
    """The carbon management lead cancels an open case (opened by mistake, overtaken), with the reason; its
    open tasks are cancelled with it."""
    from cms_workflows.tasks import service as tasks

    case = cmd.subject
    found = cases.text_problem("reason", reason, limit=MAX_REASON)
    if found:
        raise ValidationFailed("processes.invalid_input", number=case.number, problems=found)
    cases.move(cmd, case, "cancel")
    for task in cases.stage_tasks(cmd.uow, case):
        if task.status in ("open", "claimed"):
            tasks.cancel(cmd.uow, cmd.actor, task.id, reason.strip())
    cmd.payload["reason"] = reason.strip()
    return case
