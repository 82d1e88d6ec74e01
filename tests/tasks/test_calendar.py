"""Task calendars (X-3): an .ics file per user and per position, one VEVENT per unfinished task on its due
date, a UID derived from the task's key that a change keeps (SEQUENCE increments) — read back with icalendar."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar

from cms_workflows.core.errors import AccessDenied
from cms_workflows.tasks import calendar, service
from tests.tasks.helpers import new_task

A = "energy_data_admin.hn01"


def vevents(data: bytes) -> dict[str, object]:
    return {str(e["uid"]): e for e in Calendar.from_ical(data).walk("VEVENT")}


def test_x3_ics_round_trip_keeps_the_uid_and_counts_the_sequence(db, company):
    with db.unit_of_work() as uow:
        first = new_task(uow, due=date(2026, 4, 5))
        second = new_task(uow, "duty:monthly_data:HN01-L1:2026-04", due=date(2026, 5, 5),
                          title_params={"period": "2026-04", "line": "HN01-L1"})
        new_task(uow, "adhoc:other_site", site="HN02", due=date(2026, 4, 1))  # not A's: another plant
    with db.read() as uow:
        before = vevents(calendar.user_calendar(uow, A))
    assert len(before) == 2
    uid = calendar.event_uid(first)
    event = before[uid]
    assert event.decoded("dtstart") == date(2026, 4, 5) and int(event["sequence"]) == 0
    assert str(event["summary"]) == "提交 2026-03 月度活动数据（HN01-L1）"
    assert [a.decoded("trigger").days for a in event.walk("VALARM")] == [-7, -1]
    with db.unit_of_work() as uow:
        service.claim(uow, A, first.id)
    with db.read() as uow:
        after = vevents(calendar.user_calendar(uow, A, locale="en"))
    assert set(after) == set(before)  # the same events for the calendar program
    assert int(after[uid]["sequence"]) == 1 and int(after[calendar.event_uid(second)]["sequence"]) == 0
    assert str(after[uid]["summary"]) == "Submit the activity data of 2026-03 (HN01-L1)"
    with db.unit_of_work() as uow:
        service.complete(uow, A, first.id, outcome="已提交")
    with db.read() as uow:
        assert set(vevents(calendar.user_calendar(uow, A))) == {calendar.event_uid(second)}  # done: gone


def test_x3_position_calendar_and_who_may_see_it(db, company):
    with db.unit_of_work() as uow:
        task = new_task(uow)
    with db.read() as uow:
        assert set(vevents(calendar.position_calendar(uow, A, "energy_data_admin", "HN01"))) == {calendar.event_uid(task)}
        assert vevents(calendar.position_calendar(uow, "gm", "energy_data_admin", "HN02")) == {}  # gm reads tasks
        with pytest.raises(AccessDenied):
            calendar.position_calendar(uow, "energy_data_admin.hn02", "energy_data_admin", "HN01")
        with pytest.raises(AccessDenied):
            calendar.user_calendar(uow, "energy_data_admin.hn02", A)
        assert len(vevents(calendar.user_calendar(uow, "carbon.lead", A))) == 1  # a reader of tasks company-wide
