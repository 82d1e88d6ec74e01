"""The Word layout of a controlled file, shared by the company's templates (tools/build_templates.py) and the
controlled copies of imported files (documents/controlled_copy.py), so both look the same (issue 13): A4 pages
with the company's margins, the five-row 受控文件 control block in the header, page X of Y in the footer, the
cover lines of a type printed with a cover sheet, the columns of the approval block and the revision history,
and the rules that keep a printed table whole (rows that never split, a table kept on one page, fixed widths).

Text goes in through a `write(paragraph, text, bold=False, size=None)` function of the caller: a template's
runs hold jinja tags (`{{ doc.number }}`), a copy's the values themselves in explicit fonts.
"""

from __future__ import annotations

from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

A4 = (Cm(21.0), Cm(29.7))
TEXT_WIDTH_CM = 16.0  # A4 width 21 cm less two 2.5 cm margins
BODY_FONTS = ("Times New Roman", "宋体")  # (Latin, East Asian)
HEADING_FONTS = ("Arial", "黑体")
SMALL = Pt(9)  # header and footer text

# The control block of every page (X-4; issue 13 item 3): (label, context path) pairs, two per row. Two pairs,
# not three: with three, the number's column (2.8 cm) wrapped "HN01-RP-2026-/001". At 9 pt a label column of
# 2.6 cm holds "Effective date" / "Document No." in bold, a value column of 5.4 cm a 16-character number with
# room to spare, the company's name and a title of 17 Chinese characters per line. 发布日期 and 实施日期 apart,
# 编制部门 and 归口部门, the next periodic review date; page X of Y is the footer's.
CONTROL_BLOCK = (
    (("company", "company"), ("title", "doc.title")),
    (("number", "doc.number"), ("revision", "doc.revision")),
    (("issue_date", "doc.issue_date"), ("implementation_date", "doc.implementation_date")),
    (("drafting_department", "doc.drafting_department_name"), ("owner_department", "doc.owner_department_name")),
    (("status", "doc.status"), ("next_review", "doc.next_review_date")),
)
HEADER_WIDTHS = (2.6, 5.4, 2.6, 5.4)

# (label, field of a row, width in cm). The step column holds "Countersigned" (it broke as "Countersign/ed" in
# 2.2 and 2.4 cm; 2.8 cm holds it), the position column 公司法人/总经理 on one line, the signature column the
# system's record of the decision. The history's columns are as wide as their English head word in bold.
APPROVAL_COLUMNS = (("role", "role", 2.8), ("name", "name", 2.2), ("position", "position", 4.4),
                    ("signature", "signature", 4.0), ("date", "date", 2.6))
HISTORY_COLUMNS = (("revision", "revision", 1.9), ("change_no", "change_no", 1.9), ("changed_pages", "pages", 1.5),
                   ("change", "change", 4.3), ("date", "date", 2.4), ("author", "author", 2.0),
                   ("approver", "approver", 2.0))


# ---------------------------------------------------------------- page


def page_setup(section) -> None:
    """A4 with the company's margins; a landscape section (a wide table's) stays landscape. Attributes already
    right are left as they are, so a template rebuilt from python-docx's default keeps its bytes."""
    width, height = A4
    landscape = section.page_width is not None and section.page_height is not None \
        and section.page_width > section.page_height
    if landscape or section.orientation != WD_ORIENT.PORTRAIT:
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(1.2), Cm(1.0)
    if section.gutter:
        section.gutter = 0
    section.different_first_page_header_footer = False


def page_break(paragraph) -> None:
    br = OxmlElement("w:br")
    br.set(qn("w:type"), "page")
    paragraph.add_run()._r.append(br)


def set_run_fonts(run, fonts: tuple[str, str]) -> None:
    rfonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    latin, east_asian = fonts
    for attr in ("ascii", "hAnsi", "cs"):
        rfonts.set(qn(f"w:{attr}"), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)


# ---------------------------------------------------------------- tables


def set_widths(table, widths_cm) -> None:
    """Fixed column widths: the grid and every cell (Word reads one, LibreOffice the other)."""
    table.autofit = False
    grid = table._tbl.tblGrid.findall(qn("w:gridCol"))
    for col, grid_col, width in zip(table.columns, grid, widths_cm, strict=True):
        grid_col.set(qn("w:w"), str(Cm(width).twips))
        for cell in col.cells:
            cell.width = Cm(width)


def mark_header_row(row) -> None:
    """Repeat the row on each page when the table breaks across pages."""
    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def keep_rows_whole(table) -> None:
    """No row is split across two pages (w:cantSplit); a row breaks to the next page as a whole."""
    for row in table.rows:
        tr_pr = row._tr.get_or_add_trPr()
        if tr_pr.find(qn("w:cantSplit")) is None:
            tr_pr.insert(0, OxmlElement("w:cantSplit"))  # CT_TrPr: cantSplit comes before tblHeader


