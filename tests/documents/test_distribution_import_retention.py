"""Distribution and read acknowledgement, existing and external documents, retention and disposition (R-7.5, R-5.2)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from docx import Document as new_docx

from cms_workflows import audit
from cms_workflows.documents import distribution, imports, retention
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, ValidationFailed
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.bootstrap import verify_installation

from .conftest import AUTHOR, DOC_CONTROL, GM, REVIEWER, release


def word_file(text: str) -> bytes:
    document = new_docx()
    document.add_heading("能源计量管理程序", 1)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ distribution

def test_holders_acknowledge_the_exact_revision_and_a_new_revision_asks_again(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as session:
        distribution.distribute(session, DOC_CONTROL, procedure, [("energy_engineer", "HN01"), ("process_engineer", "*")])
    with db.read() as session:
        rev, waiting = distribution.pending(session, GM, procedure)
    # auditor1 holds energy_engineer at HN01 too (an auditor's home position)
    assert {h.username for h in waiting} == {"energy_engineer.hn01", "auditor1", "process_engineer.hn01", "process_engineer.hn02"}
    with db.unit_of_work() as session:
        ack = distribution.acknowledge(session, "energy_engineer.hn01", procedure)
    assert ack.file_sha256 == rev.file_sha256
    with pytest.raises(Conflict):
        with db.unit_of_work() as session:
            distribution.acknowledge(session, "energy_engineer.hn01", procedure)
    with pytest.raises(AccessDenied):  # not distributed to a plant's purchaser
        with db.unit_of_work() as session:
            distribution.acknowledge(session, "purchaser.hn01", procedure)
    with db.read() as session:
        _rev, waiting = distribution.pending(session, GM, procedure)
    assert {h.username for h in waiting} == {"auditor1", "process_engineer.hn01", "process_engineer.hn02"}
    # revision B goes to the same holders; everyone is asked again
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, procedure, change_reason="更新计量器具清单")
    release(db, procedure)
    with db.read() as session:
        rev_b, waiting = distribution.pending(session, GM, procedure)
    assert rev_b.label == "B" and {h.username for h in waiting} == {"energy_engineer.hn01", "auditor1", "process_engineer.hn01",
                                                                   "process_engineer.hn02"}
    with db.unit_of_work() as session:
        ack_b = distribution.acknowledge(session, "energy_engineer.hn01", procedure)
    assert ack_b.file_sha256 == rev_b.file_sha256 != ack.file_sha256


def test_distribution_targets_are_checked(db, procedure):
    release(db, procedure)
    with pytest.raises(ValidationFailed) as err:
        with db.unit_of_work() as session:
            distribution.distribute(session, DOC_CONTROL, procedure, [("astronaut", "HN01"), ("energy_engineer", "HN09")])
    assert [p["key"] for p in err.value.problems] == ["documents.problem.unknown_position",
                                                      "documents.problem.unknown_site_code"]
    with pytest.raises(InvalidTransition):  # nothing effective to distribute yet
        with db.unit_of_work() as session:
            number = docs.create(session, AUTHOR, doc_type="procedure", site="HN01", title="新程序",
                                 owner_department="carbon_management").document_id
            distribution.distribute(session, DOC_CONTROL, doc_queries.document_number(session, number), [("energy_engineer", "HN01")])


# ------------------------------------------------------------------ existing Word files

def test_an_existing_word_file_becomes_a_revision_with_the_same_lifecycle(db, company):
    data = word_file("本程序规定能源计量器具的配备、检定和使用要求。")
    with db.unit_of_work() as session:
        rev = imports.import_file(session, AUTHOR, data, "能源计量管理程序.docx", doc_type="procedure", site="HN01",
                                  title="能源计量管理程序", owner_department="energy_management", label="C",
                                  legacy_number="QP-EN-07")
        number = doc_queries.document_number(session, rev.document_id)
    assert (rev.label, rev.source, rev.file_sha256) == ("C", "imported", sha256_bytes(data))
    release(db, number)
    with db.read() as session:
        effective, stored = doc_queries.revision_file(session, GM, number)
    # approved, the register's file is the controlled copy; the upload stays as its source (issue 13 item 2)
    assert effective.status == "effective" and stored != data and effective.source_sha256 == sha256_bytes(data)
    with pytest.raises(ValidationFailed) as err:  # an imported document changes by importing its next file
        with db.unit_of_work() as session:
            docs.edit(session, AUTHOR, number, content={"scope": "x"}, change_reason="更新")
    assert err.value.key == "documents.imported_content"
    changed = word_file("本程序规定能源计量器具的配备、检定、校准和使用要求。")
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            imports.import_file(session, AUTHOR, changed, "能源计量管理程序-D.docx", number=number)
    with db.unit_of_work() as session:
        rev_d = imports.import_file(session, AUTHOR, changed, "能源计量管理程序-D.docx", number=number,
                                    change_reason="增加校准要求")
    assert rev_d.label == "D"
    with db.read() as session:  # C stays effective until D is released
        assert doc_queries.revision_file(session, GM, number)[1] == stored


def test_external_documents_record_issuer_version_and_where_they_apply(db, company):
    pdf = b"%PDF-1.7 GB/T 32150-2015 text"
    with db.unit_of_work() as session:
        rev = imports.import_file(session, "compliance.lead", pdf, "GBT32150-2015.pdf", doc_type="external", site="*",
                                  title="工业企业温室气体排放核算和报告通则", owner_department="carbon_management",
                                  issuer="国家质量监督检验检疫总局、国家标准化管理委员会", external_version="GB/T 32150-2015",
                                  external_effective_date=date(2016, 1, 1), applies_to="全公司碳排放核算")
        doc = session.get(doc_queries.Document, rev.document_id)
    assert doc.number == "CMS-EX-001" and doc.external_version == "GB/T 32150-2015"
    with pytest.raises(ValidationFailed):  # issuer and version are what makes an external document traceable
        with db.unit_of_work() as session:
            imports.import_file(session, "compliance.lead", pdf, "x.pdf", doc_type="external", site="*", title="某标准",
                                owner_department="carbon_management")


# ------------------------------------------------------------------ retention

def test_disposition_only_after_retention_and_with_a_second_persons_approval(db, procedure):
    release(db, procedure)
    with db.read() as session:
        sha = doc_queries.effective_revision(session, doc_queries.get_document(session, procedure)).file_sha256
    with pytest.raises(InvalidTransition):  # an active document is not disposed of
        with db.unit_of_work() as session:
            retention.request(session, DOC_CONTROL, procedure, "destroy", "保存期满")
    with db.unit_of_work() as session:
        docs.obsolete(session, DOC_CONTROL, procedure, "被新程序替代")
    with db.read() as session:
        ends = retention.retention_ends(doc_queries.get_document(session, procedure))
    assert ends.year == db.clock.today().year + 10  # the installation's year, not the host's
    with pytest.raises(InvalidTransition) as err:
        with db.unit_of_work() as session:
            retention.request(session, DOC_CONTROL, procedure, "destroy", "保存期满", today=ends - timedelta(days=1))
    assert err.value.key == "documents.retention_running"
    with db.unit_of_work() as session:
        row = retention.request(session, DOC_CONTROL, procedure, "destroy", "保存期满", today=ends)
    with pytest.raises(AccessDenied):  # the requester does not approve their own request
        with db.unit_of_work() as session:
            retention.decide(session, DOC_CONTROL, row.id, True)
    with pytest.raises(AccessDenied):
        with db.unit_of_work() as session:
            retention.decide(session, AUTHOR, row.id, True)
    with db.unit_of_work() as session:
        retention.decide(session, GM, row.id, True, "同意销毁")
    with db.read() as session:
        doc = doc_queries.get_document(session, procedure)
        rev = doc_queries.revisions(session, doc)[0]
        with pytest.raises(NotFound) as err:
            doc_queries.revision_file(session, GM, procedure)
        events = [e for e in audit.events_for(session, "doc_document", doc.id) if e.action.startswith("documents.disposition")]
    assert doc.status == "destroyed" and rev.file_sha256 == sha and rev.file_destroyed_at is not None
    assert err.value.key == "documents.file_destroyed"
    assert not (db.settings.file_store_dir / sha[:2] / sha).exists()
    assert json.loads(events[-1].payload)["files_destroyed"] == [sha]
    assert verify_installation(db, record_anchor=False).ok  # the register no longer expects the destroyed file


def test_archiving_keeps_the_files(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as session:
        docs.obsolete(session, DOC_CONTROL, procedure, "停用")
    with db.read() as session:
        ends = retention.retention_ends(doc_queries.get_document(session, procedure))
    with db.unit_of_work() as session:
        row = retention.request(session, DOC_CONTROL, procedure, "archive", "转入档案室", today=ends)
    with db.unit_of_work() as session:
        retention.decide(session, GM, row.id, True)
    with db.read() as session:
        rev, data = doc_queries.revision_file(session, GM, procedure, "A")
        assert doc_queries.get_document(session, procedure).status == "archived" and sha256_bytes(data) == rev.file_sha256


def test_verify_finds_a_tampered_document_file(db, procedure):
    release(db, procedure)
    with db.read() as session:
        sha = doc_queries.effective_revision(session, doc_queries.get_document(session, procedure)).file_sha256
    path = db.settings.file_store_dir / sha[:2] / sha
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"tampered")
    report = verify_installation(db, record_anchor=False)
    assert not report.ok and any(sha in line for line in report.lines)


def test_reviewers_see_the_revision_under_review(db, procedure):
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with db.read() as session:
        rev, data = doc_queries.revision_file(session, REVIEWER, procedure)
    assert rev.status == "in_review" and data[:2] == b"PK"


def test_a_site_distribution_reaches_company_wide_holders_too(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as session:
        distribution.distribute(session, DOC_CONTROL, procedure, [("general_manager", "HN01")])
    with db.read() as session:
        _rev, waiting = distribution.pending(session, DOC_CONTROL, procedure)
    assert [(h.username, h.site) for h in waiting] == [(GM, "*")]
    with db.unit_of_work() as session:
        distribution.acknowledge(session, GM, procedure)
