"""Task notifications (X-3): delivered by a real SMTP server (aiosmtpd, started here) exactly once, in
the recipient's language, retried with backoff after a refusal, never resent after a sender stopped
half way, and left for the web inbox when no mail server is configured. Sending is audited (X-1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.header import decode_header, make_header

import pytest

from cms_workflows.core.clock import FixedClock
from cms_workflows.core.db import Database
from cms_workflows.tasks import outbox, queries, service
from tests.smtp_server import free_port
from tests.tasks.helpers import SYSTEM, events, new_task

A = "energy_data_admin.hn01"


def subject(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def test_x3_a_notification_is_delivered_once_in_the_recipients_language(db, company, smtp):
    with db.unit_of_work() as uow:
        new_task(uow, position="strategy_manager")  # holders at HN01: strategy_manager.hn01, carbon.lead and carbon.deputy (*)
        service.set_locale(uow, "carbon.lead", "carbon.lead", "en")
    first = outbox.send_pending(db, SYSTEM, smtp_url=smtp.url)
    second = outbox.send_pending(db, SYSTEM, smtp_url=smtp.url)  # the sender run again: nothing sent twice
    assert len(first.sent) == 3 and second.sent == [] and len(smtp.mails) == 3
    by_to = {m["To"]: m for m in smtp.mails}
    assert subject(by_to["carbon.lead@demo.example.cn"]).startswith("New task: Submit the activity data of 2026-03")
    assert subject(by_to["strategy_manager.hn01@demo.example.cn"]).startswith("新任务：提交 2026-03 月度活动数据")
    assert len({m["Message-ID"] for m in smtp.mails}) == 3
    with db.read() as uow:
        assert {m.status for m in queries.outbox(uow)} == {"sent"}
    assert len(events(db, "tasks.message.dispatch")) == 3 and len(events(db, "tasks.message.deliver")) == 3
    assert {e.actor for e in events(db, "tasks.message.deliver")} == {SYSTEM}


def test_x3_a_sender_stopped_between_taking_and_marking_never_resends(db, company, smtp):
    with db.unit_of_work() as uow:
        new_task(uow)
    with db.read() as uow:
        (message,) = queries.outbox(uow)
    with db.unit_of_work() as uow:  # the first sender took it (committed), then was killed before marking it sent
        outbox.dispatch(uow, SYSTEM, message.id)
    report = outbox.send_pending(db, SYSTEM, smtp_url=smtp.url)
    assert report.sent == [] and smtp.mails == []
    with db.read() as uow:
        assert [m.id for m in queries.stuck_messages(uow)] == [message.id]


def test_x3_a_refused_message_is_retried_after_its_backoff_and_then_sent_once(db, company, smtp):
    clocked = Database(db.url, settings=db.settings, clock=FixedClock(datetime.now() + timedelta(days=400)))
    try:
        with clocked.unit_of_work() as uow:
            new_task(uow)
        smtp.refuse = True
        report = outbox.send_pending(clocked, SYSTEM, smtp_url=smtp.url)
        assert report.retried and smtp.mails == []
        with clocked.read() as uow:
            (message,) = queries.outbox(uow)
        assert (message.status, message.attempts) == ("pending", 1) and "550" in message.last_error
        assert clocked.clock.local(message.next_attempt_at) == clocked.clock.local(clocked.clock.now()) + timedelta(seconds=60)
        smtp.refuse = False
        assert outbox.send_pending(clocked, SYSTEM, smtp_url=smtp.url).sent == []  # still inside its backoff
        clocked.clock.moment += timedelta(minutes=2)
        assert outbox.send_pending(clocked, SYSTEM, smtp_url=smtp.url).sent == [message.id]
        assert outbox.send_pending(clocked, SYSTEM, smtp_url=smtp.url).sent == []
        assert len(smtp.mails) == 1 and len(events(clocked, "tasks.message.fail")) == 1
    finally:
        clocked.dispose()


def test_x3_a_message_fails_for_good_after_the_last_attempt(db, company):
    port = free_port()  # nothing listens there
    with db.unit_of_work() as uow:
        new_task(uow)
        (message,) = queries.outbox(uow)
        message.attempts = outbox.MAX_ATTEMPTS - 1
    report = outbox.send_pending(db, SYSTEM, smtp_url=f"smtp://127.0.0.1:{port}")
    assert report.failed == [message.id]
    with db.read() as uow:
        assert queries.outbox(uow)[0].status == "failed"


def test_x3_without_a_mail_server_messages_wait_for_the_web_inbox(db, company):
    with db.unit_of_work() as uow:
        new_task(uow)
    before = len(events(db))
    report = outbox.send_pending(db, SYSTEM)
    assert report.left_for_inbox == 1 and report.sent == [] and len(events(db)) == before
    with db.read() as uow:
        (message,) = queries.inbox(uow, A)
        assert outbox.render(uow, message, "en")[0].startswith("New task:")
        assert outbox.render(uow, message)[0].startswith("新任务：")
