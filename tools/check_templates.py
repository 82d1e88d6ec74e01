"""Render every Word template of document_templates/ in each locale and check the result (X-4).

Each template is rendered the way the register renders it (docxtpl in the register's sandbox:
StrictUndefined, autoescape, no filters or globals — cms_workflows/documents/template_sandbox.py)
with its `example` from templates.yaml plus a sample of the control variables, saved, reopened
with python-docx and checked: variables as declared, no jinja tag left, identification in the
header (issue 13 item 3: 发布日期 and 实施日期, 编制部门 and 归口部门, next review), page numbers in the footer,
the approval block heading the first page (after a cover sheet when the type asks for one) and the revision
history, with 更改单号 / 更改页码, as the last table;
rows that never split and an approval block kept on one page (issue 13, item 4); clean file
properties: no python-docx comment, no last-printed date, East Asian language zh-CN (item 5).
Run after editing a template, in Word or with tools/build_templates.py:

    .venv/bin/python tools/check_templates.py

Prints one line per rendered file; exits 1 if anything is wrong.
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

import yaml
from docx import Document
from docx.oxml.ns import qn
from docxtpl import DocxTemplate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the labels come through the project's own i18n loader

from cms_workflows.core.i18n import LOCALES, catalog  # noqa: E402
from cms_workflows.documents.template_sandbox import environment  # noqa: E402

TEMPLATE_DIR = ROOT / "document_templates"
LABEL_PREFIX = "documents.label."
BASE_VARS = {"L", "company", "doc", "history", "approvals"}
KINDS = {"text": str, "list": list}


def labels(locale: str) -> dict[str, str]:
    return {k[len(LABEL_PREFIX):]: v for k, v in catalog(locale).items() if k.startswith(LABEL_PREFIX)}


def base_context(L: dict[str, str], title: str, draft: bool, cover: bool = False) -> dict:
    """Control variables as the register fills them (documents/output.build_context); a draft preview has no
    dates. `cover`: the type prints a cover sheet."""
    dash = L["no_entry"]
    return {
        "L": L,
        "company": "湘江精密机械有限公司",
        "doc": {
            "number": "CS-PR-003", "title": title, "type_name": "程序文件", "site": "CS", "site_name": "长沙工厂",
            "owner_department": "carbon_management", "owner_department_name": "碳管理办公室",
            "drafting_department_name": "生产部", "revision": "B",
            "status": L["status_draft"] if draft else L["status_controlled"],
            "effective_date": "" if draft else "2026-01-15", "approved_date": "" if draft else "2026-01-10",
            "issue_date": "" if draft else "2026-01-10", "implementation_date": "" if draft else "2026-01-15",
            "next_review_date": "" if draft else "2027-01-15", "cover_page": cover,
        },
        "history": [
            {"revision": "A", "date": "2025-03-01", "change": L["first_issue"], "change_no": dash, "pages": dash,
             "author": "王芳", "approver": "陈建国"},
            # "&" checks that values are escaped into the XML
            {"revision": "B", "date": "2026-01-15", "change": "更新外来文件清单 & 职责分工", "change_no": dash,
             "pages": L["all_pages"], "author": "王芳", "approver": "陈建国"},
        ],
        "approvals": [
            {"role": L["prepared"], "name": "王芳", "position": "碳管理专员", "date": "2026-01-05", "decision": "",
             "signature": L["signed_in_system"]},
            {"role": L["step_review"], "name": "张明", "position": "碳管理办公室主任", "date": "2026-01-07",
             "decision": L["decision_approve"], "signature": L["signed_in_system"]},
            {"role": L["step_countersign"], "name": "李强", "position": "设备能源部经理", "date": "2026-01-08",
             "decision": L["decision_approve"], "signature": L["signed_in_system"]},
            {"role": L["step_approve"], "name": "陈建国", "position": "总经理", "date": "2026-01-10",
             "decision": L["decision_approve"], "signature": L["signed_in_system"]},
        ],
    }


HEADER_VALUES = ("title", "number", "revision", "issue_date", "implementation_date", "drafting_department_name",
                 "owner_department_name", "status", "next_review_date")


def check_declaration(name: str, spec: dict, path: Path) -> list[str]:
    problems = []
    variables, example = spec["variables"], spec.get("example") or {}
    used, declared = DocxTemplate(path).get_undeclared_template_variables(), BASE_VARS | set(variables)
    if used - declared:
        problems.append(f"template uses undeclared variables {sorted(used - declared)}")
    if declared - used:
        problems.append(f"declared variables not in the template {sorted(declared - used)}")
    if set(example) != set(variables):
        problems.append(f"example keys {sorted(example)} differ from variables")
    for var, kind in variables.items():
        if kind not in KINDS:
            problems.append(f"variable {var}: kind {kind!r} is not one of {sorted(KINDS)}")
        elif var in example and not isinstance(example[var], KINDS[kind]):
            problems.append(f"example {var} is not a {kind}")
    return problems


def check_rendered(path: Path, ctx: dict) -> tuple[list[str], str]:
    """Problems of a rendered file, and its one-line summary."""
    problems = []
    L, doc = ctx["L"], ctx["doc"]
    with zipfile.ZipFile(path) as z:
        for entry in z.namelist():
            if entry.startswith("word/") and entry.endswith(".xml"):
                xml = z.read(entry).decode("utf-8")
                if "{{" in xml or "{%" in xml:
                    problems.append(f"jinja tag left in {entry}")

    out = Document(str(path))
    section = out.sections[0]
    if (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) != (21.0, 29.7):
        problems.append("page is not A4 portrait")
    margins = [section.left_margin, section.right_margin, section.top_margin, section.bottom_margin]
    if [round(m.cm, 2) for m in margins] != [2.5, 2.5, 2.5, 2.0]:  # stored in twips: compare in 0.01 cm
        problems.append("margins are not 2.5/2.5/2.5/2 cm")
    normal_fonts = out.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    if normal_fonts is None or normal_fonts.get(qn("w:eastAsia")) != "宋体":
        problems.append("Normal style has no East Asian font 宋体")

    header_tables = section.header.tables
    expected = [ctx["company"], *(doc[key] for key in HEADER_VALUES)]
    if len(header_tables) != 1:
        problems.append(f"header has {len(header_tables)} tables")
    else:
        values = [row.cells[i].text for row in header_tables[0].rows for i in range(1, len(row.cells), 2)]
        if sorted(values) != sorted(expected):
            problems.append(f"header values {values} != {expected}")

    footer = section.footer.paragraphs[0].text
    if footer != f"{L['page_before']}1{L['page_between']}1{L['page_after']}":
        problems.append(f"footer reads {footer!r}")

    tables = out.tables
    first_cells = [t.rows[0].cells[0].text if t.rows else "" for t in tables]
    for label, items in (("revision", "history"), ("role", "approvals")):
        if L[label] not in first_cells:
            problems.append(f"no table headed {L[label]!r}")
            continue
        table = tables[first_cells.index(L[label])]
        if len(table.rows) != 1 + len(ctx[items]):
            problems.append(f"table headed {L[label]!r} has {len(table.rows)} rows for {len(ctx[items])} {items}")
    if first_cells and first_cells[-1] != L["revision"]:
        problems.append("the revision history is not the last table")
    problems += check_first_page(out, ctx)
    problems += check_print_layout(out, L) + check_file_properties(path)
    summary = f"paragraphs={len(out.paragraphs)} tables={len(tables)} footer={footer!r}"
    return problems, summary


def approval_table(out, L: dict[str, str]):
    """The approval block: the table headed by the step column's label."""
    return next((t for t in out.tables if t.rows and t.rows[0].cells[0].text == L["role"]), None)


