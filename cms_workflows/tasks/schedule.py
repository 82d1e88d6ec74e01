"""Reminders and escalations of tasks (X-3), as a daily sweep runs them for a given day.

A reminder falls due `n` days before the task's due date for each `n` of its `reminder_days`; an
escalation step falls due `after_days` after the due date while the task is still not done. Each is
done once (a `TaskNotice` row, unique per task, kind and step) and the task keeps the day its next
one falls due (`next_reminder_on`, `next_escalation_on`), so:

- a second sweep the same day finds nothing to do (idempotent);
- a sweep after days off does what fell due meanwhile once, not once per missed day: of reminders
  that piled up only the latest is sent (the earlier ones are recorded as passed), none once the
  task is overdue (escalation has taken over); every escalation step due is sent, each to its own
  target.

`send_due_reminders(uow, actor, day)` and `escalate_overdue(uow, actor, day)` are what the sweep
calls; `remind` and `escalate` are the audited commands they run per task.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlmodel import select

from cms_workflows.access import Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import Conflict, InvalidTransition
from cms_workflows.tasks import outbox, routing
from cms_workflows.tasks.models import Task, TaskNotice
from cms_workflows.tasks.queries import get_task
from cms_workflows.tasks.states import ACTIVE_STATES, TASK

REMINDER, ESCALATION = "reminder", "escalation"


def task_loader(uow, task_ref, *_args, **_kwargs) -> Resource:
    """The task a command acts on, its row locked (two sweeps, or a sweep and a user, serialise)."""
    task = get_task(uow, task_ref, lock=True)
    return Resource("task", site=task.site, id=task.id, subject=task)


def require_state(task: Task, command_name: str) -> str:
    if not TASK.allows(task.status, command_name):
        raise InvalidTransition("tasks.wrong_state", task=task.id, action=TASK.command_label(command_name),
                                state=TASK.label(task.status))
    return TASK.target(task.status, command_name)


# ---------------------------------------------------------------- when the next one falls due

def reminder_days(task: Task) -> list[int]:
    return list(json.loads(task.reminder_days or "[]"))


def escalation_chain(task: Task) -> list[dict]:
    return list(json.loads(task.escalation or "[]"))


def next_reminder(task: Task, done: set[int]) -> date | None:
    days = [task.due - timedelta(days=n) for n in reminder_days(task) if n not in done]
    return min(days) if days else None


def next_escalation(task: Task, done: set[int]) -> date | None:
    for n, step in enumerate(escalation_chain(task)):
        if n not in done:
            return task.due + timedelta(days=step["after_days"])
    return None


def done_steps(uow, task: Task, kind: str) -> set[int]:
    return set(uow.exec(select(TaskNotice.step).where(TaskNotice.task_id == task.id, TaskNotice.kind == kind)))


def schedule(uow, task: Task) -> None:
    """Set the days the task's next reminder and escalation fall due (none once it is finished)."""
    if task.status in ACTIVE_STATES:
        task.next_reminder_on = next_reminder(task, done_steps(uow, task, REMINDER) if task.id else set())
        task.next_escalation_on = next_escalation(task, done_steps(uow, task, ESCALATION) if task.id else set())
    else:
        task.next_reminder_on = task.next_escalation_on = None


# ---------------------------------------------------------------- the commands

def _notice(task: Task, kind: str, step: int, falls_on: date, day: date, recipients: list[str],
            *, notified: bool = True, target: str | None = None) -> TaskNotice:
    return TaskNotice(task_id=task.id, kind=kind, step=step, falls_on=falls_on, done_on=day, target=target,
                      recipients=json.dumps(recipients), notified=notified)


