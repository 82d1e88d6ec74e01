"""Internal audit (R-9.2): the approved annual programme, audits planned with an objective team, the 9.2.2.3
checklist, findings with evidence (a nonconformity opens its corrective action, R-10.1), the audit report
written from the case, and the results the management review reads (R-9.3.2 c)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from docx import Document as Docx
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.bootstrap import configure, sweep
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from cms_workflows.documents import approval
from cms_workflows.documents.queries import revision_file
from cms_workflows.processes import cases, engine
from cms_workflows.processes import internal_audit as ia
from cms_workflows.processes.models import Case
from tests.processes.helpers import GM, case_of, decide_report, do, view

A1, A2, LEAD = "auditor1", "auditor2", "carbon.lead"
CONCLUSION = "本厂碳管理体系总体符合要求并有效运行；不符合项由生产部门按纠正措施计划整改。"


@pytest.fixture(autouse=True)
def _wired():
    configure()


def year(db) -> int:
    return db.clock.today().year


def chain_length(db) -> int:
    with db.read() as uow:
        return len(audit.events_for(uow))


def plan_programme(db) -> str:
    """The programme of the year with two audits: HN01 production and procurement, HN02 energy management."""
    y = year(db)
    number = do(db, ia.open_programme, A1, year=y).number
    do(db, ia.plan_audit_in_programme, A1, number, site="HN01", departments=["production", "procurement"],
       scope="熟料生产线及原燃料采购过程", criteria="公司《碳管理手册》及程序文件；本指南第6章至第9章",
       start=date(y, 12, 1), end=date(y, 12, 3))
    do(db, ia.plan_audit_in_programme, A1, number, site="HN02", departments=["energy_management"],
       scope="冲压车间能源计量与数据收集", criteria="公司《碳管理手册》；GB 17167", start=f"{y}-12-08", end=f"{y}-12-09")
    return number


def approve_programme(db, number: str) -> list[str]:
    do(db, ia.finish_programme, A1, number)
    do(db, ia.draft_programme, A1, number)
    do(db, ia.submit_programme, A1, number)
    return decide_report(db, number, LEAD)


def approved_audit(db) -> tuple[str, list[str]]:
    programme = plan_programme(db)
    approve_programme(db, programme)
    with db.read() as uow:
        return programme, [c.number for c in ia.audits_of(uow, programme)]


def audit_in_fieldwork(db) -> str:
    """Audit 1 (HN01) planned: auditor1 leads, auditor2 audits with her."""
    _programme, (first, _second) = approved_audit(db)
    do(db, ia.plan, A1, first, lead_auditor=A1, auditors=[A2])
    return first


def answer_all(db, number: str, who: str = A1) -> None:
    for item, _data in view(db, number).items["checklist"]:
        result = "nonconforming" if item.seq == 2 else "conforming"
        do(db, ia.answer_checklist, who, number, item.seq, result=result, evidence=f"抽查记录第{item.seq}份")


def record_findings(db, number: str) -> None:
    do(db, ia.record_finding, A1, number, category="conformity", clause="6.3.5", department="production",
       description="生产部门按碳数据收集计划按月报送熟料产量与燃料消耗", evidence="2026年1—10月月报")
    do(db, ia.record_finding, A2, number, category="nonconformity", clause="7.5", department="production",
       description="窑头煤粉计量秤的校准记录缺失", evidence="计量器具台账第12行")
    do(db, ia.record_finding, A2, number, category="observation", clause="R-8.3", department="procurement",
       description="采购技术要求尚未包含能效要求", evidence="采购合同模板")


def report_text(db, number: str) -> tuple[str, list[list[str]]]:
    doc = case_of(db, number).document_number
    with db.read() as uow:
        _rev, data = revision_file(uow, GM, doc)
    word = Docx(io.BytesIO(data))
    text = "\n".join(p.text for p in word.paragraphs)
    tables = [[c.text for c in row.cells] for t in word.tables for row in t.rows]
    return text + "\n" + "\n".join(" ".join(r) for r in tables), tables


# ---------------------------------------------------------------- the programme

def test_the_programme_is_approved_by_top_management_and_opens_one_audit_per_planned_audit(db, company):
    """R-9.2.2: the programme (audits, scope, criteria, dates) is a controlled plan approved by top management;
    its approval opens the audit cases, each due on its planned end, the programme its parent."""
    programme = plan_programme(db)
    assert approve_programme(db, programme) == ["report_approved"]
    y = year(db)
    with db.read() as uow:
        audits = ia.audits_of(uow, programme)
        assert [(c.site, c.status, c.due, c.key) for c in audits] == [
            ("HN01", "planning", date(y, 12, 3), f"internal_audit:{programme}:1"),
            ("HN02", "planning", date(y, 12, 9), f"internal_audit:{programme}:2")]
    shown = view(db, programme)
    assert shown.case.status == "approved" and shown.children == [c.number for c in audits]
    assert shown.case.document_number.split("-")[1] == "PL"  # a plan of the register
    text, _tables = report_text(db, programme)
    assert "熟料生产线及原燃料采购过程" in text and "长沙水泥厂" in text and "生产部门" in text
    assert "共策划内部审核 2 次" in text
    assert "电能表（总进线）" not in text  # the record form's example prose never appears


def test_approval_opens_the_audits_once_even_when_advanced_twice(db, company):
    """Idempotency (issue 11 item 3): advancing, sweeping and the programme's hook again open nothing twice."""
    programme = plan_programme(db)
    approve_programme(db, programme)
    assert engine.advance(db, programme) == []
    engine.sweep(db, db.clock.today())
    with db.unit_of_work() as uow:  # the approval hook run again (a flow killed after it): no second case
        cmd_case = cases.get_case(uow, programme)
        ia._programme_approved(_system_command(uow, cmd_case), cmd_case)
        audit.recording.record(uow, _system_command(uow, cmd_case).grant, "processes.case.advance", "proc_case",
                               programme, {"repeat": True})
    with db.read() as uow:
        assert len(ia.audits_of(uow, programme)) == 2
        assert len(uow.exec(select(Case).where(Case.kind == "internal_audit")).all()) == 2


