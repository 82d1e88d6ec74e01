"""Kept answers given on the event loop (web/read_cache.py, SQLite): a token's repeated read is answered with no
worker thread and no statement through the engine while nothing changed; a change made through another
connection (as another process would), an expired token, another token of the same user, another access control
or a database the loop cannot read all go to a worker thread, which signs in and decides as every read does.
On PostgreSQL every read goes to a worker thread (test_read_cache.py covers both databases)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest

from cms_workflows.access import control
from cms_workflows.audit.queries import SqliteHead, head_seq
from cms_workflows.core.clock import FixedClock
from cms_workflows.core.db import Database
from cms_workflows.identity import service as identity
from cms_workflows.web.app import create_app
from cms_workflows.web.authorization import OneStep
from tests.conftest import token_for
from tests.tasks.helpers import new_task
from tests.web.conftest import DATA_ADMIN_HN01, BearerClient, selects_sent


@pytest.fixture(autouse=True)
def sqlite_only(db) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the event loop reads the audit head with SQLite's own driver; on PostgreSQL every read goes "
                    "to a worker thread (test_read_cache.py)")


@pytest.fixture
def worker_reads(monkeypatch) -> list[str]:
    """The paths of the reads that went to a worker thread, from now on."""
    went: list[str] = []
    original = OneStep._signed_in_decided_read

    def noted(step, fn):
        went.append(step.request.url.path)
        return original(step, fn)

    monkeypatch.setattr(OneStep, "_signed_in_decided_read", noted)
    return went


def test_a_repeat_is_answered_on_the_loop_until_another_connection_changes_something(db, api, worker_reads):
    with db.unit_of_work() as uow:
        new_task(uow, "duty:monthly_data:HN01-L1:2026-03")
    reader = api(DATA_ADMIN_HN01)
    first = reader.get("/api/v1/tasks")
    assert worker_reads == ["/api/v1/tasks"]
    sent = selects_sent(db)
    for _ in range(3):
        again = reader.get("/api/v1/tasks")
        assert again.status_code == 200 and again.content == first.content
        assert again.headers["content-type"] == "application/json" and "x-content-type-options" in again.headers
    assert worker_reads == ["/api/v1/tasks"] and sent == []  # no thread, no statement through the engine

    elsewhere = Database(db.url, settings=db.settings)  # its own engine and connections: as another process
    try:
        with elsewhere.unit_of_work() as uow:
            new_task(uow, "duty:monthly_data:HN01-L1:2026-04", title_params={"period": "2026-04", "line": "HN01-L1"})
    finally:
        elsewhere.dispose()
    assert reader.get("/api/v1/tasks").json()["total"] == 2
    assert len(worker_reads) == 2


def test_another_token_of_the_same_user_signs_in_on_its_own(db, app, worker_reads):
    reader = BearerClient(app, token_for(db, DATA_ADMIN_HN01), DATA_ADMIN_HN01)
    reader.get("/api/v1/documents")
    reader.get("/api/v1/documents")
    assert len(worker_reads) == 1
    second = BearerClient(app, token_for(db, DATA_ADMIN_HN01), DATA_ADMIN_HN01)  # a new token is a change too
    second.get("/api/v1/documents")
    assert len(worker_reads) == 2
    second.get("/api/v1/documents")
    assert len(worker_reads) == 2
    assert second.get("/api/v1/documents", headers={"Authorization": "Bearer cms_not-a-token"}).status_code == 401


def test_a_token_that_expired_since_is_refused_by_the_worker(db, company, worker_reads):
    clock = FixedClock(datetime(2026, 3, 10, 23, 0))  # the installation's time (Asia/Shanghai)
    dated = Database(db.url, settings=db.settings, clock=clock)
    try:
        with dated.unit_of_work() as uow:  # expires 2026-03-11 23:00
            token = identity.create_token(uow, DATA_ADMIN_HN01, DATA_ADMIN_HN01, label="short", days=1)[1]
        reader = BearerClient(create_app(dated), token, DATA_ADMIN_HN01)
        clock.moment += timedelta(hours=23)  # 2026-03-11 22:00
        assert reader.get("/api/v1/tasks").status_code == 200
        assert reader.get("/api/v1/tasks").status_code == 200 and len(worker_reads) == 1  # on the loop
        clock.moment += timedelta(minutes=90)  # 23:30, the same day: the kept answer's key still holds
        expired = reader.get("/api/v1/tasks")
        assert expired.status_code == 401 and len(worker_reads) == 2
    finally:
        dated.dispose()


def test_another_access_control_decides_again(db, api, worker_reads):
    reader = api("gm")
    reader.get("/api/v1/documents")
    reader.get("/api/v1/documents")
    assert len(worker_reads) == 1
    in_force = control.get_access()
    control.set_access(control.AccessControl(in_force.policy, in_force.directory))  # as a reload would
    try:
        assert reader.get("/api/v1/documents").status_code == 200
        assert len(worker_reads) == 2
    finally:
        control.set_access(in_force)


def test_the_head_is_the_chains_and_a_database_the_loop_cannot_read_is_none(db, company, tmp_path):
    head = SqliteHead(db.engine.url.database, db.engine.dialect)
    with db.read() as uow:
        assert head.read() == head_seq(uow) > 0
    with db.unit_of_work() as uow:  # a commit after the read: a snapshot the read still held would pin the WAL
        new_task(uow, "duty:monthly_data:HN01-L1:2026-03")
    checkpointer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:  # the read holds no snapshot afterwards: the WAL can be emptied
        busy, _frames, _done = checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        checkpointer.close()
    assert busy == 0
    head.close()
    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    for path in (tmp_path / "garbage.db", tmp_path / "missing.db"):
        assert SqliteHead(str(path), db.engine.dialect).read() is None
    assert not (tmp_path / "missing.db").exists()  # read-only: nothing created
