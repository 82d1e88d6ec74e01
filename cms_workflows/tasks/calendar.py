"""Tasks on a calendar (X-3): an iCalendar (.ics, RFC 5545) file per user or per position at a site.

One all-day VEVENT per unfinished task on its due date, with an alarm per reminder. Its UID is
derived from the task's stable key, so a calendar that subscribes to the file sees a changed task
as the same event: SEQUENCE is the task's change counter, which every command that changes the
task increments. Titles are in the reader's language.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from icalendar import Alarm, Calendar, Event

from cms_workflows.access import COMPANY_WIDE, Resource, can, position_labels
from cms_workflows.core.errors import AccessDenied, NotFound
from cms_workflows.core.i18n import pick, t
from cms_workflows.tasks.models import Task
from cms_workflows.tasks.queries import holds_position, tasks_for_position, tasks_for_user, title
from cms_workflows.tasks.schedule import reminder_days

PRODID = "-//cms_workflows//tasks//ZH"
UID_NAMESPACE = uuid.UUID("8d7f0c4e-3c55-4d7e-9a43-1b0f3a6c2e10")  # fixed: the same key, the same UID everywhere


def event_uid(task: Task) -> str:
    return f"{uuid.uuid5(UID_NAMESPACE, task.key)}@cms-workflows"


def _event(uow, task: Task, locale: str | None) -> Event:
    event = Event()
    event.add("uid", event_uid(task))
    event.add("dtstamp", uow.clock.now())
    event.add("dtstart", task.due)
    event.add("dtend", task.due + timedelta(days=1))
    event.add("sequence", task.sequence)
    event.add("summary", title(task, locale))
    who = task.assignee or pick(*position_labels().get(task.position, (task.position, task.position)), locale=locale)
    event.add("description", t("tasks.ics.description", locale=locale, clause=task.clause, task_key=task.key,
                               who=who, site=task.site, status=t(f"tasks.state.{task.status}", locale=locale)))
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    for days in reminder_days(task):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title(task, locale))
        alarm.add("trigger", timedelta(days=-days))
        event.add_component(alarm)
    return event


def to_ics(uow, tasks: list[Task], name: str, locale: str | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for task in tasks:
        cal.add_component(_event(uow, task, locale))
    return cal.to_ical()


def user_calendar(uow, actor: str, username: str | None = None, locale: str | None = None) -> bytes:
    """A user's unfinished tasks; another user's only for a reader of tasks company-wide."""
    username = username or actor
    if username != actor and not can(uow, actor, "read", Resource("task")):
        raise AccessDenied("tasks.not_your_calendar", username=actor, other=username)
    return to_ics(uow, tasks_for_user(uow, username), t("tasks.ics.user_name", locale=locale, username=username),
                  locale)


def position_calendar(uow, actor: str, position: str, site: str = COMPANY_WIDE, locale: str | None = None) -> bytes:
    """A position's unfinished tasks at a site: for its holders there and for readers of tasks at the site."""
    if position not in position_labels():
        raise NotFound("tasks.unknown_position", position=position)
    if not holds_position(uow, actor, position, site) and not can(uow, actor, "read", Resource("task", site=site)):
        raise AccessDenied("tasks.not_your_calendar", username=actor, other=f"{position}@{site}")
    name = t("tasks.ics.position_name", locale=locale, position=pick(*position_labels()[position], locale=locale),
             site=site)
    return to_ics(uow, tasks_for_position(uow, position, site), name, locale)
