"""Render every Word template of document_templates/ in each locale and check the result (X-4).

Each template is rendered the way the register renders it (docxtpl in the register's sandbox:
StrictUndefined, autoescape, no filters or globals — cms_workflows/documents/template_sandbox.py)
with its `example` from templates.yaml plus a sample of the control variables, saved, reopened
with python-docx and checked: variables as declared, no jinja tag left, identification in the
header, page numbers in the footer, revision history and approval block as the last two tables.
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


def base_context(L: dict[str, str], title: str, draft: bool) -> dict:
    """Control variables as the register fills them; a draft preview has no effective date."""
    return {
        "L": L,
        "company": "湘江精密机械有限公司",
        "doc": {
            "number": "CS-PR-003", "title": title, "type_name": "程序文件", "site": "CS", "site_name": "长沙工厂",
            "owner_department": "碳管理办公室", "revision": "B",
            "status": L["status_draft"] if draft else L["status_controlled"],
            "effective_date": "" if draft else "2026-01-15", "approved_date": "" if draft else "2026-01-10",
        },
        "history": [
            {"revision": "A", "date": "2025-03-01", "change": L["first_issue"], "author": "王芳", "approver": "陈建国"},
            # "&" checks that values are escaped into the XML
            {"revision": "B", "date": "2026-01-10", "change": "更新外来文件清单 & 职责分工", "author": "王芳",
             "approver": "陈建国"},
        ],
        "approvals": [
            {"role": L["prepared"], "name": "王芳", "position": "碳管理专员", "date": "2026-01-05", "decision": ""},
            {"role": L["step_review"], "name": "张明", "position": "碳管理办公室主任", "date": "2026-01-07",
             "decision": L["decision_approve"]},
            {"role": L["step_countersign"], "name": "李强", "position": "设备能源部经理", "date": "2026-01-08",
             "decision": L["decision_approve"]},
            {"role": L["step_approve"], "name": "陈建国", "position": "总经理", "date": "2026-01-10",
             "decision": L["decision_approve"]},
        ],
    }


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
    expected = [ctx["company"], doc["title"], doc["number"], doc["revision"], doc["status"], doc["effective_date"]]
    if len(header_tables) != 1:
        problems.append(f"header has {len(header_tables)} tables")
    else:
        values = [row.cells[i].text for row in header_tables[0].rows for i in (1, 3, 5)]
        if values != expected:
            problems.append(f"header values {values} != {expected}")

    footer = section.footer.paragraphs[0].text
    if footer != f"{L['page_before']}1{L['page_between']}1{L['page_after']}":
        problems.append(f"footer reads {footer!r}")

    tables = out.tables
    first_cells = [t.rows[0].cells[0].text if t.rows else "" for t in tables]
    for label, items, position in (("revision", "history", -2), ("role", "approvals", -1)):
        if L[label] not in first_cells:
            problems.append(f"no table headed {L[label]!r}")
            continue
        table = tables[first_cells.index(L[label])]
        if len(tables) < 2 or table._tbl is not tables[position]._tbl:
            problems.append(f"table headed {L[label]!r} is not the {'last' if position == -1 else 'second last'} table")
        if len(table.rows) != 1 + len(ctx[items]):
            problems.append(f"table headed {L[label]!r} has {len(table.rows)} rows for {len(ctx[items])} {items}")

    summary = f"paragraphs={len(out.paragraphs)} tables={len(tables)} footer={footer!r}"
    return problems, summary


def main() -> int:
    specs = yaml.safe_load((TEMPLATE_DIR / "templates.yaml").read_text(encoding="utf-8"))["templates"]
    env = environment()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs.items():
            path = TEMPLATE_DIR / spec["file"]
            problems = check_declaration(name, spec, path)
            for locale in LOCALES:
                title = spec["name_en"] if locale == "en" else spec["name_zh"]
                ctx = {**base_context(labels(locale), title, draft=locale == "en"), **spec["example"]}
                out = Path(tmp) / f"{locale}-{spec['file']}"
                try:
                    tpl = DocxTemplate(path)
                    tpl.render(ctx, jinja_env=env, autoescape=True)
                    tpl.save(out)
                    rendered_problems, summary = check_rendered(out, ctx)
                except Exception as exc:  # any failure to render or reopen is a finding, reported with its type
                    rendered_problems, summary = [f"{type(exc).__name__}: {exc}"], "not rendered"
                all_problems = problems + rendered_problems
                failures += bool(all_problems)
                print(f"{'FAIL' if all_problems else 'ok  '} {locale:5} {spec['file']:32} {summary}")
                for problem in all_problems:
                    print(f"     - {problem}")
    renders = len(specs) * len(LOCALES)
    print(f"{failures} of {renders} renders failed" if failures else f"all {len(specs)} templates pass in {', '.join(LOCALES)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
