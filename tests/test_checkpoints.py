"""Signed checkpoints and the audit key's explicit location (issue 14, item 3; X-1).

The tamper cases (stolen key, deleted anchors, restored copy, cut tail) are in
tests/test_tamper_checkpoints.py; the PostgreSQL roles in tests/test_pg_roles.py."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cms_workflows import audit
from cms_workflows.audit import checkpoints, signing
from cms_workflows.bootstrap import installation
from cms_workflows.core.config import get_settings
from cms_workflows.core.errors import CmsError
from tests.conftest import TEST_AUDIT_KEY, TEST_COMPANY_NAME
from tests.test_audit import append, raw


def with_signing_key(db, folder: Path) -> Path:
    """Give the test database's settings a signing key outside its data folder."""
    path = folder / "keys" / "signing-key.pem"
    checkpoints.create_signing_key(db.settings, path)
    db.settings.signing_key = path
    return path


@pytest.fixture
def signed(db, tmp_path):
    with_signing_key(db, tmp_path)
    return db


def run_cms(env: dict, *args, cwd=None, locale="zh-CN"):
    full = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    full.update(env, CMS_LOCALE=locale)
    return subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], capture_output=True, text=True,
                          env=full, cwd=cwd, timeout=120)


def events(db) -> list:
    with db.read() as uow:
        return audit.events_for(uow)


# ---------------------------------------------------------------- the signing key