def keep_table_together(table) -> None:
    """The whole table on one page: every paragraph of every row keeps with the next (Word's way of keeping a
    table together; the rows rendered from a `{%tr for %}` row copy it)."""
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


def single_borders(table) -> None:
    """Single black borders set on the table itself, not through a style (a legacy file may have no
    "Table Grid" style, and a header table must look the same in every file)."""
    tbl_pr = table._tbl.tblPr
    for el in tbl_pr.findall(qn("w:tblStyle")) + tbl_pr.findall(qn("w:tblBorders")):
        tbl_pr.remove(el)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        for attr, value in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "000000")):
            el.set(qn(f"w:{attr}"), value)
        borders.append(el)
    tbl_pr.append(borders)


# ---------------------------------------------------------------- header, footer, cover


def control_header(header, rows, write) -> None:
    """The control block as a four-column table heading `header`: `rows` of ((label text, value text), …) pairs.
    Word wants a header to end with a paragraph: the table goes before the header's last one."""
    paragraph = header.paragraphs[-1] if header.paragraphs else header.add_paragraph()
    table = header.add_table(rows=len(rows), cols=4, width=Cm(TEXT_WIDTH_CM))
    single_borders(table)
    for row, pairs in zip(table.rows, rows, strict=True):
        for i, (label, value) in enumerate(pairs):
            write(row.cells[2 * i].paragraphs[0], label, bold=True, size=SMALL)
            write(row.cells[2 * i + 1].paragraphs[0], value, size=SMALL)
        for cell in row.cells:  # single lines, no spacing after (as "Table Grid" has; the file's Normal may not)
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
            cell.paragraphs[0].paragraph_format.line_spacing = 1.0
    set_widths(table, HEADER_WIDTHS)
    keep_rows_whole(table)
    paragraph._p.addprevious(table._tbl)


def page_footer(paragraph, write, before: str, between: str, after: str, fonts=None) -> None:
    """Page X of Y, centred: the texts around the PAGE and NUMPAGES fields."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    write(paragraph, before, size=SMALL)
    complex_field(paragraph, "PAGE", fonts)
    write(paragraph, between, size=SMALL)
    complex_field(paragraph, "NUMPAGES", fonts)
    write(paragraph, after, size=SMALL)


def complex_field(paragraph, instruction: str, fonts=None) -> None:
    """A Word field (PAGE, NUMPAGES) as begin / instrText / separate / cached result "1" / end."""

    def field_run(element=None, text: str = "") -> None:
        r = paragraph.add_run(text)
        r.font.size = SMALL
        if fonts is not None:
            set_run_fonts(r, fonts)
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


def cover_lines(doc, write, texts: dict) -> None:
    """The cover sheet of a type printed with one (`cover_page` in document_types.yaml): the type, the number,
    "版本：B", the "… 发布 / … 实施" line and the company, centred. `texts` has the keys type_name, number,
    revision_label, colon, revision, issue_date, cover_issued, implementation_date, cover_implemented, company."""
    for key, size, bold in (("type_name", Pt(16), True), ("number", Pt(12), False)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        write(p, texts[key], bold=bold, size=size)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for key in ("revision_label", "colon", "revision"):
        write(p, texts[key], size=Pt(12))
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_before = Pt(36)
    for text in (texts["issue_date"], " ", texts["cover_issued"], "        ", texts["implementation_date"], " ",
                 texts["cover_implemented"]):
        write(p, text, size=Pt(12))
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_before = Pt(24)
    p.paragraph_format.space_after = Pt(36)
    write(p, texts["company"], bold=True, size=Pt(14))


def value_at(context: dict, path: str) -> str:
    """A context value by its dotted path ("doc.number"); missing is empty."""
    value = context
    for key in path.split("."):
        value = value.get(key, "") if isinstance(value, dict) else ""
    return "" if value is None else str(value)


# ---------------------------------------------------------------- the package

# what a controlled file has no use for: a thumbnail (of python-docx's empty page, or of an uncontrolled
# original) and custom XML (a bibliography part)
DROPPED_RELATIONSHIPS = ("/metadata/thumbnail", "/relationships/customXml")
APP_XML = (b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           b"<Application>cms_workflows</Application><DocSecurity>0</DocSecurity></Properties>")


def clean_package(doc) -> None:
    """What a file says about itself that is not the controlled revision's (issue 13 item 5): core properties
    emptied (the caller sets its own), the dropped parts gone, app.xml naming this system, and the styles'
    East Asian language zh-CN (python-docx's default is ja-JP: Word could pick Japanese glyph forms)."""
    core = doc.core_properties._element
    for child in list(core):
        core.remove(child)
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