def _system_command(uow, case):
    from cms_workflows.access import Grant, Resource
    from cms_workflows.audit.commands import Command, CommandSpec

    return Command(uow, cases.SYSTEM, Grant(cases.SYSTEM, "system_agent", "*"), Resource("case.audit_programme"),
                   CommandSpec("processes.case.advance", "advance", "proc_case"), object_id=case.number)


def test_the_duty_opens_the_programme_of_its_year_once_and_its_approval_settles_the_duty(db, company):
    """X-3, R-9.2: the yearly duty's task opens the programme in the daily sweep (twice: once); when the
    programme is approved, the duty's task is done, by the auditor who drafted it."""
    from cms_workflows.tasks.queries import find_by_key

    y = year(db)
    day = date(y, 1, 15)
    sweep(db, day)
    sweep(db, day)
    with db.read() as uow:
        programmes = uow.exec(select(Case).where(Case.kind == "audit_programme")).all()
        assert [(p.year, p.trigger, p.trigger_ref, p.due) for p in programmes] == [
            (y, "scheduled", f"internal_audit_programme:company:{y}", date(y, 1, 31))]
    number = programmes[0].number
    do(db, ia.plan_audit_in_programme, A2, number, site="HN01", departments=["production"], scope="熟料生产线",
       criteria="公司《碳管理手册》", start=date(y, 3, 2), end=date(y, 3, 3))
    approve_programme_by(db, number, A2)
    with db.read() as uow:
        duty = find_by_key(uow, f"internal_audit_programme:company:{y}")
        assert (duty.status, duty.completed_by) == ("done", A2)
        assert [t.status for t in cases.stage_tasks(uow, cases.get_case(uow, number))] == ["done", "done"]


def approve_programme_by(db, number, who):
    do(db, ia.finish_programme, who, number)
    do(db, ia.draft_programme, who, number)
    do(db, ia.submit_programme, who, number)
    decide_report(db, number, LEAD)


def test_a_programme_needs_an_audit_and_bad_plans_are_refused_by_field_with_nothing_written(db, company):
    """R-9.2.2: an empty programme cannot be finished; a bad audit plan names every bad field at once."""
    number = do(db, ia.open_programme, A1, year=year(db)).number
    before = chain_length(db)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.finish_programme(uow, A1, number)
    assert [p["field"] for p in refused.value.problems] == ["audits"]
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.plan_audit_in_programme(uow, A1, number, site="HN77", departments=["astronomy"], scope=" ",
                                   criteria="x", start="2020-02-30", end=date(year(db) + 1, 1, 5))
    assert {p["field"] for p in refused.value.problems} == {"site", "departments", "scope", "start"}
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.plan_audit_in_programme(uow, A1, number, site="HN01", departments=["production"], scope="x",
                                   criteria="x", start=date(year(db), 5, 2), end=date(year(db) + 1, 1, 5))
    assert [p["field"] for p in refused.value.problems] == ["end"]
    assert chain_length(db) == before
    assert view(db, number).items == {}


