"""What `cms` says when something does not exist, when a list is empty for want of permission, and along a
document's route (issue 15 items 7 and 8): real processes, both locales, exit codes, nothing written on error."""

from __future__ import annotations

import re
from datetime import date, timedelta

from cms_workflows.core.i18n import catalog
from cms_workflows.org import service as org
from tests.documents.conftest import AUTHOR, DOC_CONTROL, GM, REVIEWER
from tests.test_cli import cms, event_count

ADDED = "energy_engineer.hn01"


def _refused(r, needle: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def _user_without_positions(db, username: str = "new.hire") -> str:
    with db.unit_of_work() as uow:
        org.create_user(uow, "admin", username, "新员工")
    return username


def test_an_unknown_user_is_named_as_such(db, company, cli_env):
    before = event_count(db)
    _refused(cms(cli_env, "--for", "wang.zong", "doc", "list", user=GM), "未知用户 wang.zong")
    _refused(cms(cli_env, "--for", "wang.zong", "doc", "list", user=GM, locale="en"), "Unknown user wang.zong")
    _refused(cms(cli_env, "--for", "system", "doc", "list", user=GM), "未知用户 system")  # the agent is nobody
    assert event_count(db) == before


def test_a_deactivated_user_is_named_as_such(db, company, cli_env):
    token_env = cli_env.as_user(ADDED)  # signed in before being deactivated
    assert cms(cli_env, "users", "deactivate", ADDED, "--reason", "离职").returncode == 0
    before = event_count(db)
    _refused(cms(cli_env, "--for", ADDED, "doc", "list", user=GM), f"用户 {ADDED} 已停用")
    _refused(cms(token_env, "doc", "list"), f"用户 {ADDED} 已停用")
    assert "权" not in cms(token_env, "doc", "list").stderr  # not a permission error
    assert event_count(db) == before


def test_an_unknown_site_is_named_before_any_permission(db, company, cli_env):
    before = event_count(db)
    r = cms(cli_env, "doc", "new", "procedure", "--title", "文件控制程序", "--site", "HN77", "--dept", "carbon_management",
            "--example", user=AUTHOR)
    _refused(r, "未知站点 HN77")
    assert "无权" not in r.stderr
    # a plan line at an unknown site: the site, not a permission on emission_factor
    r = cms(cli_env, "accounting", "plan", "add", "HN77", "U1", "B1", "stationary_combustion", "natural_gas", "t",
            user="carbon_accountant.hn01", locale="en")
    _refused(r, "Unknown site HN77")
    assert "emission_factor" not in r.stderr
    _refused(cms(cli_env, "doc", "list", "--site", "HN77", user=GM), "未知站点 HN77")
    assert event_count(db) == before


def test_an_unknown_document_is_named_before_any_permission(db, company, cli_env):
    nobody = _user_without_positions(db)
    cli_env.as_user(nobody)  # signed in (itself an event) before counting
    before = event_count(db)
    for args in (("show", "HN01-PR-999"), ("approve", "HN01-PR-999"), ("submit", "HN01-PR-999")):
        r = cms(cli_env, "doc", *args, user=nobody)
        _refused(r, "文件清单中没有编号 HN01-PR-999")
        assert "无权" not in r.stderr
    assert event_count(db) == before


def test_a_list_the_user_may_not_read_says_so_and_fails(db, company, cli_env):
    nobody = _user_without_positions(db)
    r = cms(cli_env, "doc", "list", user=nobody)
    _refused(r, f"用户 {nobody} 无权查看任何文件")
    _refused(cms(cli_env, "doc", "due", user=nobody, locale="en"), f"User {nobody} may not read any documents")
    # a reader with nothing to see is told so, and that is no error
    r = cms(cli_env, "doc", "list", user=GM)
    assert r.returncode == 0 and "没有符合条件的文件" in r.stdout, r.stderr


def test_case_and_register_lists_the_user_may_not_read_are_refused(db, company, cli_env):
    nobody = _user_without_positions(db)
    _refused(cms(cli_env, "cases", "list", user=nobody), f"用户 {nobody} 无权查看任何PDCA 案例")
    _refused(cms(cli_env, "cases", "list", "--kind", "internal_audit", user=nobody, locale="en"),
             f"User {nobody} may not read any cases")
    # a register is read at a site: its refusal names the positions that may read it
    _refused(cms(cli_env, "registers", "risks", "list", user=nobody), "风险合规师 (compliance_officer)")
    # a reader of an empty list is told there is nothing, and that is no error
    r = cms(cli_env, "cases", "list", user=GM)
    assert r.returncode == 0, r.stderr
    r = cms(cli_env, "registers", "risks", "list", user=GM)
    assert r.returncode == 0, r.stderr


def test_init_on_an_existing_database_says_what_it_did_with_admin(db, cli_env):
    r = cms(cli_env, "init", "--admin", "boss")
    assert r.returncode == 0, r.stderr
    assert "未创建 boss" in r.stdout and "admin" in r.stdout
    assert "boss" not in cms(cli_env, "users", "list").stdout
    r = cms(cli_env, "init", locale="en")
    assert r.returncode == 0 and "System administrator admin exists already; nothing changed" in r.stdout


def test_no_message_a_command_line_user_reads_asks_to_refresh():
    for locale, word in (("zh-CN", "刷新"), ("en", "reload")):
        said = [k for k, v in catalog(locale).items() if not k.startswith("web.") and re.search(word, v, re.I)]
        assert said == [], locale


def test_every_command_on_a_document_says_what_it_waits_for_and_who_may_decide(db, company, cli_env):
    r = cms(cli_env, "doc", "new", "procedure", "--title", "文件控制程序", "--site", "HN01", "--dept", "carbon_management",
            "--example", user=AUTHOR)
    assert r.returncode == 0 and f"待办：编制人 {AUTHOR}" in r.stdout, r.stderr
    number = "HN01-PR-001"
    r = cms(cli_env, "doc", "submit", number, user=AUTHOR)
    assert r.returncode == 0 and "审批中" in r.stdout
    assert "待办：审核" in r.stdout and "quality_system_engineer" in r.stdout and REVIEWER in r.stdout
    r = cms(cli_env, "doc", "review", number, "--comment", "同意", user=REVIEWER, locale="en")
    assert r.returncode == 0 and "Pending: approve" in r.stdout and "general_manager" in r.stdout and GM in r.stdout
    r = cms(cli_env, "doc", "add-reviewer", number, ADDED, "--reason", "核对计量条款", user=DOC_CONTROL)
    assert r.returncode == 0 and f"追加审核人 {ADDED}" in r.stdout
    start = (date.today() + timedelta(days=30)).isoformat()
    r = cms(cli_env, "doc", "approve", number, "--effective-date", start, user=GM)
    assert r.returncode == 0 and "审批中" in r.stdout and f"生效日期 {start} 已记录" in r.stdout, r.stderr
    r = cms(cli_env, "doc", "show", number, user=GM)
    assert r.returncode == 0 and f"追加审核人 {ADDED} 签署" in r.stdout
    r = cms(cli_env, "doc", "approve", number, "--comment", "已核对", user=ADDED)
    assert r.returncode == 0 and "已批准" in r.stdout and f"生效日期 {start}" in r.stdout, r.stderr
    assert "待办：发布生效" in r.stdout and DOC_CONTROL in r.stdout


def test_an_effective_date_at_a_review_step_is_refused_at_once(db, company, cli_env):
    assert cms(cli_env, "doc", "new", "procedure", "--title", "文件控制程序", "--site", "HN01", "--dept", "carbon_management",
               "--example", user=AUTHOR).returncode == 0
    assert cms(cli_env, "doc", "submit", "HN01-PR-001", user=AUTHOR).returncode == 0
    before = event_count(db)
    r = cms(cli_env, "doc", "approve", "HN01-PR-001", "--effective-date", "2099-01-01", user=REVIEWER)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert event_count(db) == before


def test_the_body_variables_are_listed_with_examples(db, cli_env):
    r = cms(cli_env, "doc", "template-vars", "procedure")
    assert r.returncode == 0, r.stderr
    for needle in ("controlled_document", "purpose", "scope", "sections", "heading, text", "对碳管理体系", "templates.yaml"):
        assert needle in r.stdout, needle
    assert "rows" in cms(cli_env, "doc", "template-vars", "record_form", locale="en").stdout
    _refused(cms(cli_env, "doc", "template-vars", "nonsense"), "nonsense")
    assert "template-vars" in cms(cli_env, "doc", "new", "--help").stdout


def test_positions_show_department_codes(db, cli_env):
    r = cms(cli_env, "positions", locale="en")
    assert r.returncode == 0 and "Department code" in r.stdout
    assert "carbon_management" in r.stdout and "top_management" in r.stdout
