"""Audit trail (X-1): append-only, hash-chained, tamper-evident, written with the change."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import subprocess
import sys
import zipfile

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from sqlalchemy import text

from cms_workflows import audit
from cms_workflows.audit import chain as audit_chain, evidence
from cms_workflows.access import Grant
from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org
from cms_workflows.bootstrap import export_evidence, verify_installation
from tests.conftest import PG_URL, requires_postgres

ADMIN = Grant("admin", "system_admin", "*")


def append(db, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with db.unit_of_work() as session:
            audit.record(session, ADMIN, "test.event", "thing", i, {"i": i, "text": f"第{i}条 \"quoted\""})


def chain(db, key=True) -> audit.VerifyResult:
    with db.engine.connect() as conn:
        return audit.verify(conn, audit.load_key(db.settings) if key else None)


def raw(db, *statements, drop_triggers=True) -> None:
    """What someone with raw database access does: drop the triggers, change rows."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("COMMIT")  # leave the BEGIN IMMEDIATE our engine opened
            if drop_triggers:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_delete")
            for s in statements:
                conn.exec_driver_sql(s)
        else:
            if drop_triggers:
                conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            for s in statements:
                conn.exec_driver_sql(s)
            conn.commit()


def head_seq(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT max(seq) FROM audit_event")).scalar()


@given(st.text(), st.text(), st.dictionaries(st.text(), st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none())))
@hsettings(max_examples=200)
def test_canonical_body_is_the_canonical_json_of_the_event(actor, object_id, payload):
    payload_text = audit.canonical_json(payload)
    body = audit_chain.canonical_body(7, "2026-01-01T00:00:00.000000Z", actor, "pos", "HN01", "a.b", "thing", object_id, payload_text, "0" * 64)
    expected = json.dumps(
        {"seq": 7, "occurred_at": "2026-01-01T00:00:00.000000Z", "actor": actor, "position": "pos", "site": "HN01",
         "action": "a.b", "object_type": "thing", "object_id": object_id, "payload": json.loads(payload_text), "prev_hash": "0" * 64},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    assert body == expected


def test_events_chain_and_verify(db):
    before = head_seq(db)
    append(db, 20)
    result = chain(db)
    assert result.ok and result.events == before + 20 and result.head_seq == before + 20
    with db.read() as session:
        events = audit.events_for(session, "thing")
    assert [e.object_id for e in events] == [str(i) for i in range(20)]
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))


def test_event_is_written_in_the_same_transaction_as_the_change(db):
    before = head_seq(db)
    with pytest.raises(RuntimeError):
        with db.unit_of_work() as session:
            org.create_site(session, "admin", "HN09", "九厂")
            raise RuntimeError("the command fails after its event was appended")
    assert head_seq(db) == before
    with db.read() as session:
        assert not [s for s in org_queries.list_sites(session) if s.code == "HN09"]
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN09", "九厂")
    with db.read() as session:
        (event,) = audit.events_for(session, "site", "HN09")
    assert (event.actor, event.position, event.site, event.action) == ("admin", "system_admin", "*", "org.site.create")
    assert json.loads(event.payload) == {"name_zh": "九厂", "name_en": ""}


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET payload = '{}' WHERE seq = 1", "DELETE FROM audit_event WHERE seq = 1"])
def test_triggers_refuse_update_and_delete(db, statement):
    with pytest.raises(Exception, match="append-only"):
        raw(db, statement, drop_triggers=False)
    assert chain(db).ok


@requires_postgres
def test_trigger_refuses_truncate_on_postgres(db):
    with pytest.raises(Exception, match="append-only"):
        raw(db, "TRUNCATE audit_event", drop_triggers=False)


def test_edited_payload_is_detected_at_that_event(db):
    append(db, 10)
    target = head_seq(db) - 5
    raw(db, f"UPDATE audit_event SET payload = '{{\"i\":999}}' WHERE seq = {target}")
    result = chain(db)
    assert (result.problem_seq, result.problem) == (target, "altered")
    assert result.events == target - 1


