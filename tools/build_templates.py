"""Build the Word templates of document_templates/ (X-4).

The templates are data, reviewed like any controlled document; this script exists so that we
can rebuild them reproducibly (byte-identical on every run) whenever their layout changes,
instead of hand-editing XML. A company may just as well edit the .docx files in Word: they
are ordinary docxtpl templates. No template holds language text: every fixed text is a
label `{{ L.key }}` (cms_workflows/locales/*/document_labels.yaml), so one file renders in
Chinese and in English. The variables of each template are listed in templates.yaml and
checked by tools/check_templates.py.

Run: .venv/bin/python tools/build_templates.py
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

OUT_DIR = Path(__file__).resolve().parents[1] / "document_templates"
FIXED_TIME = datetime(2026, 1, 1)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
TEXT_WIDTH_CM = 16.0  # A4 width 21 cm less two 2.5 cm margins
BODY_FONTS = ("Times New Roman", "宋体")  # (Latin, East Asian)
HEADING_FONTS = ("Arial", "黑体")
SMALL = Pt(9)  # header and footer text


# ---------------------------------------------------------------- runs, paragraphs, tables


def run(paragraph, text: str, bold: bool = False, size=None):
    """Add one run holding exactly one jinja tag (docxtpl needs each tag inside one run).

    xml:space="preserve" so that a value's leading/trailing spaces (e.g. "第 ") survive rendering.
    """
    r = paragraph.add_run(text)
    r._r.find(qn("w:t")).set(qn("xml:space"), "preserve")
    if bold:
        r.bold = True
    if size is not None:
        r.font.size = size
    return r


def heading(doc, label: str, level: int = 1) -> None:
    run(doc.add_paragraph(style=f"Heading {level}"), f"{{{{ L.{label} }}}}")


def text(doc, var: str) -> None:
    run(doc.add_paragraph(), f"{{{{ {var} }}}}")


def field_line(doc, label: str, var: str, center: bool = False) -> None:
    """`label：value` as three runs; the separator is a label too (full-width colon in Chinese)."""
    p = doc.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, f"{{{{ L.{label} }}}}", bold=True)
    run(p, "{{ L.colon }}", bold=True)
    run(p, f"{{{{ {var} }}}}")


def paragraph_loop(doc, item: str, items: str, style: str) -> None:
    """One paragraph per list element: `{%p for %}` and `{%p endfor %}` each in a paragraph of their own."""
    run(doc.add_paragraph(), f"{{%p for {item} in {items} %}}")
    run(doc.add_paragraph(style=style), f"{{{{ {item} }}}}")
    run(doc.add_paragraph(), "{%p endfor %}")


def _set_widths(table, widths_cm) -> None:
    table.autofit = False
    grid = table._tbl.tblGrid.findall(qn("w:gridCol"))
    for col, grid_col, width in zip(table.columns, grid, widths_cm, strict=True):
        grid_col.set(qn("w:w"), str(Cm(width).twips))
        for cell in col.cells:
            cell.width = Cm(width)


def _mark_header_row(row) -> None:
    # repeat the header row on each page when a table breaks across pages
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:tblHeader"))


def loop_table(doc, items: str, item: str, columns: list[tuple[str, str, float]]) -> None:
    """A table with a bold header row of labels and one row per list element.

    columns: (label, field of the element, width in cm); the `{%tr %}` tags take rows of their own.
    """
    table = doc.add_table(rows=4, cols=len(columns), style="Table Grid")
    header, loop_start, body, loop_end = table.rows
    _mark_header_row(header)
    for i, (label, field, _width) in enumerate(columns):
        run(header.cells[i].paragraphs[0], f"{{{{ L.{label} }}}}", bold=True)
        run(body.cells[i].paragraphs[0], f"{{{{ {item}.{field} }}}}")
    run(loop_start.cells[0].paragraphs[0], f"{{%tr for {item} in {items} %}}")
    run(loop_end.cells[0].paragraphs[0], "{%tr endfor %}")
    _set_widths(table, [w for _l, _f, w in columns])


def fields_table(doc, fields: list[tuple[str, str]]) -> None:
    """Two columns: bold label, value; for the short identification fields of a report."""
    table = doc.add_table(rows=len(fields), cols=2, style="Table Grid")
    for row, (label, var) in zip(table.rows, fields, strict=True):
        run(row.cells[0].paragraphs[0], f"{{{{ L.{label} }}}}", bold=True)
        run(row.cells[1].paragraphs[0], f"{{{{ {var} }}}}")
    _set_widths(table, [3.5, TEXT_WIDTH_CM - 3.5])


def _complex_field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) as begin / instrText / separate / cached result "1" / end."""

    def field_run(element=None, text: str = "") -> None:
        r = paragraph.add_run(text)
        r.font.size = SMALL
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


# ---------------------------------------------------------------- page, styles, header, footer


