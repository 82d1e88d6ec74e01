"""The control block of a 受控文件 (issue 13 item 3; R-7.5 identification, review and approval, control of changes;
X-4): 发布日期 and 实施日期 apart, 编制部门 / 归口部门 and the next review date in every page's header, 编制 / 审核 /
批准 with names, positions, signatures and dates heading the first page (or on a cover sheet for a type that asks
for one), 更改单号 / 更改页码 in the revision history, and one revision scheme per type that never relabels the
revisions a document already has."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from docx import Document as open_docx
from sqlmodel import select

from cms_workflows.core.errors import PolicyError, ValidationFailed
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.documents import numbering, output, registry
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs

from .conftest import AUTHOR, GM, PROCEDURE_CONTENT, release


# ---------------------------------------------------------------- revision schemes


@pytest.mark.parametrize("scheme,previous,major,expected", [
    ("letter_digit", "A0", False, "A1"), ("letter_digit", "A9", False, "A10"), ("letter_digit", "A3", True, "B0"),
    ("letter_digit", "Z2", True, "AA0"), ("letters", "C", True, "D"), ("numeric", "2.4", True, "3.0")])
def test_each_scheme_gives_its_next_label(scheme, previous, major, expected):
    assert numbering.next_label(scheme, previous, major) == expected


def test_each_scheme_starts_at_its_first_label():
    assert [numbering.first_label(s) for s in registry.LABEL_SCHEMES] == ["A", "1.0", "A0"]


@pytest.mark.parametrize("scheme,previous,expected", [
    ("letter_digit", "B", "C"), ("numeric", "B", "C"), ("letters", "1.3", "1.4"), ("letters", "A2", "A3")])
def test_a_document_made_in_another_scheme_goes_on_in_its_own(scheme, previous, expected):
    """A type's scheme changed in document_types.yaml: an existing document's labels stay as they are, and its
    next revision follows on from them, not from the new scheme."""
    assert numbering.next_label(scheme, previous) == expected


@pytest.mark.parametrize("scheme,label", [("letter_digit", "A"), ("letter_digit", "1.0"), ("letter_digit", "甲1")])
def test_a_label_outside_the_scheme_is_refused_when_given(scheme, label):
    with pytest.raises(ValidationFailed):
        numbering.check_label(scheme, label)
    assert numbering.check_label("letter_digit", "b2") == "B2"


def test_a_label_of_no_scheme_is_refused():
    with pytest.raises(ValidationFailed) as err:
        numbering.next_label("letters", "甲")
    assert err.value.key == "documents.bad_label"


def test_every_type_has_one_scheme_and_the_manual_a_cover_page():
    types = registry.doc_types()
    assert {dt.revision_labels for dt in types.values()} <= set(registry.LABEL_SCHEMES)
    assert types["manual"].cover_page and not types["procedure"].cover_page


def test_a_cover_page_flag_that_is_not_true_or_false_is_refused(monkeypatch):
    data = registry._types_data()
    bad = {**data, "types": {"manual": {**data["types"]["manual"], "cover_page": "yes"}}}
    monkeypatch.setattr(registry, "_types_data", lambda: bad)
    registry.doc_types.cache_clear()
    try:
        with pytest.raises(PolicyError) as err:
            registry.doc_types()
        assert err.value.params["entry"] == "manual"
    finally:
        monkeypatch.undo()
        registry.doc_types.cache_clear()


# ---------------------------------------------------------------- the released file


def _header_cells(document) -> dict[str, str]:
    table = document.sections[0].header.tables[0]
    return {row.cells[i].text: row.cells[i + 1].text for row in table.rows for i in (0, 2)}


def _rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _released_twice(db, number: str) -> None:
    release(db, number, today=date(2026, 3, 2))
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, number, change_reason="增加外来文件查新频次")
    release(db, number, today=date(2026, 3, 2))


def test_the_released_procedure_carries_the_control_block(db, procedure):
    from cms_workflows.org.models import Department, Position

    _released_twice(db, procedure)
    with db.read() as session:
        doc = doc_queries.get_document(session, procedure)
        rev = doc_queries.effective_revision(session, doc)
        _rev, data = doc_queries.revision_file(session, GM, procedure)
        owner = session.exec(select(Department).where(Department.code == "carbon_management")).one()
        drafting_code = session.exec(select(Position.department_code).where(Position.code == rev.author_position)).one()
        drafting = session.exec(select(Department).where(Department.code == drafting_code)).one()
        issued = output.local_date(rev.approved_at, session)
        again = output.rerender(session, doc, rev)
    assert sha256_bytes(data) == rev.file_sha256 == sha256_bytes(again)  # the register's hash, byte for byte
    ctx = json.loads(rev.rendered_context)["doc"]
    L = json.loads(rev.rendered_context)["L"]
    next_review = (rev.effective_date + relativedelta(months=12)).isoformat()
    assert (ctx["issue_date"], ctx["implementation_date"], ctx["next_review_date"]) == (
        issued, rev.effective_date.isoformat(), next_review)
    assert (ctx["owner_department_name"], ctx["drafting_department_name"]) == (owner.name_zh, drafting.name_zh)

    document = open_docx(io.BytesIO(data))
    header = _header_cells(document)
    assert header[L["issue_date"]] == issued and header[L["implementation_date"]] == rev.effective_date.isoformat()
    assert header[L["owner_department"]] == owner.name_zh and header[L["drafting_department"]] == drafting.name_zh
    assert header[L["next_review"]] == next_review and header[L["revision"]] == "B"
    assert (L["issue_date"], L["implementation_date"], L["drafting_department"], L["owner_department"]) == (
        "发布日期", "实施日期", "编制部门", "归口部门")

    # 编制 / 审核 / 批准 head the first page: the first table, after the title and the block's heading
    approvals = _rows(document.tables[0])
    assert approvals[0] == [L["role"], L["name"], L["position"], L["signature"], L["date"]]
    assert [r[0] for r in approvals[1:]] == ["编制", "审核", "批准"]
    assert all(r[1] and r[2] and r[3] == "系统签批" and r[4] for r in approvals[1:])
    assert approvals[-1][4] == issued
    body = [p.text for p in document.paragraphs if p.text.strip()]
    assert body[:2] == [doc.title, L["approval_block"]]

    # 更改单号 / 更改页码 in the revision history, the last table: a revision reissues the whole document
    history = _rows(document.tables[-1])
    assert history[0][:3] == [L["revision"], "更改单号", "更改页码"]
    assert [r[:3] for r in history[1:]] == [["A", "—", "—"], ["B", "—", "全部"]]
    assert history[2][3] == "增加外来文件查新频次"


def test_a_type_with_a_cover_page_prints_one(db, company):
    """The manual asks for a cover sheet: title, type, number, revision, the 发布 / 实施 line and the company, the
    approval block, then a page break before the text."""
    with db.unit_of_work() as session:
        rev = docs.create(session, AUTHOR, doc_type="manual", site="HN01", title="碳管理手册",
                          owner_department="carbon_management", content=dict(PROCEDURE_CONTENT))
        number = doc_queries.document_number(session, rev.document_id)
    release(db, number)
    with db.read() as session:
        _rev, data = doc_queries.revision_file(session, GM, number)
        rev = doc_queries.effective_revision(session, doc_queries.get_document(session, number))
    ctx = json.loads(rev.rendered_context)
    assert ctx["doc"]["cover_page"] is True
    document = open_docx(io.BytesIO(data))
    body = document.element.body
    approvals = document.tables[0]._tbl
    before = []
    for child in body.iterchildren():
        if child is approvals:
            break
        before.append("".join(t.text or "" for t in child.iter("{*}t")))
    cover = "\n".join(before)
    for value in ("碳管理手册", "手册", number, ctx["doc"]["issue_date"], ctx["doc"]["implementation_date"],
                  ctx["company"], "发布", "实施"):
        assert value and value in cover, value
    page_breaks = [br for br in body.iter("{*}br") if br.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}type") == "page"]
    assert len(page_breaks) == 1
    assert [r[0] for r in _rows(document.tables[0])[1:]] == ["编制", "审核", "批准"]


def test_a_procedure_without_a_cover_page_has_no_page_break(db, procedure):
    release(db, procedure)
    with db.read() as session:
        _rev, data = doc_queries.revision_file(session, GM, procedure)
    assert b'w:type="page"' not in __import__("zipfile").ZipFile(io.BytesIO(data)).read("word/document.xml")


def test_a_scheme_change_does_not_relabel_an_existing_document(db, procedure, monkeypatch):
    """The procedure type moves to the A0/A1 convention after HN01-PR-001 was released as A: A stays A, the
    document's next revision is B, and a procedure created from now on starts at A0."""
    release(db, procedure)
    changed = {**registry.doc_types(),
               "procedure": dataclasses.replace(registry.doc_type("procedure"), revision_labels="letter_digit")}
    monkeypatch.setattr(registry, "doc_types", lambda: changed)
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, procedure, change_reason="按新规则修订")
    with db.unit_of_work() as session:
        new = docs.create(session, AUTHOR, doc_type="procedure", site="HN01", title="能源计量管理程序",
                          owner_department="carbon_management", content=dict(PROCEDURE_CONTENT))
    with db.read() as session:
        doc = doc_queries.get_document(session, procedure)
        labels = [r.label for r in doc_queries.revisions(session, doc)]
    assert labels == ["A", "B"] and new.label == "A0"


def test_a_report_says_it_has_no_periodic_review(db, company):
    """A report records a period and is not reviewed for currency (review_months 0): its next review reads 不适用,
    not an empty cell that looks forgotten."""
    from cms_workflows.documents.models import Document, Revision
    from cms_workflows.core.i18n import catalog

    doc = Document(number="X", doc_type="report", site="HN01", title="t", owner_department="carbon_management",
                   created_by=AUTHOR)
    rev = Revision(document_id=0, seq=1, label="1.0", author=AUTHOR, effective_date=date(2026, 1, 1))
    labels = {k.rsplit(".", 1)[1]: v for k, v in catalog("zh-CN").items() if k.startswith("documents.label.")}
    assert output._next_review_date(doc, registry.doc_type("report"), rev.effective_date, labels) == "不适用"
    assert output._next_review_date(doc, registry.doc_type("procedure"), rev.effective_date, labels) == "2027-01-01"
