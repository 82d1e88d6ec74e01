"""The later steps of a controlled document through its pages (R-7.5, X-2, X-4): document control adds a
named reviewer, records a periodic review, makes a document obsolete and asks to destroy it after its
retention period, which the general manager approves; an existing Word file imported as a document; a
company template registered by document control and approved by the general manager. Each: success, a
mistake beside its field (422, nothing written) and a refusal naming the positions (403)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

from docx import Document as Docx
from sqlmodel import select

from cms_workflows.access.roles import position_labels
from cms_workflows.core.clock import FixedClock
from cms_workflows.documents import approval, registry, service
from cms_workflows.documents.models import (
    CompanyTemplate, Disposition, Document, PeriodicReview, Revision, StepReviewer,
)
from tests.documents.conftest import audit_count

NUMBER = "CMS-PO-001"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _label(code: str) -> str:
    return position_labels()[code][0]


def _policy(db, *, effective: bool = False) -> str:
    """The carbon policy, submitted (or, with `effective`, approved and released), through the services."""
    with db.unit_of_work() as uow:
        service.create(uow, "carbon.lead", doc_type="policy", site="*", title="碳方针", owner_department="carbon_management",
                       content=dict(registry.template("carbon_policy").example))
    with db.unit_of_work() as uow:
        service.submit(uow, "carbon.lead", NUMBER)
    if effective:
        for who in ("compliance.lead", "legal.lead", "gm"):
            with db.unit_of_work() as uow:
                approval.decide(uow, who, NUMBER, "approve", "")
        with db.unit_of_work() as uow:
            service.make_effective(uow, "doccontrol", NUMBER)
    return NUMBER


def _ids_unique(html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def _rows(db, model) -> list:
    with db.read() as uow:
        return list(uow.exec(select(model)))


def test_document_control_adds_a_named_reviewer(db, browser):
    _policy(db)
    control = browser("doccontrol")
    shown = control.get(f"/documents/{NUMBER}")
    assert 'id="form-document_add_reviewer"' in shown.text
    _ids_unique(shown.text)
    before = audit_count(db)
    missing = control.submit(f"/documents/{NUMBER}/reviewers", {"reviewer": "", "reason": "熟悉法规"})
    assert missing.status_code == 422 and 'id="error-document_add_reviewer-reviewer"' in missing.text
    assert "熟悉法规" in missing.text and _rows(db, StepReviewer) == [] and audit_count(db) == before
    refused = browser("carbon.trader").submit(f"/documents/{NUMBER}/reviewers", {"reviewer": "carbon.deputy"})
    assert refused.status_code == 403 and _label("document_controller") in refused.text
    author = control.submit(f"/documents/{NUMBER}/reviewers", {"reviewer": "carbon.lead"})
    assert author.status_code == 403 and _rows(db, StepReviewer) == []  # the author never reviews
    added = control.submit(f"/documents/{NUMBER}/reviewers", {"reviewer": "carbon.deputy", "reason": "熟悉法规"})
    assert added.status_code == 303, added.text
    assert [(r.username, r.added_by, r.reason) for r in _rows(db, StepReviewer)] == [("carbon.deputy", "doccontrol", "熟悉法规")]
    assert 'id="form-document_decision"' in browser("carbon.deputy").get(f"/documents/{NUMBER}").text


def test_a_periodic_review_of_the_effective_revision(db, browser):
    _policy(db, effective=True)
    control = browser("doccontrol")
    shown = control.get(f"/documents/{NUMBER}").text
    assert 'id="form-document_periodic_review"' in shown and 'id="form-document_obsolete"' in shown
    _ids_unique(shown)
    bad = control.submit(f"/documents/{NUMBER}/periodic-review", {"outcome": "maybe", "comment": "仍适用"})
    assert bad.status_code == 422 and 'id="error-document_periodic_review-outcome"' in bad.text and "仍适用" in bad.text
    assert _rows(db, PeriodicReview) == []
    refused = browser("carbon.lead").submit(f"/documents/{NUMBER}/periodic-review", {"outcome": "no_change"})
    assert refused.status_code == 403 and _label("document_controller") in refused.text
    done = control.submit(f"/documents/{NUMBER}/periodic-review", {"outcome": "no_change", "comment": "仍适用"})
    assert done.status_code == 303
    assert [(r.outcome, r.comment, r.reviewed_by) for r in _rows(db, PeriodicReview)] == [("no_change", "仍适用", "doccontrol")]


def test_document_control_makes_a_document_obsolete(db, browser):
    _policy(db, effective=True)
    control = browser("doccontrol")
    empty = control.submit(f"/documents/{NUMBER}/obsolete", {"reason": "  "})
    assert empty.status_code == 422 and 'id="error-document_obsolete-reason"' in empty.text
    refused = browser("gm").submit(f"/documents/{NUMBER}/obsolete", {"reason": "不再适用"})
    assert refused.status_code == 403 and _label("document_controller") in refused.text
    assert [d.status for d in _rows(db, Document)] == ["active"]
    assert control.submit(f"/documents/{NUMBER}/obsolete", {"reason": "被新方针取代"}).status_code == 303
    assert [(d.status, d.obsolete_reason) for d in _rows(db, Document)] == [("obsolete", "被新方针取代")]
    assert 'id="retention"' in control.get(f"/documents/{NUMBER}").text


def _obsolete_long_ago(db) -> str:
    """A procedure made obsolete, and the database's clock eleven years on: its retention (10 years) has ended."""
    with db.unit_of_work() as uow:
        document_id = service.create(uow, "carbon.lead", doc_type="procedure", site="*", title="文件控制程序",
                                     owner_department="carbon_management").document_id
    with db.read() as uow:
        number = uow.get(Document, document_id).number
    with db.unit_of_work() as uow:
        service.obsolete(uow, "doccontrol", number, "被新程序取代")
    db.clock = FixedClock(datetime.now() + timedelta(days=11 * 366))
    return number


