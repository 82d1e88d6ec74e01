"""The tamper suite, extended (issue 14, item 3; X-1): attacks that the chain, the MACs and the local
anchors cannot see, each first shown to pass `cms verify`, then detected by comparing the checkpoint
log an auditor keeps outside the installation (`cms verify --checkpoints`)."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from cms_workflows import audit
from cms_workflows.audit import chain as audit_chain
from cms_workflows.audit import checkpoints
from cms_workflows.bootstrap import verify_installation
from cms_workflows.core.db import Database
from tests.conftest import PG_URL, _pg_admin_engine
from tests.test_audit import append, raw
from tests.test_checkpoints import with_signing_key


@pytest.fixture
def watched(db, tmp_path):
    """An installation with a signing key, verified (so it has local anchors) and checkpointed into an
    auditor's log twice, with events in between and after."""
    with_signing_key(db, tmp_path)
    log = tmp_path / "auditor" / "checkpoints.jsonl"
    append(db, 5)
    checkpoints.sign_checkpoint(db, log_path=log)
    append(db, 5, start=5)
    assert verify_installation(db).ok  # records a local anchor
    last = checkpoints.sign_checkpoint(db, log_path=log)
    append(db, 2, start=10)
    return db, log, last


def head(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT max(seq) FROM audit_event")).scalar()


def delete_anchors(db) -> None:
    (db.settings.data_dir / "audit-anchors.jsonl").unlink(missing_ok=True)


def rewrite_from(db, first: int, edit) -> None:
    """What someone with the database and the stolen audit.key does: change event `first` (edit(row)),
    then recompute every hash and MAC from there on, so that the chain and its MACs check out again."""
    key = audit.load_key(db.settings)
    with db.read_connection() as conn:
        rows = [dict(zip(audit_chain.COLUMNS, r)) for r in audit.iter_rows(conn, after=first - 1)]
        prev = conn.execute(text(f"SELECT hash FROM audit_event WHERE seq = {first - 1}")).scalar() or audit.GENESIS
    edit(rows[0])
    for row in rows:
        body = audit_chain.canonical_body(row["seq"], row["occurred_at"], row["actor"], row["position"], row["site"],
                                          row["action"], row["object_type"], row["object_id"], row["payload"], prev)
        row["prev_hash"], row["hash"] = prev, hashlib.sha256(body.encode()).hexdigest()
        row["mac"] = audit.mac_of(key, row["hash"])
        prev = row["hash"]
    raw(db, f"DELETE FROM audit_event WHERE seq >= {first}")
    with db.engine.begin() as conn:
        conn.execute(audit.AuditEvent.__table__.insert(), rows)


def passes_plain_verify(db) -> bool:
    """`cms verify` as it was: chain, MACs with the installation's key, local anchors, files."""
    return verify_installation(db, record_anchor=False).ok


# ---------------------------------------------------------------- the key stolen


def test_chain_rewritten_with_the_stolen_key_is_detected(watched):
    db, log, last = watched
    target = last["seq"] - 3
    rewrite_from(db, target, lambda row: row.update(payload=audit.canonical_json({"i": 999, "halved": True})))
    delete_anchors(db)  # the anchors file sits beside audit.key: whoever has one has the other
    assert passes_plain_verify(db)  # the attack: hashes and MACs recomputed, nothing for verify to see
    report = checkpoints.check_log(db, log)
    assert not report.ok
    (line,) = report.lines  # the first checkpoint is before the rewrite and still holds
    assert "日志第 2 行" in line and f"事件 #{last['seq']} 的哈希" in line and "改写" in line


def test_chain_rewritten_from_its_first_event_is_detected(watched):
    db, log, last = watched
    rewrite_from(db, 1, lambda row: row.update(occurred_at="2020-01-01T00:00:00.000000Z"))
    delete_anchors(db)
    assert passes_plain_verify(db)
    report = checkpoints.check_log(db, log)
    assert not report.ok and len(report.lines) == 2  # both checkpoints name another installation identity
    assert all("事件 #1 已不是签署时的那条" in line for line in report.lines)
    assert "日志第 1 行" in report.lines[0] and f"事件 #{last['seq']}" in report.lines[1]


# ---------------------------------------------------------------- the tail cut, anchors deleted


def test_truncated_tail_with_anchors_deleted_is_detected(watched):
    db, log, last = watched
    cut = last["seq"] - 2
    raw(db, f"DELETE FROM audit_event WHERE seq > {cut}")
    delete_anchors(db)
    assert passes_plain_verify(db)  # a shorter chain is still a chain, and no anchor remembers the old head
    report = checkpoints.check_log(db, log)
    assert not report.ok
    (line,) = report.lines
    assert f"签署了事件 #{last['seq']}" in line and f"只到事件 #{cut}" in line and "截断" in line


def test_truncated_tail_then_new_events_is_detected(watched):
    """Cutting the tail and writing new events past the signed number: the number exists, its hash differs."""
    db, log, last = watched
    cut = last["seq"] - 2
    raw(db, f"DELETE FROM audit_event WHERE seq > {cut}")
    delete_anchors(db)
    append(db, 6, start=100)
    assert head(db) > last["seq"] and passes_plain_verify(db)
    (line,) = checkpoints.check_log(db, log).lines
    assert f"事件 #{last['seq']} 的哈希现为" in line


# ---------------------------------------------------------------- restored from an older copy


@contextmanager
def older_copy(db, tmp_path):
    """A copy of the database as it is now (SQLite: the backup API; PostgreSQL: CREATE DATABASE … TEMPLATE),
    opened with the same settings: what a restore from this backup would bring back."""
    if PG_URL:
        db.dispose()  # a template database must have no other sessions
        admin, base = _pg_admin_engine()
        name = f"cms_t_copy_{uuid.uuid4().hex[:12]}"
        source = db.engine.url.database
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        copy = Database(base.set(database=name).render_as_string(hide_password=False), settings=db.settings)
        try:
            yield copy
        finally:
            copy.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        path = tmp_path / "backup" / "cms.db"
        path.parent.mkdir()
        src, dst = sqlite3.connect(db.engine.url.database), sqlite3.connect(path)
        src.backup(dst)
        src.close()
        dst.close()
        copy = Database(f"sqlite:///{path}", settings=db.settings)
        try:
            yield copy
        finally:
            copy.dispose()


def test_database_restored_from_an_older_copy_is_detected(db, tmp_path):
    with_signing_key(db, tmp_path)
    log = tmp_path / "auditor" / "checkpoints.jsonl"
    append(db, 3)
    checkpoints.sign_checkpoint(db, log_path=log)
    with older_copy(db, tmp_path) as backup_source:
        # the backup is taken here; the installation goes on, and is checkpointed again
        restored_head = head(backup_source)
        append(db, 4, start=3)
        later = checkpoints.sign_checkpoint(db, log_path=log)
        assert checkpoints.check_log(db, log).ok
        # now the database is "restored" from the backup: everything after it is gone, and verify passes
        delete_anchors(db)  # restored with the data folder's older state, or simply removed
        assert passes_plain_verify(backup_source)
        report = checkpoints.check_log(backup_source, log)
        assert not report.ok
        (line,) = report.lines
        assert f"签署了事件 #{later['seq']}" in line and f"只到事件 #{restored_head}" in line and "较早的副本" in line
