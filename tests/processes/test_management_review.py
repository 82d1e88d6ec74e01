"""Management review (R-9.3): the input pack from the system's data, the meeting's decisions, the minutes
approved by top management, decisions becoming tasks that the next review reports on."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from sqlmodel import func, select

from cms_workflows import audit
from cms_workflows.bootstrap import configure
from cms_workflows.bootstrap import sweep as daily_sweep
from cms_workflows.core.db import Database
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from cms_workflows.processes import cases, corrective_action, engine, review_inputs
from cms_workflows.processes import management_review as mr
from cms_workflows.processes import reports_management_review as reports
from tests.duties.helpers import at, clocked_database
from tests.processes.helpers import case_of, decide_report, do, view

Y = 2026
LEAD, GM, REVIEWER = "carbon.lead", "gm", "carbon.accountant"
ATTENDEES = ["carbon.lead", "compliance.lead", "strategy_manager.hn01", "energy_engineer.hn01"]
SECTIONS = list(review_inputs.SECTIONS)


@pytest.fixture(autouse=True)
def _wired():
    configure()


@pytest.fixture
def clocked(db, company):
    """The test database seen through a clock the test moves."""
    database = clocked_database(db, date(Y, 12, 1))
    yield database
    database.dispose()


# ---------------------------------------------------------------- data of the year

def _accounting(database: Database) -> float:
    """Approved runs for the year before (12 months) and the year (11 months), with outputs: the year's total."""
    from cms_workflows.accounting import service as acc
    from cms_workflows.accounting.factors import Options
    from tests.accounting.conftest import ACCOUNTANT, ACCOUNTANT2, DATA_ADMIN, PLAN, csv_bytes, year_rows

    with database.unit_of_work() as uow:
        for site, pu, fac, cat, mat, unit, ds in PLAN:
            acc.add_plan_item(uow, ACCOUNTANT if site == "HN01" else ACCOUNTANT2, site=site, production_unit=pu,
                              facility=fac, category=cat, material=mat, unit=unit, data_source=ds,
                              meter_calibrated=True if ds == "meter" else None)
    for year, months in ((Y - 1, 12), (Y, 11)):
        rows = [r for r in year_rows(year) if int(r["period"][5:7]) <= months]
        with database.unit_of_work() as uow:
            acc.import_activity(uow, DATA_ADMIN, csv_bytes(rows), f"HN01-{year}.csv")
        with database.unit_of_work() as uow:
            run = acc.calculate(uow, ACCOUNTANT, f"{year}-01", f"{year}-{months:02d}", sites=["HN01"],
                                options=Options(electricity_kind="market"))
        with database.unit_of_work() as uow:
            acc.approve_run(uow, GM, run.run_id)
    with database.unit_of_work() as uow:
        for m in range(1, 12):
            acc.record_output(uow, DATA_ADMIN, "HN01", f"{Y}-{m:02d}", 1000.0, 500.0)
    from cms_workflows.accounting.queries import locked_results

    with database.read() as uow:
        return float(locked_results(uow, f"{Y}-01", f"{Y}-12", None)["tco2e"].sum())


def _registers(database: Database) -> None:
    from cms_workflows.registers import actions, objectives, risks, swot

    with database.unit_of_work() as uow:
        swot.add_issue(uow, LEAD, code="S-01", context="external", kind="threat",
                       description="全国碳市场扩容至水泥行业，配额逐年收紧")
    with database.unit_of_work() as uow:
        risks.add_risk(uow, "compliance.lead", code="RO-101", nature="risk", category="market",
                       description="出口客户要求提供产品碳足迹", likelihood=4, impact=4, response="开展 LCA",
                       owner_position="strategy_manager", owner_user="carbon.lead", review_date=date(Y + 1, 6, 30))
    with database.unit_of_work() as uow:
        objectives.add_objective(uow, LEAD, code="OBJ-01", level="company", site="", title="单位产品碳排放下降 3%",
                                 parameter="F1-01", target_value="0.97", unit="tCO2e/t", base_year=Y - 1,
                                 base_value="1.00", deadline=date(Y, 12, 31), evaluation_criteria="年度核算结果",
                                 owner_position="strategy_manager", owner_user="carbon.lead")
    with database.unit_of_work() as uow:
        actions.add_plan(uow, LEAD, code="AP-01", objective="OBJ-01", title="1# 窑余热发电改造", approach="process",
                         site="HN01", resources="投资 800 万元", owner_position="project_manager", owner_user="",
                         method="新增余热锅炉", expected_effect="年减排 6000 tCO2e", starts_on=date(Y, 1, 1),
                         ends_on=date(Y, 12, 31), verification="第三方能效测试报告")
    with database.unit_of_work() as uow:
        actions.record_progress(uow, LEAD, "AP-01", date(Y, 11, 30), 60, note="锅炉已安装")


