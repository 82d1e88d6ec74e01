"""Imported and external documents under control (issue 13 item 2; R-7.5, X-4): an approved imported Word file
is stored as a controlled copy (A4, control header and footer, revision history, approval block, clean file
properties), its upload kept and hashed as the source; an external document shows its issuer's identity, not
an internal revision letter, on a control cover sheet."""

from __future__ import annotations

import io
from datetime import date

from docx import Document as open_docx
from docx.enum.section import WD_ORIENT
from docx.shared import Inches
from sqlmodel import select

from cms_workflows.bootstrap import verify_installation
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import controlled_copy, imports, output
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.documents.integrity import check_revisions
from cms_workflows.documents.models import Document, Revision

from .conftest import AUTHOR, DOC_CONTROL, GM, release

PARAGRAPHS = ["1 目的：规范能源计量器具的配备、检定和使用。", "2 适用范围：冲压车间、动力车间及厂区变配电系统。",
              "3 要求：按GB 17167配备计量器具，建立台账，按期检定。"]
COMPLIANCE, LEGAL = "compliance.lead", "legal.lead"


def legacy_word_file(*, landscape_section: bool = False) -> bytes:
    """A company's Word file as python-docx makes it: US Letter, author "python-docx", created 2013, its own
    header (which the control block replaces)."""
    document = open_docx()
    document.sections[0].header.paragraphs[0].text = "旧体系页眉 QP-EN-07"
    document.add_heading("能源计量管理程序", 1)
    for text in PARAGRAPHS:
        document.add_paragraph(text)
    if landscape_section:
        section = document.add_section()
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Inches(11), Inches(8.5)
        document.add_paragraph("附表：计量器具台账")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _import_and_release(db, data: bytes) -> str:
    with db.unit_of_work() as session:
        rev = imports.import_file(session, AUTHOR, data, "能源计量管理程序.docx", doc_type="procedure", site="HN01",
                                  title="能源计量管理程序", owner_department="energy_management", label="C",
                                  legacy_number="QP-EN-07")
        number = doc_queries.document_number(session, rev.document_id)
    release(db, number)
    return number


def _cm(*lengths) -> tuple[float, ...]:
    return tuple(round(length.cm, 1) for length in lengths)  # Word stores twips: 21 cm is 20.999…


def _texts(container) -> list[str]:
    return [p.text for p in container.paragraphs if p.text.strip()]


def _table_text(table) -> str:
    return " ".join(cell.text for row in table.rows for cell in row.cells)


def test_an_approved_imported_word_file_is_stored_as_a_controlled_copy(db, company):
    """R-7.5 identification and approval on the file itself; X-4: the upload kept as the source, hashed."""
    legacy = legacy_word_file(landscape_section=True)
    number = _import_and_release(db, legacy)
    with db.read() as session:
        doc = session.exec(select(Document).where(Document.number == number)).one()
        rev = session.exec(select(Revision).where(Revision.document_id == doc.id)).one()
        effective, data = doc_queries.revision_file(session, GM, number)
        source = output.store(session).get(rev.source_sha256)
    assert effective.id == rev.id and data != legacy
    assert source == legacy and rev.source_sha256 == sha256_bytes(legacy) and rev.source_size == len(legacy)
    assert rev.file_sha256 == sha256_bytes(data) != rev.source_sha256  # the register's hash is the controlled copy's

    word = open_docx(io.BytesIO(data))
    portrait, landscape = word.sections
    assert _cm(portrait.page_width, portrait.page_height) == (21.0, 29.7)  # A4, not US Letter
    assert _cm(landscape.page_width, landscape.page_height) == (29.7, 21.0)  # landscape stays landscape
    assert _cm(portrait.left_margin, portrait.right_margin) == (2.5, 2.5)
    header = _table_text(portrait.header.tables[0])
    for shown in (number, "C", "受控", "能源计量管理程序", "湖南"):
        assert shown in header, (shown, header)
    assert "旧体系页眉" not in " ".join(_texts(portrait.header))  # the legacy header is replaced
    assert landscape.header.is_linked_to_previous  # every page shows the same control block
    footer_xml = portrait.footer._element.xml
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml

    body = _texts(word)
    positions = [body.index(p) for p in ["能源计量管理程序", *PARAGRAPHS, "附表：计量器具台账"]]
    assert positions == sorted(positions)  # the original text, all of it, in its order
    assert body[0] == "审批" and body[-1] == "修订记录"  # 编制/审核/批准 first, as in the templates; history last
    approvals, history = word.tables[0], word.tables[-1]
    assert "C" in _table_text(history)
    approval_text = _table_text(approvals)
    assert "编制" in approval_text and "批准" in approval_text and "系统签批" in approval_text  # the templates' columns

    props = word.core_properties
    assert props.identifier == number and props.version == "C" and props.title == "能源计量管理程序"
    assert props.author != "python-docx" and "." not in props.author  # a person's name, not a login id
    assert props.created.year >= 2024 and props.last_printed is None and props.comments == ""


def test_the_controlled_copy_is_repeatable_and_the_trail_names_both_hashes(db, company):
    number = _import_and_release(db, legacy_word_file())
    with db.read() as session:
        doc = session.exec(select(Document).where(Document.number == number)).one()
        rev = session.exec(select(Revision).where(Revision.document_id == doc.id)).one()
        again = output.rerender(session, doc, rev)
        stored = output.stored_document_files(session)
    assert sha256_bytes(again) == rev.file_sha256
    assert {rev.file_sha256, rev.source_sha256} <= stored  # `cms verify` checks the upload is kept too
    with db.unit_of_work() as session:
        assert list(check_revisions(session)) == []  # import event: the source's hash; approval: the copy's
    assert verify_installation(db).ok


