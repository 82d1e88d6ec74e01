"""Nonconformity and corrective action (R-10.1, R-10.2): containment → analysis with the search for similar
nonconformities → action plan (tasks of the action owners) → implementation → the effectiveness review after
its interval, never by an action owner → the report through its route → closed."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.bootstrap import configure
from cms_workflows.core.clock import FixedClock
from cms_workflows.core.db import Database
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from cms_workflows.documents import approval
from cms_workflows.documents import service as docs
from cms_workflows.documents.queries import revision_file
from cms_workflows.processes import cases, corrective_action as ca, engine, queries
from cms_workflows.processes import reports_corrective_action as report
from cms_workflows.processes.states import CORRECTIVE_ACTION
from tests.processes.helpers import GM, case_of, complete_task, decide_report, do, view

LEAD, ENERGY, MAINT = "strategy_manager.hn01", "energy_engineer.hn01", "maintenance_engineer.hn01"
ACCOUNTANT, AUDITOR, CARBON_LEAD = "carbon_accountant.hn01", "auditor1", "carbon.lead"
Y = date.today().year + 1  # every demo assignment is held (they start last year)
START = date(Y, 3, 2)
DESCRIPTION = "锅炉房天然气流量计检定证书已过期，未安排送检，影响天然气消耗量数据的准确性"


@pytest.fixture(autouse=True)
def _wired():
    configure()


@pytest.fixture
def clocked(db, company):
    """The test database seen through a clock the test moves."""
    database = Database(db.url, settings=db.settings, clock=FixedClock(datetime(START.year, START.month, START.day, 9)))
    yield database
    database.dispose()


def at(database: Database, day: date) -> None:
    database.clock.moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=database.clock.zone)


def chain(database) -> int:
    with database.read() as uow:
        return len(audit.events_for(uow))


def raise_nc(database, description=DESCRIPTION, **extra) -> str:
    return do(database, ca.raise_nonconformity, LEAD, site="HN01", source="audit", description=description,
              owner_position="energy_engineer", **extra).number


def to_implementing(database, owners=(MAINT, ENERGY), **plan) -> str:
    number = raise_nc(database)
    do(database, ca.contain, ENERGY, number, "停用该流量计读数，改用燃气公司结算单核对当月用量", "当月数据已按结算单更正")
    do(database, ca.analyse, LEAD, number, "计量器具台账未设置检定到期提醒，岗位调整时检定计划未交接",
       "排查全部计量器具台账，未发现其他过期器具")
    actions = [{"action": f"措施{i}：完成流量计检定并更新台账", "owner": owner, "due": START + timedelta(days=10 + i)}
               for i, owner in enumerate(owners, start=1)]
    do(database, ca.plan_actions, LEAD, number, actions, **{"review_after_days": 30, **plan})
    return number


def implement(database, number: str) -> None:
    with database.read() as uow:
        keys = [t.key for t in cases.stage_tasks(uow, cases.get_case(uow, number), "action") if t.status == "open"]
        assignees = {t.key: t.assignee for t in cases.stage_tasks(uow, cases.get_case(uow, number), "action")}
    for key in keys:
        complete_task(database, key, assignees[key], outcome="已完成", record="检定证书 JD-2026-118")


def to_verifying(database, **kwargs) -> str:
    number = to_implementing(database, **kwargs)
    implement(database, number)
    assert case_of(database, number).status == "verifying"
    return number


def to_reporting(database, reviewer=CARBON_LEAD) -> str:
    number = to_verifying(database)
    at(database, START + timedelta(days=30))
    do(database, ca.review_effectiveness, reviewer, number, True, "抽查全部计量器具台账，均在检定有效期内，提醒功能运行正常")
    return number


def docx_text(database, number: str) -> tuple[str, list[list[str]]]:
    import docx

    with database.read() as uow:
        _rev, data = revision_file(uow, GM, case_of(database, number).document_number)
    document = docx.Document(io.BytesIO(data))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    rows = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    return paragraphs, rows


def test_r10_happy_path_through_every_stage_to_closure(clocked):
    """R-10.1 a–e, R-10.2: every stage, its tasks, the report built from the case, closed on approval."""
    number = raise_nc(clocked)
    v = view(clocked, number)
    assert v.case.status == "containing" and [t.position for t in v.tasks] == ["energy_engineer"]
    do(clocked, ca.contain, ENERGY, number, "停用该流量计读数", "当月数据已按结算单更正")
    assert case_of(clocked, number).status == "analysing"
    found = do(clocked, ca.analyse, LEAD, number, "台账未设置检定到期提醒", "排查全部计量器具，未发现其他过期器具")
    assert found == []
    actions = [{"action": "完成流量计检定并更新台账", "owner": MAINT, "due": START + timedelta(days=10)},
               {"action": "为全部计量器具设置检定到期提醒", "owner": ENERGY, "due": (START + timedelta(days=20)).isoformat()}]
    do(clocked, ca.plan_actions, LEAD, number, actions)  # review after the default 30 days
    v = view(clocked, number)
    assert v.case.status == "implementing" and len(v.items["action"]) == 2
    action_tasks = [t for t in v.tasks if ":action" in t.key]
    assert [(t.assignee, t.due) for t in action_tasks] == [(MAINT, START + timedelta(days=10)),
                                                           (ENERGY, START + timedelta(days=20))]
    implement(clocked, number)
    v = view(clocked, number)
    assert v.case.status == "verifying"
    [review_task] = [t for t in v.tasks if ":review" in t.key]
    assert (review_task.position, review_task.site, review_task.due) == ("strategy_manager", "HN01",
                                                                         START + timedelta(days=30))
    at(clocked, START + timedelta(days=30))
    do(clocked, ca.review_effectiveness, LEAD, number, True, "抽查台账，全部器具均在检定有效期内")
    assert case_of(clocked, number).status == "reporting"
    do(clocked, ca.draft_report, LEAD, number)
    do(clocked, ca.submit_report, LEAD, number)
    assert case_of(clocked, number).status == "in_review"
    assert decide_report(clocked, number, ACCOUNTANT) == ["report_approved"]
    v = view(clocked, number)
    assert v.case.status == "closed" and v.case.closed_at is not None
    assert all(t.status == "done" for t in v.tasks)
    with clocked.read() as uow:
        actions_seen = [e.action for e in queries.timeline(uow, GM, number)]
    for event in ("processes.corrective_action.open", "processes.corrective_action.contain",
                  "processes.corrective_action.analyse", "processes.corrective_action.plan_actions",
                  "processes.case.advance", "processes.corrective_action.review_effectiveness",
                  "processes.corrective_action.draft_report", "processes.corrective_action.submit_report"):
        assert event in actions_seen
    # the report: from the case's texts and data, names not codes, no template example prose
    text, rows = docx_text(clocked, number)
    everything = text + "\n" + "\n".join(" ".join(r) for r in rows)
    assert number in everything and "内部审核" in everything
    assert "曹德明" in everything and "徐卫东" in everything and MAINT not in everything  # owners by name
    assert "已完成" in everything and "台账未设置检定到期提醒" in everything
    assert str(START + timedelta(days=30)) in everything  # who reviewed, when
    example = yaml.safe_load(open(Path(__file__).resolve().parents[2] / "document_templates" / "templates.yaml", encoding="utf-8"))[
        "templates"]["corrective_action_report"]["example"]
    for value in (example["description"], example["containment"], example["root_cause"], example["effectiveness"],
                  example["closure"], example["source"]):
        assert value not in everything
    assert "LL-003" not in everything and "李强" not in everything
    # the due dates in the table are the actions' own
    assert {str(START + timedelta(days=10)), str(START + timedelta(days=20))} <= {c for r in rows for c in r} | set(
        everything.split())


def test_r10_rejection_loop_corrected_texts_are_drafted_again(clocked):
    """R-10.1: top management returns the report; the lead corrects the texts, drafts and submits again."""
    number = to_reporting(clocked)
    do(clocked, ca.draft_report, LEAD, number)
    do(clocked, ca.submit_report, LEAD, number)
    assert decide_report(clocked, number, ACCOUNTANT, decision="reject", comment="请补充原因分析") == ["report_returned"]
    assert case_of(clocked, number).status == "reporting"
    do(clocked, ca.write, LEAD, number, {"root_cause": "计量器具台账未设置检定到期提醒；岗位调整时缺少交接清单"})
    do(clocked, ca.draft_report, LEAD, number)
    do(clocked, ca.submit_report, LEAD, number)
    assert decide_report(clocked, number, ACCOUNTANT) == ["report_approved"]
    assert case_of(clocked, number).status == "closed"
    text, rows = docx_text(clocked, number)
    assert "缺少交接清单" in text + "".join(c for r in rows for c in r)


def test_r10_sod_the_action_owner_never_reviews_effectiveness(clocked):
    """R-10.1 d, X-2: an action owner holding the permission is refused (own work); a position without it
    is refused; nothing changes. Another reviewer may."""
    number = to_verifying(clocked, owners=(AUDITOR, LEAD))
    at(clocked, START + timedelta(days=30))
    before = chain(clocked)
    for owner in (AUDITOR, LEAD):
        with pytest.raises(AccessDenied) as refused, clocked.unit_of_work() as uow:
            ca.review_effectiveness(uow, owner, number, True, "本人验证")
        assert refused.value.key == "access.sod_own_work"
    with pytest.raises(AccessDenied) as refused, clocked.unit_of_work() as uow:
        ca.review_effectiveness(uow, ENERGY, number, True, "无权验证")
    assert refused.value.key == "access.denied"
    assert chain(clocked) == before and case_of(clocked, number).status == "verifying"
    do(clocked, ca.review_effectiveness, CARBON_LEAD, number, True, "抽查有效")
    assert case_of(clocked, number).status == "reporting"


def test_r10_sod_the_reports_author_cannot_approve_it(clocked):
    """X-2: the lead who drafted the report cannot review or approve it."""
    number = to_reporting(clocked)
    do(clocked, ca.draft_report, LEAD, number)
    do(clocked, ca.submit_report, LEAD, number)
    doc = case_of(clocked, number).document_number
    before = chain(clocked)
    with pytest.raises(AccessDenied), clocked.unit_of_work() as uow:
        approval.decide(uow, LEAD, doc, "approve", "自己批准", expect="review")
    assert chain(clocked) == before


def test_r10_the_review_is_refused_before_its_interval_has_passed(clocked):
    """R-10.1 d: the effectiveness review waits the set interval after implementation; the error names the date."""
    number = to_verifying(clocked)
    due = START + timedelta(days=30)
    at(clocked, due - timedelta(days=1))
    before = chain(clocked)
    with pytest.raises(InvalidTransition) as refused, clocked.unit_of_work() as uow:
        ca.review_effectiveness(uow, CARBON_LEAD, number, True, "提前验证")
    assert refused.value.key == "processes.corrective_action.review_too_early"
    assert due.isoformat() in refused.value.message("zh-CN") and due.isoformat() in refused.value.message("en")
    assert chain(clocked) == before and case_of(clocked, number).status == "verifying"


def test_r10_ineffective_review_sends_the_case_back_to_analysis_with_new_actions(clocked):
    """R-10.1 d: ineffective → a new round of analysis and actions, reviewed again after its interval."""
    number = to_verifying(clocked)
    at(clocked, START + timedelta(days=30))
    do(clocked, ca.review_effectiveness, CARBON_LEAD, number, False, "抽查发现另一台流量计仍无到期提醒")
    v = view(clocked, number)
    assert v.case.status == "analysing" and v.data["round"] == 2
    assert [t.key.rsplit(":", 1)[1] for t in v.tasks if ":analyse" in t.key] == ["analyse1", "analyse2"]
    with pytest.raises(ValidationFailed) as refused, clocked.unit_of_work() as uow:  # analyse this round first
        ca.plan_actions(uow, LEAD, number, [{"action": "补设提醒", "owner": ENERGY, "due": START + timedelta(days=40)}])
    assert [p["field"] for p in refused.value.problems] == ["root_cause"]
    do(clocked, ca.analyse, LEAD, number, "提醒只设置在一台设备上", "其余器具已全部排查")
    do(clocked, ca.plan_actions, LEAD, number, [{"action": "为全部流量计设置提醒", "owner": ENERGY,
                                                  "due": START + timedelta(days=40)}], review_after_days=14)
    implement(clocked, number)
    v = view(clocked, number)
    assert v.case.status == "verifying" and v.data["review_due"] == (START + timedelta(days=44)).isoformat()
    at(clocked, START + timedelta(days=44))
    do(clocked, ca.review_effectiveness, CARBON_LEAD, number, True, "全部流量计提醒正常")
    assert case_of(clocked, number).status == "reporting"
    with clocked.read() as uow:
        content = report.content(uow, case_of(clocked, number))
    assert len(content["actions"]) == 3 and "全部流量计提醒正常" in content["effectiveness"]


def _effective_procedure(database) -> str:
    rev = do(database, docs.create, LEAD, doc_type="procedure", site="HN01", title="能源计量管理程序",
             owner_department="carbon_management",
             content={"purpose": "规定能源计量器具的管理", "scope": "本厂能源计量器具",
                      "sections": [{"heading": "检定", "text": "计量器具按周期检定。"}]})
    from cms_workflows.documents.queries import document_number

    with database.read() as uow:
        number = document_number(uow, rev.document_id)
    do(database, docs.submit, LEAD, number)
    do(database, approval.decide, "quality_system_engineer.hn01", number, "approve", "同意", expect="review")
    do(database, approval.decide, GM, number, "approve", "同意发布", expect="approve")
    do(database, docs.make_effective, "doccontrol", number)
    return number


def test_r10_a_system_change_opens_and_links_a_document_revision(clocked):
    """R-10.1 e: the procedure to change gets its next revision, opened by the planner, naming the NC."""
    procedure = _effective_procedure(clocked)
    number = to_implementing(clocked, system_change=procedure)
    v = view(clocked, number)
    [change] = v.items["document_change"]
    from cms_workflows.documents.queries import get_document, open_revision

    with clocked.read() as uow:
        rev = open_revision(uow, get_document(uow, procedure))
    assert (rev.author, rev.status) == (LEAD, "draft") and number in rev.change_reason
    assert change[1]["document"] == procedure and change[1]["revision"] == rev.label
    assert v.data["system_change"] == {"document": procedure, "revision": rev.label}


def test_r10_bad_input_is_refused_by_field_and_nothing_changes(clocked):
    number = raise_nc(clocked)
    before = chain(clocked)
    with pytest.raises(ValidationFailed) as refused, clocked.unit_of_work() as uow:
        ca.contain(uow, ENERGY, number, "  ", "")
    assert {p["field"] for p in refused.value.problems} == {"containment", "correction"}
    with pytest.raises(AccessDenied), clocked.unit_of_work() as uow:  # not the owner position, not the lead
        ca.contain(uow, MAINT, number, "停用读数", "更正数据")
    assert chain(clocked) == before
    do(clocked, ca.contain, ENERGY, number, "停用读数", "更正数据")
    do(clocked, ca.analyse, LEAD, number, "无提醒", "未发现类似")
    before = chain(clocked)
    bad = [{"action": "", "owner": "nobody", "due": "someday"},
           {"action": "ok", "owner": ENERGY, "due": START - timedelta(days=1)}]
    with pytest.raises(ValidationFailed) as refused, clocked.unit_of_work() as uow:
        ca.plan_actions(uow, LEAD, number, bad, review_after_days=0, system_change="HN01-PR-999")
    assert {(p["row"], p["field"]) for p in refused.value.problems} == {
        (1, "action"), (1, "owner"), (1, "due"), (2, "due"), (None, "review_after_days"), (None, "system_change")}
    assert "HN01-PR-999" in refused.value.message("zh-CN")
    assert chain(clocked) == before and case_of(clocked, number).status == "analysing"
    with clocked.read() as uow:
        assert cases.stage_tasks(uow, case_of(clocked, number), "action") == []


def test_r10_closing_without_the_effectiveness_review_is_impossible(clocked):
    """R-10.1 d: before the review, drafting, submitting or closing is a clear InvalidTransition; nothing changes."""
    number = to_implementing(clocked)
    for status in ("containing", "analysing", "implementing", "verifying"):
        with pytest.raises(InvalidTransition):
            CORRECTIVE_ACTION.target(status, "report_approved")
        with pytest.raises(InvalidTransition):
            CORRECTIVE_ACTION.target(status, "submit_report")
    for stage_number in (raise_nc(clocked), number, to_verifying(clocked)):
        before, status = chain(clocked), case_of(clocked, stage_number).status
        for step in (ca.draft_report, ca.submit_report):
            with pytest.raises(InvalidTransition) as refused, clocked.unit_of_work() as uow:
                step(uow, LEAD, stage_number)
            assert refused.value.message("zh-CN")
        assert engine.advance(clocked, stage_number) == []
        assert chain(clocked) == before and case_of(clocked, stage_number).status == status
        assert case_of(clocked, stage_number).document_number is None


def test_r10_a_report_missing_an_input_names_it(clocked):
    """The report never prints a blank: its missing inputs are named and block it."""
    number = raise_nc(clocked)
    with clocked.read() as uow, pytest.raises(ValidationFailed) as refused:
        report.content(uow, case_of(clocked, number))
    assert {p["field"] for p in refused.value.problems} == {"containment", "root_cause", "actions", "effectiveness",
                                                            "closure"}


def test_r10_an_overdue_action_task_is_escalated_by_the_sweep(clocked):
    """X-3: an action not done by its due date is escalated by the daily sweep."""
    from cms_workflows.bootstrap import sweep
    from cms_workflows.tasks.models import Task, TaskNotice

    number = to_implementing(clocked, owners=(MAINT,))
    due = START + timedelta(days=11)
    at(clocked, due + timedelta(days=1))
    sweep(clocked, due + timedelta(days=1))
    with clocked.read() as uow:
        [task] = cases.stage_tasks(uow, case_of(clocked, number), "action")
        notices = uow.exec(select(TaskNotice).where(TaskNotice.task_id == task.id)).all()
        assert ("escalation", 0) in {(n.kind, n.step) for n in notices}
        assert uow.get(Task, task.id).status == "open"


def test_r10_similar_nonconformities_are_found_and_recorded_with_the_conclusion(clocked):
    """R-10.1 b: the same origin, or a description sharing words, counts as similar; the search is recorded."""
    first = raise_nc(clocked)
    other_site = do(clocked, ca.raise_nonconformity, CARBON_LEAD, site="HN02", source="complaint",
                    description="冲压车间天然气流量计检定证书过期").number
    unrelated = do(clocked, ca.raise_nonconformity, CARBON_LEAD, site="HN02", source="other",
                   description="培训记录缺少签字").number
    number = raise_nc(clocked, description="窑头电表检定证书已过期，数据准确性受影响")
    do(clocked, ca.contain, ENERGY, number, "停用读数", "更正数据")
    found = do(clocked, ca.analyse, LEAD, number, "无提醒", "与 NC 同类，合并跟踪")
    numbers = {f["number"]: f["reasons"] for f in found}
    assert "same_origin" in numbers[first] and numbers[other_site] == ["shared_words"] and unrelated not in numbers
    [search] = view(clocked, number).items["similar_search"]
    assert set(search[1]["found"]) == set(numbers) and search[1]["conclusion"] == "与 NC 同类，合并跟踪"