def _nonconformity(database: Database) -> str:
    with database.unit_of_work() as uow:
        return corrective_action.raise_nonconformity(
            uow, LEAD, site="HN01", source="complaint", description="客户投诉：产品碳足迹声明与核算结果不一致",
            owner_position="energy_engineer").number


def _open(database: Database, day: date = date(Y, 12, 20)) -> str:
    with database.unit_of_work() as uow:
        return mr.open_review(uow, GM, meeting_date=day).number


def pack(database: Database, number: str) -> dict[str, dict]:
    found = view(database, number).items.get("input", [])
    return {data["section"]: data for _item, data in found}


def _by_duty(database: Database) -> str | None:
    with database.read() as uow:
        found = cases.find_case(uow, f"management_review:{Y}")
    return found.number if found else None


def _count_cases(database: Database) -> int:
    from cms_workflows.processes.models import Case

    with database.read() as uow:
        return uow.exec(select(func.count()).select_from(Case).where(Case.kind == "management_review")).one()


def _decide(database: Database, number: str, decision: str = "approve", comment: str = "同意") -> list[str]:
    """The minutes' route (type report): review by a strategy manager or carbon accountant counting at the
    company level, then top management. The demo company's only company-wide strategy manager is the lead,
    who drafted the minutes, so a company-wide carbon accountant joins the company for the review."""
    from cms_workflows.org import service as org
    from cms_workflows.org.models import User

    with database.read() as uow:
        present = uow.exec(select(User).where(User.username == REVIEWER)).first()
    if present is None:
        do(database, org.create_user, "admin", REVIEWER, "钱慧")
        do(database, org.assign, "admin", REVIEWER, "carbon_accountant", "*")
    return decide_report(database, number, REVIEWER, decision=decision, comment=comment)


def _meeting(database: Database, number: str, decisions: int = 2, confirm: bool = True) -> None:
    """The lead confirms the pack; top management holds the meeting on its day and decides."""
    if confirm:
        do(database, mr.confirm_inputs, LEAD, number)
    at(database, date(Y, 12, 20))
    rows = [("objectives", "2027 年单位产品碳排放较 2026 年再下降 3%，分解至各车间", "strategy_manager", "*", date(Y + 1, 1, 31)),
            ("resources", "长沙水泥厂 2# 窑增设天然气流量计并纳入检定计划", "energy_engineer", "HN01", date(Y + 1, 3, 31))]
    for output, text, position, site, due in rows[:decisions]:
        do(database, mr.record_decision, GM, number, output=output, decision=text, owner_position=position,
           site=site, due=due)
    do(database, mr.close_meeting, GM, number, chair=GM, attendees=ATTENDEES, meeting_date=date(Y, 12, 20),
       conclusion="碳管理体系持续适宜、充分、有效，与公司战略方向一致。")


def _minutes(database: Database, number: str) -> str:
    document = do(database, mr.draft_report, LEAD, number)
    do(database, mr.submit_report, LEAD, number)
    return document


def _docx_text(database: Database, document: str) -> str:
    import docx

    from cms_workflows.documents import queries as doc_queries

    with database.read() as uow:
        _rev, data = doc_queries.revision_file(uow, GM, document)
    word = docx.Document(io.BytesIO(data))
    parts = [p.text for p in word.paragraphs]
    for table in word.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _task_count(database: Database) -> int:
    from cms_workflows.tasks.models import Task

    with database.read() as uow:
        return uow.exec(select(func.count()).select_from(Task)).one()


def _chain(database: Database) -> int:
    with database.read() as uow:
        return len(audit.events_for(uow))


# ---------------------------------------------------------------- the tests

