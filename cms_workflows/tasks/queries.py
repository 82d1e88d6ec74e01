"""Reads of tasks (X-3): one task, a user's tasks, a site's tasks, the overdue ones.

A user's tasks are those named to them, claimed by them, and the unclaimed tasks of every position
they hold that counts at the task's site (the same site rule as every access decision).
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import bindparam
from sqlmodel import or_, select

from cms_workflows.access import COMPANY_WIDE, Resource, can, counts_at, held_positions, require
from cms_workflows.core.errors import NotFound
from cms_workflows.core.i18n import t
from cms_workflows.tasks.models import OutboxMessage, Task
from cms_workflows.tasks.states import ACTIVE_STATES, MessageStatus

FILE_PREFIX = "file:"  # evidence_ref of a stored file: "file:<sha256>"


def get_task(uow, ref: int | str, *, lock: bool = False) -> Task:
    """A task by id or by its key."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 18):
        q = select(Task).where(Task.id == int(ref))
    else:
        q = select(Task).where(Task.key == str(ref))
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    task = uow.exec(q).first()
    if task is None:
        raise NotFound("tasks.unknown_task", task=str(ref)[:200])
    return task


def find_by_key(uow, key: str) -> Task | None:
    return uow.exec(select(Task).where(Task.key == key)).first()


def title(task: Task, locale: str | None = None) -> str:
    """The task's title in the reader's language."""
    return t(task.title_key, locale=locale, **json.loads(task.title_params or "{}"))


def is_worker(uow, username: str, task: Task) -> bool:
    """May `username` work on the task: its named user, or a holder of its position at its site."""
    if task.assignee:
        return task.assignee == username
    return holds_position(uow, username, task.position, task.site)


def holds_position(uow, username: str, position: str, site: str) -> bool:
    held = held_positions(uow, username)
    return any(p == position and counts_at(s, site) for p, s in held)


def _user_tasks_statement(active_only: bool):
    q = select(Task).where(or_(Task.assignee == bindparam("user"), Task.claimed_by == bindparam("user"),
                               Task.position.in_(bindparam("positions", expanding=True))
                               & (Task.claimed_by == None)))  # noqa: E711
    if active_only:
        q = q.where(Task.status.in_(ACTIVE_STATES))
    return q.order_by(Task.due, Task.id)


# built once: "my tasks" is asked on every dashboard and inbox (bench/web.py: building the statement was most of it)
_USER_TASKS = {active_only: _user_tasks_statement(active_only) for active_only in (True, False)}


def tasks_for_user(uow, username: str, *, active_only: bool = True) -> list[Task]:
    """The user's tasks: named to them, claimed by them, or unclaimed for a position they hold."""
    held = held_positions(uow, username)
    positions = sorted({p for p, _s in held})
    found = []
    for task in uow.exec(_USER_TASKS[active_only], params={"user": username, "positions": positions}):
        if task.assignee or task.claimed_by or any(p == task.position and counts_at(s, task.site) for p, s in held):
            found.append(task)
    return found


def tasks_for_position(uow, position: str, site: str, *, active_only: bool = True) -> list[Task]:
    """The tasks of a position whose holders at `site` may claim them (company tasks: only at "*")."""
    q = select(Task).where(Task.position == position, Task.site == site)
    if active_only:
        q = q.where(Task.status.in_(ACTIVE_STATES))
    return list(uow.exec(q.order_by(Task.due, Task.id)))


def list_tasks(uow, actor: str, *, site: str | None = None, status: str | None = None,
               position: str | None = None, overdue_on: date | None = None) -> list[Task]:
    """Tasks for someone who may read tasks at the site (or company-wide, for all sites)."""
    require(uow, actor, "read", Resource("task", site=site or COMPANY_WIDE))
    q = select(Task)
    if site:
        q = q.where(Task.site == site)
    if status:
        q = q.where(Task.status == status)
    if position:
        q = q.where(Task.position == position)
    if overdue_on:
        q = q.where(Task.status.in_(ACTIVE_STATES), Task.due < overdue_on)
    return list(uow.exec(q.order_by(Task.due, Task.id)))


def overdue(uow, actor: str, day: date, *, site: str | None = None) -> list[Task]:
    """Overdue tasks: all at the site for a reader of tasks, otherwise the actor's own."""
    if can(uow, actor, "read", Resource("task", site=site or COMPANY_WIDE)):
        return list_tasks(uow, actor, site=site, overdue_on=day)
    return [task for task in tasks_for_user(uow, actor) if task.due < day and (not site or task.site == site)]


def outbox(uow, *, recipient: str | None = None, status: str | None = None) -> list[OutboxMessage]:
    q = select(OutboxMessage)
    if recipient:
        q = q.where(OutboxMessage.recipient == recipient)
    if status:
        q = q.where(OutboxMessage.status == status)
    return list(uow.exec(q.order_by(OutboxMessage.id)))


def inbox(uow, username: str) -> list[OutboxMessage]:
    """What the (coming) web inbox shows a user: their notifications, newest first."""
    q = select(OutboxMessage).where(OutboxMessage.recipient == username).order_by(OutboxMessage.id.desc())
    return list(uow.exec(q))


def stuck_messages(uow) -> list[OutboxMessage]:
    """Messages a sender took and did not mark sent (it stopped half way): perhaps delivered, never
    retried by themselves; a person checks them."""
    return outbox(uow, status=MessageStatus.SENDING)


def stored_task_files(uow) -> set[str]:
    """SHA-256 of the evidence files completed tasks refer to (`cms verify`)."""
    q = select(Task.evidence_ref).where(Task.evidence_ref.startswith(FILE_PREFIX))
    return {ref[len(FILE_PREFIX):] for ref in uow.exec(q)}


def visible_task(uow, actor: str, ref: int | str) -> Task:
    """A task for someone who may see it: whoever may work on it (is_worker), its claimer or completer,
    or a reader of tasks at its site; refused (naming the positions that read tasks) otherwise."""
    task = get_task(uow, ref)
    if actor in (task.claimed_by, task.completed_by) or is_worker(uow, actor, task):
        return task
    require(uow, actor, "read", Resource("task", site=task.site))
    return task
