"""Layout that survives printing (issue 13, item 4; X-4): every template of document_templates/, in each
locale, rendered as the register renders it, converted to PDF by LibreOffice and read page by page.

Checked on the pages themselves, not on the XML: "page X of Y" is right on every page; the document number is
whole on every page (it wrapped as "HN01-RP-2026-/001" in a 2.8 cm column); the approval block (heading,
column heads and every row) is on one page; no word or number of a table is broken across lines
("Countersign/ed"); no page ends with a heading; a procedure's sections are numbered 1 目的, 2 范围, 3 职责.

Needs LibreOffice (`soffice`) and poppler's `pdftotext`/`pdfinfo`: scripts/test installs Debian's
libreoffice-writer-nogui, fonts-noto-cjk and poppler-utils. Without them the tests are skipped, saying why.
"""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from docx import Document as open_docx

from cms_workflows.core.i18n import LOCALES
from cms_workflows.documents import registry, rendering

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("soffice", "pdftotext", "pdfinfo")
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=(
    f"{', '.join(MISSING)} not installed: the print layout is checked only with LibreOffice and poppler "
    "(scripts/test installs libreoffice-writer-nogui, fonts-noto-cjk and poppler-utils from Debian)"))

CHECK_TEMPLATES = runpy.run_path(str(ROOT / "tools" / "check_templates.py"))
# the longest number the register gives (site, type, year, sequence): it must never wrap
NUMBER = "HN01-RP-2026-001"
MOMENT = datetime(2026, 1, 10, tzinfo=timezone.utc)
# a Latin word or number of a table cell: a letter or digit, then letters, digits, - . / (at least 4 long)
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{2,}[A-Za-z0-9]")


def _context(name: str, locale: str, extra_history: int = 0) -> dict:
    spec = registry.template(name)
    title = spec.name_en if locale == "en" else spec.name_zh
    ctx = {**CHECK_TEMPLATES["base_context"](CHECK_TEMPLATES["labels"](locale), title, draft=False), **spec.example}
    ctx["doc"] = {**ctx["doc"], "number": NUMBER}
    if locale == "en":
        ctx["company"] = "Hunan Demo Manufacturing Co., Ltd."
    first = ctx["history"][0]
    ctx["history"] = [{**first, "revision": f"A{i}", "change": f"修订 {i}"} for i in range(extra_history)] + ctx["history"]
    return ctx


def _render(name: str, ctx: dict, locale: str) -> bytes:
    meta = rendering.FileMeta(title=ctx["doc"]["title"], number=NUMBER, label="B", seq=2, author="", last_modified_by="",
                              subject=name, language=locale, created=MOMENT, modified=MOMENT)
    return rendering.render(registry.template(name).path().read_bytes(), ctx, meta)


def _to_pdf(docx_files: list[Path], out_dir: Path) -> None:
    """One soffice run for all files, with a profile of its own (a parallel test run must not share one)."""
    profile = out_dir / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out_dir), *map(str, docx_files)], check=True, capture_output=True, timeout=600)


def _pages(pdf: Path) -> list[str]:
    """The text of each page, laid out as printed (a table row is one line while its cells are one line each)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = text.split("\f")
    count = int(re.search(r"^Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                                                             text=True).stdout, re.M).group(1))
    return pages[:count]


class Rendered:
    def __init__(self, name: str, locale: str, ctx: dict, docx: Path, pdf: Path) -> None:
        self.name, self.locale, self.ctx, self.docx, self.pdf = name, locale, ctx, docx, pdf
        self.pages = _pages(pdf)

    def __repr__(self) -> str:
        return f"{self.name}/{self.locale}"


def _render_all(tmp: Path, variants: list[tuple[str, str, int]]) -> list[Rendered]:
    files = []
    for name, locale, extra in variants:
        ctx = _context(name, locale, extra)
        path = tmp / f"{name}-{locale}-{extra}.docx"
        path.write_bytes(_render(name, ctx, locale))
        files.append((name, locale, ctx, path))
    _to_pdf([f[3] for f in files], tmp)
    return [Rendered(name, locale, ctx, path, path.with_suffix(".pdf")) for name, locale, ctx, path in files]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> list[Rendered]:
    tmp = tmp_path_factory.mktemp("print-layout")
    return _render_all(tmp, [(name, locale, 0) for name in registry.templates() for locale in LOCALES])


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _approval_pages(r: Rendered) -> set[int]:
    """The pages holding the approval block's heading, its column heads and each of its rows."""
    L = r.ctx["L"]
    found: dict[str, set[int]] = {}
    for number, page in enumerate(r.pages, start=1):
        for line in page.splitlines():
            if line.strip() == L["approval_block"]:
                found.setdefault("heading", set()).add(number)
            if L["role"] in line and L["name"] in line and L["signature"] in line:
                found.setdefault("columns", set()).add(number)
            for i, a in enumerate(r.ctx["approvals"]):
                if a["role"] in line and a["name"] in line and a["date"] in line:
                    found.setdefault(f"row {i}", set()).add(number)
    expected = {"heading", "columns", *(f"row {i}" for i in range(len(r.ctx["approvals"])))}
    assert set(found) == expected, f"{r}: approval block parts not found on any page: {expected - set(found)}"
    return set().union(*found.values())


