"""The signed-in user's own work: the inbox (their tasks, the approvals waiting for them, their
notifications), a task's page with claiming and completing it, and their calendar (a month grid and
the .ics file).

Every route here is OWN. Who may see a task is the task's own rule, not a policy line: whoever may work
on it (a holder of its position at its site, or its named user — who need not hold `task read`), its
claimer or completer, or a reader of tasks at its site (`tasks.queries.visible_task`). Claiming and
completing are decided by the task commands themselves, by the same rule; a refusal is their 403.
"""

from __future__ import annotations

import calendar as month_calendar
import re
from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from cms_workflows.core.errors import CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import current_locale, t
from cms_workflows.web.authorization import OWN
from cms_workflows.web.dashboard import scheduled_duties
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.rendering import page, position_name
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)

FLASHES = ("claimed", "released", "completed", "case_moved", "case_not_moved")
EVIDENCE_FIELDS = ("file", "document", "record")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
NOTIFICATIONS_SHOWN = 50


# ---------------------------------------------------------------- inbox

def _notifications(uow, username: str) -> list[dict]:
    from cms_workflows.tasks import outbox
    from cms_workflows.tasks import queries as tasks

    out = []
    for message in tasks.inbox(uow, username)[:NOTIFICATIONS_SHOWN]:
        subject, body = outbox.render(uow, message, current_locale())
        out.append({"message": message, "subject": subject, "body": body})
    return out


@pages.get("/inbox", dependencies=[OWN])
def inbox(request: Request, viewer: Viewer = Depends(current_viewer)):
    from cms_workflows.documents.approval import awaiting
    from cms_workflows.tasks import queries as tasks

    with viewer.reading() as uow:
        context = {"tasks": tasks.tasks_for_user(uow, viewer.username), "approvals": awaiting(uow, viewer.username),
                   "notifications": _notifications(uow, viewer.username), "today": uow.clock.today()}
    return page(request, "inbox.html", title=t("web.work.inbox.title"), task_title=tasks.title,
                position_name=position_name, **context)


# ---------------------------------------------------------------- one task

def case_of(task) -> str | None:
    """The case number of a task of a process case (key "case:<number>:<step>")."""
    parts = task.key.split(":")
    return parts[1] if len(parts) >= 3 and parts[0] == "case" else None


def _skipped(task) -> tuple[str, ...]:
    """The evidence fields this task does not take: its own kind only (a file also for a task needing none)."""
    wanted = {"none": ("file",)}.get(task.evidence_kind, (task.evidence_kind,))
    return tuple(f for f in EVIDENCE_FIELDS if f not in wanted)


def _task_context(uow, username: str, task_id: int) -> dict:
    from cms_workflows.audit import events_for
    from cms_workflows.tasks import queries as tasks
    from cms_workflows.tasks.states import ACTIVE_STATES, TaskStatus

    task = tasks.visible_task(uow, username, task_id)
    worker = tasks.is_worker(uow, username, task)
    may_complete = worker and task.status in ACTIVE_STATES and task.claimed_by in (None, username)
    return {"task": task, "task_title": tasks.title(task), "case": case_of(task),
            "history": events_for(uow, "task_task", task.id), "position_name": position_name,
            "may_claim": worker and task.status == TaskStatus.OPEN and not task.assignee,
            "may_release": task.status == TaskStatus.CLAIMED and task.claimed_by == username,
            "may_complete": may_complete, "skip": _skipped(task), "today": uow.clock.today()}


def _task_page(request: Request, viewer: Viewer, task_id: int, status_code: int = 200, values=None, errors=None,
               flash: str | None = None):
    with viewer.reading() as uow:
        context = _task_context(uow, viewer.username, task_id)
    return page(request, "task.html", status_code=status_code, title=context["task_title"],
                complete_form=form("task_complete"), claim_form=form("task_claim"), values=values or {},
                errors=errors or {}, flash=flash if flash in FLASHES else None, **context)


def form_errors(exc: ValidationFailed, shown: tuple[str, ...]) -> dict[str, str]:
    """field_errors, with problems of fields not on the page (or of none) above the form."""
    errors = field_errors(exc)
    out = {k: v for k, v in errors.items() if k in shown}
    rest = [v for k, v in errors.items() if k not in shown]
    out[""] = " ".join([t(exc.key, **exc.params), *rest])
    return out


@pages.get("/tasks/{task_id}", dependencies=[OWN])
def task_page(request: Request, task_id: int, flash: str | None = Query(None),
              viewer: Viewer = Depends(current_viewer)):
    return _task_page(request, viewer, task_id, flash=flash)


def _claim_form(posted, task_id: int) -> None:
    definition = form("task_claim")
    if definition.parse(posted)["task"] != task_id:
        raise ValidationFailed("web.form.invalid", problems=[problem("task", "web.work.task.wrong_task")],
                               form=definition.title)


