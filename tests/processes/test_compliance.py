"""Compliance evaluation (R-6.2.2, R-9.1.3): opened every 12 months, on a changed obligation and by hand;
each obligation evaluated with evidence and a verdict; a non-compliance opens a nonconformity (R-10.1);
the record approved by top management through the route of reports, with the rejection loop."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.bootstrap import configure
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from cms_workflows.processes import compliance, engine, queries, reports_compliance
from cms_workflows.registers import obligations
from tests.processes.helpers import GM, case_of, decide_report, do, view

OFFICER, LEGAL, LEAD, ENGINEER = "compliance.lead", "legal.lead", "carbon.lead", "energy_engineer.hn01"
VERDICTS = {1: "compliant", 2: "noncompliant", 3: "not_applicable"}


@pytest.fixture(autouse=True)
def _wired():
    configure()


@pytest.fixture
def register(db, company):
    """Three obligations of the register, owned by three positions."""
    for code, title, owner in (("CO-01", "碳排放权交易管理暂行条例", "compliance_officer"),
                               ("CO-02", "GB 17167 用能单位能源计量器具配备和管理通则", "energy_engineer"),
                               ("CO-03", "温室气体排放核算与报告要求 第8部分：水泥", "legal_specialist")):
        do(db, obligations.add_obligation, OFFICER, code=code, kind="regulation", title=title, issuer="国务院",
           clause="第十一条" if code == "CO-01" else "", applicability="重点排放单位", owner_position=owner)
    return db


def _events(db) -> int:
    with db.read() as uow:
        return len(audit.events_for(uow))


def _open(db, trigger="external", site="*", reason="省生态环境厅发布碳排放数据质量管理新要求") -> str:
    return do(db, compliance.open_evaluation, OFFICER, site, trigger, reason).number


def _start(db, number, evaluators=(OFFICER, LEGAL)):
    today = db.clock.today()
    do(db, compliance.start, OFFICER, number, date(today.year - 1, 12, 1), date(today.year, 11, 30), list(evaluators))


def _evaluate(db, number, seq, verdict, actor=OFFICER, **extra):
    return do(db, compliance.evaluate, actor, number, seq, verdict, f"查阅 {seq} 号义务的台账与报送记录", **extra)


def _to_reporting(db, verdicts=VERDICTS) -> str:
    number = _open(db)
    _start(db, number)
    for seq, verdict in verdicts.items():
        _evaluate(db, number, seq, verdict)
    assert engine.advance(db, number) == ["evaluation_done"]
    return number


def _draft_and_submit(db, number, conclusion="公司总体满足适用的合规义务，对不符合项已启动纠正措施"):
    do(db, compliance.draft_report, OFFICER, number, conclusion)
    do(db, compliance.submit_report, OFFICER, number)


def _docx_text(db, number) -> tuple[str, list[list[str]]]:
    from docx import Document as Docx

    from cms_workflows.documents.queries import revision_file

    with db.read() as uow:
        _rev, data = revision_file(uow, GM, case_of(db, number).document_number)
    doc = Docx(io.BytesIO(data))
    body = "\n".join(p.text for p in doc.paragraphs)
    tables = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    return body, tables


def test_happy_path_every_obligation_evaluated_and_approved_by_top_management(register, company):
    """R-9.1.3, R-6.2.2: planning → evaluating (one item and one task per obligation, to its owner) →
    verdicts with evidence → the record → review and approval by the general manager; the summary the
    management review reads."""
    db = register
    number = _open(db)
    v = view(db, number)
    assert (v.case.status, v.case.site, v.case.trigger) == ("planning", "*", "external")
    [plan] = v.tasks
    assert (plan.key, plan.position) == (f"case:{number}:plan", "compliance_officer")

    _start(db, number)
    v = view(db, number)
    assert v.case.status == "evaluating" and plan.status == "open"
    items = v.items["evaluation"]
    assert [d["obligation"] for _i, d in items] == ["CO-01", "CO-02", "CO-03"]
    by_key = {t.key: t for t in v.tasks}
    assert by_key[f"case:{number}:plan"].status == "done"
    assert [by_key[f"case:{number}:evaluate-{s}"].position for s in (1, 2, 3)] == [
        "compliance_officer", "energy_engineer", "legal_specialist"]

    _evaluate(db, number, 1, "compliant")
    _evaluate(db, number, 2, "noncompliant", evidence_file=("计量器具台账.xlsx", b"meter ledger"))
    assert engine.advance(db, number) == []  # one verdict still missing
    _evaluate(db, number, 3, "not_applicable", actor=LEGAL)
    assert engine.advance(db, number) == ["evaluation_done"]
    v = view(db, number)
    assert v.case.status == "reporting"
    assert {t.key: (t.status, t.completed_by) for t in v.tasks}[f"case:{number}:evaluate-3"] == ("done", LEGAL)
    stored = dict(v.items["evaluation"][1][1]["evidence_file"])
    assert stored["name"] == "计量器具台账.xlsx" and len(stored["sha256"]) == 64

    _draft_and_submit(db, number)
    assert case_of(db, number).status == "in_review"
    assert decide_report(db, number, LEAD) == ["report_approved"]
    v = view(db, number)
    assert v.case.status == "approved" and all(t.status == "done" for t in v.tasks)
    [nc] = v.children
    with db.read() as uow:
        summary = compliance.latest_approved(uow)
        assert compliance.latest_approved(uow, "HN01").number == number  # a company-wide evaluation covers a site
    assert summary.number == number and summary.total == 3
    assert summary.counts == {"compliant": 1, "noncompliant": 1, "not_applicable": 1}
    assert summary.nonconformities == [nc] and summary.approved_on == v.case.closed_at.date()


def test_rejection_loop_corrected_conclusion_drafted_again_and_approved(register, company):
    """R-9.1.3, R-7.5: the general manager returns the record; the case is back in reporting with a new
    task; the corrected conclusion goes into the same document's draft, which is submitted and approved."""
    db = register
    number = _to_reporting(db)
    _draft_and_submit(db, number, conclusion="基本符合")
    assert decide_report(db, number, LEAD, decision="reject", comment="结论过简，请说明不符合项的影响") == ["report_returned"]
    v = view(db, number)
    assert v.case.status == "reporting"
    assert [t.key.rsplit(":", 1)[-1] for t in v.tasks if t.status == "open"] == ["report-2"]
    document = v.case.document_number
    _draft_and_submit(db, number, conclusion="除 CO-02 计量器具配备不足外均符合，CO-02 已开启纠正措施")
    assert decide_report(db, number, LEAD) == ["report_approved"]
    v = view(db, number)
    assert (v.case.status, v.case.document_number) == ("approved", document)
    body, _tables = _docx_text(db, number)
    assert "计量器具配备不足" in body and "基本符合" not in body


