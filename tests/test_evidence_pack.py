"""Evidence packs an auditor can rely on (issue 14 item 6, X-1): each finding reproduced, then detected by the
auditor's own copy of the verifier (tools/verify_evidence.py) with the installation's key fingerprint pinned."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from cms_workflows import audit
from cms_workflows.access import Grant
from cms_workflows.audit import checkpoints, signing
from cms_workflows.audit.evidence import Scope
from cms_workflows.bootstrap import export_evidence
from cms_workflows.core.clock import FixedClock
from cms_workflows.core.errors import AccessDenied, CmsError
from tests.documents.conftest import new_procedure, release

ROOT = Path(__file__).resolve().parent.parent
VERIFIER = ROOT / "tools" / "verify_evidence.py"  # the auditor's own, published copy
HN01 = Grant("carbon_accountant.hn01", "carbon_accountant", "HN01")
HN02 = Grant("carbon_accountant.hn02", "carbon_accountant", "HN02")


def _load_verifier():
    spec = importlib.util.spec_from_file_location("verify_evidence_under_test", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verifier = _load_verifier()


@pytest.fixture
def fp(db, tmp_path) -> str:
    """The installation's signing key (outside the data folder); returns its fingerprint."""
    db.settings.signing_key = tmp_path / "keys" / "signing.pem"
    return signing.fingerprint(signing.create_key(db.settings.signing_key))


def append(db, n: int, grant: Grant = HN01, start: int = 0) -> None:
    for i in range(start, start + n):
        with db.unit_of_work() as uow:
            audit.record(uow, grant, "test.event", "thing", i, {"i": i, "decision": "approve", "text": f"第{i}条"})