def _take_or_give_back(request: Request, task_id: int, viewer: Viewer, posted, command: str, flash: str):
    from cms_workflows.tasks import service

    try:
        _claim_form(posted, task_id)
    except ValidationFailed as exc:
        return _task_page(request, viewer, task_id, 422, errors=form_errors(exc, ()))
    viewer.act(getattr(service, command), task_id)
    return RedirectResponse(f"/tasks/{task_id}?flash={flash}", status_code=303)


@pages.post("/tasks/{task_id}/claim", dependencies=[OWN])
def claim(request: Request, task_id: int, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    return _take_or_give_back(request, task_id, viewer, posted, "claim", "claimed")


@pages.post("/tasks/{task_id}/release", dependencies=[OWN])
def release(request: Request, task_id: int, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    return _take_or_give_back(request, task_id, viewer, posted, "release", "released")


def _uploaded(value) -> tuple[str, bytes] | None:
    """(name, bytes) of a file picked in the form; None when none was picked."""
    if value is None or isinstance(value, str) or not getattr(value, "filename", ""):
        return None
    return value.filename, value.file.read()


def move_case(db, key: str) -> str:
    """After a completion, the case the task belongs to moves on now, as `cms tasks complete` does; the
    completion stands if it cannot (the daily sweep tries again). The flash to show."""
    from cms_workflows import bootstrap

    try:
        moved = bootstrap.after_task(db, key)
    except CmsError:
        return "case_not_moved"
    return "case_moved" if moved else "completed"


def complete_task(viewer: Viewer, task_id: int, data: dict, file=None):
    from cms_workflows.tasks import service

    return viewer.act(service.complete, task_id, outcome=data["outcome"], comment=data.get("comment") or "",
                      file=file, document=data.get("document"), record=data.get("record"))


@pages.post("/tasks/{task_id}/complete", dependencies=[OWN])
def complete(request: Request, task_id: int, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    definition = form("task_complete")
    values = {k: v for k, v in posted.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        row = complete_task(viewer, task_id, definition.parse(posted), _uploaded(posted.get("file")))
    except ValidationFailed as exc:
        with viewer.reading() as uow:
            skip = _task_context(uow, viewer.username, task_id)["skip"]
        shown = tuple(f.name for f in definition.fields if f.name not in skip)
        return _task_page(request, viewer, task_id, 422, values=values, errors=form_errors(exc, shown))
    flash = move_case(viewer.db, row.key)
    return RedirectResponse(f"/tasks/{task_id}?flash={flash}", status_code=303)


# ---------------------------------------------------------------- calendar

def _month(value: str | None, today: date) -> tuple[int, int]:
    if not value:
        return today.year, today.month
    found = MONTH.match(value)
    if not found:
        raise ValidationFailed("web.form.invalid_request", problems=[
            problem("month", "web.form.not_a_month", label=t("web.work.calendar.month"))])
    return int(found.group(1)), int(found.group(2))


def _shift(year: int, month: int, by: int) -> str:
    index = year * 12 + month - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_grid(uow, username: str, year: int, month: int) -> list[list[dict]]:
    """Weeks (Monday first) of days, each with the user's unfinished tasks and coming duties due that day."""
    from cms_workflows.tasks import queries as tasks

    weeks = month_calendar.Calendar().monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    by_day: dict[date, dict] = {d: {"day": d, "tasks": [], "duties": [], "other": d.month != month}
                                for week in weeks for d in week}
    for task in tasks.tasks_for_user(uow, username):
        if first <= task.due <= last:
            by_day[task.due]["tasks"].append(task)
    titles = {(task.due, tasks.title(task)) for day in by_day.values() for task in day["tasks"]}
    for duty in scheduled_duties(uow, username, max(first, uow.clock.today()), last):
        if (duty.due, duty.title) not in titles:
            by_day[duty.due]["duties"].append(duty)
    return [[by_day[d] for d in week] for week in weeks]


@pages.get("/calendar", dependencies=[OWN])
def calendar_month(request: Request, month: str | None = Query(None, description="YYYY-MM"),
                   viewer: Viewer = Depends(current_viewer)):
    from cms_workflows.tasks import queries as tasks

    with viewer.reading() as uow:
        today = uow.clock.today()
        year, number = _month(month, today)
        weeks = month_grid(uow, viewer.username, year, number)
    shown = f"{year:04d}-{number:02d}"
    return page(request, "calendar.html", title=t("web.work.calendar.title", month=shown), weeks=weeks, today=today,
                previous=_shift(year, number, -1), next=_shift(year, number, 1), task_title=tasks.title,
                position_name=position_name)


@pages.get("/calendar.ics", dependencies=[OWN])
def calendar_file(viewer: Viewer = Depends(current_viewer)):
    """The user's unfinished tasks as an iCalendar file (the same as `cms tasks ics`)."""
    from cms_workflows.tasks import calendar

    with viewer.reading() as uow:
        data = calendar.user_calendar(uow, viewer.username, locale=current_locale())
    return Response(data, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="cms-tasks.ics"', "Cache-Control": "no-store"})
