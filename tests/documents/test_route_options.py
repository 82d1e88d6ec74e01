"""A decision's options on a real route (issue 15 item 8, R-7.5, X-4): the approver's effective date is kept
whoever decides last (an added reviewer included), or refused at once where it cannot apply; and what a
document waits for, with the positions and the people who may decide it."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from cms_workflows import audit
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs

from .conftest import AUTHOR, DOC_CONTROL, GM, REVIEWER, audit_count

ADDED = "energy_engineer.hn01"  # reads procedures at HN01; added by name to the approval step


def _to_approval_step_with_added_reviewer(db, number: str) -> None:
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, number)
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, number, "approve", "内容符合要求", expect="review")
    with db.unit_of_work() as session:
        doc_approval.add_reviewer(session, DOC_CONTROL, number, ADDED, "发布前核对计量条款")


def _events(db, number: str, action: str) -> list[dict]:
    with db.read() as session:
        doc = doc_queries.get_document(session, number)
        return [json.loads(e.payload) for e in audit.events_for(session, "doc_document", doc.id) if e.action == action]


def _today(db) -> date:
    with db.read() as session:
        return session.clock.today()


def test_the_approvers_effective_date_is_kept_when_an_added_reviewer_decides_last(db, procedure):
    _to_approval_step_with_added_reviewer(db, procedure)
    start = _today(db) + timedelta(days=30)
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, GM, procedure, "approve", "同意发布", expect="approve", effective_date=start)
    assert (rev.status, rev.effective_date) == ("in_review", start)  # the reviewer is still due; the date is kept
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, ADDED, procedure, "approve", "计量条款已核对", expect="approve")
    assert (rev.status, rev.approved_by, rev.effective_date) == ("approved", GM, start)
    approval = _events(db, procedure, "documents.revision.approve")[-1]
    assert approval["effective_date"] == start.isoformat() and "requested_effective_date" not in approval
    # the trail shows whose decision gave the date
    assert [(p["in_capacity"], p.get("effective_date")) for p in _events(db, procedure, "documents.revision.decide")] == [
        ("quality_system_engineer", None), ("general_manager", start.isoformat()), ("reviewer", None)]


def test_a_kept_date_that_passed_before_the_last_decision_becomes_that_day_and_the_trail_says_so(db, procedure):
    _to_approval_step_with_added_reviewer(db, procedure)
    today = _today(db)
    with db.unit_of_work() as session:
        doc_approval.decide(session, GM, procedure, "approve", expect="approve", effective_date=today + timedelta(days=1),
                            today=today)
    later = today + timedelta(days=5)
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, ADDED, procedure, "approve", expect="approve", today=later)
    assert (rev.status, rev.effective_date) == ("approved", later)
    approval = _events(db, procedure, "documents.revision.approve")[-1]
    assert approval["requested_effective_date"] == (today + timedelta(days=1)).isoformat()


def test_a_rejection_drops_the_kept_date_with_its_round(db, procedure):
    _to_approval_step_with_added_reviewer(db, procedure)
    with db.unit_of_work() as session:
        doc_approval.decide(session, GM, procedure, "approve", expect="approve",
                            effective_date=_today(db) + timedelta(days=10))
    with db.unit_of_work() as session:
        rev = doc_approval.decide(session, ADDED, procedure, "reject", "计量条款引用的检定规程已作废")
    assert (rev.status, rev.effective_date) == ("draft", None)


@pytest.mark.parametrize("who, decision, key", [
    (REVIEWER, "approve", "documents.effective_date_not_last_step"),  # the review step: not the approval
    (GM, "reject", "documents.effective_date_with_reject"),
    (ADDED, "approve", "documents.effective_date_by_approver"),
])
def test_an_effective_date_where_it_cannot_apply_is_refused_at_once(db, procedure, who, decision, key):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    if who != REVIEWER:
        with db.unit_of_work() as session:
            doc_approval.decide(session, REVIEWER, procedure, "approve", expect="review")
        with db.unit_of_work() as session:
            doc_approval.add_reviewer(session, DOC_CONTROL, procedure, ADDED)
    before = audit_count(db)
    with pytest.raises(ValidationFailed) as refused:
        with db.unit_of_work() as session:
            doc_approval.decide(session, who, procedure, decision, "意见", effective_date=_today(db) + timedelta(days=3))
    assert refused.value.key == key and procedure in refused.value.message()
    assert audit_count(db) == before  # nothing recorded, the decision can be made again without the date


def test_a_past_date_is_refused_even_when_the_route_does_not_complete_yet(db, procedure):
    _to_approval_step_with_added_reviewer(db, procedure)
    before = audit_count(db)
    with pytest.raises(ValidationFailed) as refused:
        with db.unit_of_work() as session:
            doc_approval.decide(session, GM, procedure, "approve", expect="approve",
                                effective_date=_today(db) - timedelta(days=1))
    assert refused.value.key == "documents.effective_in_past"
    assert audit_count(db) == before


def test_the_next_step_names_the_positions_and_the_people_who_may_decide_it(db, procedure):
    with db.read() as session:
        pending = doc_approval.next_step(session, doc_queries.get_document(session, procedure))
    assert (pending.kind, pending.names) == ("submit", (AUTHOR,))
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with db.read() as session:
        pending = doc_approval.next_step(session, doc_queries.get_document(session, procedure))
    assert (pending.kind, pending.step.name) == ("decide", "review")
    assert pending.positions == ("strategy_manager", "quality_system_engineer")
    # the author holds strategy_manager at HN01 but may not review their own work
    assert REVIEWER in pending.names and AUTHOR not in pending.names
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, procedure, "approve", expect="review")
    with db.unit_of_work() as session:
        doc_approval.add_reviewer(session, DOC_CONTROL, procedure, ADDED)
    with db.unit_of_work() as session:
        doc_approval.decide(session, GM, procedure, "approve", expect="approve")
    with db.read() as session:
        pending = doc_approval.next_step(session, doc_queries.get_document(session, procedure))
    # the general manager has decided: only the added reviewer is awaited
    assert (pending.step.name, pending.positions, pending.names, pending.reviewers) == ("approve", (), (), (ADDED,))
    with db.unit_of_work() as session:
        doc_approval.decide(session, ADDED, procedure, "approve", expect="approve")
    with db.read() as session:
        pending = doc_approval.next_step(session, doc_queries.get_document(session, procedure))
    assert pending.kind == "release" and "document_controller" in pending.positions and DOC_CONTROL in pending.names