def _set_fonts(rpr, fonts: tuple[str, str]) -> None:
    """Explicit Latin and East Asian fonts; theme font attributes would override them, so they go."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    latin, east_asian = fonts
    for attr in ("ascii", "hAnsi", "cs"):
        rfonts.set(qn(f"w:{attr}"), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)


def _setup_styles(doc) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, BODY_FONTS)
    rpr.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    # default paragraph spacing; tables keep Table Grid's own (none), which a Normal spacing would override
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "120")
    spacing.set(qn("w:line"), "300")

    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONTS)

    for name, size, before, after in (("Title", 18, 0, 12), ("Heading 1", 14, 12, 6), ("Heading 2", 12, 8, 4)):
        style = doc.styles[name]
        _set_fonts(style.element.get_or_add_rPr(), HEADING_FONTS)
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
    title = doc.styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    border = title.element.pPr.find(qn("w:pBdr"))
    if border is not None:
        title.element.pPr.remove(border)


def _setup_page(section) -> None:
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(1.2), Cm(1.0)
    section.different_first_page_header_footer = False


# the identification block of every page: (label, value) pairs, three per header row
HEADER_FIELDS = (
    (("company", "company"), ("title", "doc.title"), ("number", "doc.number")),
    (("revision", "doc.revision"), ("status", "doc.status"), ("effective_date", "doc.effective_date")),
)
HEADER_WIDTHS = [1.8, 3.7, 1.8, 4.1, 1.8, 2.8]


def _setup_header(section) -> None:
    header = section.header
    table = header.add_table(rows=2, cols=6, width=Cm(TEXT_WIDTH_CM))
    table.style = "Table Grid"
    for row, pairs in zip(table.rows, HEADER_FIELDS, strict=True):
        for i, (label, var) in enumerate(pairs):
            run(row.cells[2 * i].paragraphs[0], f"{{{{ L.{label} }}}}", bold=True, size=SMALL)
            run(row.cells[2 * i + 1].paragraphs[0], f"{{{{ {var} }}}}", size=SMALL)
    _set_widths(table, HEADER_WIDTHS)
    # Word wants a header to end with a paragraph: keep python-docx's empty one after the table
    header.paragraphs[0]._p.addprevious(table._tbl)


def _setup_footer(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, "{{ L.page_before }}", size=SMALL)
    _complex_field(p, "PAGE")
    run(p, "{{ L.page_between }}", size=SMALL)
    _complex_field(p, "NUMPAGES")
    run(p, "{{ L.page_after }}", size=SMALL)


def _control_part(doc) -> None:
    """Revision history and approval block: always the last two tables of the body."""
    heading(doc, "revision_history")
    loop_table(doc, "history", "h", [
        ("revision", "revision", 2.0), ("date", "date", 2.6), ("change", "change", 6.4),
        ("author", "author", 2.5), ("approver", "approver", 2.5),
    ])
    heading(doc, "approval_block")
    loop_table(doc, "approvals", "a", [
        ("role", "role", 2.2), ("name", "name", 3.0), ("position", "position", 4.2),
        ("date", "date", 2.8), ("decision", "decision", 3.8),
    ])


# ---------------------------------------------------------------- the templates' content


def controlled_document(doc) -> None:
    heading(doc, "purpose")
    text(doc, "purpose")
    heading(doc, "scope")
    text(doc, "scope")
    heading(doc, "content")
    run(doc.add_paragraph(), "{%p for s in sections %}")
    run(doc.add_paragraph(style="Heading 2"), "{{ s.heading }}")
    run(doc.add_paragraph(), "{{ s.text }}")
    run(doc.add_paragraph(), "{%p endfor %}")


def carbon_policy(doc) -> None:
    heading(doc, "policy_statement")
    text(doc, "policy_statement")
    heading(doc, "commitments")
    paragraph_loop(doc, "c", "commitments", "List Number")
    heading(doc, "communication")
    text(doc, "communication")


def record_form(doc) -> None:
    heading(doc, "instructions")
    text(doc, "instructions")
    loop_table(doc, "rows", "r", [
        ("no", "no", 1.2), ("item", "item", 4.0), ("requirement", "requirement", 4.0),
        ("record", "record", 4.3), ("remark", "remark", 2.5),
    ])


def carbon_review_report(doc) -> None:
    """The guide's Annex E (碳评审报告示例), section by section E.1–E.6; the labels `cr_*` are the carbon
    review's (cms_workflows/locales/*/processes_carbon_review.yaml). Tables carry the figures the text
    quotes: emissions by source, major facilities, metering instruments, the trend and the comparisons."""

    def part(label: str, var: str) -> None:
        heading(doc, label, 2)
        text(doc, var)

    field_line(doc, "report_year", "report_year", center=True)
    heading(doc, "cr_e1")
    text(doc, "company_profile")
    heading(doc, "cr_e2")
    part("cr_purpose", "purpose")
    part("basis", "basis")
    heading(doc, "cr_e23", 2)
    field_line(doc, "base_year", "base_year")
    field_line(doc, "period", "period")
    part("cr_scope", "scope")
    heading(doc, "cr_e3")
    part("arrangement", "arrangement")
    part("methods", "methods")
    part("principles", "principles")
    heading(doc, "cr_e4")
    text(doc, "management_status")
    heading(doc, "cr_e5")
    heading(doc, "cr_e51", 2)
    loop_table(doc, "emissions", "e", [
        ("category", "category", 3.5), ("source", "source", 6.0), ("tco2e", "tco2e", 3.5), ("share", "share", 3.0),
    ])
    field_line(doc, "total", "total_tco2e")
    field_line(doc, "intensity", "intensity")
    heading(doc, "cr_facilities", 2)
    loop_table(doc, "facilities", "f", [
        ("cr_facility", "facility", 4.5), ("tco2e", "tco2e", 2.8), ("share", "share", 2.2), ("cr_potential", "potential", 6.5),
    ])
    heading(doc, "cr_monitoring", 2)
    text(doc, "monitoring")
    loop_table(doc, "instruments", "m", [
        ("cr_instrument", "instrument", 4.5), ("cr_accuracy", "accuracy", 2.5), ("cr_measures", "measures", 3.5),
        ("cr_calibration", "status", 5.5),
    ])
    heading(doc, "cr_e52", 2)
    loop_table(doc, "trend", "y", [
        ("cr_year", "year", 3.0), ("tco2e", "tco2e", 5.0), ("cr_intensity_col", "intensity", 8.0),
    ])
    loop_table(doc, "comparisons", "c", [
        ("cr_compared", "item", 6.0), ("cr_value", "value", 4.0), ("cr_source", "source", 6.0),
    ])
    text(doc, "analysis")
    heading(doc, "cr_e53", 2)
    text(doc, "reduction")
    part("cr_assets", "assets")
    part("cr_projects", "projects")
    heading(doc, "cr_e54", 2)
    part("data_quality", "quality")
    part("qa_archiving", "qa_archiving")
    heading(doc, "cr_e6")
    part("cr_compliance", "compliance")
    part("cr_conclusions", "conclusions")


def internal_audit_report(doc) -> None:
    fields_table(doc, [
        ("audit_no", "audit_no"), ("audit_dates", "audit_dates"), ("criteria", "criteria"),
        ("audit_scope", "audit_scope"), ("auditors", "auditors"), ("auditees", "auditees"),
    ])
    heading(doc, "audit_summary")
    text(doc, "summary")
    heading(doc, "findings")
    loop_table(doc, "findings", "f", [
        ("no", "no", 1.2), ("clause", "clause", 1.8), ("description", "description", 10.0),
        ("finding_category", "category", 3.0),
    ])
    heading(doc, "audit_conclusion")
    text(doc, "conclusion")


def management_review_minutes(doc) -> None:
    fields_table(doc, [("meeting_date", "meeting_date"), ("chair", "chair"), ("attendees", "attendees")])
    heading(doc, "review_inputs")
    loop_table(doc, "inputs", "i", [("input_item", "item", 5.0), ("input_summary", "summary", 11.0)])
    heading(doc, "review_outputs")
    loop_table(doc, "outputs", "o", [("output_decision", "decision", 9.0), ("owner", "owner", 4.0), ("due", "due", 3.0)])
    heading(doc, "review_conclusion")
    text(doc, "conclusion")


def corrective_action_report(doc) -> None:
    fields_table(doc, [("nc_number", "nc_number"), ("nc_source", "source")])
    heading(doc, "nc_description")
    text(doc, "description")
    heading(doc, "containment")
    text(doc, "containment")
    heading(doc, "root_cause")
    text(doc, "root_cause")
    heading(doc, "corrective_actions")
    loop_table(doc, "actions", "a", [
        ("action", "action", 7.5), ("owner", "owner", 3.5), ("due", "due", 2.5), ("action_status", "status", 2.5),
    ])
    heading(doc, "effectiveness")
    text(doc, "effectiveness")
    heading(doc, "closure")
    text(doc, "closure")


TEMPLATES = {
    "controlled_document": controlled_document,
    "carbon_policy": carbon_policy,
    "record_form": record_form,
    "carbon_review_report": carbon_review_report,
    "internal_audit_report": internal_audit_report,
    "management_review_minutes": management_review_minutes,
    "corrective_action_report": corrective_action_report,
}


# ---------------------------------------------------------------- building and saving


def build(content) -> bytes:
    doc = Document()
    _setup_styles(doc)
    section = doc.sections[0]
    _setup_page(section)
    _setup_header(section)
    _setup_footer(section)
    run(doc.add_paragraph(style="Title"), "{{ doc.title }}")
    content(doc)
    _control_part(doc)

    props = doc.core_properties
    props.author = props.last_modified_by = "cms_workflows"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    out = io.BytesIO()
    doc.save(out)
    return _fixed_zip(out.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Same entries, same order, fixed dates: python-docx stamps zip entries with the current time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 3
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name, content in TEMPLATES.items():
        path = OUT_DIR / f"{name}.docx"
        path.write_bytes(build(content))
        print(f"wrote {path.relative_to(OUT_DIR.parent)}")


if __name__ == "__main__":
    main()