def test_every_template_prints_with_page_x_of_y_and_its_whole_number_on_every_page(rendered):
    counts = {}
    for r in rendered:
        L, total = r.ctx["L"], len(r.pages)
        counts[repr(r)] = total
        for number, page in enumerate(r.pages, start=1):
            assert _squeeze(f"{L['page_before']}{number}{L['page_between']}{total}{L['page_after']}") in _squeeze(page), \
                f"{r} page {number}: no page {number} of {total}"
            assert NUMBER in page, f"{r} page {number}: the document number {NUMBER} is not whole on one line"
    print("pages:", counts)
    assert all(1 <= n <= 6 for n in counts.values()), counts


def test_the_approval_block_is_never_split_across_pages(rendered):
    for r in rendered:
        assert len(_approval_pages(r)) == 1, f"{r}: the approval block is on pages {sorted(_approval_pages(r))}"


def test_a_growing_history_leaves_the_approval_block_whole_on_the_first_page(tmp_path):
    """The minutes, whose 批准 row was seen alone on page 2: the approval block now heads the first page
    (编制 / 审核 / 批准 before the text, issue 13 item 3), and the revision history, the last table, grows a
    row at a time across the page breaks; the block stays whole on page 1 however long the history grows."""
    extras = range(30, 60, 6)
    renders = _render_all(tmp_path, [("management_review_minutes", "zh-CN", extra) for extra in extras]
                          + [("corrective_action_report", "en", extra) for extra in extras])
    for r in renders:
        assert _approval_pages(r) == {1}, f"{r} with {len(r.ctx['history'])} history rows: approval block off page 1"
        assert len(r.pages) > 1, f"{r}: the history did not cross a page break"


def test_no_word_or_number_of_a_table_is_broken_across_lines(rendered):
    for r in rendered:
        document = open_docx(str(r.docx))
        cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
        text = "\n".join(r.pages)
        for token in sorted(set(TOKEN.findall(cells))):
            assert text.count(token) >= cells.count(token), \
                f"{r}: {token!r} is broken across lines in a table ({text.count(token)} whole of {cells.count(token)})"


def test_no_page_ends_with_a_heading(rendered):
    for r in rendered:
        document = open_docx(str(r.docx))
        headings = {p.text.strip() for p in document.paragraphs if p.style.name.startswith("Heading") and p.text.strip()}
        L = r.ctx["L"]
        for number, page in enumerate(r.pages[:-1], start=1):
            marker = _squeeze(f"{L['page_before']}{number}{L['page_between']}")
            lines = [line.strip() for line in page.splitlines() if line.strip()]
            body = [line for line in lines if marker not in _squeeze(line)]
            last = body[-1] if body else ""
            orphan = [h for h in headings if last.endswith(h) and len(last) <= len(h) + 4]
            assert not orphan, f"{r} page {number} ends with the heading {orphan[0]!r}"


def test_a_procedures_sections_are_numbered(rendered):
    procedure = {r.locale: r for r in rendered if r.name == "controlled_document"}
    for locale, r in procedure.items():
        L, sections = r.ctx["L"], r.ctx["sections"]
        lines = [line.strip() for page in r.pages for line in page.splitlines()]
        wanted = [f"1 {L['purpose']}", f"2 {L['scope']}", *(f"{i} {s['heading']}" for i, s in enumerate(sections, 3))]
        assert [w for w in wanted if w not in lines] == [], f"{locale}: numbered headings missing"
