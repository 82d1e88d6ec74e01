"""One layout for generated and imported files (issue 13): an imported Word file's controlled copy has the
templates' five-row control block, page X of Y, the approval block first (after the cover lines, then a page
break, for a type printed with a cover sheet) and the revision history last, with the templates' columns; the
layout parts are one module (documents.word_parts) used by the templates' builder and the copies."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from docx import Document as open_docx
from docx.oxml.ns import qn

from cms_workflows.documents import controlled_copy, rendering, word_parts
from cms_workflows.documents import queries as doc_queries

from .conftest import GM
from .test_imported_control import PARAGRAPHS, _import_and_release, legacy_word_file
from .test_rendering import check_controlled_file

ROOT = Path(__file__).resolve().parents[2]


def _sample_context(cover: bool) -> dict:
    L = rendering.labels("zh-CN")
    return {"L": L, "company": "湖南示范制造有限公司",
            "doc": {"number": "HN02-MN-001", "title": "碳管理手册", "type_name": "手册", "revision": "C",
                    "status": L["status_controlled"], "issue_date": "2026-02-20", "implementation_date": "2026-03-01",
                    "drafting_department_name": "战略发展部", "owner_department_name": "碳管理办公室",
                    "next_review_date": "2027-03-01", "cover_page": cover},
            "history": [{"revision": "C", "date": "2026-03-01", "change": "首次发布", "change_no": "—", "pages": "—",
                         "author": "王五", "approver": "赵总"}],
            "approvals": [{"role": "编制", "name": "王五", "position": "战略经理", "date": "2026-02-10",
                           "signature": "系统签批"},
                          {"role": "批准", "name": "赵总", "position": "总经理", "date": "2026-02-20",
                           "signature": "系统签批"}]}


META = rendering.FileMeta("碳管理手册", "HN02-MN-001", "C", 1, "x", "y", "manual", "zh-CN",
                          datetime(2026, 2, 1), datetime(2026, 3, 1))


def _body_texts(word) -> list[str]:
    return [p.text for p in word.paragraphs if p.text.strip()]


def test_a_released_import_shows_the_templates_control_block_and_columns(db, company):
    number = _import_and_release(db, legacy_word_file())
    with db.read() as session:
        rev, data = doc_queries.revision_file(session, GM, number)
    context = json.loads(rev.rendered_context)
    check_controlled_file(data, context)  # the same check as every rendered template's
    word = open_docx(io.BytesIO(data))
    header = word.sections[0].header.tables[0]
    assert len(header.rows) == len(word_parts.CONTROL_BLOCK) == 5
    assert [header.rows[2].cells[0].text, header.rows[2].cells[2].text] == ["发布日期", "实施日期"]
    assert word.tables[0].rows[0].cells[0].text == "环节"  # 编制 / 审核 / 批准 first
    assert _body_texts(word)[0] == "审批" and _body_texts(word)[-1] == "修订记录"
    approval_cells = [p for row in word.tables[0].rows for cell in row.cells for p in cell.paragraphs]
    assert all(p.paragraph_format.keep_with_next for p in approval_cells)  # kept on one page
    for table in word.tables:
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
    widths = [round(c.width.cm, 1) for c in word.tables[0].rows[0].cells]
    assert widths == [w for _l, _f, w in word_parts.APPROVAL_COLUMNS]


def test_a_type_with_a_cover_sheet_gets_the_cover_lines_then_the_approvals_then_a_page_break():
    data = controlled_copy.controlled_copy(legacy_word_file(), _sample_context(cover=True), META)
    word = open_docx(io.BytesIO(data))
    texts = _body_texts(word)
    assert texts[:4] == ["手册", "HN02-MN-001", "版本：C", "2026-02-20 发布        2026-03-01 实施"]
    assert texts[4:6] == ["湖南示范制造有限公司", "审批"]
    body = list(word.element.body)
    approvals = word.tables[0]._tbl
    breaks = [p for p in body if p.tag == qn("w:p") and any(br.get(qn("w:type")) == "page" for br in p.iter(qn("w:br")))]
    assert len(breaks) == 1 and body.index(approvals) < body.index(breaks[0])
    assert body.index(breaks[0]) < min(body.index(p._p) for p in word.paragraphs if p.text in PARAGRAPHS)


def test_without_a_cover_sheet_there_is_no_page_break_and_no_cover_line():
    data = controlled_copy.controlled_copy(legacy_word_file(), _sample_context(cover=False), META)
    word = open_docx(io.BytesIO(data))
    assert _body_texts(word)[0] == "审批" and "手册" not in _body_texts(word)
    assert 'w:type="page"' not in word.element.body.xml


def test_the_page_field_and_the_layout_parts_are_defined_once():
    """The PAGE / NUMPAGES field, A4 set-up and the header builder live in word_parts alone."""
    for path in (ROOT / "tools" / "build_templates.py", ROOT / "cms_workflows" / "documents" / "controlled_copy.py"):
        source = path.read_text(encoding="utf-8")
        assert "fldCharType" not in source and "Cm(21.0)" not in source and "add_table(rows=len(rows)" not in source
        assert "word_parts." in source


def test_destroying_an_imported_document_destroys_its_source_with_the_controlled_copy(db, company):
    """Retention (R-7.5): the upload kept as the source goes with the revision's controlled copy."""
    from cms_workflows.bootstrap import verify_installation
    from cms_workflows.documents import retention
    from cms_workflows.documents import service as docs

    from .conftest import DOC_CONTROL

    number = _import_and_release(db, legacy_word_file())
    with db.read() as session:
        rev = doc_queries.revisions(session, doc_queries.get_document(session, number))[0]
    files = [rev.file_sha256, rev.source_sha256]
    assert rev.source_sha256 and rev.source_sha256 != rev.file_sha256
    with db.unit_of_work() as session:
        docs.obsolete(session, DOC_CONTROL, number, "被新程序替代")
    with db.read() as session:
        ends = retention.retention_ends(doc_queries.get_document(session, number))
    with db.unit_of_work() as session:
        row = retention.request(session, DOC_CONTROL, number, "destroy", "保存期满", today=ends)
    assert sorted(json.loads(row.file_hashes)) == sorted(files)
    with db.unit_of_work() as session:
        retention.decide(session, GM, row.id, True, "同意销毁")
    for sha in files:
        assert not (db.settings.file_store_dir / sha[:2] / sha).exists(), sha
    assert verify_installation(db, record_anchor=False).ok