def test_segregation_of_duties_and_who_may_evaluate(register, company):
    """X-2: the compliance officer who drafted the record cannot approve it; a department engineer cannot
    evaluate; someone not named an evaluator in the plan cannot either."""
    from cms_workflows.documents import approval

    db = register
    number = _open(db)
    _start(db, number, evaluators=(OFFICER,))
    before = _events(db)
    with pytest.raises(AccessDenied):
        _evaluate(db, number, 1, "compliant", actor=ENGINEER)
    with pytest.raises(AccessDenied) as refused:
        _evaluate(db, number, 1, "compliant", actor=LEGAL)
    assert refused.value.key == "processes.compliance.not_evaluator"
    with pytest.raises(InvalidTransition):  # planned once
        do(db, compliance.start, OFFICER, number, "2026-01-01", "2026-12-31", [OFFICER, LEGAL])
    assert _events(db) == before
    for seq, verdict in VERDICTS.items():
        _evaluate(db, number, seq, verdict)
    engine.advance(db, number)
    _draft_and_submit(db, number)
    document = case_of(db, number).document_number
    do(db, approval.decide, LEAD, document, "approve", "审核同意", expect="review")
    before = _events(db)
    with pytest.raises(AccessDenied):
        do(db, approval.decide, OFFICER, document, "approve", "同意", expect="approve")
    with pytest.raises(AccessDenied):
        do(db, approval.decide, LEAD, document, "approve", "同意", expect="approve")
    assert _events(db) == before and case_of(db, number).status == "in_review"


def test_overdue_plan_task_is_escalated(register, company):
    """X-3: the planning task not done by its due date is escalated by the daily sweep."""
    from cms_workflows.bootstrap import sweep
    from cms_workflows.tasks.models import OutboxMessage, TaskNotice

    db = register
    number = _open(db)
    [plan] = view(db, number).tasks
    sweep(db, plan.due + timedelta(days=2))
    with db.read() as uow:
        notices = uow.exec(select(TaskNotice).where(TaskNotice.task_id == plan.id)).all()
        mail = uow.exec(select(OutboxMessage).where(OutboxMessage.task_id == plan.id)).all()
    assert [(n.kind, n.step) for n in notices if n.kind == "escalation"] == [("escalation", 0)]
    assert "tasks.mail.escalation" in {m.message_key for m in mail}


