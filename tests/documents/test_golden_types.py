"""Golden files per document type and locale (issue 13, "Tests"): word/document.xml of one document of each type
of document_types.yaml, in each locale, as stored under tests/documents/golden/; any change of what a type's
file shows, or of its layout, fails here with the file's name. Each type renders with its own template, its own
type name, revision scheme and cover setting; an external document (no template) is its control cover sheet,
made by documents.controlled_copy. A template no type renders by default (a process's report) has a golden of
its own. The sample context is tools/check_templates.py's.

After an intended change: CMS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/documents/test_golden_types.py"""

from __future__ import annotations

import io
import os
import runpy
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from cms_workflows.core.i18n import LOCALES
from cms_workflows.documents import controlled_copy, numbering, registry, rendering

GOLDEN = Path(__file__).parent / "golden"
CHECK = runpy.run_path(str(Path(__file__).parents[2] / "tools" / "check_templates.py"))
MOMENT = datetime(2026, 1, 10, tzinfo=timezone.utc)
DEFAULT_TEMPLATES = {dt.template for dt in registry.doc_types().values() if dt.template}


def _document_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return etree.tostring(etree.fromstring(z.read("word/document.xml")), pretty_print=True, encoding="unicode")


def _context(locale: str, template: registry.Template, dt: registry.DocType | None) -> dict:
    L = CHECK["labels"](locale)
    title = template.name_en if locale == "en" else template.name_zh
    context = {**CHECK["base_context"](L, title, draft=False, cover=bool(dt and dt.cover_page)), **template.example}
    if dt is not None:
        label = numbering.first_label(dt.revision_labels)
        context["doc"] = {**context["doc"], "number": f"CS-{dt.abbr}-003", "type_name": dt.name(locale), "revision": label}
        context["history"] = [{**row, "revision": label} for row in context["history"][-1:]]
    return context


def _rendered(locale: str, template: registry.Template, dt: registry.DocType | None) -> bytes:
    context = _context(locale, template, dt)
    meta = rendering.FileMeta(context["doc"]["title"], context["doc"]["number"], context["doc"]["revision"], 1, "", "",
                              dt.code if dt else template.name, locale, MOMENT, MOMENT)
    return rendering.render(template.path().read_bytes(), context, meta)


def _external_cover(locale: str) -> bytes:
    """The control cover sheet of an external document (a standard kept as its issuer's PDF)."""
    L = CHECK["labels"](locale)
    context = {"L": L, "company": "湘江精密机械有限公司",
               "doc": {"number": "CMS-EX-001", "title": "工业企业温室气体排放核算和报告通则", "revision": "2015",
                       "owner_department_name": "碳管理办公室"},
               "external": {"standard_number": "GB/T 32150-2015", "edition": "2015", "issuer": "国家市场监督管理总局",
                            "applies_to": "全公司", "published_date": "2015-11-19", "implemented_date": "2016-06-01",
                            "status": L["status_external"], "registered_by": "王芳  2026-01-05",
                            "approved_by": "陈建国  2026-01-10", "next_review": "2027-01-15",
                            "source_file": "GBT32150-2015.pdf\nSHA-256 0123456789abcdef"},
               "history": [], "approvals": []}
    meta = rendering.FileMeta(context["doc"]["title"], "CMS-EX-001", "A", 1, "", "", "external", locale, MOMENT, MOMENT)
    return controlled_copy.cover_sheet(context, meta)


CASES = [(f"type.{code}", code, None) for code in registry.doc_types()] + \
        [(f"template.{name}", None, name) for name in sorted(set(registry.templates()) - DEFAULT_TEMPLATES)]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("golden_name,doc_type,template", CASES, ids=[c[0] for c in CASES])
def test_every_type_renders_its_golden_document_xml(golden_name, doc_type, template, locale):
    dt = registry.doc_type(doc_type) if doc_type else None
    if dt is not None and dt.template is None:
        data = _external_cover(locale)
    else:
        data = _rendered(locale, registry.template(dt.template if dt else template), dt)
    xml = _document_xml(data)
    golden = GOLDEN / f"{golden_name}.{locale}.document.xml"
    if os.environ.get("CMS_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(xml, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: write it with CMS_UPDATE_GOLDEN=1"
    assert xml == golden.read_text(encoding="utf-8"), f"document.xml differs from {golden.name}"


def test_the_goldens_differ_by_what_each_type_shows():
    """The comparison can fail: a manual's golden has its cover sheet and type name, a policy's its numeric
    revision, an external document's the issuer's standard number; a procedure's none of these."""
    def golden(name: str) -> str:
        return (GOLDEN / f"{name}.zh-CN.document.xml").read_text(encoding="utf-8")

    manual, procedure, policy, external = (golden(f"type.{c}") for c in ("manual", "procedure", "policy", "external"))
    assert "手册" in manual and 'w:type="page"' in manual and 'w:type="page"' not in procedure
    assert ">1.0<" in policy and ">1.0<" not in procedure
    assert "GB/T 32150-2015" in external and "GB/T 32150-2015" not in procedure
    for name in ("相关文件", "文件发放回收登记表"):  # sections 5 and 6 of a procedure
        assert name in procedure and name not in policy
    assert _document_xml(_rendered("zh-CN", registry.template("controlled_document"), registry.doc_type("procedure"))) \
        == procedure
    assert _document_xml(_rendered("zh-CN", registry.template("controlled_document"), registry.doc_type("manual"))) \
        != procedure
