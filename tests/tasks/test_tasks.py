"""Tasks (X-3): who may claim, release and complete them across sites, named-user tasks, the evidence
each requires, completing twice, cancelling — and a refused command writes nothing (X-1)."""

from __future__ import annotations

from datetime import date

import pytest

from cms_workflows.bootstrap import stored_hashes
from cms_workflows.core.errors import AccessDenied, CmsError, Conflict, InvalidTransition, NotFound, ValidationFailed
from cms_workflows.org import service as org
from cms_workflows.tasks import queries, service
from cms_workflows.tasks.models import OutboxMessage, Task
from tests.tasks.helpers import LEAD, events, new_task

A, B, OTHER_SITE = "energy_data_admin.hn01", "energy_engineer.hn01", "energy_data_admin.hn02"


@pytest.fixture
def two_holders(db, company):
    """energy_engineer.hn01 also holds energy_data_admin at HN01: two holders of the task's position."""
    with db.unit_of_work() as uow:
        org.assign(uow, "admin", B, "energy_data_admin", "HN01", valid_from=date(2020, 1, 1))
    return db


def refused(db, fn, *args, error=CmsError, **kwargs) -> CmsError:
    """Run a command that must be refused; prove that it wrote nothing (no event, no row changed)."""
    before = len(events(db))
    with db.read() as uow:
        rows = [(t.id, t.status, t.claimed_by, t.sequence, t.evidence_ref) for t in uow.exec(Task.__table__.select())]
        messages = len(queries.outbox(uow))
    with pytest.raises(error) as raised, db.unit_of_work() as uow:
        fn(uow, *args, **kwargs)
    assert len(events(db)) == before
    with db.read() as uow:
        assert [(t.id, t.status, t.claimed_by, t.sequence, t.evidence_ref)
                for t in uow.exec(Task.__table__.select())] == rows
        assert len(queries.outbox(uow)) == messages
    for locale in ("zh-CN", "en"):
        assert raised.value.key not in raised.value.message(locale)
    return raised.value


def test_x3_claim_release_complete_by_holders_of_the_position_at_the_site(two_holders):
    db = two_holders
    with db.unit_of_work() as uow:
        task = new_task(uow)
        # created, and every holder of the position at the site notified in the same transaction
        assert sorted(m.recipient for m in queries.outbox(uow, status="pending")) == [A, B]
    assert refused(db, service.claim, OTHER_SITE, task.id, error=AccessDenied).key == "tasks.not_holder"
    with db.unit_of_work() as uow:
        assert service.claim(uow, A, task.id).claimed_by == A
    with db.read() as uow:
        assert [x.id for x in queries.tasks_for_user(uow, A)] == [task.id]
        assert queries.tasks_for_user(uow, B) == []  # claimed by A: no longer B's to do
    assert refused(db, service.complete, B, task.id, outcome="done", error=AccessDenied).key == "tasks.claimed_by_other"
    assert refused(db, service.release, B, task.id, error=AccessDenied).key == "tasks.claimed_by_other"
    assert refused(db, service.claim, B, task.id, error=InvalidTransition).key == "tasks.wrong_state"
    with db.unit_of_work() as uow:
        service.release(uow, A, task.id)
    with db.unit_of_work() as uow:
        service.claim(uow, B, task.id)
    with db.unit_of_work() as uow:
        done = service.complete(uow, B, task.key, outcome="已提交", comment="三月数据齐全")
    assert (done.status, done.completed_by, done.outcome) == ("done", B, "已提交")
    assert [e.action for e in events(db) if e.object_type == "task_task"] == [
        "tasks.task.create", "tasks.task.claim", "tasks.task.release", "tasks.task.claim", "tasks.task.complete"]
    granted = events(db, "tasks.task.complete")[-1]
    assert (granted.actor, granted.position, granted.site) == (B, "energy_data_admin", "HN01")


def test_x3_a_company_wide_holder_counts_at_every_site_a_site_holder_only_at_its_own(db, company):
    with db.unit_of_work() as uow:
        task = new_task(uow, "adhoc:strategy:HN01", position="strategy_manager")
    assert refused(db, service.claim, "strategy_manager.hn02", task.id, error=AccessDenied).key == "tasks.not_holder"
    with db.unit_of_work() as uow:
        company_task = new_task(uow, "adhoc:strategy:company", position="strategy_manager", site="*")
    # a plant's holder does not act on a company-level task
    assert refused(db, service.claim, "strategy_manager.hn01", company_task.id, error=AccessDenied).key == "tasks.not_holder"
    with db.unit_of_work() as uow:
        service.claim(uow, "strategy_manager.hn01", task.id)
        service.complete(uow, LEAD, company_task.id, outcome="ok")


def test_x3_a_task_for_a_named_user_is_that_users_only(db, company):
    with db.unit_of_work() as uow:
        task = new_task(uow, "adhoc:review:gm", assignee="gm", site="*")
        assert [m.recipient for m in queries.outbox(uow)] == ["gm"]
    assert refused(db, service.complete, LEAD, task.id, outcome="ok", error=AccessDenied).key == "tasks.not_assignee"
    assert refused(db, service.claim, "gm", task.id, error=Conflict).key == "tasks.not_claimable"
    with db.read() as uow:
        assert [x.id for x in queries.tasks_for_user(uow, "gm")] == [task.id]
    with db.unit_of_work() as uow:
        done = service.complete(uow, "gm", task.id, outcome="已批准")
    assert events(db, "tasks.task.complete")[-1].position == service.ASSIGNEE
    assert done.status == "done"