def test_the_duty_opens_the_years_review_once_with_its_pack_built_from_data(clocked):
    """R-9.3, X-3: the yearly duty's task opens the review (idempotent); every 9.3.2 section is present and
    built from the registers, the nonconformity cases and the approved calculation runs."""
    total = _accounting(clocked)
    _registers(clocked)
    nc = _nonconformity(clocked)
    # the duty's task (due 20 December) is created 30 days ahead, and the same sweep opens its case
    daily_sweep(clocked, date(Y, 12, 1))
    number = _by_duty(clocked)
    assert number == f"MR-{Y}-01"
    assert engine.sweep(clocked, date(Y, 12, 1)).opened == [] and daily_sweep(clocked, date(Y, 12, 2))
    assert _by_duty(clocked) == number and _count_cases(clocked) == 1
    case = case_of(clocked, number)
    assert (case.status, case.trigger, case.trigger_ref, case.year) == ("preparing", "scheduled",
                                                                      f"management_review:company:{Y}", Y)
    sections = pack(clocked, number)
    assert list(sections) == SECTIONS
    assert all(review_inputs.summary(s).strip() for s in sections.values())
    monitoring = sections["monitoring"]["params"]
    assert monitoring["total"] == f"{total:,.1f}" and monitoring["months"] == "11"
    assert "%" in monitoring["trend"] and "tCO₂e/t" in monitoring["intensity"]
    assert sections["performance"]["params"]["total"] == monitoring["total"]
    assert "长沙水泥厂" in sections["performance"]["params"]["sites"]
    assert sections["nonconformities"]["params"]["opened"] == "1"
    nonconformities = sections["nonconformities"]["params"]
    assert nonconformities["open"] == "1" and "投诉" in nonconformities["by_source"]
    assert sections["issues_risks"]["params"]["new_issues"] == "1"
    assert sections["objectives"]["params"]["plans"] == "1" and sections["objectives"]["params"]["average"] == "60%"
    for empty, wording in (("previous_actions", "首次"), ("audits", "本期无内部审核"), ("compliance", "本期无已批准的合规性评价")):
        assert sections[empty]["key"].endswith("_none") and wording in review_inputs.summary(sections[empty])
    assert nc


def test_an_empty_company_gets_no_data_sentences_never_blanks(clocked):
    """R-9.3: a section with no data says so explicitly."""
    number = _open(clocked)
    sections = pack(clocked, number)
    assert list(sections) == SECTIONS
    for name in ("previous_actions", "nonconformities", "monitoring", "audits", "compliance", "performance"):
        assert sections[name]["key"].endswith("_none"), name
    assert review_inputs.summary(sections["audits"]) == "本期无内部审核。"
    assert "尚无经批准的核算结果" in review_inputs.summary(sections["monitoring"])
    assert all(review_inputs.summary(s, "en") for s in sections.values())


def test_refresh_rebuilds_the_pack_only_while_preparing_and_changes_only_what_changed(clocked):
    """R-9.3: the lead refreshes the pack from today's data; unchanged sections stay as they were."""
    number = _open(clocked)
    assert pack(clocked, number)["nonconformities"]["key"].endswith("_none")
    _nonconformity(clocked)
    do(clocked, mr.refresh_inputs, LEAD, number)
    sections = pack(clocked, number)
    assert sections["nonconformities"]["params"]["opened"] == "1"
    with clocked.read() as uow:
        last = audit.events_for(uow)[-1]
    assert last.action == "processes.management_review.refresh_inputs"
    changed = json.loads(last.payload)["changed_items"]
    assert [c["data"]["section"] for c in changed] == ["nonconformities"]
    assert len(view(clocked, number).items["input"]) == len(SECTIONS)
    do(clocked, mr.confirm_inputs, LEAD, number)
    with pytest.raises(InvalidTransition), clocked.unit_of_work() as uow:
        mr.refresh_inputs(uow, LEAD, number)


