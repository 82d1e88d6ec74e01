"""Imported and external documents put under control (issue 13 item 2; R-7.5, X-4).

An imported Word file is the company's own text in its own layout: approved, it becomes a controlled
revision by getting, on a copy made with python-docx, what a rendered revision has from the company's
templates: A4 pages with the company's margins, the header control block (company, title, number,
revision, status 受控, effective date) and the page X of Y footer on every page, and the revision history
and approval block at the end. The content is not touched; the uploaded file stays stored as the
revision's source (`Revision.source_sha256`).

An external document (a standard, a law) keeps its issuer's identity: its header and its cover sheet show
the standard number, the edition and the issuer, never an internal revision letter, and its status is
受控（外来文件）. A Word source gets the cover sheet as its first page; a PDF is kept unchanged and its
cover sheet is a .docx of its own (`cover_sheet`).

The look is the templates' (tools/build_templates.py, which is not part of the package, so the few
layout rules are repeated here). The same source, context and FileMeta give the same bytes.
"""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document as open_docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.pkgwriter import PackageWriter
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from dateutil.relativedelta import relativedelta

from cms_workflows.documents import registry, rendering
from cms_workflows.documents.registry import EXTERNAL, shown_revision

WORD_SUFFIX = ".docx"
A4 = (Cm(21.0), Cm(29.7))
TEXT_WIDTH_CM = 16.0  # A4 width less two 2.5 cm margins, as in the templates
BODY_FONTS = ("Times New Roman", "宋体")
HEADING_FONTS = ("Arial", "黑体")
SMALL = Pt(9)
HEADER_WIDTHS = [2.6, 5.4, 2.6, 5.4]
HISTORY_COLUMNS = (("revision", "revision", 2.0), ("date", "date", 2.6), ("change", "change", 6.4),
                   ("author", "author", 2.5), ("approver", "approver", 2.5))
APPROVAL_COLUMNS = (("role", "role", 2.8), ("name", "name", 2.4), ("position", "position", 4.4),
                    ("date", "date", 2.4), ("decision", "decision", 4.0))
# what a copy made by the system has no use for: a thumbnail of the uncontrolled original, custom XML
DROPPED_RELATIONSHIPS = ("/metadata/thumbnail", "/relationships/customXml")
APP_XML = (b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           b"<Application>cms_workflows</Application><DocSecurity>0</DocSecurity></Properties>")


# ---------------------------------------------------------------- the three files


def controlled_copy(source: bytes, context: dict, meta: rendering.FileMeta) -> bytes:
    """The company's own imported Word file as a controlled revision: content kept, control applied."""
    doc = open_docx(io.BytesIO(source))
    L = context["L"]
    _apply_page_and_header(doc, L, _internal_header(context))
    _heading(doc, L.get("revision_history", ""))
    _list_table(doc, L, HISTORY_COLUMNS, context.get("history", []))
    _heading(doc, L.get("approval_block", ""))
    approvals = _list_table(doc, L, APPROVAL_COLUMNS, context.get("approvals", []))
    _keep_together(approvals)
    return _finish(doc, context, meta)


def external_copy(source: bytes, context: dict, meta: rendering.FileMeta) -> bytes:
    """An external Word document under control: its cover sheet, then the issuer's content unchanged."""
    doc = open_docx(io.BytesIO(source))
    _apply_page_and_header(doc, context["L"], _external_header(context))
    body = doc.element.body
    first = body[0]
    added_from = len(body) - 1  # the body's own sectPr stays last
    _cover(doc, context)
    _page_break(doc.add_paragraph())
    for element in list(body)[added_from:-1]:
        first.addprevious(element)
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
    doc = context["doc"]
    return [(("company", context["company"]), ("title", doc["title"])),
            (("number", doc["number"]), ("revision", doc["revision"])),
            (("status", doc["status"]), ("effective_date", doc.get("effective_date", "")))]


def _external_header(context: dict) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """The issuer's identity where a revision letter would be: standard number and edition."""
    doc, ext = context["doc"], context["external"]
    return [(("company", context["company"]), ("title", doc["title"])),
            (("control_number", doc["number"]), ("standard_number", ext["standard_number"])),
            (("edition", ext["edition"]), ("status", ext["status"]))]


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
        _a4(section)
        section.different_first_page_header_footer = False
        for part in (section.first_page_header, section.first_page_footer, section.even_page_header,
                     section.even_page_footer):
            part.is_linked_to_previous = True
        if i:
            section.header.is_linked_to_previous = True
            section.footer.is_linked_to_previous = True
    first = doc.sections[0]
    _header(first.header, L, header_rows)
    _footer(first.footer, L)


def _a4(section) -> None:
    width, height = A4
    landscape = section.page_width is not None and section.page_height is not None \
        and section.page_width > section.page_height
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(1.2), Cm(1.0)
    section.gutter = 0