def test_x3_completing_without_the_required_evidence_twice_or_as_another_writes_nothing(two_holders):
    db = two_holders
    with db.unit_of_work() as uow:
        task = new_task(uow, evidence="file")
    error = refused(db, service.complete, A, task.id, outcome="已提交", error=ValidationFailed)
    assert error.key == "tasks.evidence_required" and "文件" in error.message("zh-CN")
    assert refused(db, service.complete, A, task.id, outcome="已提交", record="REC-1").key == "tasks.evidence_required"
    assert refused(db, service.complete, A, task.id, outcome=" ", file=("a.xlsx", b"x")).key == "tasks.invalid_completion"
    assert refused(db, service.complete, A, task.id, outcome="ok", file=("a.xlsx", b"x"),
                   record="R").key == "tasks.invalid_completion"
    assert refused(db, service.complete, OTHER_SITE, task.id, outcome="ok", file=("a.xlsx", b"x")).key == "tasks.not_holder"
    with db.unit_of_work() as uow:
        done = service.complete(uow, A, task.id, outcome="已提交", file=("三月能耗.xlsx", b"PK evidence bytes"))
    sha = done.evidence_ref.removeprefix("file:")
    assert db.files.get(sha) == b"PK evidence bytes" and done.evidence_name == "三月能耗.xlsx"
    with db.read() as uow:
        assert any(sha in fn(uow) for fn in stored_hashes())  # `cms verify` knows the file belongs to a row
    # completing twice, by the same holder or another: refused, nothing written
    assert refused(db, service.complete, A, task.id, outcome="again", file=("b", b"y")).key == "tasks.wrong_state"
    assert refused(db, service.complete, B, task.id, outcome="again", file=("b", b"y")).key == "tasks.wrong_state"


def test_x3_record_and_document_revision_evidence(db, company):
    from cms_workflows.documents import service as documents
    from cms_workflows.documents.queries import document_number

    with db.unit_of_work() as uow:
        rev = documents.create(uow, "strategy_manager.hn01", doc_type="procedure", site="HN01", title="数据收集程序",
                               owner_department="carbon_management")
        number = document_number(uow, rev.document_id)
        doc_task = new_task(uow, "adhoc:doc", evidence="document")
        rec_task = new_task(uow, "adhoc:rec", evidence="record")
    assert refused(db, service.complete, A, doc_task.id, outcome="ok", document="HN01-PR-999",
                   error=NotFound).key == "documents.unknown_document"
    with db.unit_of_work() as uow:
        assert service.complete(uow, A, doc_task.id, outcome="ok", document=number).evidence_ref == \
            f"document:{number}@{rev.label}"
        assert service.complete(uow, A, rec_task.id, outcome="ok", record="CAL-2026-017").evidence_ref == \
            "record:CAL-2026-017"


def test_x3_cancel_is_the_carbon_management_leads(db, company):
    with db.unit_of_work() as uow:
        task = new_task(uow)
    assert refused(db, service.cancel, A, task.id, "不需要", error=AccessDenied).key == "access.denied"
    assert refused(db, service.cancel, LEAD, task.id, "  ").key == "tasks.invalid_cancel"
    with db.unit_of_work() as uow:
        assert service.cancel(uow, LEAD, task.id, "该生产线已停产").status == "cancelled"
    assert refused(db, service.claim, A, task.id).key == "tasks.wrong_state"


def test_x3_ensure_task_creates_once_and_bad_tasks_are_refused(db, company):
    fields = dict(title_key="tasks.title.document_review", title_params={"number": "HN01-PR-001"}, clause="R-7.5",
                  site="HN01", position="document_controller", due=date(2026, 6, 30), evidence="document")
    with db.unit_of_work() as uow:
        first = service.ensure_task(uow, "system", key="duty:doc_review:HN01-PR-001:2026", **fields)
    with db.unit_of_work() as uow:
        again = service.ensure_task(uow, "system", key="duty:doc_review:HN01-PR-001:2026", **fields)
    assert again.id == first.id and len(events(db, "tasks.task.create")) == 1
    assert refused(db, new_task, "duty:doc_review:HN01-PR-001:2026", error=Conflict).key == "tasks.duplicate_key"
    bad = refused(db, new_task, "k1", escalation=[{"after_days": 3, "to": "nobody"}, {"after_days": 1, "to": "top_management"}],
                  reminder_days=[7, 7], error=ValidationFailed)
    assert {p["key"] for p in bad.problems} == {"tasks.problem.bad_escalation_target", "tasks.problem.bad_after_days",
                                               "tasks.problem.bad_reminders"}
    assert refused(db, new_task, "k2", position=None).key == "tasks.invalid_task"  # neither a position nor a user
    assert refused(db, new_task, "k3", actor="energy_data_admin.hn01", error=AccessDenied).key == "access.denied"
    with db.read() as uow:
        assert queries.title(first, "en") == "Periodic review of controlled document HN01-PR-001"
        assert queries.title(first, "zh-CN") == "定期评审受控文件 HN01-PR-001"


def test_x3_outbox_rows_belong_to_the_task_change(db, company):
    """A notification is written in the transaction of its change: a change rolled back notifies nobody."""
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        new_task(uow)
        assert len(queries.outbox(uow)) == 1
        raise RuntimeError("the command fails after writing")
    with db.read() as uow:
        assert queries.outbox(uow) == [] and uow.exec(OutboxMessage.__table__.select()).first() is None