def test_disposal_is_requested_by_document_control_and_approved_by_the_general_manager(db, browser):
    number = _obsolete_long_ago(db)
    control, gm = browser("doccontrol"), browser("gm")
    assert 'id="form-document_dispose"' in control.get(f"/documents/{number}").text
    bad = control.submit(f"/documents/{number}/disposal", {"method": "burn", "reason": "保存期满"})
    assert bad.status_code == 422 and 'id="error-document_dispose-method"' in bad.text and "保存期满" in bad.text
    refused = browser("carbon.lead").submit(f"/documents/{number}/disposal", {"method": "destroy", "reason": "x"})
    assert refused.status_code == 403 and _label("document_controller") in refused.text
    assert _rows(db, Disposition) == []
    assert control.submit(f"/documents/{number}/disposal", {"method": "destroy", "reason": "保存期满"}).status_code == 303
    assert [(d.method, d.status, d.requested_by) for d in _rows(db, Disposition)] == [("destroy", "requested", "doccontrol")]

    assert 'id="form-document_disposal_decision"' not in control.get(f"/documents/{number}").text
    own = control.submit(f"/documents/{number}/disposal/decision", {"decision": "approve"})
    assert own.status_code == 403 and _label("general_manager") in own.text
    shown = gm.get(f"/documents/{number}").text
    assert 'id="form-document_disposal_decision"' in shown and 'id="disposition"' in shown
    missing = gm.submit(f"/documents/{number}/disposal/decision", {"decision": "", "comment": "同意销毁"})
    assert missing.status_code == 422 and 'id="error-document_disposal_decision-decision"' in missing.text
    assert [d.status for d in _rows(db, Disposition)] == ["requested"]
    assert gm.submit(f"/documents/{number}/disposal/decision", {"decision": "approve", "comment": "同意销毁"}).status_code == 303
    assert [d.status for d in _rows(db, Disposition)] == ["approved"]
    assert [d.status for d in _rows(db, Document)] == ["destroyed"]