def _emptied(part):
    part.is_linked_to_previous = False
    element = part._element
    for child in list(element):
        element.remove(child)
    return part


def _header(header, L: dict, rows) -> None:
    header = _emptied(header)
    paragraph = header.add_paragraph()  # Word wants a header to end with a paragraph
    table = header.add_table(rows=len(rows), cols=4, width=Cm(TEXT_WIDTH_CM))
    for row, pairs in zip(table.rows, rows, strict=True):
        for i, (label, value) in enumerate(pairs):
            _run(row.cells[2 * i].paragraphs[0], L.get(label, label), bold=True, size=SMALL)
            _run(row.cells[2 * i + 1].paragraphs[0], str(value or ""), size=SMALL)
    _grid(table, HEADER_WIDTHS)
    paragraph._p.addprevious(table._tbl)


def _footer(footer, L: dict) -> None:
    paragraph = _emptied(footer).add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, L.get("page_before", ""), size=SMALL)
    _field(paragraph, "PAGE")
    _run(paragraph, L.get("page_between", ""), size=SMALL)
    _field(paragraph, "NUMPAGES")
    _run(paragraph, L.get("page_after", ""), size=SMALL)


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
    _keep_together(table)


def _heading(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.space_before, fmt.space_after, fmt.keep_with_next = Pt(12), Pt(6), True
    _run(paragraph, text, bold=True, size=Pt(14), fonts=HEADING_FONTS)


def _list_table(doc, L: dict, columns, items: list[dict]):
    """A bold header row of labels (repeated on each page) and one row per item."""
    table = doc.add_table(rows=1 + len(items), cols=len(columns))
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for i, (label, _field, _width) in enumerate(columns):
        _run(header.cells[i].paragraphs[0], L.get(label, label), bold=True)
    for row, item in zip(table.rows[1:], items, strict=True):
        for i, (_label, field, _width) in enumerate(columns):
            _run(row.cells[i].paragraphs[0], str(item.get(field, "")))
    _grid(table, [w for _l, _f, w in columns])
    return table


def _grid(table, widths_cm) -> None:
    """Fixed column widths, single borders (a legacy file may have no "Table Grid" style), rows kept whole."""
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    for el in tbl_pr.findall(qn("w:tblStyle")):
        tbl_pr.remove(el)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        for attr, value in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "000000")):
            el.set(qn(f"w:{attr}"), value)
        borders.append(el)
    tbl_pr.append(borders)
    for grid_col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm, strict=True):
        grid_col.set(qn("w:w"), str(Cm(width).twips))
    for row in table.rows:
        row._tr.get_or_add_trPr().insert(0, OxmlElement("w:cantSplit"))
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)


def _keep_together(table) -> None:
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


def _run(paragraph, text: str, bold: bool = False, size=None, fonts=BODY_FONTS):
    r = paragraph.add_run(text)
    r.bold = bold or None
    if size is not None:
        r.font.size = size
    rfonts = r._r.get_or_add_rPr().get_or_add_rFonts()
    latin, east_asian = fonts
    for attr in ("ascii", "hAnsi", "cs"):
        rfonts.set(qn(f"w:{attr}"), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)
    return r


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES): begin / instrText / separate / cached "1" / end."""
    def field_run(element=None, text: str = "") -> None:
        r = _run(paragraph, text, size=SMALL)
        if element is not None:
            r._r.append(element)

    def fld_char(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    field_run(fld_char("begin"))
    field_run(instr)
    field_run(fld_char("separate"))
    field_run(text="1")
    field_run(fld_char("end"))


def _page_break(paragraph) -> None:
    paragraph.add_run().add_break(WD_BREAK.PAGE)


# ---------------------------------------------------------------- properties and bytes


def _finish(doc, context: dict, meta: rendering.FileMeta) -> bytes:
    """File properties as a rendered revision's (rendering.render): the revision's identity, people's names,
    its own dates; nothing the legacy file said about itself (its author, its 2013 creation, last printed)."""
    core = doc.core_properties._element
    for child in list(core):
        core.remove(child)
    props = doc.core_properties
    author, last_modified_by = rendering.people(context, meta)
    props.title, props.identifier, props.version, props.revision = meta.title, meta.number, meta.label, meta.seq
    props.author, props.last_modified_by, props.subject = author, last_modified_by, meta.subject
    props.language, props.created, props.modified = meta.language, _utc(meta.created), _utc(meta.modified)
    package = doc.part.package
    for owner in (package, doc.part):
        for r_id, rel in list(owner.rels.items()):
            if rel.reltype.endswith(DROPPED_RELATIONSHIPS):
                owner.rels.pop(r_id)
    for part in package.iter_parts():
        if part.partname == "/docProps/app.xml":
            part._blob = APP_XML
    for lang in doc.styles.element.iter(qn("w:lang")):
        if lang.get(qn("w:eastAsia")) not in (None, "zh-CN"):
            lang.set(qn("w:eastAsia"), "zh-CN")
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