def test_deleted_event_is_detected_at_that_event(db):
    append(db, 10)
    target = head_seq(db) - 3
    raw(db, f"DELETE FROM audit_event WHERE seq = {target}")
    assert (chain(db).problem_seq, chain(db).problem) == (target, "missing")


def test_reordered_events_are_detected_at_the_first_moved_event(db):
    append(db, 10)
    a = head_seq(db) - 4
    raw(db, f"UPDATE audit_event SET seq = -1 WHERE seq = {a}", f"UPDATE audit_event SET seq = {a} WHERE seq = {a + 1}",
        f"UPDATE audit_event SET seq = {a + 1} WHERE seq = -1")
    result = chain(db)
    assert (result.problem_seq, result.problem) == (a, "broken_link")


def _forge(db, seq: int, prev_hash: str) -> str:
    """An event made by someone who knows the hash rule but not the installation's key."""
    occurred_at, payload = "2026-01-01T00:00:00.000000Z", audit.canonical_json({"approved": True})
    body = audit_chain.canonical_body(seq, occurred_at, "gm", "general_manager", "HN01", "documents.revision.approve", "revision", "42", payload, prev_hash)
    h = hashlib.sha256(body.encode()).hexdigest()
    return (
        "INSERT INTO audit_event (seq, occurred_at, actor, position, site, action, object_type, object_id, payload, prev_hash, hash, mac) "
        f"VALUES ({seq}, '{occurred_at}', 'gm', 'general_manager', 'HN01', 'documents.revision.approve', 'revision', '42', '{payload}', '{prev_hash}', '{h}', '{'0' * 64}')"
    )


def test_forged_event_appended_with_a_valid_hash_is_detected_by_its_mac(db):
    append(db, 5)
    result = chain(db)
    forged_seq = result.head_seq + 1
    raw(db, _forge(db, forged_seq, result.head_hash))
    assert chain(db, key=False).ok  # the hash chain alone cannot tell: an extension looks legitimate
    result = chain(db)
    assert (result.problem_seq, result.problem) == (forged_seq, "forged")


def test_forged_event_inserted_in_the_middle_is_detected_at_that_event(db):
    append(db, 6)
    target = head_seq(db) - 2
    with db.engine.connect() as conn:
        prev = conn.execute(text(f"SELECT hash FROM audit_event WHERE seq = {target - 1}")).scalar()
    # replace event `target` by a forged one that links correctly to its predecessor
    raw(db, f"DELETE FROM audit_event WHERE seq = {target}", _forge(db, target, prev))
    result = chain(db)
    assert (result.problem_seq, result.problem) == (target, "forged")
    without_key = chain(db, key=False)  # an auditor without the key still sees the break right after it
    assert (without_key.problem_seq, without_key.problem) == (target + 1, "broken_link")


def test_truncated_tail_is_detected_by_the_anchor_of_an_earlier_verification(db):
    append(db, 5)
    assert verify_installation(db).ok  # records the verified head
    last = head_seq(db)
    raw(db, f"DELETE FROM audit_event WHERE seq >= {last - 1}")
    assert chain(db).ok  # a shorter chain is still a chain
    report = verify_installation(db)
    assert not report.ok
    assert f"#{last}" in report.lines[0]


def _append_worker(url: str, data_dir: str, worker: int, n: int) -> None:
    from cms_workflows.core.db import Database
    from tests.conftest import make_settings
    from pathlib import Path

    db = Database(url, settings=make_settings(Path(data_dir), url if url.startswith("postgresql") else None))
    for i in range(n):
        with db.unit_of_work() as session:
            audit.record(session, ADMIN, "test.concurrent", "worker", worker, {"i": i})
    db.dispose()


def _concurrent_appends(db, workers: int, n: int) -> None:
    before = head_seq(db)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_worker, args=(db.url, str(db.settings.data_dir), w, n)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    result = chain(db)
    assert result.ok, result
    assert result.events == before + workers * n
    with db.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_event ORDER BY seq"))]
    assert seqs == list(range(1, before + workers * n + 1))