@command("tasks.task.remind", action="remind", resource=task_loader, audit_object="task_task")
def remind(cmd: Command, task_ref: int | str, day: date | None = None) -> list[TaskNotice]:
    """The reminders of a task that have fallen due by `day` (default today), each recorded once."""
    uow, task, day = cmd.uow, cmd.subject, day or cmd.today
    require_state(task, "remind_task")
    done = done_steps(uow, task, REMINDER)
    pending = sorted((task.due - timedelta(days=n), n) for n in reminder_days(task)
                     if n not in done and task.due - timedelta(days=n) <= day)
    if not pending:
        raise Conflict("tasks.nothing_due", task=task.id, day=day.isoformat())
    recipients = routing.assignees(uow, task) if day <= task.due else []
    notices = []
    for falls_on, n in pending:
        latest = (falls_on, n) == pending[-1] and day <= task.due
        notices.append(_notice(task, REMINDER, n, falls_on, day, recipients if latest else [], notified=latest))
    uow.add_all(notices)
    if notices[-1].notified:
        outbox.enqueue(uow, task, REMINDER, recipients, days_left=(task.due - day).days)
    task.next_reminder_on = next_reminder(task, done | {n for _d, n in pending})
    uow.add(task)
    cmd.object_id = task.id
    cmd.payload = {"key": task.key, "day": day, "reminders": [n for _d, n in pending],
                   "sent": notices[-1].step if notices[-1].notified else None, "recipients": recipients}
    return notices


@command("tasks.task.escalate", action="escalate", resource=task_loader, audit_object="task_task")
def escalate(cmd: Command, task_ref: int | str, day: date | None = None) -> list[TaskNotice]:
    """The escalation steps of an overdue task that have fallen due by `day`, each sent once to its target."""
    uow, task, day = cmd.uow, cmd.subject, day or cmd.today
    require_state(task, "escalate_task")
    done = done_steps(uow, task, ESCALATION)
    chain = escalation_chain(task)
    pending = [(n, step) for n, step in enumerate(chain)
               if n not in done and task.due + timedelta(days=step["after_days"]) <= day]
    if not pending:
        raise Conflict("tasks.nothing_due", task=task.id, day=day.isoformat())
    notices = []
    for n, step in pending:
        target, recipients = routing.escalation_target(uow, task, step["to"])
        notices.append(_notice(task, ESCALATION, n, task.due + timedelta(days=step["after_days"]), day,
                               recipients, target=target))
        outbox.enqueue(uow, task, ESCALATION, recipients, target=target, days_overdue=(day - task.due).days,
                       assignees=", ".join(routing.assignees(uow, task)))
    uow.add_all(notices)
    task.next_escalation_on = next_escalation(task, done | {n for n, _s in pending})
    uow.add(task)
    cmd.object_id = task.id
    cmd.payload = {"key": task.key, "day": day,
                   "escalations": [{"step": x.step, "to": x.target, "recipients": json.loads(x.recipients)}
                                   for x in notices]}
    return notices


# ---------------------------------------------------------------- what the daily sweep calls

def due_reminders(uow, day: date) -> list[int]:
    """Ids of the unfinished tasks with a reminder fallen due by `day` and not yet done."""
    q = select(Task.id).where(Task.status.in_(ACTIVE_STATES), Task.next_reminder_on <= day).order_by(Task.id)
    return list(uow.exec(q))


def due_escalations(uow, day: date) -> list[int]:
    """Ids of the unfinished tasks with an escalation step fallen due by `day` and not yet done."""
    q = select(Task.id).where(Task.status.in_(ACTIVE_STATES), Task.next_escalation_on <= day).order_by(Task.id)
    return list(uow.exec(q))


def send_due_reminders(uow, actor: str, day: date) -> list[TaskNotice]:
    """Every reminder due by `day`, in the caller's unit of work (idempotent; catches up once)."""
    done = []
    for task_id in due_reminders(uow, day):
        done += remind(uow, actor, task_id, day=day)
    return done


def escalate_overdue(uow, actor: str, day: date) -> list[TaskNotice]:
    """Every escalation due by `day`, in the caller's unit of work (idempotent; catches up once)."""
    done = []
    for task_id in due_escalations(uow, day):
        done += escalate(uow, actor, task_id, day=day)
    return done
