"""Imported and external documents put under control (issue 13 item 2; R-7.5, X-4).

An imported Word file is the company's own text in its own layout: approved, it becomes a controlled
revision by getting, on a copy made with python-docx, what a rendered revision has from the company's
templates, in the same layout (documents.word_parts, which tools/build_templates.py uses too): A4 pages with
the company's margins, the five-row control block of a 受控文件 in the header (company, title, number,
revision, 发布日期 / 实施日期, 编制部门 / 归口部门, status 受控, next review) and page X of Y in the footer on
every page; on the first page the 编制 / 审核 / 批准 block (after the cover lines, and followed by a page
break, for a type printed with a cover sheet); the revision history at the end. The content is not touched;
the uploaded file stays stored as the revision's source (`Revision.source_sha256`).

An external document (a standard, a law) keeps its issuer's identity: its header and its cover sheet show
the standard number, the edition and the issuer, never an internal revision letter, and its status is
受控（外来文件）. A Word source gets the cover sheet as its first page; a PDF is kept unchanged and its
cover sheet is a .docx of its own (`cover_sheet`). The same source, context and FileMeta give the same bytes.
"""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document as open_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.pkgwriter import PackageWriter
from docx.oxml.ns import qn
from docx.shared import Pt

from dateutil.relativedelta import relativedelta

from cms_workflows.documents import registry, rendering, word_parts
from cms_workflows.documents.registry import EXTERNAL, shown_revision
from cms_workflows.documents.word_parts import (APPROVAL_COLUMNS, BODY_FONTS, CONTROL_BLOCK, HEADING_FONTS,
                                                HISTORY_COLUMNS, TEXT_WIDTH_CM)

WORD_SUFFIX = ".docx"

# ---------------------------------------------------------------- the three files


def controlled_copy(source: bytes, context: dict, meta: rendering.FileMeta) -> bytes:
    """The company's own imported Word file as a controlled revision: content kept, control applied in the
    templates' layout (the approval block first, the revision history last)."""
    doc = open_docx(io.BytesIO(source))
    L = context["L"]
    _apply_page_and_header(doc, L, _internal_header(context))
    _prepend(doc, lambda: _first_page(doc, context))
    _heading(doc, L.get("revision_history", ""))
    _list_table(doc, L, HISTORY_COLUMNS, context.get("history", []))
    return _finish(doc, context, meta)


def _first_page(doc, context: dict) -> None:
    """As a template's first page: the cover lines for a type printed with a cover sheet, then 编制 / 审核 / 批准
    kept on one page with its heading (then a page break after a cover)."""
    L, shown = context["L"], context["doc"]
    cover = bool(shown.get("cover_page"))
    if cover:
        word_parts.cover_lines(doc, _run, {
            "type_name": shown.get("type_name", ""), "number": shown.get("number", ""),
            "revision_label": L.get("revision", ""), "colon": L.get("colon", ""), "revision": shown.get("revision", ""),
            "issue_date": shown.get("issue_date", ""), "cover_issued": L.get("cover_issued", ""),
            "implementation_date": shown.get("implementation_date", ""),
            "cover_implemented": L.get("cover_implemented", ""), "company": context.get("company", "")})
    _heading(doc, L.get("approval_block", ""))
    approvals = _list_table(doc, L, APPROVAL_COLUMNS, context.get("approvals", []))
    word_parts.keep_table_together(approvals)
    if cover:
        word_parts.page_break(doc.add_paragraph())
    else:
        doc.add_paragraph()  # a blank line between the approval block and the file's own first paragraph


def _prepend(doc, build) -> None:
    """What `build` appends to the body, moved before the file's own first element."""
    body = doc.element.body
    own = list(body)  # held, so that lxml hands out the same proxies (and ids) below
    ids = {id(el) for el in own}
    build()
    added = [el for el in body if id(el) not in ids]
    first = own[0] if own else None
    if first is not None and first.tag != qn("w:sectPr"):
        for el in added:
            first.addprevious(el)


def external_copy(source: bytes, context: dict, meta: rendering.FileMeta) -> bytes:
    """An external Word document under control: its cover sheet, then the issuer's content unchanged."""
    doc = open_docx(io.BytesIO(source))
    _apply_page_and_header(doc, context["L"], _external_header(context))

    def cover_page() -> None:
        _cover(doc, context)
        word_parts.page_break(doc.add_paragraph())

    _prepend(doc, cover_page)
    return _finish(doc, context, meta)