def check_first_page(out, ctx: dict) -> list[str]:
    """编制 / 审核 / 批准 on the first page (issue 13 item 3): the approval block is the first table of the body,
    right after the title, or after the cover sheet (type, number, revision, dates, company) when the type asks
    for one; a cover ends with a page break, nothing else breaks a page before the approval block."""
    problems, L, doc = [], ctx["L"], ctx["doc"]
    body = out.element.body
    table = approval_table(out, L)
    if table is None or not out.tables or out.tables[0]._tbl is not table._tbl:
        return ["the approval block is not the first table"]
    before = [p for p in body.iterchildren(qn("w:p")) if p.getnext() is not None and _precedes(p, table._tbl)]
    texts = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in before]
    breaks = [p for p in body.iterchildren(qn("w:p")) for br in p.iter(qn("w:br")) if br.get(qn("w:type")) == "page"]
    if doc["cover_page"]:
        cover = "\n".join(texts)
        for value in (doc["title"], doc["type_name"], doc["number"], doc["revision"], doc["issue_date"],
                      doc["implementation_date"], ctx["company"]):
            if value not in cover:
                problems.append(f"the cover sheet does not show {value!r}")
        if len(breaks) != 1 or not _precedes(table._tbl, breaks[0]):
            problems.append("the cover sheet is not followed by one page break after the approval block")
    else:
        if [t for t in texts if t.strip()] != [doc["title"], L["approval_block"]]:
            problems.append(f"before the approval block: {texts!r}, not the title and its heading")
        if breaks:
            problems.append("a page break in a document without a cover sheet")
    return problems