def check(pack: Path, *args: str, script: Path = VERIFIER, block_crypto: bool = False):
    """Run a verifier in a fresh interpreter, as the auditor does (optionally with `cryptography` unimportable)."""
    if block_crypto:
        wrapper = ("import sys, runpy\n"
                   "class Block:\n"
                   "    def find_spec(self, name, path=None, target=None):\n"
                   "        if name == 'cryptography' or name.startswith('cryptography.'):\n"
                   "            raise ImportError('blocked for the test')\n"
                   "sys.meta_path.insert(0, Block())\n"
                   "sys.argv = sys.argv[1:]\n"
                   "runpy.run_path(sys.argv[0], run_name='__main__')\n")
        cmd = [sys.executable, "-I", "-c", wrapper, str(script), str(pack), *args]
    else:
        cmd = [sys.executable, "-I", str(script), str(pack), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env={"LANG": "C.UTF-8"}, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def members_of(pack: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(pack) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def reseal(members: dict[str, bytes], key: Ed25519PrivateKey | None = None) -> None:
    """What a forger does after editing members: fix the manifest's hashes (and sign with their own key)."""
    manifest = json.loads(members["manifest.json"])
    manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                           for n, d in members.items() if n not in ("manifest.json", "manifest.sig")}
    chain = [json.loads(line) for line in members["chain.jsonl"].decode().splitlines()]
    manifest["head"] = {"seq": chain[-1]["seq"], "hash": chain[-1]["hash"]}
    manifest["events_in_scope"] = len(members["events.jsonl"].decode().splitlines())
    if key is not None:
        public = signing.public_bytes(key)
        manifest["public_key"], manifest["fingerprint"] = public.hex(), signing.fingerprint(public)
    members["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode()
    if key is not None:
        members["manifest.sig"] = signing.sign(key, members["manifest.json"]).encode()


def events_of(members) -> list[dict]:
    return [json.loads(line) for line in members["events.jsonl"].decode().splitlines()]


def put_events(members, events: list[dict]) -> None:
    members["events.jsonl"] = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                                      for e in events).encode()
    members["chain.jsonl"] = "".join(json.dumps({"hash": e["hash"], "prev_hash": e["prev_hash"], "seq": e["seq"]}) + "\n"
                                     for e in events).encode()


# ---------------------------------------------------------------- the pack and the pinned key


def test_pack_verifies_only_with_the_pinned_key(company, db, fp, tmp_path):
    append(db, 3)
    manifest = export_evidence(db, "verifier", tmp_path / "pack.zip")
    assert manifest["fingerprint"] == fp and manifest["installation"] == events_head(db, 1)
    ok = check(tmp_path / "pack.zip", "--fingerprint", fp)
    assert ok.returncode == 0 and ok.stdout.startswith("OK:") and "cryptography" in ok.stdout, ok.stdout
    unpinned = check(tmp_path / "pack.zip")
    assert unpinned.returncode == 1 and "UNPINNED" in unpinned.stdout
    accepted = check(tmp_path / "pack.zip", "--unpinned")
    assert accepted.returncode == 0 and "WARNING" in accepted.stdout
    other = signing.fingerprint(signing.public_bytes(Ed25519PrivateKey.generate()))
    wrong = check(tmp_path / "pack.zip", "--fingerprint", other)
    assert wrong.returncode == 1 and "not the pinned" in wrong.stdout
    # the published verifier and the packaged one are the same file; the pack carries that copy
    packaged = ROOT / "cms_workflows" / "data" / "verify_evidence.py"
    assert packaged.read_bytes() == VERIFIER.read_bytes() == members_of(tmp_path / "pack.zip")["verify_evidence.py"]


def events_head(db, seq: int) -> str:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT hash FROM audit_event WHERE seq = :s"), {"s": seq}).scalar()


def test_the_fallback_ed25519_verifies_the_same_pack(company, db, fp, tmp_path):
    append(db, 2)
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    ok = check(tmp_path / "pack.zip", "--fingerprint", fp, block_crypto=True)
    assert ok.returncode == 0 and "pure-Python Ed25519" in ok.stdout, ok.stdout
    members = members_of(tmp_path / "pack.zip")
    signature = members["manifest.sig"].decode()
    # flip the first hex digit: always a change (the last byte of S is often 00 already, so writing 00 there was not)
    members["manifest.sig"] = (("1" if signature[0] != "1" else "2") + signature[1:]).encode()
    bad = check(write_zip(tmp_path / "bad.zip", members), "--fingerprint", fp, block_crypto=True)
    assert bad.returncode == 1 and "not a valid signature" in bad.stdout


def test_fallback_agrees_with_cryptography_on_signatures():
    key = Ed25519PrivateKey.generate()
    public = signing.public_bytes(key)
    for message in (b"", b"manifest", "证据".encode() * 100):
        signature = bytes.fromhex(signing.sign(key, message))
        assert verifier._fallback_verify(public, message, signature)
        assert not verifier._fallback_verify(public, message + b"x", signature)
        assert not verifier._fallback_verify(public, message, signature[:63] + bytes([signature[63] ^ 1]))
    # RFC 8032 section 7.1, test 2
    rfc_public = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
    rfc_signature = bytes.fromhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                                  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
    assert verifier._fallback_verify(rfc_public, bytes([0x72]), rfc_signature)


# ---------------------------------------------------------------- the findings of item 6, in the pack


def test_deleting_an_event_and_rechaining_the_pack_is_detected(company, db, fp, tmp_path):
    append(db, 5)
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    members = members_of(tmp_path / "pack.zip")
    events = events_of(members)
    gone = len(events) - 3
    # the attack: drop one event, renumber and re-hash everything after it, fix the manifest
    forged, prev = [], audit.GENESIS
    for e in events:
        if e["seq"] == gone:
            continue
        e = dict(e, seq=len(forged) + 1, prev_hash=prev)
        e["hash"] = verifier.event_hash(e)
        forged.append(e)
        prev = e["hash"]
    put_events(members, forged)
    reseal(members)
    # the old verifier's checks (links, hashes, member list) all hold now …
    assert verifier.event_hash(forged[-1]) == forged[-1]["hash"]
    r = check(write_zip(tmp_path / "forged.zip", members), "--fingerprint", fp)
    assert r.returncode == 1 and "not a valid signature" in r.stdout  # … the signed manifest does not
    reseal(members, Ed25519PrivateKey.generate())  # signed by the forger's own key: not the pinned one
    r = check(write_zip(tmp_path / "forged2.zip", members), "--fingerprint", fp)
    assert r.returncode == 1 and "not the pinned" in r.stdout
    r = check(tmp_path / "forged2.zip", "--unpinned")  # even unpinned: the pack's head checkpoint no longer holds
    assert r.returncode == 1 and "checkpoint" in r.stdout and "not signed by the pinned key" in r.stdout


def test_cutting_the_tail_of_the_pack_is_detected(company, db, fp, tmp_path):
    append(db, 4)
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    members = members_of(tmp_path / "pack.zip")
    put_events(members, events_of(members)[:-2])
    reseal(members)
    r = check(write_zip(tmp_path / "cut.zip", members), "--fingerprint", fp)
    assert r.returncode == 1 and "not a valid signature" in r.stdout
    forger = Ed25519PrivateKey.generate()
    reseal(members, forger)
    r = check(write_zip(tmp_path / "cut2.zip", members), "--unpinned")
    assert r.returncode == 1 and "not signed by the pinned key" in r.stdout  # the real head checkpoint


def test_removing_a_file_with_its_manifest_line_is_detected(company, db, fp, tmp_path):
    release(db, new_procedure(db))
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    members = members_of(tmp_path / "pack.zip")
    stored = [n for n in members if n.startswith("files/")]
    assert stored
    del members[stored[0]]
    reseal(members)
    r = check(write_zip(tmp_path / "less.zip", members), "--fingerprint", fp)
    assert r.returncode == 1 and "not a valid signature" in r.stdout


def test_a_member_missing_from_the_pack_is_a_message(company, db, fp, tmp_path):
    release(db, new_procedure(db))
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    members = members_of(tmp_path / "pack.zip")
    name = next(n for n in members if n.startswith("files/"))
    del members[name]  # the manifest still lists it
    r = check(write_zip(tmp_path / "missing.zip", members), "--fingerprint", fp)
    assert r.returncode == 1 and f"member {name} is missing" in r.stdout
    for essential in ("manifest.json", "manifest.sig", "chain.jsonl"):
        m = members_of(tmp_path / "pack.zip")
        del m[essential]
        r = check(write_zip(tmp_path / f"no-{essential}.zip", m), "--fingerprint", fp)
        assert r.returncode == 1 and "missing" in r.stdout, r.stdout
    r = check(tmp_path / "nothing-here.zip", "--fingerprint", fp)
    assert r.returncode == 1 and "cannot open" in r.stdout


def test_a_duplicate_json_key_in_a_payload_is_detected(company, db, fp, tmp_path):
    append(db, 2)
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    members = members_of(tmp_path / "pack.zip")
    events = events_of(members)
    target = next(e for e in events if e["action"] == "test.event")
    original = target["payload"]
    # the attack: a reader taking the first "decision" sees "reject"; json.loads keeps the last, so the
    # old verifier (parse, re-serialise, hash) computed the original hash and passed
    target["payload"] = '{"decision":"reject",' + original[1:]
    assert json.loads(target["payload"]) == json.loads(original)
    put_events(members, events)
    reseal(members, Ed25519PrivateKey.generate())
    r = check(write_zip(tmp_path / "dup.zip", members), "--unpinned")
    assert r.returncode == 1 and "duplicate JSON key 'decision'" in r.stdout
    members = members_of(tmp_path / "pack.zip")  # and in the manifest itself
    members["manifest.json"] = members["manifest.json"].replace(b'{\n "events_in_scope"', b'{\n "head": 1,\n "events_in_scope"', 1)
    r = check(write_zip(tmp_path / "dup2.zip", members), "--fingerprint", fp)
    assert r.returncode == 1 and "duplicate JSON key 'head'" in r.stdout


def test_a_forged_verifier_inside_the_pack_does_not_help_the_forger(company, db, fp, tmp_path):
    append(db, 2)
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    members = members_of(tmp_path / "pack.zip")
    events = events_of(members)
    events[-1]["actor"] = "someone_else"
    put_events(members, events)
    members["verify_evidence.py"] = b"print('OK: everything checks out')\n"
    reseal(members)
    forged = write_zip(tmp_path / "forged.zip", members)
    script = tmp_path / "their_verify_evidence.py"
    script.write_bytes(members["verify_evidence.py"])
    assert check(forged, script=script).returncode == 0  # the pack's own verifier says OK …
    r = check(forged, "--fingerprint", fp)  # … the auditor's copy does not
    assert r.returncode == 1 and "FAILED" in r.stdout
    r = check(write_zip(tmp_path / "extra.zip", {**members_of(tmp_path / "pack.zip"), "extra.txt": b"x"}), "--fingerprint", fp)
    assert r.returncode == 1 and "extra.txt is not listed" in r.stdout


# ---------------------------------------------------------------- the installation's chain rewritten or cut


def raw(db, *statements) -> None:
    """Someone with raw database access: triggers off, rows changed."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("COMMIT")
            for name in ("audit_event_no_update", "audit_event_no_delete", "audit_checkpoint_no_update",
                         "audit_checkpoint_no_delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            for s in statements:
                conn.exec_driver_sql(s)
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
            conn.exec_driver_sql("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER")
            for s in statements:
                conn.exec_driver_sql(s)
            conn.commit()


def rechain_without(db, seq: int) -> None:
    """Delete event `seq` and re-chain every later one with valid hashes and MACs (the audit key stolen)."""
    key = audit.load_key(db.settings)
    with db.engine.connect() as conn:
        rows = [list(r) for r in conn.execute(text(f"SELECT {', '.join(audit.chain.COLUMNS)} FROM audit_event "
                                                   f"WHERE seq >= :s ORDER BY seq"), {"s": seq})]
        prev = conn.execute(text("SELECT hash FROM audit_event WHERE seq = :s"), {"s": seq - 1}).scalar()
    raw(db, f"DELETE FROM audit_event WHERE seq >= {seq}")
    with db.engine.begin() as conn:
        for row in rows[1:]:
            row[0], row[9] = row[0] - 1, prev
            row[10] = hashlib.sha256(audit.chain.canonical_body(*row[:10]).encode()).hexdigest()
            row[11] = audit.mac_of(key, row[10])
            conn.execute(audit.AuditEvent.__table__.insert().values(dict(zip(audit.chain.COLUMNS, row))))
            prev = row[10]


def test_a_chain_rewritten_in_the_database_is_detected_by_a_signed_checkpoint(company, db, fp, tmp_path):
    append(db, 5)
    log = tmp_path / "auditor" / "checkpoints.jsonl"  # kept by the auditor, outside the installation
    signed = checkpoints.sign_checkpoint(db, log_path=log)
    rechain_without(db, signed["seq"] - 3)
    assert audit.verify_parallel(db, audit.load_key(db.settings)).ok  # the chain itself checks out
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    r = check(tmp_path / "pack.zip", "--fingerprint", fp)  # the stored checkpoint travels in the pack
    assert r.returncode == 1 and "rewritten" in r.stdout and f"#{signed['seq']}" in r.stdout
    raw(db, "DELETE FROM audit_checkpoint")  # the forger removes the stored checkpoints as well …
    export_evidence(db, "verifier", tmp_path / "pack2.zip")
    assert check(tmp_path / "pack2.zip", "--fingerprint", fp).returncode == 0
    r = check(tmp_path / "pack2.zip", "--fingerprint", fp, "--checkpoints", str(log))  # … the auditor's log remains
    assert r.returncode == 1 and "rewritten" in r.stdout


def test_a_tail_cut_in_the_database_is_detected_by_the_auditors_checkpoints(company, db, fp, tmp_path):
    append(db, 3)
    export_evidence(db, "verifier", tmp_path / "first.zip")
    log = tmp_path / "auditor-log.jsonl"  # the auditor keeps the checkpoints of the packs they received
    log.write_bytes(members_of(tmp_path / "first.zip")["checkpoints.jsonl"])
    head = json.loads(members_of(tmp_path / "first.zip")["manifest.json"])["head"]["seq"]
    raw(db, f"DELETE FROM audit_event WHERE seq > {head - 2}", "DELETE FROM audit_checkpoint")
    export_evidence(db, "verifier", tmp_path / "second.zip")
    assert check(tmp_path / "second.zip", "--fingerprint", fp).returncode == 0  # consistent in itself
    r = check(tmp_path / "second.zip", "--fingerprint", fp, "--checkpoints", str(log))
    assert r.returncode == 1 and "tail cut" in r.stdout and f"#{head}" in r.stdout


# ---------------------------------------------------------------- scope, determinism, writing, permission


def test_same_scope_chain_and_time_give_the_same_bytes(company, db, fp, tmp_path):
    release(db, new_procedure(db))
    db.clock = FixedClock(datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc))
    with db.engine.connect() as conn:
        head = conn.execute(text("SELECT max(seq) FROM audit_event")).scalar()
    first = export_evidence(db, "verifier", tmp_path / "a.zip", Scope(head=head))
    again = export_evidence(db, "verifier", tmp_path / "b.zip", Scope(head=head))  # the chain grew meanwhile
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert again["exported_at"] == "2026-03-01T08:30:00.000000Z"
    db.clock = FixedClock(datetime(2026, 3, 1, 8, 31, tzinfo=timezone.utc))
    export_evidence(db, "verifier", tmp_path / "c.zip", Scope(head=first["head"]["seq"]))
    assert (tmp_path / "a.zip").read_bytes() != (tmp_path / "c.zip").read_bytes()
    with pytest.raises(CmsError) as e:
        export_evidence(db, "verifier", tmp_path / "d.zip", Scope(head=10**9))
    assert e.value.key == "audit.evidence_no_head" and not (tmp_path / "d.zip").exists()


def test_scope_by_site_dates_and_document_numbers(company, db, fp, tmp_path):
    append(db, 3, HN01)
    append(db, 2, HN02, start=100)
    number = new_procedure(db)
    release(db, number)
    other = new_procedure(db, title="能源计量管理程序")

    def pack(name, scope) -> tuple[list[dict], dict[str, bytes]]:
        export_evidence(db, "verifier", tmp_path / name, scope)
        assert check(tmp_path / name, "--fingerprint", fp).returncode == 0
        members = members_of(tmp_path / name)
        return events_of(members), members

    events, members = pack("hn02.zip", Scope(site="HN02"))
    assert {e["object_id"] for e in events if e["action"] == "test.event"} == {"100", "101"}
    assert all(e["site"] == "HN02" for e in events) and not any(n.startswith("files/") for n in members)
    chain = members["chain.jsonl"].decode().splitlines()
    assert len(chain) == json.loads(members["manifest.json"])["head"]["seq"]  # the whole chain binds them

    events, members = pack("doc.zip", Scope(documents=(number,)))
    assert events and all(json.loads(e["payload"]).get("number") == number for e in events)
    assert f"records/documents/{number}.json" in members and f"records/documents/{other}.json" not in members
    approved = next(json.loads(e["payload"]) for e in events if e["action"] == "documents.revision.approve")
    assert {n for n in members if n.startswith("files/")} == {f"files/{approved['file_sha256']}",
                                                               f"files/{approved['template_sha256']}"}

    today = db.clock.today()
    events, _ = pack("today.zip", Scope(date_from=today, date_to=today, site="HN01"))
    assert {"0", "1", "2"} <= {e["object_id"] for e in events if e["action"] == "test.event"}
    events, _ = pack("past.zip", Scope(date_to=today - timedelta(days=400)))
    assert events == []
    with pytest.raises(CmsError) as e:
        export_evidence(db, "verifier", tmp_path / "x.zip", Scope(documents=("HN01-PR-999",)))
    assert e.value.key == "documents.unknown_document"
    with pytest.raises(CmsError) as e:
        export_evidence(db, "verifier", tmp_path / "y.zip", Scope(site="NOPE"))
    assert e.value.key == "org.unknown_site"


def test_export_is_audited_and_leaves_no_partial_file(company, db, fp, tmp_path):
    append(db, 1)
    manifest = export_evidence(db, "verifier", tmp_path / "out" / "pack.zip", Scope(site="HN01"))
    with db.read() as uow:
        event = audit.events_for(uow, event="audit.evidence.export")[-1]
    payload = json.loads(event.payload)
    assert event.actor == "verifier" and payload["scope"]["site"] == "HN01" and payload["head"] == manifest["head"]
    assert payload["manifest_sha256"] == hashlib.sha256(members_of(tmp_path / "out" / "pack.zip")["manifest.json"]).hexdigest()
    # a failure half-way (here: the signing key gone) leaves nothing behind
    db.settings.signing_key = tmp_path / "keys" / "gone.pem"
    with pytest.raises(CmsError):
        export_evidence(db, "verifier", tmp_path / "out" / "second.zip")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pack.zip"]


def test_the_external_verifier_exports_and_others_may_not(company, db, fp, tmp_path):
    with pytest.raises(AccessDenied):
        export_evidence(db, "purchaser.hn01", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
    with db.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_event")).scalar()
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    with db.engine.connect() as conn:  # the verifier's only trace is the export's own event
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == before + 1


def test_index_is_an_offline_table_of_contents_in_both_languages(company, db, fp, tmp_path):
    append(db, 1)
    export_evidence(db, "verifier", tmp_path / "pack.zip")
    members = members_of(tmp_path / "pack.zip")
    index = members["index.html"].decode()
    assert "证据包" in index and "evidence pack" in index and fp in index
    assert "http://" not in index and "https://" not in index and "<script" not in index and "src=" not in index
    assert all(name in index for name in members if name != "index.html")


def test_cli_export_with_scope_options(company, db, fp, cli_env, tmp_path):
    cli_env["CMS_SIGNING_KEY"] = str(db.settings.signing_key)
    append(db, 1)
    env = {**cli_env.as_user("verifier"), "CMS_LOCALE": "en"}
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "export-evidence", str(tmp_path / "p.zip"),
                        "--site", "HN01", "--from", date.today().isoformat(), "--doc", "HN01-PR-999"],
                       capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
    assert r.returncode == 2 and "HN01-PR-999" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "export-evidence", str(tmp_path / "p.zip"),
                        "--site", "HN01", "--from", "2020-01-01", "--to", "2099-12-31"],
                       capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert fp in r.stdout and "--fingerprint" in r.stdout
    assert check(tmp_path / "p.zip", "--fingerprint", fp).returncode == 0