def test_happy_path_decisions_become_tasks_once_and_the_next_review_reads_them(clocked):
    """R-9.3: pack → meeting with decisions (9.3.3) → minutes drafted by the lead, approved by top management
    → each decision a task of its owner at its site; the next review's pack reports done/open/overdue."""
    _accounting(clocked)
    daily_sweep(clocked, date(Y, 12, 1))
    number = _by_duty(clocked)
    _meeting(clocked, number)
    assert case_of(clocked, number).status == "reporting"
    document = _minutes(clocked, number)
    assert _decide(clocked, number) == ["report_approved"]
    case = case_of(clocked, number)
    assert case.status == "approved"
    tasks = {t.key: t for t in view(clocked, number).tasks}
    one, two = tasks[f"case:{number}:decision:1"], tasks[f"case:{number}:decision:2"]
    assert (one.position, one.site, one.due) == ("strategy_manager", "*", date(Y + 1, 1, 31))
    assert (two.position, two.site, two.due) == ("energy_engineer", "HN01", date(Y + 1, 3, 31))
    assert [i.task_key for i, _d in view(clocked, number).items["decision"]] == [one.key, two.key]
    from cms_workflows.tasks.queries import find_by_key

    with clocked.read() as uow:
        duty = find_by_key(uow, f"management_review:company:{Y}")
    assert (duty.status, duty.completed_by) == ("done", GM)
    # once: advancing and sweeping again creates nothing
    count = _task_count(clocked)
    assert engine.advance(clocked, number) == [] and engine.sweep(clocked, date(Y, 12, 21)).opened == []
    assert _task_count(clocked) == count
    # the minutes print the pack's own numbers and sentences, and no example prose of the template
    text = _docx_text(clocked, document)
    for entry in pack(clocked, number).values():
        assert review_inputs.summary(entry) in text
        for value in entry["params"].values():
            assert value in text
    assert "王建国（公司法人/总经理）" in text and "周志强" in text and "2026年12月20日" in text
    for prose in ("2024年管理评审确定的5项措施已全部完成", "表面处理车间增设蒸汽流量计", "陈建国"):
        assert prose not in text
    # the next review: one decision done, the other overdue
    from tests.processes.helpers import complete_task

    complete_task(clocked, one.key, LEAD, outcome="目标已分解下达")
    at(clocked, date(Y + 1, 4, 15))
    following = _open(clocked, date(Y + 1, 12, 18))
    previous = pack(clocked, following)["previous_actions"]["params"]
    assert previous == {"previous": number, "total": "2", "done": "1", "open": "0", "overdue": "1", "cancelled": "0"}


def test_rejection_loop_corrected_minutes_are_drafted_again(clocked):
    """R-9.3, R-7.5: top management returns the minutes; the lead corrects them, drafts and submits again."""
    number = _open(clocked)
    _meeting(clocked, number, decisions=1)
    document = _minutes(clocked, number)
    assert _decide(clocked, number, decision="reject", comment="结论应写明资源需求") == ["report_returned"]
    assert case_of(clocked, number).status == "reporting"
    do(clocked, mr.revise_minutes, LEAD, number, conclusion="体系适宜、充分、有效；2027 年需增加计量投资。")
    assert do(clocked, mr.draft_report, LEAD, number) == document
    do(clocked, mr.submit_report, LEAD, number)
    assert _decide(clocked, number) == ["report_approved"]
    assert "2027 年需增加计量投资" in _docx_text(clocked, document)


def test_sod_the_chair_never_drafts_the_minutes_they_approve(clocked):
    """R-9.3, X-2 (SoD): the chair approves the minutes, so someone else drafts them; a department engineer
    may not take the review's decisions."""
    number = _open(clocked)
    do(clocked, mr.confirm_inputs, LEAD, number)
    with pytest.raises(AccessDenied), clocked.unit_of_work() as uow:
        mr.record_decision(uow, "energy_engineer.hn01", number, output="other", decision="x",
                           owner_position="energy_engineer", site="HN01", due=date(Y + 1, 1, 1))
    _meeting(clocked, number, decisions=1, confirm=False)
    before = _chain(clocked)
    with pytest.raises(ValidationFailed) as refused, clocked.unit_of_work() as uow:
        mr.draft_report(uow, GM, number)
    assert [p["field"] for p in refused.value.problems] == ["author"]
    assert _chain(clocked) == before and case_of(clocked, number).document_number is None


