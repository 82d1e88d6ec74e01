"""Reminders and escalation (X-3) over a simulated year with a fixed clock: on the right days, once each,
idempotent within a day, and caught up once after days without a sweep."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from cms_workflows.core.clock import FixedClock
from cms_workflows.core.db import Database
from cms_workflows.tasks import queries, schedule, service
from cms_workflows.tasks.models import TaskNotice
from tests.tasks.helpers import SYSTEM, events, new_task

A = "energy_data_admin.hn01"
# a year when every demo assignment and the system agent's are held (they start last year and today)
Y = date.today().year + 1
DEPT_HEAD = ["auditor1", "energy_engineer.hn01"]  # energy_engineer at HN01 leads energy management there


@pytest.fixture
def clocked(db, company):
    """The test database seen through a clock the test moves (a sweep's day is the clock's day)."""
    database = Database(db.url, settings=db.settings, clock=FixedClock(datetime(Y, 1, 1, 6, 0)))
    yield database
    database.dispose()


def at(database: Database, day: date) -> None:
    database.clock.moment = datetime(day.year, day.month, day.day, 6, 0, tzinfo=database.clock.zone)


def sweep(database: Database, day: date) -> list[TaskNotice]:
    at(database, day)
    with database.unit_of_work() as uow:
        done = schedule.send_due_reminders(uow, SYSTEM, uow.clock.today())
        done += schedule.escalate_overdue(uow, SYSTEM, uow.clock.today())
    return done


def notices(database: Database) -> dict[tuple[str, str, int], TaskNotice]:
    with database.read() as uow:
        rows = uow.exec(select(TaskNotice)).all()
        keys = {t.id: t.key for t in uow.exec(select(queries.Task))}
    return {(keys[n.task_id], n.kind, n.step): n for n in rows}


def test_x3_a_year_of_daily_sweeps_reminds_at_7_and_1_days_and_escalates_at_1_and_7_days_overdue(clocked):
    dues = {f"duty:monthly_data:HN01-L1:2026-{m:02d}": date(Y, m, 10) for m in range(1, 13)}
    with clocked.unit_of_work() as uow:
        for key, due in dues.items():
            new_task(uow, key, due=due)
    done_on_time = {key for key, due in dues.items() if due.month % 2}
    day = date(Y, 1, 1)
    while day <= date(Y, 12, 31):
        sweep(clocked, day)
        assert sweep(clocked, day) == []  # a second sweep the same day changes nothing
        for key in done_on_time:
            if dues[key] == day:
                with clocked.unit_of_work() as uow:
                    service.complete(uow, A, key, outcome="已提交")
        day += timedelta(days=1)
    found = notices(clocked)
    for key, due in dues.items():
        assert found[(key, "reminder", 7)].done_on == due - timedelta(days=7)
        assert found[(key, "reminder", 1)].done_on == due - timedelta(days=1)
        assert found[(key, "reminder", 7)].notified and json.loads(found[(key, "reminder", 1)].recipients) == [A]
        if key in done_on_time:
            assert (key, "escalation", 0) not in found
            continue
        first, second = found[(key, "escalation", 0)], found[(key, "escalation", 1)]
        assert (first.done_on, first.target, json.loads(first.recipients)) == (due + timedelta(days=1), "energy_engineer", DEPT_HEAD)
        assert (second.done_on, second.target, json.loads(second.recipients)) == (due + timedelta(days=7), "general_manager", ["gm"])
    assert len(found) == 12 * 2 + 6 * 2
    assert len(events(clocked, "tasks.task.remind")) == 24 and len(events(clocked, "tasks.task.escalate")) == 12
    with clocked.read() as uow:
        mail = [json.loads(m.params) | {"to": m.recipient, "kind": m.message_key} for m in queries.outbox(uow)]
    assert sum(m["kind"] == "tasks.mail.reminder" for m in mail) == 24
    assert sorted(m["to"] for m in mail if m["kind"] == "tasks.mail.escalation") == sorted(DEPT_HEAD * 6 + ["gm"] * 6)


def test_x3_a_sweep_after_a_week_off_catches_up_once(clocked):
    with clocked.unit_of_work() as uow:
        task = new_task(uow, due=date(Y, 3, 20))
    assert sweep(clocked, date(Y, 3, 10)) == []
    # nothing ran from 3-11 to 3-19: the reminders of 3-13 and 3-19 are due; only the latest is sent
    caught_up = sweep(clocked, date(Y, 3, 20))
    assert [(n.kind, n.step, n.notified, n.falls_on) for n in caught_up] == [
        ("reminder", 7, False, date(Y, 3, 13)), ("reminder", 1, True, date(Y, 3, 19))]
    assert sweep(clocked, date(Y, 3, 20)) == []
    assert [(n.kind, n.step) for n in sweep(clocked, date(Y, 3, 21))] == [("escalation", 0)]
    # off again until 4-05: the second escalation (3-27) once, not once per missed day
    late = sweep(clocked, date(Y, 4, 5))
    assert [(n.kind, n.step, n.falls_on, n.done_on) for n in late] == [("escalation", 1, date(Y, 3, 27), date(Y, 4, 5))]
    assert sweep(clocked, date(Y, 4, 5)) == [] and sweep(clocked, date(Y, 4, 6)) == []
    with clocked.read() as uow:
        reminders = [m for m in queries.outbox(uow) if m.message_key == "tasks.mail.reminder"]
        again = queries.get_task(uow, task.id)
    assert [m.recipient for m in reminders] == [A]
    assert (again.next_reminder_on, again.next_escalation_on) == (None, None)


def test_x3_a_task_found_overdue_sends_no_stale_reminder_but_its_escalations(clocked):
    with clocked.unit_of_work() as uow:
        new_task(uow, due=date(Y, 3, 20))
    done = sweep(clocked, date(Y, 3, 25))
    assert [(n.kind, n.step, n.notified) for n in done] == [
        ("reminder", 7, False), ("reminder", 1, False), ("escalation", 0, True)]
    with clocked.read() as uow:
        assert [m.message_key for m in queries.outbox(uow)] == ["tasks.mail.assigned"] + ["tasks.mail.escalation"] * 2


def test_x3_escalation_reaches_top_management_when_the_department_head_is_vacant(clocked):
    with clocked.unit_of_work() as uow:
        company_task = new_task(uow, "adhoc:supplier_list", position="purchaser", site="*", due=date(Y, 2, 1),
                                escalation=[{"after_days": 0, "to": "department_head"}])
        named = new_task(uow, "adhoc:named", assignee=A, due=date(Y, 2, 1),
                         escalation=[{"after_days": 2, "to": "department_head"}, {"after_days": 3, "to": "maintenance_engineer"}])
    sweep(clocked, date(Y, 2, 4))
    found = notices(clocked)
    # purchasing's lead (green supply-chain manager) is held at the plants only, not company-wide
    assert (found[(company_task.key, "escalation", 0)].target, json.loads(found[(company_task.key, "escalation", 0)].recipients)) == (
        "general_manager", ["gm"])
    assert json.loads(found[(named.key, "escalation", 0)].recipients) == DEPT_HEAD
    assert (found[(named.key, "escalation", 1)].target, json.loads(found[(named.key, "escalation", 1)].recipients)) == (
        "maintenance_engineer", ["maintenance_engineer.hn01"])


def test_x3_a_finished_task_is_neither_reminded_nor_escalated(clocked):
    with clocked.unit_of_work() as uow:
        task = new_task(uow, due=date(Y, 3, 20))
    with clocked.unit_of_work() as uow:
        service.cancel(uow, "carbon.lead", task.id, "生产线停产")
    assert sweep(clocked, date(Y, 4, 30)) == []
    with pytest.raises(Exception) as raised, clocked.unit_of_work() as uow:
        schedule.remind(uow, SYSTEM, task.id, day=date(Y, 3, 19))
    assert raised.value.key == "tasks.wrong_state"


def test_x3_every_annex_a_department_has_a_declared_lead_position():
    from cms_workflows.access import known_position_codes
    from cms_workflows.access.roles import load_roles
    from cms_workflows.tasks.routing import department_leads

    departments = {d["code"] for d in load_roles()["departments"]}
    assert set(department_leads()) == departments
    assert set(department_leads().values()) <= known_position_codes()
