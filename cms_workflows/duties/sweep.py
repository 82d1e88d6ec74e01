"""The daily sweep (X-3): generate the due occurrences of the duties (document reviews and
calibrations among them), send the reminders, escalate overdue tasks, send the outbox, sign a
checkpoint of the audit chain.

A plain service: `cms sweep`, the Prefect flow (`cms_workflows.flows.daily_sweep`, one Prefect task
per step) and the tests call the same functions. Every step works in units of work of its own (one
per duty, one per batch of tasks, the outbox sender one per message), so a sweep killed half way
loses only the unit it was in, and a re-run finishes the job. Each step is idempotent: the task key
makes a duty's occurrence unique, a reminder or escalation step is recorded once per task
(`tasks.schedule`), a message is sent once (`tasks.outbox`), and a checkpoint is signed only when the
chain has grown since the last one — so two sweeps on the same day change nothing the second time,
and a sweep run late catches up without duplicates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cms_workflows.audit.checkpoint_models import AuditCheckpoint
from cms_workflows.audit.queries import head_seq
from cms_workflows.core.errors import CmsError, Conflict, InvalidTransition
from cms_workflows.core.i18n import Message
from cms_workflows.duties.definitions import load
from cms_workflows.duties.generate import generate_duty
from cms_workflows.duties.sources import Source, described
from cms_workflows.tasks import outbox, schedule
from cms_workflows.tasks.models import Task
from cms_workflows.tasks.states import ACTIVE_STATES

log = logging.getLogger("cms_workflows.sweep")
SYSTEM = "system"  # the identity of automatic work (position system_agent)
STEPS = ("generate", "cases", "remind", "escalate", "send", "checkpoint")
BATCH = 200  # tasks per unit of work when reminding or escalating


@dataclass
class StepResult:
    name: str
    counts: dict = field(default_factory=dict)
    note: Message | None = None  # why a step did nothing (no signing key, nothing new)
    errors: list[str] = field(default_factory=list)  # CmsError messages; the other steps still run

    @property
    def changed(self) -> bool:
        return any(v for k, v in self.counts.items() if k != "left_for_inbox")


@dataclass
class SweepReport:
    day: date
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(s.errors for s in self.steps)

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.steps)


def generate(db, day: date, sources: dict[str, Source], actor: str = SYSTEM) -> StepResult:
    """One unit of work per duty: a failing duty (a source row with an unknown site…) stops only itself."""
    result = StepResult("generate", {"created": 0})
    for duty in load(sources=described(sources)):
        for attempt in (1, 2):  # a concurrent sweep took a key first: the second attempt sees it
            try:
                with db.unit_of_work() as uow:
                    result.counts["created"] += len(generate_duty(uow, actor, duty, day, sources))
                break
            except IntegrityError:
                if attempt == 2:
                    raise
            except CmsError as exc:
                log.warning("duty %s: %s", duty.code, exc.message())
                result.errors.append(f"{duty.code}: {exc.message()}")
                break
    return result


def _batches(db, day: date, column, command, actor: str) -> tuple[int, int]:
    """(tasks, notices): `command` on every unfinished task whose `column` day has come, by batches."""
    last, tasks, notices = 0, 0, 0
    while True:
        with db.unit_of_work() as uow:
            q = (select(Task.id).where(Task.status.in_(ACTIVE_STATES), column <= day, Task.id > last)
                 .order_by(Task.id).limit(BATCH))
            ids = list(uow.exec(q))
            for task_id in ids:
                try:  # refused before anything is written: another sweep did it meanwhile
                    notices += len(command(uow, actor, task_id, day=day))
                    tasks += 1
                except (Conflict, InvalidTransition):
                    continue
        if not ids:
            return tasks, notices
        last = ids[-1]


def remind(db, day: date, sources=None, actor: str = SYSTEM) -> StepResult:
    tasks, notices = _batches(db, day, Task.next_reminder_on, schedule.remind, actor)
    return StepResult("remind", {"tasks": tasks, "reminders": notices})


def escalate(db, day: date, sources=None, actor: str = SYSTEM) -> StepResult:
    tasks, notices = _batches(db, day, Task.next_escalation_on, schedule.escalate, actor)
    return StepResult("escalate", {"tasks": tasks, "escalations": notices})


def send(db, day: date, sources=None, actor: str = SYSTEM) -> StepResult:
    sent = outbox.send_pending(db, actor)
    return StepResult("send", {"sent": len(sent.sent), "retried": len(sent.retried), "failed": len(sent.failed),
                               "unknown": len(sent.unknown), "left_for_inbox": sent.left_for_inbox})


def checkpoint(db, day: date, sources=None, actor: str = SYSTEM) -> StepResult:
    """Sign the chain head when a signing key is configured and the chain grew since the last checkpoint
    (its own event aside), so a second sweep signs nothing new."""
    from cms_workflows.audit.checkpoints import sign_checkpoint

    if db.settings.signing_key is None:
        log.info("no signing key configured (CMS_SIGNING_KEY): no checkpoint signed")
        return StepResult("checkpoint", {"signed": 0}, note=Message("duties.sweep.no_signing_key"))
    with db.read() as uow:
        head = head_seq(uow)
        last = uow.exec(select(func.max(AuditCheckpoint.seq))).one()
    if last is not None and head <= last + 1:
        return StepResult("checkpoint", {"signed": 0}, note=Message("duties.sweep.nothing_to_sign", seq=last))
    signed = sign_checkpoint(db)
    return StepResult("checkpoint", {"signed": 1, "seq": signed["seq"]})


def cases(db, day: date, case_sweep=None) -> StepResult:
    """The PDCA cases (issue 11): open the cases the processes' triggers ask for, move every open case on.
    `case_sweep(db, day)` is the processes' sweep, handed in by the bootstrap (duties do not import
    processes); without it there is no such step. Before the reminders, so a stage task made today is
    mailed today."""
    done = case_sweep(db, day)
    return StepResult("cases", {"opened": len(done.opened), "moved": len(done.moved)}, errors=list(done.errors))


STEP_FUNCTIONS = {"generate": generate, "remind": remind, "escalate": escalate, "send": send,
                  "checkpoint": checkpoint}


def run_step(db, name: str, day: date, sources: dict[str, Source], actor: str = SYSTEM,
             case_sweep=None) -> StepResult:
    """One step; a user-facing error (a bad policy file, a bad mail server address) is reported, not raised,
    so the other steps still run."""
    try:
        if name == "cases":
            return cases(db, day, case_sweep) if case_sweep else StepResult("cases", {"opened": 0, "moved": 0})
        return STEP_FUNCTIONS[name](db, day, sources, actor)
    except CmsError as exc:
        log.warning("sweep step %s: %s", name, exc.message())
        return StepResult(name, errors=[exc.message()])


def sweep(db, day: date, sources: dict[str, Source], actor: str = SYSTEM, case_sweep=None) -> SweepReport:
    """Every step for `day`, in order (see the module's docstring); the cases' step with `case_sweep`."""
    report = SweepReport(day)
    for name in STEPS:
        if name == "cases" and case_sweep is None:
            continue
        report.steps.append(run_step(db, name, day, sources, actor, case_sweep))
    return report