def test_bad_input_is_refused_by_field_and_nothing_changes(register, company):
    """R-9.1.3: a plan without a valid period or evaluators, a verdict that is not one, evidence left
    empty: each problem named by its field, nothing written."""
    db = register
    with pytest.raises(AccessDenied) as unknown:  # an unknown site is named as such before anything else
        do(db, compliance.open_evaluation, OFFICER, "HN77", "rumour", " ")
    assert unknown.value.key == "access.unknown_site"
    with pytest.raises(ValidationFailed) as refused:
        do(db, compliance.open_evaluation, OFFICER, "HN01", "rumour", " ")
    assert {p["field"] for p in refused.value.problems} == {"trigger", "reason"}
    number = _open(db)
    before = _events(db)
    with pytest.raises(ValidationFailed) as refused:
        do(db, compliance.start, OFFICER, number, "2026-13-01", date(2020, 1, 1), [ENGINEER])
    assert {p["field"] for p in refused.value.problems} == {"period_start", "evaluators"}
    with pytest.raises(ValidationFailed) as refused:
        do(db, compliance.start, OFFICER, number, date(2026, 6, 1), date(2026, 1, 1), [])
    assert {p["field"] for p in refused.value.problems} == {"period_end", "evaluators"}
    _start(db, number)
    before = _events(db)
    with pytest.raises(ValidationFailed) as refused:
        do(db, compliance.evaluate, OFFICER, number, 1, "mostly", "   ", comment="\x1b[31m")
    assert {p["field"] for p in refused.value.problems} == {"verdict", "evidence", "comment"}
    with pytest.raises(ValidationFailed) as refused:
        do(db, compliance.evaluate, OFFICER, number, "one", "compliant", "台账", evidence_file=("", b""))
    assert {p["field"] for p in refused.value.problems} == {"seq", "evidence_file"}
    assert _events(db) == before
    v = view(db, number)
    assert all(i.status == "open" for i, _d in v.items["evaluation"])
    with pytest.raises(InvalidTransition):  # the record waits for the evaluation's end
        do(db, compliance.draft_report, OFFICER, number, "结论")


def test_noncompliance_opens_one_nonconformity_even_when_evaluated_twice(register, company):
    """R-10.1: a non-compliance opens a nonconformity case (source compliance, parent the evaluation);
    evaluating the item again opens none more; each verdict stays in the trail."""
    db = register
    number = _open(db)
    _start(db, number)
    _evaluate(db, number, 2, "noncompliant")
    _evaluate(db, number, 2, "compliant")
    _evaluate(db, number, 2, "noncompliant")
    v = view(db, number)
    [nc] = v.children
    item, data = v.items["evaluation"][1]
    assert data["verdict"] == "noncompliant" and item.linked_case_id == case_of(db, nc).id
    child = view(db, nc)
    assert (child.case.kind, child.case.trigger, child.case.key, child.parent) == (
        "corrective_action", "compliance", f"nc:compliance:{number}:2", number)
    assert child.data["owner_position"] == "energy_engineer"
    with db.read() as uow:
        verdicts = [e.payload for e in queries.timeline(uow, GM, number)
                    if e.action == "processes.compliance_evaluation.evaluate"]
    assert [re.search(r'"verdict": ?"(\w+)"', p).group(1) for p in verdicts] == ["noncompliant", "compliant",
                                                                                  "noncompliant"]