# ---------------------------------------------------------------- one audit

def test_happy_path_through_every_stage_with_the_checklist_findings_and_report(db, company):
    """R-9.2: plan and team → checklist of 9.2.2.3 and findings with evidence → fieldwork closed by the lead →
    report drafted from the case → reviewed → approved by top management."""
    number = audit_in_fieldwork(db)
    shown = view(db, number)
    assert shown.case.status == "auditing"
    assert [d["clause"] for _i, d in shown.items["checklist"]] == [
        "R-9.1.3", "R-6.3.5", "R-6.3.3", "R-6.3.4", "R-7.2", "R-8.1", "R-6.3.1"]
    assert {(t.key.rsplit(":", 1)[1], t.assignee, t.status) for t in shown.tasks if "fieldwork" in t.key} == {
        (A1, A1, "open"), (A2, A2, "open")}
    answer_all(db, number)
    record_findings(db, number)
    do(db, ia.finish_fieldwork, A1, number)
    assert case_of(db, number).status == "reporting"
    do(db, ia.draft_report, A1, number, conclusion=CONCLUSION)
    do(db, ia.submit_report, A1, number)
    assert decide_report(db, number, "strategy_manager.hn01") == ["report_approved"]
    shown = view(db, number)
    assert shown.case.status == "approved"
    assert all(t.status == "done" for t in shown.tasks)
    assert {t.key.rsplit(":", 1)[1]: t.completed_by for t in shown.tasks if "fieldwork" in t.key} == {A1: A1, A2: A2}
    text, _tables = report_text(db, number)
    assert "陈晓梅（组长）、刘伟" in text and "长沙水泥厂：生产部门、采购部门" in text and CONCLUSION in text
    today = cases.day_text(db.clock.today())
    assert f"审核日期 {today}至{today}" in text  # the days the fieldwork took place, not only the planned ones


def test_the_reports_counts_equal_its_table_and_no_example_prose_survives(db, company):
    """Issue 11 item 2: every number of the summary is counted from the findings in the table; facility and
    person names, not codes; none of the template's example prose."""
    from cms_workflows.documents.registry import template

    number = audit_in_fieldwork(db)
    answer_all(db, number)
    record_findings(db, number)
    do(db, ia.finish_fieldwork, A1, number)
    do(db, ia.draft_report, A1, number, conclusion=CONCLUSION)
    text, tables = report_text(db, number)
    rows = [r for r in tables if len(r) >= 4 and r[0].strip().isdigit() and r[-1] in ("符合", "不符合", "观察项")]
    counted = {c: sum(1 for r in rows if r[-1] == c) for c in ("符合", "不符合", "观察项")}
    said = re.search(r"共形成审核发现 (\d+) 项：符合 (\d+) 项、不符合 (\d+) 项、观察项 (\d+) 项", text)
    assert said is not None
    assert [int(n) for n in said.groups()] == [len(rows), counted["符合"], counted["不符合"], counted["观察项"]] == [3, 1, 1, 1]
    checked = re.search(r"检查表共 (\d+) 项重点关注事项，其中符合 (\d+) 项、不符合 (\d+) 项", text)
    assert [int(n) for n in checked.groups()] == [7, 6, 1]
    nc = view(db, number).children[0]
    assert nc in text and "auditor1" not in text and "HN01" not in text
    for name, value in template("internal_audit_report").example.items():
        for sentence in ([value] if isinstance(value, str) else [v for row in value for v in row.values()]):
            if len(str(sentence)) > 8:
                assert str(sentence) not in text, sentence


def test_a_missing_conclusion_blocks_the_report_and_names_it(db, company):
    """Issue 11 item 2: a report missing an input says which and is not drafted (so it cannot be submitted)."""
    number = audit_in_fieldwork(db)
    answer_all(db, number)
    record_findings(db, number)
    do(db, ia.finish_fieldwork, A1, number)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.draft_report(uow, A1, number)
    assert refused.value.key == "processes.report_inputs_missing"
    assert [p["field"] for p in refused.value.problems] == ["conclusion"]
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed):
        ia.submit_report(uow, A1, number)
    assert case_of(db, number).document_number is None


