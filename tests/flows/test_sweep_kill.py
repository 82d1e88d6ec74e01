"""A daily sweep killed with SIGKILL half way, then run again (X-3, X-1): no duplicate task, reminder,
mail or event, and nothing left undone — a real subprocess, killed inside a unit of work (while a duty's
tasks are being created, while a task's reminders are recorded) or after the mail server accepted a
message but before it was marked sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from cms_workflows import audit, bootstrap
from cms_workflows.duties.definitions import load
from cms_workflows.duties.generate import due_occurrences
from cms_workflows.duties.sources import described
from cms_workflows.tasks.models import OutboxMessage, Task, TaskNotice
from cms_workflows.tasks.states import MessageStatus
from tests.conftest import TEST_AUDIT_KEY
from tests.duties.helpers import Y, add_instrument, add_plan, at, clocked_database
from tests.smtp_server import Inbox

CHILD = Path(__file__).with_name("sweep_child.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clocked(db, company):
    database = clocked_database(db, date(Y, 1, 1))
    add_plan(database)
    for n in range(1, 4):
        add_instrument(database, f"MI-00{n}", None)  # never calibrated: due at once
    yield database
    database.dispose()


def child(database, day: date, smtp_url: str, crash: tuple[str, int] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CMS_DATABASE_URL": database.url, "CMS_DATA_DIR": str(database.settings.data_dir),
           "CMS_AUDIT_KEY": TEST_AUDIT_KEY, "CMS_LOCALE": "en", "CMS_SMTP_URL": smtp_url, "PYTHONPATH": str(ROOT)}
    env.pop("CMS_SIGNING_KEY", None)
    args = [sys.executable, str(CHILD), day.isoformat(), *([crash[0], str(crash[1])] if crash else [])]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)


def state(database) -> dict:
    with database.read() as uow:
        events = audit.events_for(uow)
        return {"tasks": list(uow.exec(select(Task))), "notices": list(uow.exec(select(TaskNotice))),
                "outbox": list(uow.exec(select(OutboxMessage))), "events": events}


def assert_complete_and_without_duplicates(database, day: date, inbox: Inbox) -> None:
    s = state(database)
    creates = [e for e in s["events"] if e.action == "tasks.task.create"]
    assert sorted(e.object_id for e in creates) == sorted(str(t.id) for t in s["tasks"])  # one event per task
    reminded = {n.task_id for n in s["notices"] if n.kind == "reminder" and n.done_on == day}
    reminds = [e for e in s["events"] if e.action == "tasks.task.remind" and json.loads(e.payload)["day"] == day.isoformat()]
    assert sorted(int(e.object_id) for e in reminds) == sorted(reminded)  # one reminder command per task and day
    told = Counter((m.recipient, m.task_id, m.message_key, m.params) for m in s["outbox"])
    assert max(told.values()) == 1  # no notification written twice
    ids = [m["Message-ID"] for m in inbox.mails]
    assert len(ids) == len(set(ids))  # no mail sent twice
    sent_or_perhaps = {m.id for m in s["outbox"] if m.status in (MessageStatus.SENT, MessageStatus.SENDING)}
    assert {int(i.split("-")[2]) for i in ids} <= sent_or_perhaps
    with database.read() as uow:  # nothing left undone: every due occurrence of every duty has its task
        sources = bootstrap.duty_sources()
        assert all(due_occurrences(uow, d, day, sources) == [] for d in load(sources=described(sources)))


@pytest.mark.slow
@pytest.mark.parametrize("crash, day", [(("create", 7), date(Y, 1, 1)), (("remind", 2), date(Y, 1, 9)),
                                        (("send", 3), date(Y, 1, 1))], ids=["generate", "remind", "send"])
def test_x3_a_sweep_killed_half_way_and_run_again_leaves_no_duplicates(clocked, smtp, crash, day):
    if day > date(Y, 1, 1):  # a clean sweep first, so that reminders fall due on the crash day
        assert child(clocked, date(Y, 1, 1), smtp.url).returncode == 0
    killed = child(clocked, day, smtp.url, crash)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    before_rerun = len(state(clocked)["events"])
    again = child(clocked, day, smtp.url)
    assert again.returncode == 0 and again.stdout.strip() == "ok", again.stdout + again.stderr
    assert len(state(clocked)["events"]) > before_rerun  # the re-run finished the job
    assert_complete_and_without_duplicates(clocked, day, smtp)
    if crash[0] == "send":  # the message taken when the sender died stays `sending`: never mailed a second time
        assert [m.status for m in state(clocked)["outbox"]].count(MessageStatus.SENDING) == 1
    third = child(clocked, day, smtp.url)
    at(clocked, day)
    assert third.returncode == 0
    assert bootstrap.sweep(clocked, day).changed is False  # and a further sweep changes nothing