def test_an_imported_draft_keeps_its_upload_and_the_next_upload_keeps_the_earlier_copy(db, company):
    first = legacy_word_file()
    number = _import_and_release(db, first)
    changed = legacy_word_file(landscape_section=True)
    with db.unit_of_work() as session:
        rev_d = imports.import_file(session, AUTHOR, changed, "能源计量管理程序-D.docx", number=number,
                                    change_reason="增加计量器具台账")
    assert rev_d.file_sha256 == rev_d.source_sha256 == sha256_bytes(changed)
    with db.read() as session:
        effective, data = doc_queries.revision_file(session, GM, number)
    assert effective.label == "C" and "修订记录" in _texts(open_docx(io.BytesIO(data)))


def _external(db, data: bytes, filename: str) -> str:
    with db.unit_of_work() as session:
        rev = imports.import_file(session, COMPLIANCE, data, filename, doc_type="external", site="*",
                                  title="工业企业温室气体排放核算和报告通则", owner_department="carbon_management",
                                  issuer="国家质量监督检验检疫总局、中国国家标准化管理委员会",
                                  external_number="GB/T 32150-2015", external_version="2015",
                                  external_published_date=date(2015, 11, 19),
                                  external_effective_date=date(2016, 6, 1), applies_to="全公司温室气体排放核算与报告")
        number = doc_queries.document_number(session, rev.document_id)
    with db.unit_of_work() as session:
        docs.submit(session, COMPLIANCE, number)
    with db.unit_of_work() as session:
        doc_approval.decide(session, LEGAL, number, "approve", "同意", expect="review")
    with db.unit_of_work() as session:
        doc_approval.decide(session, GM, number, "approve", "同意", expect="approve")
    with db.unit_of_work() as session:
        docs.make_effective(session, DOC_CONTROL, number)
    return number


def test_an_external_word_document_gets_a_cover_sheet_with_its_issuers_identity(db, company):
    standard = open_docx()
    standard.add_paragraph("1 范围")
    standard.add_paragraph("本标准规定了工业企业温室气体排放核算和报告的基本原则。")
    out = io.BytesIO()
    standard.save(out)
    number = _external(db, out.getvalue(), "GBT32150-2015.docx")
    with db.read() as session:
        _rev, data = doc_queries.revision_file(session, GM, number)
        doc = session.exec(select(Document).where(Document.number == number)).one()
        assert controlled_copy.shown_revision(doc, _rev) == "2015"
    word = open_docx(io.BytesIO(data))
    section = word.sections[0]
    assert _cm(section.page_width, section.page_height) == (21.0, 29.7)
    header = _table_text(section.header.tables[0])
    assert "GB/T 32150-2015" in header and "2015" in header and "受控（外来文件）" in header
    assert "版本 A" not in header and not any(cell.text == "A" for row in section.header.tables[0].rows
                                              for cell in row.cells)
    cover = _table_text(word.tables[0])
    for shown in (number, "GB/T 32150-2015", "2015-11-19", "2016-06-01", "国家质量监督检验检疫总局", "受控（外来文件）",
                  "下次评审日期", "登记人", "批准人"):
        assert shown in cover, (shown, cover)
    body = _texts(word)
    assert body.index("1 范围") > body.index("外来文件受控登记表")  # cover first, then the issuer's text
    assert word.core_properties.identifier == number


def test_an_external_pdf_is_kept_unchanged_and_its_cover_sheet_stored_beside_it(db, company):
    pdf = b"%PDF-1.7 GB/T 32150-2015 text"
    number = _external(db, pdf, "GBT32150-2015.pdf")
    with db.read() as session:
        rev, data = doc_queries.revision_file(session, GM, number)
        cover = output.store(session).get(rev.cover_sha256)
    assert data == pdf and rev.file_sha256 == rev.source_sha256 == sha256_bytes(pdf)
    sheet = open_docx(io.BytesIO(cover))
    assert "GB/T 32150-2015" in _table_text(sheet.tables[0]) and "外来文件受控登记表" in _texts(sheet)
    assert _cm(sheet.sections[0].page_width, sheet.sections[0].page_height) == (21.0, 29.7)


def test_the_same_source_and_context_give_the_same_bytes(db, company):
    """Determinism without the database: the copy is a function of source, context and file properties."""
    from datetime import datetime

    from cms_workflows.documents import rendering

    labels = rendering.labels("zh-CN")
    context = {"L": labels, "company": "湖南示范制造有限公司",
               "doc": {"number": "HN02-PR-001", "title": "能源计量管理程序", "revision": "C", "status": labels["status_controlled"],
                       "effective_date": "2026-03-01"},
               "history": [{"revision": "C", "date": "2026-03-01", "change": "首次发布", "author": "王五", "approver": "赵总"}],
               "approvals": [{"role": "编制", "name": "王五", "position": "战略经理", "date": "2026-02-20", "decision": ""}]}
    meta = rendering.FileMeta(title="能源计量管理程序", number="HN02-PR-001", label="C", seq=1, author="x", last_modified_by="y",
                              subject="procedure", language="zh-CN", created=datetime(2026, 2, 1), modified=datetime(2026, 3, 1))
    source = legacy_word_file()
    one = controlled_copy.controlled_copy(source, context, meta)
    assert one == controlled_copy.controlled_copy(source, context, meta)
    props = open_docx(io.BytesIO(one)).core_properties
    assert (props.author, props.last_modified_by) == ("王五", "赵总")