def cover_sheet(context: dict, meta: rendering.FileMeta) -> bytes:
    """The cover sheet of an external document whose file is not Word (a PDF): a .docx of its own."""
    doc = open_docx()
    body = doc.element.body
    for element in list(body)[:-1]:  # python-docx's default document has an empty paragraph
        body.remove(element)
    _apply_page_and_header(doc, context["L"], _external_header(context))
    _cover(doc, context)
    return _finish(doc, context, meta)


# ---------------------------------------------------------------- what a copy shows

def is_word(filename: str | None) -> bool:
    """An upload that is a Word .docx (the company's own files always are; an external one may be a PDF)."""
    return (filename or "").lower().endswith(WORD_SUFFIX)


def control_context(doc, rev, context: dict, registered_on: str) -> dict:
    """build_context's context for an imported revision, with what its controlled copy shows besides: for an
    external document its issuer's identity and the control fields of its cover sheet."""
    if doc.doc_type != EXTERNAL:
        return context
    L = context["L"]
    row = context["history"][-1]
    months = doc.review_months if doc.review_months is not None else registry.doc_type(doc.doc_type).review_months
    next_review = rev.effective_date + relativedelta(months=months) if months and rev.effective_date else None
    approved_on = context["doc"].get("approved_date", "")
    context["doc"]["revision"] = shown_revision(doc, rev)
    context["external"] = {
        "standard_number": doc.external_number or "", "edition": doc.external_version or "",
        "issuer": doc.issuer or "", "applies_to": doc.applies_to or "",
        "published_date": doc.external_published_date.isoformat() if doc.external_published_date else "",
        "implemented_date": doc.external_effective_date.isoformat() if doc.external_effective_date else "",
        "status": L.get("status_external", ""),
        "registered_by": f"{row['author']}  {registered_on}",
        "approved_by": f"{row['approver']}  {approved_on}".strip(),
        "next_review": next_review.isoformat() if next_review else "",
        "source_file": f"{rev.source_filename}\nSHA-256 {rev.source_sha256 or rev.file_sha256}",
    }
    return context



# ---------------------------------------------------------------- page, header, footer


def _internal_header(context: dict) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """The templates' control block (word_parts.CONTROL_BLOCK) with the context's values."""
    L = context["L"]
    return [tuple((L.get(label, label), word_parts.value_at(context, path)) for label, path in pairs)
            for pairs in CONTROL_BLOCK]


def _external_header(context: dict) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """The issuer's identity where a revision letter would be: standard number and edition; the issuer's
    publication and implementation dates where a 发布日期 / 实施日期 would be."""
    L, doc, ext = context["L"], context["doc"], context["external"]
    rows = [(("company", context["company"]), ("title", doc["title"])),
            (("control_number", doc["number"]), ("standard_number", ext["standard_number"])),
            (("edition", ext["edition"]), ("status", ext["status"])),
            (("issue_date", ext["published_date"]), ("implementation_date", ext["implemented_date"])),
            (("owner_department", doc.get("owner_department_name", "")), ("next_review", ext["next_review"]))]
    return [tuple((L.get(label, label), str(value or "")) for label, value in pairs) for pairs in rows]


def _apply_page_and_header(doc, L: dict, header_rows) -> None:
    """Every section A4 with the company's margins (a landscape section stays landscape); one control header
    and footer, defined on the first section and inherited by the others; no separate first or even page
    header that would show a page without the control block."""
    settings = doc.settings.element
    for el in settings.findall(qn("w:evenAndOddHeaders")):
        settings.remove(el)
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None and lang.get(qn("w:eastAsia")) not in (None, "zh-CN"):
        lang.set(qn("w:eastAsia"), "zh-CN")  # python-docx's default says ja-JP (issue 13 item 5)
    for i, section in enumerate(doc.sections):
        word_parts.page_setup(section)
        for part in (section.first_page_header, section.first_page_footer, section.even_page_header,
                     section.even_page_footer):
            part.is_linked_to_previous = True
        if i:
            section.header.is_linked_to_previous = True
            section.footer.is_linked_to_previous = True
    first = doc.sections[0]
    word_parts.control_header(_emptied(first.header), header_rows, _run)
    word_parts.page_footer(_emptied(first.footer).add_paragraph(), _run, L.get("page_before", ""),
                           L.get("page_between", ""), L.get("page_after", ""), fonts=BODY_FONTS)


