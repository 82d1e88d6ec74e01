"""Revisions and their lifecycle (R-7.5, X-4): route, rejection loop, SoD, committees, added reviewers,
supersede, obsolete, periodic review; wrong-state commands are clear errors that change nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import Decision, Revision
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, ValidationFailed

from .conftest import AUTHOR, DOC_CONTROL, GM, REVIEWER, audit_count, new_procedure, release


def _revs(db, number):
    with db.read() as session:
        return {r.label: r for r in doc_queries.revisions(session, doc_queries.get_document(session, number))}


def test_numbers_follow_the_scheme_per_site_and_type(db, company):
    first, second = new_procedure(db), new_procedure(db, "内部审核程序")
    assert (first, second) == ("HN01-PR-001", "HN01-PR-002")
    with db.unit_of_work() as session:
        rev = docs.create(session, "carbon.lead", doc_type="policy", site="*", title="碳方针",
                          owner_department="carbon_management")
        plan = docs.create(session, "strategy_manager.hn02", doc_type="plan", site="HN02", title="年度碳管理计划",
                           owner_department="carbon_management", today=date(2026, 3, 1))
        assert doc_queries.document_number(session, rev.document_id) == "CMS-PO-001"
        assert rev.label == "1.0"  # policies use numeric labels
        assert doc_queries.document_number(session, plan.document_id) == "HN02-PL-2026-001"


def test_a_failed_creation_gives_its_number_back(db, company):
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            docs.create(session, AUTHOR, doc_type="procedure", site="HN01", title="x", owner_department="nowhere")
    assert new_procedure(db) == "HN01-PR-001"  # no gap


def test_the_whole_route_to_effective(db, procedure):
    release(db, procedure)
    with db.read() as session:
        doc = doc_queries.get_document(session, procedure)
        rev = doc_queries.effective_revision(session, doc)
        decisions = session.exec(select(Decision).where(Decision.revision_id == rev.id)).all()
    assert (rev.label, rev.status, rev.approved_by) == ("A", "effective", GM)
    assert rev.file_sha256 and len(rev.file_sha256) == 64
    assert [(d.username, d.position, d.decision) for d in decisions] == [
        (REVIEWER, "quality_system_engineer", "approve"), (GM, "general_manager", "approve")]
    assert doc.next_review_due == rev.effective_date.replace(year=rev.effective_date.year + 1)
    with db.read() as session:
        actions = [e.action for e in audit.events_for(session, "doc_document", doc.id)]
    # a decision that approves the revision appends the approval, then the decision that caused it
    assert actions == ["documents.document.create", "documents.revision.submit", "documents.revision.decide",
                       "documents.revision.approve", "documents.revision.decide", "documents.revision.make_effective"]


def test_rejection_returns_to_draft_and_every_decision_stays_on_record(db, procedure):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, procedure, "approve", "可以")
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, GM, procedure, "reject", "第5条职责不清，请补充")
    assert rev.status == "draft"
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, procedure, content={"purpose": "明确文件的编制、审批、发布和更改要求。"})
    release(db, procedure)
    with db.read() as session:
        view = doc_queries.show(session, GM, procedure)
    rounds = [(next(s.round for s in view.steps if s.id == d.step_id), d.username, d.decision, d.comment) for d in view.decisions]
    assert rounds == [(1, REVIEWER, "approve", "可以"), (1, GM, "reject", "第5条职责不清，请补充"),
                      (2, REVIEWER, "approve", "内容符合要求"), (2, GM, "approve", "同意发布")]
    assert [s.status for s in view.steps] == ["done", "rejected", "done", "done"]


def test_a_rejection_needs_a_comment(db, procedure):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            doc_approval.decide(session, REVIEWER, procedure, "reject", "  ")


def test_nobody_reviews_their_own_revision(db, procedure, company):
    """The author holds a reviewing position of the route (strategy_manager) and still may not review."""
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    before = audit_count(db)
    with pytest.raises(AccessDenied) as err:
        with db.unit_of_work() as session:
            doc_approval.decide(session, AUTHOR, procedure, "approve")
    assert err.value.key == "access.sod_own_work"
    assert audit_count(db) == before


def test_only_holders_of_the_step_positions_decide(db, procedure):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with pytest.raises(AccessDenied) as err:  # a plant engineer of another site
        with db.unit_of_work() as session:
            doc_approval.decide(session, "quality_system_engineer.hn02", procedure, "approve")
    assert err.value.key == "access.not_a_decider"
    with pytest.raises(InvalidTransition) as err:  # `approve` while the review step runs
        with db.unit_of_work() as session:
            doc_approval.decide(session, GM, procedure, "approve", expect="approve")
    assert err.value.key == "documents.step_is_other"


@pytest.mark.parametrize("command", ["approve_draft", "make_effective_draft", "submit_twice", "edit_in_review"])
def test_wrong_state_commands_are_clear_errors_and_change_nothing(db, procedure, command):
    if command in ("submit_twice", "edit_in_review"):
        with db.unit_of_work() as session:
            docs.submit(session, AUTHOR, procedure)
    before, revs_before = audit_count(db), {k: v.status for k, v in _revs(db, procedure).items()}
    with pytest.raises((InvalidTransition, Conflict)) as err:
        with db.unit_of_work() as session:
            if command == "approve_draft":
                doc_approval.decide(session, GM, procedure, "approve", expect="approve")
            elif command == "make_effective_draft":
                docs.make_effective(session, DOC_CONTROL, procedure)
            elif command == "submit_twice":
                docs.submit(session, AUTHOR, procedure)
            else:
                docs.edit(session, AUTHOR, procedure, content={"scope": "全公司"})
    assert err.value.key == "documents.wrong_state"
    assert procedure in err.value.message()
    assert audit_count(db) == before
    assert {k: v.status for k, v in _revs(db, procedure).items()} == revs_before


def test_only_the_author_edits_the_draft(db, procedure):
    with pytest.raises(AccessDenied) as err:
        with db.unit_of_work() as session:
            docs.edit(session, "quality_system_engineer.hn01", procedure, content={"scope": "全公司"})
    assert err.value.key == "documents.not_author"


def test_content_is_checked_against_the_template(db, company):
    with pytest.raises(ValidationFailed) as err:
        new_procedure(db, content={"purpose": "x", "colour": "red"})
    assert any(p["field"] == "colour" for p in err.value.problems)
    number = new_procedure(db, content={"purpose": "x"})
    with pytest.raises(ValidationFailed) as err:  # incomplete content cannot go to review
        with db.unit_of_work() as session:
            docs.submit(session, AUTHOR, number)
    assert {p["field"] for p in err.value.problems} == {"scope", "sections"}


def test_a_procedure_without_its_optional_sections_goes_to_review(db, company):
    """5 相关文件 and 6 记录 are optional: a procedure written without them is submitted and approved."""
    from .conftest import PROCEDURE_CONTENT

    content = {k: v for k, v in PROCEDURE_CONTENT.items() if k not in ("related_documents", "records")}
    assert content != dict(PROCEDURE_CONTENT)  # the example does give them
    number = new_procedure(db, content=content)
    release(db, number)
    with db.read() as session:
        assert doc_queries.get_document(session, number).status == "active"


def test_the_effective_revision_stays_untouched_while_its_successor_is_reviewed(db, procedure):
    release(db, procedure)
    a = _revs(db, procedure)["A"]
    with pytest.raises(ValidationFailed) as err:  # from the second revision on, a change reason is required
        with db.unit_of_work() as session:
            docs.edit(session, AUTHOR, procedure, content={"scope": "长沙工厂全部部门"})
    assert err.value.key == "documents.change_reason_required"
    with db.unit_of_work() as session:
        b = docs.edit(session, AUTHOR, procedure, content={"scope": "长沙工厂全部部门"}, change_reason="扩大适用范围")
    assert b.label == "B"
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, procedure, "approve")
    with db.read() as session:
        current, data = doc_queries.revision_file(session, "energy_engineer.hn01", procedure)
    assert (current.label, current.status) == ("A", "effective")
    assert current.file_sha256 == a.file_sha256 and len(data) == a.file_size
    with db.unit_of_work() as session:
        doc_approval.decide(session, GM, procedure, "approve")
    with db.unit_of_work() as session:
        docs.make_effective(session, DOC_CONTROL, procedure)
    revs = _revs(db, procedure)
    assert (revs["A"].status, revs["B"].status) == ("superseded", "effective")
    assert revs["A"].superseded_by == "B" and revs["A"].end_reason is None
    assert doc_queries.end_text(revs["A"], "en") == "superseded by B" and revs["A"].file_sha256 == a.file_sha256
    with db.read() as session:  # every revision stays retrievable
        old, old_data = doc_queries.revision_file(session, GM, procedure, "A")
    assert old.status == "superseded" and len(old_data) == a.file_size


def test_one_open_revision_at_a_time(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, procedure, change_reason="更新职责")
    with db.unit_of_work() as session:  # a second edit changes that draft, it does not open another one
        rev = docs.edit(session, AUTHOR, procedure, content={"scope": "全厂"})
    assert rev.label == "B" and len(_revs(db, procedure)) == 2


def test_committee_step_needs_every_position(db, company):
    """The carbon policy: drafted by carbon management, countersigned by compliance AND legal, approved by the GM (R-5.2)."""
    from cms_workflows.documents import registry

    with db.unit_of_work() as session:
        rev = docs.create(session, "carbon.lead", doc_type="policy", site="*", title="碳方针",
                          owner_department="carbon_management", content=dict(registry.template("carbon_policy").example))
        number = doc_queries.document_number(session, rev.document_id)
    with db.unit_of_work() as session:
        docs.submit(session, "carbon.lead", number)
    with db.unit_of_work() as session:
        doc_approval.decide(session, "compliance.lead", number, "approve", "符合法规要求")
    with pytest.raises(InvalidTransition):  # the committee is not complete: no approval yet
        with db.unit_of_work() as session:
            doc_approval.decide(session, GM, number, "approve", expect="approve")
    with pytest.raises(AccessDenied):  # a plant's compliance officer does not decide a company document
        with db.unit_of_work() as session:
            doc_approval.decide(session, "compliance_officer.hn01", number, "approve")
    with db.unit_of_work() as session:
        doc_approval.decide(session, "legal.lead", number, "approve", "无异议")
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, GM, number, "approve", "批准发布", expect="approve")
    assert rev.status == "approved" and rev.label == "1.0"


def test_document_control_adds_a_reviewer_to_the_running_step(db, procedure):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with pytest.raises(AccessDenied):  # only document control adds reviewers
        with db.unit_of_work() as session:
            doc_approval.add_reviewer(session, AUTHOR, procedure, "energy_engineer.hn01")
    with pytest.raises(AccessDenied):  # and never the author
        with db.unit_of_work() as session:
            doc_approval.add_reviewer(session, DOC_CONTROL, procedure, AUTHOR)
    with db.unit_of_work() as session:
        doc_approval.add_reviewer(session, DOC_CONTROL, procedure, "energy_engineer.hn01", "涉及能源计量条款")
    with db.unit_of_work() as session:  # the position holder alone no longer completes the step
        doc_approval.decide(session, REVIEWER, procedure, "approve")
    with db.read() as session:
        rev = doc_queries.open_revision(session, doc_queries.get_document(session, procedure))
        assert [s.status for s in doc_queries.route_steps(session, rev)] == ["active", "waiting"]
    with db.unit_of_work() as session:
        doc_approval.decide(session, "energy_engineer.hn01", procedure, "approve", "计量条款已核对")
    with db.read() as session:
        rev = doc_queries.open_revision(session, doc_queries.get_document(session, procedure))
        assert [s.status for s in doc_queries.route_steps(session, rev)] == ["done", "active"]
        events = [e.action for e in audit.events_for(session, "doc_document", rev.document_id)]
    assert "documents.route.add_reviewer" in events


def test_obsolete_needs_a_reason_and_withdraws_open_revisions(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, procedure, change_reason="更新")
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            docs.obsolete(session, DOC_CONTROL, procedure, "")
    with db.unit_of_work() as session:
        docs.obsolete(session, DOC_CONTROL, procedure, "并入《文件和记录控制程序》")
    revs = _revs(db, procedure)
    assert (revs["A"].status, revs["B"].status) == ("obsolete", "withdrawn")
    with pytest.raises(InvalidTransition) as err:
        with db.unit_of_work() as session:
            docs.edit(session, AUTHOR, procedure, content={"scope": "x"})
    assert err.value.key == "documents.not_active"


def test_periodic_review_moves_the_due_date_or_asks_for_a_revision(db, procedure):
    release(db, procedure)
    with db.read() as session:
        due_on = doc_queries.get_document(session, procedure).next_review_due
        assert doc_queries.due(session, DOC_CONTROL, due_on - timedelta(days=1)) == []
        assert [d.document.number for d in doc_queries.due(session, DOC_CONTROL, due_on)] == [procedure]
    with db.unit_of_work() as session:
        row = docs.periodic_review(session, DOC_CONTROL, procedure, "no_change", "仍适用", today=due_on)
    assert row.next_due == due_on.replace(year=due_on.year + 1)
    with db.unit_of_work() as session:
        docs.periodic_review(session, DOC_CONTROL, procedure, "revise", "法规更新，需修订", today=row.next_due)
    with db.read() as session:  # still due until the new revision takes effect
        assert [d.document.number for d in doc_queries.due(session, DOC_CONTROL, row.next_due)] == [procedure]
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            docs.periodic_review(session, DOC_CONTROL, procedure, "maybe")


def test_an_effective_date_in_the_future_waits_for_its_day(db, procedure):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, procedure, "approve")
    start = date.today() + timedelta(days=10)
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, GM, procedure, "approve", effective_date=start)
    assert rev.effective_date == start
    with pytest.raises(InvalidTransition) as err:
        with db.unit_of_work() as session:
            docs.make_effective(session, DOC_CONTROL, procedure)
    assert err.value.key == "documents.not_yet_effective"
    with db.unit_of_work() as session:
        docs.make_effective(session, DOC_CONTROL, procedure, today=start)
    assert _revs(db, procedure)["A"].status == "effective"


def test_revisions_are_never_deleted(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, procedure, change_reason="更新")
    release(db, procedure)
    with db.read() as session:
        assert [(r.label, r.status) for r in session.exec(select(Revision).order_by(Revision.seq))] == [
            ("A", "superseded"), ("B", "effective")]


def test_a_reviewer_added_to_the_approval_step_signs_but_the_approver_of_record_is_the_gm(db, procedure):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, procedure, "approve")
    with db.unit_of_work() as session:
        doc_approval.add_reviewer(session, DOC_CONTROL, procedure, "energy_engineer.hn01", "发布前核对计量条款")
    with db.unit_of_work() as session:
        assert doc_approval.decide(session, GM, procedure, "approve").status == "in_review"  # the added reviewer is still due
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, "energy_engineer.hn01", procedure, "approve", "已核对")
    assert (rev.status, rev.approved_by) == ("approved", GM)