def test_the_rejection_loop_corrects_the_conclusion_and_drafts_again(db, company):
    """Issue 11 item 1: top management returns the report; the case is back in reporting with a new report task;
    the lead corrects the conclusion, drafts the same document again, and it is approved."""
    number = audit_in_fieldwork(db)
    answer_all(db, number)
    record_findings(db, number)
    do(db, ia.finish_fieldwork, A1, number)
    do(db, ia.draft_report, A1, number, conclusion="总体有效。")
    do(db, ia.submit_report, A1, number)
    assert decide_report(db, number, "strategy_manager.hn01", "reject", "结论过于简略，请说明不符合项的整改要求") == [
        "report_returned"]
    shown = view(db, number)
    assert shown.case.status == "reporting"
    assert [t.status for t in shown.tasks if ":report" in t.key] == ["done", "open"]
    document = shown.case.document_number
    do(db, ia.draft_report, A1, number, conclusion=CONCLUSION)
    do(db, ia.submit_report, A1, number)
    assert decide_report(db, number, "strategy_manager.hn01") == ["report_approved"]
    assert case_of(db, number).document_number == document
    text, _tables = report_text(db, number)
    assert CONCLUSION in text and "总体有效。" not in text


def test_an_auditor_never_audits_their_own_department(db, company):
    """R-9.2.2.2, X-2: auditor1 holds energy_engineer at HN01 (energy management): she cannot be on the team of
    audit 2 (HN02 energy management), as lead or member; the refusal names her and the department; nothing
    is written. auditor2 may audit it."""
    _programme, (_first, second) = approved_audit(db)
    before = chain_length(db)
    for kwargs in ({"lead_auditor": A1}, {"lead_auditor": A2, "auditors": [A1]}):
        with db.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
            ia.plan(uow, A2, second, **kwargs)
        assert refused.value.key == "processes.internal_audit.not_objective"
        message = refused.value.message("zh-CN")
        assert "auditor1" in message and "陈晓梅" in message and "能源管理部门" in message and "auditor2" not in message
        assert "energy_management" in refused.value.message("en")
    assert chain_length(db) == before and case_of(db, second).status == "planning"
    do(db, ia.plan, A2, second, lead_auditor=A2)
    assert case_of(db, second).status == "auditing"


def test_a_finding_on_ones_own_department_is_refused_by_access(db, company):
    """X-2: even on the team, an auditor records no finding on a department whose position they hold."""
    y = year(db)
    number = do(db, ia.open_audit, A2, site="HN01", departments=["production", "quality_control"], scope="x",
                criteria="y", start=date(y, 12, 1), end=date(y, 12, 2)).number
    with db.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:  # auditor2 is a quality engineer
        ia.plan(uow, A1, number, lead_auditor=A1, auditors=[A2])
    assert "质量控制部门" in refused.value.message("zh-CN")


def test_only_internal_auditors_are_on_a_team_and_only_the_team_records(db, company):
    """R-9.2: auditors must hold internal_auditor; only the audit's own auditors record; only its lead closes
    the fieldwork."""
    _programme, (first, _second) = approved_audit(db)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.plan(uow, A1, first, lead_auditor="energy_engineer.hn02", auditors=["nobody"])
    assert [p["field"] for p in refused.value.problems] == ["lead_auditor", "auditors"]
    do(db, ia.plan, A1, first, lead_auditor=A1)
    with db.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        ia.answer_checklist(uow, A2, first, 1, result="conforming", evidence="x")
    assert refused.value.key == "processes.internal_audit.not_on_team"
    with db.unit_of_work() as uow, pytest.raises(AccessDenied):  # not an internal auditor at all
        ia.record_finding(uow, "strategy_manager.hn01", first, category="observation", clause="7.5",
                          department="production", description="x", evidence="y")
    with db.unit_of_work() as uow, pytest.raises(AccessDenied):
        ia.finish_fieldwork(uow, A2, first)


def test_fieldwork_cannot_close_with_unanswered_checklist_items(db, company):
    """R-9.2 (9.2.2.3): every focus point is answered (or marked not audited, with the reason) first."""
    number = audit_in_fieldwork(db)
    do(db, ia.answer_checklist, A2, number, 1, result="not_audited", evidence="合规性评价本年度尚未进行")
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.finish_fieldwork(uow, A1, number)
    assert [p["field"] for p in refused.value.problems] == [f"checklist[{n}]" for n in range(2, 8)]
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.answer_checklist(uow, A1, number, 2, result="fine", evidence=" ")
    assert {p["field"] for p in refused.value.problems} == {"result", "evidence"}
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        ia.record_finding(uow, A1, number, category="defect", clause="99.9", department="rnd",
                          description="", evidence="y")
    assert {p["field"] for p in refused.value.problems} == {"category", "clause", "department", "description"}
    with db.unit_of_work() as uow, pytest.raises(InvalidTransition):
        ia.draft_report(uow, A1, number, conclusion=CONCLUSION)


