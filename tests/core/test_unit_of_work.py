"""The unit of work (issue 9, X-1): no write without evidence, files follow the transaction, one clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update

from cms_workflows import audit
from cms_workflows.audit.commands import Command, command
from cms_workflows.bootstrap import export_evidence, verify_installation
from cms_workflows.core.clock import Clock, FixedClock
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.uow import UnauditedWrite, UnitOfWork
from cms_workflows.org import service as org
from cms_workflows.org.models import OrgState, Site


def _events(db) -> int:
    with db.read() as uow:
        return len(audit.events_for(uow))


def test_an_orm_write_without_an_event_is_refused_and_rolled_back(db):
    before = _events(db)
    with pytest.raises(UnauditedWrite, match="site"):
        with db.unit_of_work() as uow:
            uow.add(Site(code="HN88", name_zh="无证据工厂"))
    with db.read() as uow:
        assert uow.exec(select(Site).where(Site.code == "HN88")).first() is None
    assert _events(db) == before


def test_a_core_write_without_an_event_is_refused_too(db):
    with pytest.raises(UnauditedWrite, match="site"):
        with db.unit_of_work() as uow:
            uow.execute(insert(Site).values(code="HN89", name_zh="无证据工厂", name_en=""))
    with pytest.raises(UnauditedWrite, match="org_state"):
        with db.unit_of_work() as uow:
            uow.execute(update(OrgState).values(version=OrgState.version + 1))
    with db.read() as uow:
        assert uow.exec(select(Site).where(Site.code == "HN89")).first() is None


def test_a_command_commits_its_change_and_its_event_together(db):
    before = _events(db)
    with db.unit_of_work() as uow:
        assert isinstance(uow, UnitOfWork)
        org.create_site(uow, "admin", "HN90", "证据工厂")
    with db.read() as uow:
        (event,) = audit.events_for(uow, "site", "HN90")
    assert event.action == "org.site.create" and event.actor == "admin" and _events(db) == before + 1


def test_reads_with_no_writes_commit_without_an_event(db):
    with db.unit_of_work() as uow:
        assert uow.exec(select(Site)).all() is not None


# ---------------------------------------------------------------- the pipeline


@command("test.widget.fail", action="manage", resource="site", audit_object="site")
def _failing_command(cmd: Command, code: str) -> None:
    cmd.uow.add(Site(code=code, name_zh="半途而废"))
    cmd.uow.flush()
    raise ValidationFailed("org.invalid_site")


def test_a_refused_actor_reaches_no_validation_and_writes_nothing(db):
    before = _events(db)
    with pytest.raises(Exception) as refused, db.unit_of_work() as uow:
        org.create_site(uow, "nobody", "not a code!", "")  # invalid input, but authorization comes first
    assert refused.value.key == "access.unknown_user"  # an unknown actor is named as such (issue 15)
    assert _events(db) == before


def test_a_failing_command_leaves_neither_its_change_nor_its_event(db):
    before = _events(db)
    with pytest.raises(ValidationFailed), db.unit_of_work() as uow:
        _failing_command(uow, "admin", "HN91")
    with db.read() as uow:
        assert uow.exec(select(Site).where(Site.code == "HN91")).first() is None
    assert _events(db) == before


def test_event_names_follow_one_scheme():
    with pytest.raises(RuntimeError, match="domain.object.verb"):
        command("documents.approved", action="approve", resource="site", audit_object="x")


# ---------------------------------------------------------------- files


@command("test.file.store", action="manage", resource="site", audit_object="site")
def _store_then_fail(cmd: Command, data: bytes, fail: bool) -> str:
    stored = cmd.uow.files.put(data)
    if fail:
        raise ValidationFailed("org.invalid_site")
    cmd.object_id = stored.sha256
    return stored.sha256


def test_a_file_written_by_a_rolled_back_command_is_removed(db):
    data = b"\xe5\x9b\x9e\xe6\xbb\x9a rolled back"
    with pytest.raises(ValidationFailed), db.unit_of_work() as uow:
        _store_then_fail(uow, "admin", data, True)
    from cms_workflows.core.filestore import sha256_bytes

    assert not db.files.exists(sha256_bytes(data))


def test_a_file_another_transaction_still_needs_survives_a_rollback(db):
    data = b"shared bytes"
    with db.unit_of_work() as first:
        digest = _store_then_fail(first, "admin", data, False)
    with pytest.raises(ValidationFailed), db.unit_of_work() as second:
        _store_then_fail(second, "admin", data, True)  # existed before: not this transaction's to remove
    assert db.files.get(digest) == data


def test_verify_reports_an_unreferenced_file_and_the_pack_leaves_it_out(db, tmp_path):
    stray = db.files.put(b"left by a command that never committed")
    report = verify_installation(db, record_anchor=False)
    assert not report.ok and any(stray.sha256 in line and "未提交" in line for line in report.lines)
    import zipfile

    pack = tmp_path / "pack.zip"
    from cms_workflows.audit import signing

    db.settings.signing_key = tmp_path / "keys" / "signing.pem"
    signing.create_key(db.settings.signing_key)
    export_evidence(db, "admin", pack)
    assert f"files/{stray.sha256}" not in zipfile.ZipFile(pack).namelist()


# ---------------------------------------------------------------- one clock


def test_the_local_day_is_the_installations_not_the_hosts():
    late_utc = datetime(2026, 11, 25, 23, 35, tzinfo=timezone.utc)  # 07:35 on the 26th in Changsha
    assert FixedClock(late_utc).today() == date(2026, 11, 26)
    assert FixedClock(late_utc, "UTC").today() == date(2026, 11, 25)
    assert Clock("Asia/Shanghai").start_of(date(2026, 11, 26)) == datetime(2026, 11, 25, 16, tzinfo=timezone.utc)


def test_assignments_are_dated_by_the_installation_clock(db):
    # late evening UTC two days ahead (the administrator's own assignment, dated by the real clock, holds then):
    # already the next day in Changsha
    ahead = datetime.now(timezone.utc).date() + timedelta(days=2)
    late_utc = datetime(ahead.year, ahead.month, ahead.day, 23, 35, tzinfo=timezone.utc)
    db.clock = FixedClock(late_utc)
    with db.unit_of_work() as uow:
        org.create_user(uow, "admin", "clock.user", "钟表")
        row = org.assign(uow, "admin", "clock.user", "internal_auditor", "*")
    assert row.valid_from == ahead + timedelta(days=1)