def test_signing_key_is_created_with_mode_0600_and_never_overwritten(db, tmp_path):
    path = tmp_path / "keys" / "signing-key.pem"
    created = checkpoints.create_signing_key(db.settings, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(created["public_key"]) == 64 and len(created["fingerprint"]) == 64
    before = path.read_bytes()
    with pytest.raises(CmsError) as raised:
        checkpoints.create_signing_key(db.settings, path)
    assert raised.value.key == "audit.signing_key_exists"
    assert path.read_bytes() == before
    db.settings.signing_key = path
    assert checkpoints.key_info(db.settings)["fingerprint"] == created["fingerprint"]


@pytest.mark.parametrize("inside", ["signing-key.pem", "sub/signing-key.pem", "."])
def test_signing_key_inside_the_data_folder_is_refused(db, inside):
    path = db.settings.data_dir / inside
    with pytest.raises(CmsError) as raised:
        checkpoints.create_signing_key(db.settings, path)
    assert raised.value.key == "audit.signing_key_in_data_dir"
    assert str(db.settings.data_dir.resolve()) in raised.value.message("en")
    assert not (db.settings.data_dir / "signing-key.pem").exists() and not (db.settings.data_dir / "sub").exists()


# ---------------------------------------------------------------- signing a checkpoint


def test_a_checkpoint_signs_the_verified_head_and_is_stored_recorded_and_logged(signed, tmp_path):
    db = signed
    append(db, 3)
    head = events(db)[-1]
    log = tmp_path / "auditor" / "checkpoints.jsonl"
    cp = checkpoints.sign_checkpoint(db, log_path=log)
    assert (cp["seq"], cp["hash"]) == (head.seq, head.hash)
    assert cp["installation"] == events(db)[0].hash
    signed_bytes = audit.canonical_json({k: cp[k] for k in ("installation", "seq", "hash", "signed_at")}).encode("utf-8")
    assert signing.verify(bytes.fromhex(cp["public_key"]), signed_bytes, cp["signature"])
    assert cp["fingerprint"] == signing.fingerprint(bytes.fromhex(cp["public_key"]))
    # recorded by the system identity, right after the head it signs
    event = events(db)[-1]
    assert (event.seq, event.actor, event.action) == (head.seq + 1, "system", "audit.checkpoint.sign")
    assert json.loads(event.payload)["signature"] == cp["signature"]
    # the log line, the stored row and the returned checkpoint are the same thing
    assert log.read_text(encoding="utf-8").splitlines() == checkpoints.checkpoint_lines(db) == [checkpoints.checkpoint_line(cp)]
    report = checkpoints.check_log(db, log)
    assert report.ok and report.checked == 1, report.lines
    assert audit.verify_parallel(db, audit.load_key(db.settings)).ok


def test_a_broken_chain_is_never_signed(signed, tmp_path):
    db = signed
    append(db, 4)
    target = events(db)[-2].seq
    raw(db, f"UPDATE audit_event SET payload = '{{\"i\":999}}' WHERE seq = {target}")
    before = len(events(db))
    with pytest.raises(CmsError) as raised:
        checkpoints.sign_checkpoint(db, log_path=tmp_path / "log.jsonl")
    assert raised.value.key == "audit.checkpoint_refused" and f"#{target}" in raised.value.message("zh-CN")
    assert len(events(db)) == before and not (tmp_path / "log.jsonl").exists()


def test_checkpoints_without_a_configured_key_are_refused_before_anything_is_written(db, tmp_path):
    before = len(events(db))
    with pytest.raises(CmsError) as raised:
        checkpoints.sign_checkpoint(db, log_path=tmp_path / "log.jsonl")
    assert raised.value.key == "audit.signing_key_not_configured"
    assert len(events(db)) == before


@pytest.mark.parametrize("statement", ["UPDATE audit_checkpoint SET seq = 1", "DELETE FROM audit_checkpoint"])
def test_stored_checkpoints_are_append_only(signed, statement):
    checkpoints.sign_checkpoint(signed)
    with pytest.raises(Exception, match="append-only"):
        raw(signed, statement, drop_triggers=False)
    assert len(checkpoints.checkpoint_lines(signed)) == 1


# ---------------------------------------------------------------- checking a log


def test_a_log_signed_by_another_key_is_reported(signed, tmp_path, monkeypatch):
    db = signed
    log = tmp_path / "log.jsonl"
    checkpoints.sign_checkpoint(db, log_path=log)
    # someone signs a checkpoint of this chain with a key of their own and adds it to the log
    other = tmp_path / "other" / "key.pem"
    checkpoints.create_signing_key(db.settings, other)
    mine = db.settings.signing_key
    db.settings.signing_key = other
    cp = checkpoints.sign_checkpoint(db, log_path=log)
    db.settings.signing_key = mine
    report = checkpoints.check_log(db, log)
    assert not report.ok and report.checked == 1
    (line,) = report.lines
    assert "第 2 行" in line and cp["fingerprint"] in line and f"#{cp['seq']}" in line
    monkeypatch.setenv("CMS_LOCALE", "en")
    (line,) = checkpoints.check_log(db, log).lines
    assert "log line 2" in line and "another key" in line and f"event #{cp['seq']}" in line


def test_a_pinned_fingerprint_checks_the_log_without_the_private_key(signed, tmp_path):
    db = signed
    log = tmp_path / "log.jsonl"
    cp = checkpoints.sign_checkpoint(db, log_path=log)
    db.settings.signing_key = None  # the auditor has the log and the fingerprint, not the key
    assert checkpoints.check_log(db, log, cp["fingerprint"].upper()).ok
    wrong = checkpoints.check_log(db, log, "ab" * 32)
    assert not wrong.ok and "ab" * 32 in wrong.lines[0]
    with pytest.raises(CmsError) as raised:
        checkpoints.check_log(db, log)
    assert raised.value.key == "audit.checkpoint_no_trusted_key"
    with pytest.raises(CmsError) as raised:
        checkpoints.check_log(db, log, "not-hex")
    assert raised.value.key == "audit.bad_fingerprint"


def test_an_edited_or_garbled_log_entry_is_reported_by_line(signed, tmp_path):
    db = signed
    log = tmp_path / "log.jsonl"
    append(db, 2)
    checkpoints.sign_checkpoint(db, log_path=log)
    append(db, 2)
    cp = checkpoints.sign_checkpoint(db, log_path=log)
    lines = log.read_text(encoding="utf-8").splitlines()
    edited = dict(cp, seq=cp["seq"] - 1)  # moved back to an earlier event: the signature no longer matches
    duplicate = lines[0][:-1] + ',"seq":1}'  # a duplicate key is not a checkpoint
    log.write_text("\n".join([lines[0], checkpoints.checkpoint_line(edited), "not json", duplicate, ""]), encoding="utf-8")
    report = checkpoints.check_log(db, log)
    assert not report.ok and report.checked == 1
    assert [line.split("，")[0] for line in report.lines] == [
        "检查点（日志第 2 行", "检查点日志第 3 行不是有效的检查点记录", "检查点日志第 4 行不是有效的检查点记录"]
    assert "签名无效" in report.lines[0]


def test_a_missing_or_empty_log_is_an_error(signed, tmp_path):
    with pytest.raises(CmsError) as raised:
        checkpoints.check_log(signed, tmp_path / "nowhere.jsonl")
    assert raised.value.key == "audit.checkpoint_log_missing"
    (tmp_path / "empty.jsonl").write_text("\n")
    report = checkpoints.check_log(signed, tmp_path / "empty.jsonl")
    assert not report.ok


# ---------------------------------------------------------------- the audit key's location


def test_a_missing_audit_key_is_an_error_naming_the_path_and_nothing_is_created(db, tmp_path):
    settings = get_settings(data_dir=tmp_path / "elsewhere", database_url=db.url, audit_key=None)
    with pytest.raises(CmsError) as raised:
        audit.load_key(settings)
    assert raised.value.key == "audit.key_missing"
    assert str((tmp_path / "elsewhere" / "audit.key").resolve()) in raised.value.message("en")
    assert not (tmp_path / "elsewhere").exists()


def test_writing_an_event_without_the_audit_key_is_refused(db, tmp_path):
    from cms_workflows.core.db import Database

    settings = get_settings(data_dir=tmp_path / "elsewhere", database_url=db.url, audit_key=None)
    other = Database(db.url, settings=settings)
    before = len(events(db))
    try:
        with pytest.raises(CmsError) as raised:
            append(other, 1)
    finally:
        other.dispose()
    assert raised.value.key == "audit.key_missing"
    assert len(events(db)) == before and not (tmp_path / "elsewhere" / "audit.key").exists()


def test_the_audit_key_is_created_once_for_a_new_installation_and_never_replaced(empty_db, tmp_path):
    from cms_workflows.core.db import Database

    settings = get_settings(data_dir=empty_db.settings.data_dir, database_url=empty_db.url, audit_key=None)
    db = Database(empty_db.url, settings=settings)
    try:
        installation.initialize(db)
        key_file = settings.data_dir / "audit.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_bytes()
        installation.initialize(db)  # again: the key is kept
        assert key_file.read_bytes() == key
        # an installation with events whose key is gone: init stops, naming the path, instead of making a new key
        key_file.unlink()
        with pytest.raises(CmsError) as raised:
            installation.initialize(db)
        assert raised.value.key == "audit.key_missing" and not key_file.exists()
    finally:
        db.dispose()


# ---------------------------------------------------------------- the commands


def _env(db) -> dict:
    return {"CMS_DATA_DIR": str(db.settings.data_dir), "CMS_DATABASE_URL": db.url, "CMS_AUDIT_KEY": TEST_AUDIT_KEY,
            "CMS_COMPANY_NAME": TEST_COMPANY_NAME, "CMS_CONFIG_DIR": str(db.settings.data_dir.parent / "config")}


def test_cms_init_signing_key_key_show_and_checkpoint(empty_db, tmp_path):
    env = {**_env(empty_db), "CMS_AUDIT_KEY": ""}
    key = tmp_path / "keys" / "signing-key.pem"
    r = run_cms(env, "init", "--signing-key", str(key))
    assert r.returncode == 0, r.stdout + r.stderr
    public = signing.public_bytes(signing.load_private(get_settings(signing_key=key)))
    assert public.hex() in r.stdout and signing.fingerprint(public) in r.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((empty_db.settings.data_dir / "audit.key").stat().st_mode) == 0o600
    pem = key.read_bytes()
    again = run_cms(env, "init", "--signing-key", str(key))
    assert again.returncode == 2 and "不会被覆盖" in again.stderr and key.read_bytes() == pem
    inside = run_cms(env, "init", "--signing-key", str(empty_db.settings.data_dir / "k.pem"), locale="en")
    assert inside.returncode == 2 and "inside the data folder" in inside.stderr and "Traceback" not in inside.stderr
    env["CMS_SIGNING_KEY"] = str(key)
    shown = run_cms(env, "key", "show", locale="en")
    assert shown.returncode == 0 and public.hex() in shown.stdout and signing.fingerprint(public) in shown.stdout
    log = tmp_path / "auditor" / "log.jsonl"
    signed = run_cms(env, "checkpoint", "--log", str(log))
    assert signed.returncode == 0, signed.stderr
    assert json.loads(log.read_text().splitlines()[0])["fingerprint"] == signing.fingerprint(public)
    ok = run_cms(env, "verify", "--checkpoints", str(log), "--fingerprint", signing.fingerprint(public))
    assert ok.returncode == 0 and "均与审核追踪相符" in ok.stdout, ok.stdout + ok.stderr
    other = run_cms(env, "verify", "--checkpoints", str(log), "--fingerprint", "cd" * 32, locale="en")
    assert other.returncode == 1 and "signed by another key" in other.stdout


def test_verify_without_the_audit_key_exits_non_zero_unless_no_mac(db, tmp_path):
    env = {**_env(db), "CMS_AUDIT_KEY": ""}  # the test installation's key is not given: no audit.key either
    r = run_cms(env, "verify", locale="en")
    assert r.returncode != 0 and "audit key" in r.stderr and "--no-mac" in r.stderr and "Traceback" not in r.stderr
    assert not (db.settings.data_dir / "audit.key").exists()
    hashes_only = run_cms(env, "verify", "--no-mac", locale="en")
    assert hashes_only.returncode == 0, hashes_only.stderr
    assert "MACs not checked" in hashes_only.stdout


def test_a_command_on_a_folder_without_an_installation_creates_nothing(tmp_path):
    """The relative default ./cms-data, read from another directory, is not a new installation."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for args in (("verify",), ("checkpoint",)):
        r = run_cms({"CMS_CONFIG_DIR": str(tmp_path / "config")}, *args, cwd=elsewhere, locale="en")
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "no initialized installation" in r.stderr and str(elsewhere / "cms-data") in r.stderr
        assert "Traceback" not in r.stderr
    assert list(elsewhere.iterdir()) == []