def test_a_nonconformity_opens_exactly_one_corrective_action_owned_by_the_department(db, company):
    """R-10.1: a nonconformity finding opens one corrective-action case (source audit, parent the audit, owned by
    the department's lead position at the site); conformities and observations open none."""
    number = audit_in_fieldwork(db)
    record_findings(db, number)
    shown = view(db, number)
    [nc_number] = shown.children
    nc = view(db, nc_number)
    assert (nc.case.kind, nc.case.trigger, nc.case.site, nc.parent) == ("corrective_action", "audit", "HN01", number)
    assert nc.case.key == f"nc:audit:{number}:2"
    assert nc.data["owner_position"] == "process_engineer" and nc.data["department"] == "production"
    assert [t.position for t in nc.tasks] == ["process_engineer"]
    findings = shown.items["finding"]
    assert [(i.status, i.linked_case_id is not None) for i, _d in findings] == [
        ("recorded", False), ("nc_raised", True), ("recorded", False)]
    with db.read() as uow:
        assert len(uow.exec(select(Case).where(Case.kind == "corrective_action")).all()) == 1


def test_an_overdue_fieldwork_task_is_escalated_by_the_daily_sweep(db, company):
    """X-3: the fieldwork task is due on the planned end; the sweep after that day escalates it."""
    from cms_workflows.tasks.models import Task, TaskNotice

    number = audit_in_fieldwork(db)
    due = case_of(db, number).due
    sweep(db, due + timedelta(days=2))
    with db.read() as uow:
        task = uow.exec(select(Task).where(Task.key == f"case:{number}:fieldwork:{A1}")).one()
        notices = uow.exec(select(TaskNotice).where(TaskNotice.task_id == task.id)).all()
    assert ("escalation", 0) in {(n.kind, n.step) for n in notices}


def test_nobody_approves_their_own_report(db, company):
    """X-2: the lead auditor is the report's author; she cannot decide its route, and the programme's drafter
    cannot review the programme."""
    number = audit_in_fieldwork(db)
    answer_all(db, number)
    record_findings(db, number)
    do(db, ia.finish_fieldwork, A1, number)
    do(db, ia.draft_report, A1, number, conclusion=CONCLUSION)
    do(db, ia.submit_report, A1, number)
    document = case_of(db, number).document_number
    with db.unit_of_work() as uow, pytest.raises(AccessDenied):
        approval.decide(uow, A1, document, "approve", "同意", expect="review")


def test_audit_results_for_the_management_review(db, company):
    """R-9.3.2 c: the year's audits, findings per category, the nonconformities and where they stand."""
    number = audit_in_fieldwork(db)
    answer_all(db, number)
    record_findings(db, number)
    do(db, ia.finish_fieldwork, A1, number)
    with db.read() as uow:
        results = ia.audit_results(uow, year(db))
    assert [(a["number"], a["status"]) for a in results.audits][0] == (number, "reporting")
    assert len(results.audits) == 2 and results.held == 1
    assert results.findings == {"conformity": 1, "nonconformity": 1, "observation": 1}
    [nc] = results.nonconformities
    assert (nc["audit"], nc["status"], nc["department"], nc["clause"]) == (number, "containing", "production", "R-7.5")


def test_the_programme_comes_back_is_corrected_and_approved(db, company):
    """R-9.2.2, issue 11 item 1: top management returns the programme; an audit's dates are corrected in the
    same document, which is then approved and opens the audits with the corrected dates."""
    y = year(db)
    programme = plan_programme(db)
    do(db, ia.finish_programme, A1, programme)
    do(db, ia.draft_programme, A1, programme)
    do(db, ia.submit_programme, A1, programme)
    assert decide_report(db, programme, LEAD, "reject", "第2次审核与年底盘点冲突，请调整日期") == ["report_returned"]
    assert case_of(db, programme).status == "reporting"
    do(db, ia.plan_audit_in_programme, A2, programme, seq=2, site="HN02", departments=["energy_management"],
       scope="冲压车间能源计量与数据收集", criteria="公司《碳管理手册》；GB 17167", start=date(y, 12, 14),
       end=date(y, 12, 15))
    do(db, ia.draft_programme, A1, programme)  # the draft's author drafts it again (documents: only the author)
    do(db, ia.submit_programme, A1, programme)
    assert decide_report(db, programme, LEAD) == ["report_approved"]
    with db.read() as uow:
        assert [c.due for c in ia.audits_of(uow, programme)] == [date(y, 12, 3), date(y, 12, 15)]
    text, _tables = report_text(db, programme)
    assert f"{y}年12月14日至{y}年12月15日" in text and f"{y}年12月8日" not in text