@requires_postgres
def test_concurrent_writers_on_postgres_leave_one_chain_without_gaps(db):
    _concurrent_appends(db, workers=4, n=40)


def test_concurrent_writers_on_sqlite_leave_one_chain_without_gaps(db):
    if PG_URL:
        pytest.skip("SQLite-specific: this run uses PostgreSQL")
    _concurrent_appends(db, workers=3, n=30)


def test_evidence_pack_verifies_without_our_code(company, db, tmp_path):
    from cms_workflows.audit import signing

    db.settings.signing_key = tmp_path / "keys" / "signing.pem"
    fingerprint = signing.fingerprint(signing.create_key(db.settings.signing_key))
    append(db, 3)
    pack = tmp_path / "pack.zip"
    manifest = export_evidence(db, "verifier", pack)
    script = tmp_path / "verify_evidence.py"  # the auditor's own copy (tests/test_evidence_pack.py: the whole story)
    script.write_bytes(zipfile.ZipFile(pack).read("verify_evidence.py"))
    ok = subprocess.run([sys.executable, "-I", str(script), str(pack), "--fingerprint", fingerprint],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"{manifest['events_in_scope']} events" in ok.stdout
    # an altered event in the pack is caught by the auditor's script
    with zipfile.ZipFile(pack) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    lines = members["events.jsonl"].decode().splitlines()
    event = json.loads(lines[2])
    event["actor"] = "someone_else"
    lines[2] = json.dumps(event, ensure_ascii=False)
    members["events.jsonl"] = ("\n".join(lines) + "\n").encode()
    manifest_data = json.loads(members["manifest.json"])
    manifest_data["members"]["events.jsonl"] = hashlib.sha256(members["events.jsonl"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest_data).encode()
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    failed = subprocess.run([sys.executable, "-I", str(script), str(bad), "--fingerprint", fingerprint],
                            capture_output=True, text=True)
    assert failed.returncode == 1 and "FAILED" in failed.stdout  # the signed manifest no longer matches


def test_only_permitted_positions_export_evidence(company, db, tmp_path):
    from cms_workflows.core.errors import AccessDenied

    with pytest.raises(AccessDenied):
        export_evidence(db, "purchaser.hn01", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


@given(st.binary(max_size=200), st.binary(max_size=100))
def test_precomputed_hmac_is_hmac_sha256(key, message):
    import hmac as std_hmac

    from cms_workflows.audit.chain import hmac_sha256_hex

    assert hmac_sha256_hex(key)(message) == std_hmac.new(key, message, hashlib.sha256).hexdigest()


def _parallel(db):
    return audit.verify_parallel(db, audit.load_key(db.settings), workers=3, min_per_worker=5)


def test_parallel_verification_agrees_with_the_single_process_one(db):
    append(db, 40)
    single, parallel = chain(db), _parallel(db)
    assert parallel.ok and (parallel.events, parallel.head_seq, parallel.head_hash) == (single.events, single.head_seq, single.head_hash)


@pytest.mark.parametrize("where", ["first", "boundary", "last"])
@pytest.mark.parametrize("tamper", ["altered", "missing", "broken_link"])
def test_parallel_verification_names_the_first_broken_event(db, where, tamper):
    append(db, 40)
    last = head_seq(db)
    target = {"first": 2, "boundary": 1 + last // 3, "last": last - 1}[where]
    statements = {
        "altered": [f"UPDATE audit_event SET object_id = 'x' WHERE seq = {target}"],
        "missing": [f"DELETE FROM audit_event WHERE seq = {target}"],
        "broken_link": [f"UPDATE audit_event SET seq = -1 WHERE seq = {target}", f"UPDATE audit_event SET seq = {target} WHERE seq = {target + 1}",
                        f"UPDATE audit_event SET seq = {target + 1} WHERE seq = -1"],
    }[tamper]
    raw(db, *statements)
    expected = chain(db)
    result = _parallel(db)
    assert (result.problem_seq, result.problem) == (expected.problem_seq, expected.problem)
    assert result.problem_seq == target