def _emptied(part):
    part.is_linked_to_previous = False
    element = part._element
    for child in list(element):
        element.remove(child)
    return part


# ---------------------------------------------------------------- body parts


def _cover(doc, context: dict) -> None:
    """Company, what the sheet is, then the control fields; kept on one page."""
    L, ext = context["L"], context["external"]
    for text, size in ((context["company"], 16), (L.get("external_cover", ""), 18)):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(12)
        _run(paragraph, text, bold=True, size=Pt(size), fonts=HEADING_FONTS)
    fields = [("control_number", context["doc"]["number"]), ("title", context["doc"]["title"]),
              ("issuer", ext["issuer"]), ("standard_number", ext["standard_number"]), ("edition", ext["edition"]),
              ("issue_date", ext["published_date"]), ("implementation_date", ext["implemented_date"]),
              ("applies_to", ext["applies_to"]), ("status", ext["status"]),
              ("registered_by", ext["registered_by"]), ("approved_by", ext["approved_by"]),
              ("next_review", ext["next_review"]), ("source_file", ext["source_file"])]
    table = doc.add_table(rows=len(fields), cols=2)
    for row, (label, value) in zip(table.rows, fields, strict=True):
        _run(row.cells[0].paragraphs[0], L.get(label, label), bold=True)
        _run(row.cells[1].paragraphs[0], str(value or "—"))
    _grid(table, [4.0, TEXT_WIDTH_CM - 4.0])
    word_parts.keep_table_together(table)


def _heading(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.space_before, fmt.space_after, fmt.keep_with_next = Pt(12), Pt(6), True
    _run(paragraph, text, bold=True, size=Pt(14), fonts=HEADING_FONTS)


def _list_table(doc, L: dict, columns, items: list[dict]):
    """A bold header row of labels (repeated on each page) and one row per item."""
    table = doc.add_table(rows=1 + len(items), cols=len(columns))
    word_parts.mark_header_row(table.rows[0])
    for i, (label, _field, _width) in enumerate(columns):
        _run(table.rows[0].cells[i].paragraphs[0], L.get(label, label), bold=True)
    for row, item in zip(table.rows[1:], items, strict=True):
        for i, (_label, field, _width) in enumerate(columns):
            _run(row.cells[i].paragraphs[0], str(item.get(field, "")))
    _grid(table, [w for _l, _f, w in columns])
    return table


def _grid(table, widths_cm) -> None:
    """Fixed column widths, single borders (a legacy file may have no "Table Grid" style), rows kept whole, no
    paragraph spacing in the cells (the legacy Normal style's would open the rows up)."""
    word_parts.single_borders(table)
    word_parts.set_widths(table, widths_cm)
    word_parts.keep_rows_whole(table)
    for row in table.rows:
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)


def _run(paragraph, text: str, bold: bool = False, size=None, fonts=BODY_FONTS):
    r = paragraph.add_run(text)
    r.bold = bold or None
    if size is not None:
        r.font.size = size
    word_parts.set_run_fonts(r, fonts)
    return r


# ---------------------------------------------------------------- properties and bytes


def _finish(doc, context: dict, meta: rendering.FileMeta) -> bytes:
    """File properties as a rendered revision's (rendering.render): the revision's identity, people's names,
    its own dates; nothing the legacy file said about itself (its author, its 2013 creation, last printed)."""
    word_parts.clean_package(doc)
    props = doc.core_properties
    author, last_modified_by = rendering.people(context, meta)
    props.title, props.identifier, props.version, props.revision = meta.title, meta.number, meta.label, meta.seq
    props.author, props.last_modified_by, props.subject = author, last_modified_by, meta.subject
    props.language, props.created, props.modified = meta.language, _utc(meta.created), _utc(meta.modified)
    return _save(doc, meta.modified)


def _utc(value: datetime) -> datetime:
    return rendering._naive_utc(value)


def _save(doc, when: datetime) -> bytes:
    """python-docx's save, every zip entry dated `when` (as rendering does for rendered revisions)."""
    package = doc.part.package
    parts = list(package.iter_parts())
    for part in parts:
        part.before_marshal()
    out = io.BytesIO()
    writer = rendering.DatedZipWriter(out, when)
    PackageWriter._write_content_types_stream(writer, parts)
    PackageWriter._write_pkg_rels(writer, package.rels)
    PackageWriter._write_parts(writer, parts)
    writer.close()
    return out.getvalue()