def _precedes(first, second) -> bool:
    for sibling in first.itersiblings():
        if sibling is second:
            return True
    return False


def check_print_layout(out, L: dict[str, str]) -> list[str]:
    """Every row of every table (header included) is kept whole; every paragraph of the approval block keeps with
    the next, so the block stays on one page; headings keep with what follows."""
    problems = []
    for where, tables in (("body", out.tables), ("header", out.sections[0].header.tables)):
        for n, table in enumerate(tables):
            split = [i for i, row in enumerate(table.rows) if row._tr.trPr is None
                     or row._tr.trPr.find(qn("w:cantSplit")) is None]
            if split:
                problems.append(f"{where} table {n + 1}: rows {split} may split across pages (no w:cantSplit)")
    approvals = approval_table(out, L)
    if approvals is not None and not all(p.paragraph_format.keep_with_next for row in approvals.rows
                                         for cell in row.cells for p in cell.paragraphs):
        problems.append("approval block: not every paragraph keeps with the next")
    for name in ("Heading 1", "Heading 2"):
        if not out.styles[name].paragraph_format.keep_with_next:
            problems.append(f"style {name} does not keep with the next paragraph")
    return problems


def check_file_properties(path: Path) -> list[str]:
    """What python-docx's default template says about itself is gone (issue 13, item 5)."""
    problems = []
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        core, settings = z.read("docProps/core.xml").decode(), z.read("word/settings.xml").decode()
        styles, app = z.read("word/styles.xml").decode(), z.read("docProps/app.xml").decode()
    if "python-docx" in core or "lastPrinted" in core:
        problems.append("core properties name python-docx or carry a last-printed date")
    if 'w:eastAsia="zh-CN"' not in settings or "ja-JP" in settings + styles:
        problems.append("the East Asian language is not zh-CN")
    if "Macintosh" in app:
        problems.append("app.xml names Microsoft Macintosh Word")
    leftovers = sorted(n for n in names if n.startswith(("customXml/", "docProps/thumbnail")))
    if leftovers:
        problems.append(f"parts of python-docx's default template left: {leftovers}")
    return problems


def main() -> int:
    specs = yaml.safe_load((TEMPLATE_DIR / "templates.yaml").read_text(encoding="utf-8"))["templates"]
    env = environment()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs.items():
            path = TEMPLATE_DIR / spec["file"]
            problems = check_declaration(name, spec, path)
            for locale, cover in [(locale, False) for locale in LOCALES] + [(LOCALES[0], True)]:
                title = spec["name_en"] if locale == "en" else spec["name_zh"]
                ctx = {**base_context(labels(locale), title, draft=locale == "en", cover=cover), **spec["example"]}
                out = Path(tmp) / f"{locale}-{cover}-{spec['file']}"
                try:
                    tpl = DocxTemplate(path)
                    tpl.render(ctx, jinja_env=env, autoescape=True)
                    tpl.save(out)
                    rendered_problems, summary = check_rendered(out, ctx)
                except Exception as exc:  # any failure to render or reopen is a finding, reported with its type
                    rendered_problems, summary = [f"{type(exc).__name__}: {exc}"], "not rendered"
                all_problems = problems + rendered_problems
                failures += bool(all_problems)
                print(f"{'FAIL' if all_problems else 'ok  '} {locale:5} {'cover' if cover else '':5} {spec['file']:32} "
                      f"{summary}")
                for problem in all_problems:
                    print(f"     - {problem}")
    renders = len(specs) * (len(LOCALES) + 1)
    print(f"{failures} of {renders} renders failed" if failures else f"all {len(specs)} templates pass in {', '.join(LOCALES)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
