"""The `cms` command line: real processes, exit codes, messages in both locales, nothing written on error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cms_workflows import audit
from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org
from tests.conftest import signed_in_env


def cms(env, *args, locale="zh-CN", user=None):
    full_env = {**os.environ, **signed_in_env(env, user), "CMS_LOCALE": locale}
    return subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], capture_output=True, text=True, env=full_env, timeout=120)


def event_count(db) -> int:
    with db.read() as session:
        return len(audit.events_for(session))


def test_users_sites_and_assignments_through_the_cli(db, cli_env):
    assert cms(cli_env, "sites", "add", "HN01", "--name", "长沙工厂").returncode == 0
    r = cms(cli_env, "users", "add", "zhang.san", "--name", "张三", "--email", "zhang.san@example.cn")
    assert r.returncode == 0 and "zhang.san" in r.stdout
    r = cms(cli_env, "users", "assign", "zhang.san", "carbon_accountant", "--site", "HN01", "--from", "2025-01-01")
    assert r.returncode == 0, r.stderr
    assert "已任命" in r.stdout
    listed = cms(cli_env, "users", "list", locale="en")
    assert "zhang.san" in listed.stdout and "carbon_accountant@HN01" in listed.stdout and "Username" in listed.stdout
    with db.read() as session:
        (a, _u), = org_queries.list_assignments(session, "zhang.san")
    r = cms(cli_env, "users", "end", str(a.id), "--date", "2025-12-31", "--reason", "调岗")
    assert r.returncode == 0 and "2025-12-31" in r.stdout


@pytest.mark.parametrize(
    "args, needle_zh",
    [
        (("users", "assign", "nobody", "carbon_accountant", "--site", "HN01"), "未知用户 nobody"),
        (("users", "assign", "admin", "chief_dreamer", "--site", "*"), "未知岗位 chief_dreamer"),
        (("users", "assign", "admin", "carbon_accountant", "--site", "HN77"), "未知站点 HN77"),
        (("users", "assign", "admin", "carbon_accountant", "--site", "*", "--from", "2025-13-01"), "--from"),
        (("users", "assign", "admin", "carbon_accountant", "--site", "*", "--from", "2025-05-01", "--to", "2025-04-01"), "日期无效"),
        (("users", "end", "9999", "--reason", "x"), "未知任职记录 9999"),
        (("users", "add", "Bad Name", "--name", "x"), "用户名"),
    ],
)
def test_bad_input_is_one_clear_message_exit_2_and_nothing_written(db, cli_env, args, needle_zh):
    before = event_count(db)
    r = cms(cli_env, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle_zh in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert event_count(db) == before


def test_english_locale(db, cli_env):
    r = cms(cli_env, "users", "assign", "nobody", "carbon_accountant", "--site", "HN01", locale="en")
    assert r.returncode == 2 and "Unknown user nobody" in r.stderr


def test_overlapping_assignment_is_refused(db, cli_env):
    assert cms(cli_env, "users", "assign", "admin", "carbon_accountant", "--site", "*", "--from", "2025-01-01").returncode == 0
    r = cms(cli_env, "users", "assign", "admin", "carbon_accountant", "--site", "*", "--from", "2025-06-01")
    assert r.returncode == 2 and "重叠" in r.stderr


def test_access_is_checked_for_the_acting_user(company, db, cli_env):
    r = cms(cli_env, "users", "add", "someone", "--name", "某人", user="gm")
    assert r.returncode == 2 and "system_admin" in r.stderr


def test_positions_lists_annex_a(db, cli_env):
    r = cms(cli_env, "positions")
    assert r.returncode == 0
    for name in ("公司法人/总经理", "碳核算与报告专员", "能源数据管理员", "风险合规师", "内审员", "外部核查员"):
        assert name in r.stdout
    assert "Carbon accounting and reporting specialist" in cms(cli_env, "positions", locale="en").stdout


def test_policy_check(db, cli_env):
    r = cms(cli_env, "policy", "check")
    assert r.returncode == 0 and "策略检查通过" in r.stdout


def test_verify_exits_nonzero_naming_the_broken_event(db, cli_env):
    ok = cms(cli_env, "verify")
    assert ok.returncode == 0 and "审核追踪完整" in ok.stdout
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("COMMIT")
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            conn.exec_driver_sql("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
            conn.exec_driver_sql("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2")
            conn.commit()
    bad = cms(cli_env, "verify", locale="en")
    assert bad.returncode == 1
    assert "Event #2 does not match its hash" in bad.stdout


def test_init_is_idempotent_and_keeps_data(db, cli_env):
    assert cms(cli_env, "sites", "add", "HN05", "--name", "五厂").returncode == 0
    before = event_count(db)
    r = cms(cli_env, "init")
    assert r.returncode == 0
    from tests.test_migrations import SCRIPTS

    assert all(head in r.stdout for head in SCRIPTS.get_heads())
    with db.read() as session:
        assert [s.code for s in org_queries.list_sites(session)] == ["HN05"]
    assert event_count(db) == before


def test_export_evidence_for_the_verifier_only(company, db, cli_env, tmp_path):
    from cms_workflows.audit import signing

    cli_env["CMS_SIGNING_KEY"] = str(tmp_path / "keys" / "signing.pem")
    signing.create_key(tmp_path / "keys" / "signing.pem")
    denied = cms(cli_env, "export-evidence", str(tmp_path / "no.zip"), user="purchaser.hn01")
    assert denied.returncode == 2 and not (tmp_path / "no.zip").exists()
    ok = cms(cli_env, "export-evidence", str(tmp_path / "pack.zip"), user="verifier")
    assert ok.returncode == 0 and (tmp_path / "pack.zip").exists() and "verify_evidence.py" in ok.stdout


def test_commands_on_an_uninitialised_database_ask_for_init(tmp_path):
    env = {"CMS_DATA_DIR": str(tmp_path), "CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    r = cms(env, "users", "list", locale="en")
    assert r.returncode == 2 and "run cms init first" in r.stderr and "Traceback" not in r.stderr