def test_record_numbers_equal_its_rows_and_no_example_prose(register, company):
    """R-9.1.3, issue 11 item 2: one row per obligation; the summary's counts are the rows' verdicts;
    people by name; no example text of the template; a missing input blocks the record."""
    import yaml

    from cms_workflows.documents.registry import TEMPLATES_FILE, template_dir

    db = register
    number = _to_reporting(db, {1: "compliant", 2: "noncompliant", 3: "compliant"})
    with pytest.raises(ValidationFailed) as refused:
        do(db, compliance.submit_report, OFFICER, number)
    assert [p["field"] for p in refused.value.problems] == ["record"]
    with pytest.raises(ValidationFailed) as refused:
        do(db, compliance.draft_report, OFFICER, number, "  ")
    assert [p["field"] for p in refused.value.problems] == ["conclusion"]
    _draft_and_submit(db, number)
    body, tables = _docx_text(db, number)
    rows = [r for r in tables if r and r[0].strip().isdigit()]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    verdicts = [r[3].split("。")[0] for r in rows]
    total = re.search(r"共评价合规义务 (\d+) 项，其中符合 (\d+) 项、不符合 (\d+) 项、不适用 (\d+) 项", body)
    assert total, body
    assert [int(g) for g in total.groups()] == [len(rows), verdicts.count("符合"), verdicts.count("不符合"),
                                               verdicts.count("不适用")]
    [nc] = view(db, number).children
    assert nc in rows[1][4] and nc in body
    assert "吴丽娟" in body and OFFICER not in body  # evaluators by name
    templates = yaml.safe_load((template_dir() / TEMPLATES_FILE).read_text(encoding="utf-8"))["templates"]
    example = templates["record_form"]["example"]
    prose = [example["instructions"]] + [v for row in example["rows"] for v in row.values() if len(v) > 4]
    text = body + "".join(c for r in tables for c in r)
    assert [p for p in prose if p in text] == []
    with db.read() as uow:
        content = reports_compliance.content(uow, case_of(db, number))
    assert len(content["rows"]) == 3


def test_scheduled_evaluation_opens_from_the_duty_once_and_settles_it(register, company):
    """R-9.1.3, X-3: the 12-monthly duty's task opens the year's evaluation (once, however often the
    sweep runs); its approval settles the task."""
    from cms_workflows.bootstrap import duty_sources
    from cms_workflows.duties.definitions import load
    from cms_workflows.duties.generate import generate_duty
    from cms_workflows.duties.sources import described
    from cms_workflows.tasks.queries import find_by_key

    db = register
    year = db.clock.today().year
    sources = duty_sources()
    duty = next(d for d in load(sources=described(sources)) if d.code == compliance.DUTY)
    [due] = duty.due_dates(date(year, 1, 1), date(year, 12, 31))
    with db.unit_of_work() as uow:
        [task] = generate_duty(uow, "system", duty, due, sources)
    assert task.key == f"compliance_evaluation:company:{year}"
    first = engine.sweep(db, db.clock.today())
    again = engine.sweep(db, db.clock.today())
    [number] = [n for n in first.opened if n.startswith("CE-")]
    assert [n for n in again.opened if n.startswith("CE-")] == []
    v = view(db, number)
    assert (v.case.key, v.case.trigger, v.case.trigger_ref, v.case.year) == (
        f"compliance_evaluation:annual:{year}", "scheduled", task.key, year)
    _start(db, number)
    for seq, verdict in {1: "compliant", 2: "compliant", 3: "compliant"}.items():
        _evaluate(db, number, seq, verdict)
    engine.advance(db, number)
    _draft_and_submit(db, number, conclusion="全部适用义务均得到满足")
    decide_report(db, number, LEAD)
    with db.read() as uow:
        done = find_by_key(uow, task.key)
    assert (done.status, done.completed_by) == ("done", OFFICER)


def test_a_changed_obligation_after_the_last_approval_opens_one_evaluation(register, company):
    """R-6.2.2, R-9.1.3: an obligation added or changed after the last approved evaluation read the
    register opens an evaluation (trigger obligation), one at a time; none before a first approval."""
    db = register
    assert [n for n in engine.sweep(db, db.clock.today()).opened if n.startswith("CE-")] == []
    number = _to_reporting(db, {1: "compliant", 2: "compliant", 3: "compliant"})
    _draft_and_submit(db, number)
    decide_report(db, number, LEAD)
    assert engine.sweep(db, db.clock.today()).opened == []
    do(db, obligations.change_obligation, OFFICER, "CO-02", clause="第5.2条")
    [opened] = engine.sweep(db, db.clock.today()).opened
    do(db, obligations.add_obligation, OFFICER, code="CO-04", kind="standard", title="GB/T 32150 工业企业温室气体排放核算和报告通则")
    assert engine.sweep(db, db.clock.today()).opened == []  # one open at a time
    v = view(db, opened)
    assert (v.case.trigger, v.case.site) == ("obligation", "*") and "CO-02" in v.texts["reason"]