def test_bad_input_is_refused_by_field_and_nothing_changes(clocked):
    """R-9.3: a decision with a wrong output, no text, unknown owner and site, a past due date; a meeting
    closed without decisions or attendees: every problem at once, nothing written."""
    number = _open(clocked)
    do(clocked, mr.confirm_inputs, LEAD, number)
    before = _chain(clocked)
    with pytest.raises(ValidationFailed) as refused, clocked.unit_of_work() as uow:
        mr.record_decision(uow, GM, number, output="wishes", decision=" ", owner_position="astronaut",
                           site="MARS", due=date(Y - 1, 1, 1))
    assert {p["field"] for p in refused.value.problems} == {"output", "decision", "owner_position", "site", "due"}
    with pytest.raises(ValidationFailed) as refused, clocked.unit_of_work() as uow:
        mr.close_meeting(uow, GM, number, chair="nobody", attendees=[], conclusion="", meeting_date=date(Y + 1, 1, 1))
    assert {p["field"] for p in refused.value.problems} == {"chair", "attendees", "conclusion", "meeting_date",
                                                            "decisions"}
    assert _chain(clocked) == before and case_of(clocked, number).status == "meeting"
    with pytest.raises(InvalidTransition), clocked.unit_of_work() as uow:
        mr.draft_report(uow, LEAD, number)  # no minutes before the meeting is closed
    with pytest.raises(ValidationFailed) as missing, clocked.read() as uow:
        reports.content(uow, cases.get_case(uow, number))  # a missing input blocks the minutes, naming it
    assert {p["field"] for p in missing.value.problems} == {"chair", "attendees", "outputs", "conclusion"}
    with pytest.raises(Exception) as twice, clocked.unit_of_work() as uow:
        mr.open_review(uow, GM, meeting_date=date(Y, 12, 28))
    assert twice.value.key == "processes.management_review.exists"


def test_overdue_preparation_is_escalated(clocked):
    """X-3: the pack's confirmation task (due a week before the meeting) is escalated once overdue."""
    from cms_workflows.tasks.models import TaskNotice
    from cms_workflows.tasks.queries import find_by_key

    number = _open(clocked)
    with clocked.read() as uow:
        task = find_by_key(uow, f"case:{number}:inputs")
    assert task.due == date(Y, 12, 13)
    at(clocked, date(Y, 12, 15))
    daily_sweep(clocked, date(Y, 12, 15))
    with clocked.read() as uow:
        notices = uow.exec(select(TaskNotice).where(TaskNotice.task_id == task.id)).all()
    assert any(n.kind == "escalation" for n in notices)


def _other_process_rows(database: Database, nc: str) -> None:
    """An approved internal audit with its findings and an approved compliance evaluation with its verdicts,
    as their process modules store them (item kinds `finding` / `evaluation`, fields `category` / `verdict`),
    written directly: this test is about what the review reads, not how those processes run."""
    import json

    from cms_workflows.access import Grant
    from cms_workflows.audit import recording
    from cms_workflows.processes.models import Case, CaseItem

    with database.unit_of_work() as uow:
        now = uow.clock.now()
        linked = cases.get_case(uow, nc)
        for number, kind, item_kind, rows in (
                (f"IA-{Y}-01", "internal_audit", "finding",
                 [({"category": "nonconformity"}, linked.id), ({"category": "observation"}, None),
                  ({"category": "conformity"}, None)]),
                (f"CE-{Y}-01", "compliance_evaluation", "evaluation",
                 [({"verdict": "compliant"}, None), ({"verdict": "compliant"}, None),
                  ({"verdict": "noncompliant"}, linked.id), ({"obligation": "CO-09"}, None)])):
            case = Case(number=number, key=f"{kind}:test:{Y}", kind=kind, site="*", status="approved",
                        trigger="manual", year=Y, opened_by=LEAD, opened_at=now, closed_at=now, updated_at=now)
            uow.add(case)
            uow.flush()
            for seq, (data, link) in enumerate(rows, 1):
                uow.add(CaseItem(case_id=case.id, kind=item_kind, seq=seq, data=json.dumps(data), created_by=LEAD,
                                 linked_case_id=link))
            recording.record(uow, Grant(LEAD, "strategy_manager", "*"), "processes.case.test", "proc_case", number, {})


def test_audit_and_compliance_results_are_read_from_their_cases(clocked):
    """R-9.3, R-9.2, R-9.1.3: the pack counts the year's audit findings by category and the latest approved
    compliance evaluation's verdicts, with the corrective actions opened from them."""
    nc = _nonconformity(clocked)
    _other_process_rows(clocked, nc)
    sections = pack(clocked, _open(clocked))
    assert sections["audits"]["params"] == {"audits": "1", "reported": "1", "findings": "3", "nonconformity": "1",
                                            "observation": "1", "conformity": "1", "other": "0", "raised": "1"}
    compliance = sections["compliance"]["params"]
    assert (compliance["number"], compliance["evaluated"], compliance["compliant"], compliance["noncompliant"],
            compliance["not_applicable"], compliance["other"], compliance["raised"]) == (
        f"CE-{Y}-01", "4", "2", "1", "0", "1", "1")
    assert "内部审核 1 次" in review_inputs.summary(sections["audits"])