def _docx(*paragraphs: str) -> bytes:
    doc = Docx()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_an_existing_word_file_is_imported_as_a_document(db, browser):
    lead = browser("carbon.lead")
    form = lead.get("/documents/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    fields = {"doc_type": "procedure", "site": "*", "title": "能源计量管理程序", "owner_department": "carbon_management",
              "legacy_number": "QP-07"}
    text = lead.submit("/documents/import", fields, files={"file": ("程序.txt", b"not a word file", "text/plain")})
    assert text.status_code == 422 and 'id="error-file"' in text.text and 'value="能源计量管理程序"' in text.text
    untitled = lead.submit("/documents/import", {**fields, "title": ""},
                           files={"file": ("程序.docx", _docx("能源计量管理程序"), DOCX)})
    assert untitled.status_code == 422 and 'id="error-title"' in untitled.text
    assert _rows(db, Revision) == []
    refused = browser("gm").submit("/documents/import", fields, files={"file": ("程序.docx", _docx("x"), DOCX)})
    assert refused.status_code == 403
    data = _docx("能源计量管理程序", "1 目的")
    imported = lead.submit("/documents/import", fields, files={"file": ("能源计量管理程序.docx", data, DOCX)})
    assert imported.status_code == 303, imported.text
    assert imported.headers["location"] == "/documents/CMS-PR-001"
    [rev] = _rows(db, Revision)
    assert (rev.source, rev.status, rev.source_filename) == ("imported", "draft", "能源计量管理程序.docx")
    file = lead.get("/documents/CMS-PR-001/revisions/A.docx")
    marked, *content = [p.text for p in Docx(io.BytesIO(file.content)).paragraphs]
    assert marked.startswith("草稿 / 未受控") and content == ["能源计量管理程序", "1 目的"]  # a draft's marked copy


def test_a_company_template_is_registered_and_approved_by_another_person(db, browser):
    control, gm = browser("doccontrol"), browser("gm")
    packaged = registry.template("controlled_document").path().read_bytes()
    page = control.get("/documents/templates")
    assert page.status_code == 200 and 'id="form-document_template_register"' in page.text
    unknown = control.submit("/documents/templates", {"doc_type": "procedure"},
                             files={"file": ("程序模板.docx", _docx("{{ doc.title }}", "{{ no_such_thing }}"), DOCX)})
    assert unknown.status_code == 422 and 'id="error-file"' in unknown.text and "no_such_thing" in unknown.text
    assert _rows(db, CompanyTemplate) == []
    refused = browser("carbon.lead").submit("/documents/templates", {"doc_type": "procedure"},
                                            files={"file": ("程序模板.docx", packaged, DOCX)})
    assert refused.status_code == 403 and _label("document_controller") in refused.text
    made = control.submit("/documents/templates", {"doc_type": "procedure"},
                          files={"file": ("程序模板.docx", packaged, DOCX)})
    assert made.status_code == 303, made.text
    [row] = _rows(db, CompanyTemplate)
    assert (row.doc_type, row.active, row.registered_by) == ("procedure", False, "doccontrol")

    assert 'id="form-document_template_approve"' not in control.get("/documents/templates").text
    own = control.submit(f"/documents/templates/{row.id}/approve", {"confirmed": "on"})
    assert own.status_code == 403 and _label("general_manager") in own.text
    listed = gm.get("/documents/templates").text
    assert f'id="template-{row.id}"' in listed and 'id="form-document_template_approve"' in listed
    unconfirmed = gm.submit(f"/documents/templates/{row.id}/approve", {})
    assert unconfirmed.status_code == 422 and f'id="error-template-{row.id}-confirmed"' in unconfirmed.text
    assert [r.active for r in _rows(db, CompanyTemplate)] == [False]
    assert gm.submit(f"/documents/templates/{row.id}/approve", {"confirmed": "on"}).status_code == 303
    assert [(r.active, r.approved_by) for r in _rows(db, CompanyTemplate)] == [(True, "gm")]
