"""External documents registered from the browser (issue 13 item 2; R-7.5, X-4), and the document page's list of
distributed copies (分发号, recipient, date). The page runs the CLI's command (documents.revision.import, the
same audit event); its refusals are shown beside the fields; a user who may not draft external documents gets
403."""

from __future__ import annotations

import json

from sqlmodel import select

from cms_workflows.audit.models import AuditEvent
from cms_workflows.documents import distribution
from cms_workflows.documents.models import Document, Revision
from tests.documents.conftest import DOC_CONTROL, new_procedure, release

PDF = b"%PDF-1.7 GB/T 32150-2015 text"
FIELDS = {"site": "*", "title": "工业企业温室气体排放核算和报告通则", "owner_department": "carbon_management",
          "standard_number": "GB/T 32150-2015", "edition": "2015", "issuer": "国家质量监督检验检疫总局",
          "published": "2015-11-19", "implemented": "2016-06-01", "applies_to": "全公司温室气体排放核算"}


def _rows(db, model):
    with db.read() as session:
        return list(session.exec(select(model)))


def _import_events(db) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == "documents.revision.import")))


def test_the_document_controller_registers_a_standard_with_its_issuers_identity(db, browser):
    control = browser(DOC_CONTROL)
    register = control.get("/documents")
    assert 'href="/documents/import-external"' in register.text
    page = control.get("/documents/import-external")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text and 'name="standard_number"' in page.text
    done = control.submit("/documents/import-external", FIELDS, files={"file": ("GBT32150-2015.pdf", PDF, "application/pdf")})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/documents/CMS-EX-001"
    [doc] = _rows(db, Document)
    assert (doc.doc_type, doc.external_number, doc.external_version, doc.issuer) == (
        "external", "GB/T 32150-2015", "2015", "国家质量监督检验检疫总局")
    assert (doc.external_published_date.isoformat(), doc.external_effective_date.isoformat()) == ("2015-11-19", "2016-06-01")
    [rev] = _rows(db, Revision)
    assert (rev.source, rev.status, rev.source_filename) == ("imported", "draft", "GBT32150-2015.pdf")
    [event] = _import_events(db)  # the CLI's command: its event, by the signed-in user, in the same transaction
    payload = json.loads(event.payload)
    assert event.actor == DOC_CONTROL and payload["external_number"] == "GB/T 32150-2015"
    assert payload["external_published_date"] == "2015-11-19" and payload["sha256"] == rev.file_sha256
    shown = control.get("/documents/CMS-EX-001")
    assert shown.status_code == 200 and "工业企业温室气体排放核算和报告通则" in shown.text


def test_wrong_input_is_shown_beside_its_field_and_nothing_is_registered(db, browser):
    control = browser(DOC_CONTROL)
    pdf = {"file": ("GBT32150-2015.pdf", PDF, "application/pdf")}
    missing = control.submit("/documents/import-external", {**FIELDS, "standard_number": "", "issuer": ""}, files=pdf)
    assert missing.status_code == 422
    assert 'id="error-standard_number"' in missing.text and 'id="error-issuer"' in missing.text
    assert 'value="工业企业温室气体排放核算和报告通则"' in missing.text  # what was typed stays
    bad_date = control.submit("/documents/import-external", {**FIELDS, "published": "2015-13-40"}, files=pdf)
    assert bad_date.status_code == 422 and 'id="error-published"' in bad_date.text
    text = control.submit("/documents/import-external", FIELDS, files={"file": ("标准.txt", b"plain", "text/plain")})
    assert text.status_code == 422 and 'id="error-file"' in text.text
    empty = control.submit("/documents/import-external", FIELDS, files={"file": ("GBT.pdf", b"", "application/pdf")})
    assert empty.status_code == 422 and 'id="error-file"' in empty.text  # the service's refusal, beside the file
    assert _rows(db, Document) == [] and _import_events(db) == []


def test_a_user_without_the_position_is_refused(db, browser):
    author = browser("strategy_manager.hn01")  # reads external documents, may not register them
    assert author.get("/documents/import-external").status_code == 403
    refused = author.submit("/documents/import-external", FIELDS, files={"file": ("GBT.pdf", PDF, "application/pdf")})
    assert refused.status_code == 403
    assert _rows(db, Document) == [] and _import_events(db) == []


def test_the_document_page_lists_its_distributed_copies(db, browser):
    number = new_procedure(db)
    release(db, number)
    control = browser(DOC_CONTROL)
    before = control.get(f"/documents/{number}")
    assert before.status_code == 200 and 'id="copies"' not in before.text
    with db.unit_of_work() as session:
        distribution.distribute(session, DOC_CONTROL, number, [("energy_engineer", "HN01"), ("process_engineer", "*")])
    with db.read() as session:
        _rev, copies = distribution.copies(session, DOC_CONTROL, number)
    page = control.get(f"/documents/{number}").text
    table = page[page.index('id="copies"'):page.index("</table>", page.index('id="copies"'))]
    assert "分发号" in page and [c.copy_no for c in copies] == [1, 2]
    for copy in copies:
        assert f'href="/documents/{number}/copies/{copy.copy_no}.docx"' in table
    assert "HN01" in table and table.count("<tr>") == 1 + len(copies) and DOC_CONTROL in table
