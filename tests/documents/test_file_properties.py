"""Clean file properties and people's names in controlled Word files (issue 13, items 5 and 6; X-4).

A released file names people, not login ids, as its author and last modifier; says nothing python-docx's default
template said about itself (its comment, an invented last-printed date, Japanese as the East Asian language, a
thumbnail, a bibliography part, Mac Word as the writer); prints an added reviewer's position in the file's
language. The demo's people have names a person has (surname and given name), never part of a position name."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from docx import Document as open_docx

from cms_workflows.access.roles import position_labels
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.demo import company as demo_company
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import output, rendering
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs

from .conftest import AUTHOR, DOC_CONTROL, GM, PROCEDURE_CONTENT, REVIEWER

ADDED = "energy_engineer.hn01"  # added to the review step by name, as in the demo


def _released_with_added_reviewer(db, language: str) -> str:
    with db.unit_of_work() as session:
        rev = docs.create(session, AUTHOR, doc_type="procedure", site="HN01", title="文件控制程序",
                          owner_department="carbon_management", content=dict(PROCEDURE_CONTENT), language=language)
        number = doc_queries.document_number(session, rev.document_id)
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, number)
    with db.unit_of_work() as session:
        doc_approval.add_reviewer(session, DOC_CONTROL, number, ADDED, "涉及能源计量文件的发放")
    for user in (REVIEWER, ADDED):
        with db.unit_of_work() as session:
            doc_approval.decide(session, user, number, "approve", "同意", expect="review")
    with db.unit_of_work() as session:
        doc_approval.decide(session, GM, number, "approve", "同意发布", expect="approve")
    with db.unit_of_work() as session:
        docs.make_effective(session, DOC_CONTROL, number)
    return number


def _file(db, number: str):
    with db.read() as session:
        rev, data = doc_queries.revision_file(session, GM, number)
        names = {u: output._display_names(session, {u})[u] for u in (AUTHOR, GM, ADDED)}
    return rev, data, names


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_released_file_names_people_and_an_added_reviewer_in_its_language(db, company, language):
    number = _released_with_added_reviewer(db, language)
    rev, data, names = _file(db, number)
    props = open_docx(io.BytesIO(data)).core_properties
    assert (props.author, props.last_modified_by) == (names[AUTHOR], names[GM])
    assert AUTHOR not in (props.author, props.last_modified_by) and names[AUTHOR] != AUTHOR
    approvals = json.loads(rev.rendered_context)["approvals"]
    added = [a for a in approvals if a["name"] == names[ADDED]]
    expected = rendering.labels(language)["position_reviewer"]
    assert [a["position"] for a in added] == [expected] and expected != doc_approval.ADDED_REVIEWER
    table = open_docx(io.BytesIO(data)).tables[0]  # the approval block heads the first page (issue 13 item 3)
    assert [names[ADDED], expected] in [[c.text for c in row.cells][1:3] for row in table.rows]


def test_a_released_file_carries_no_python_docx_leftovers(db, company):
    number = _released_with_added_reviewer(db, "zh-CN")
    rev, data, _names = _file(db, number)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = set(z.namelist())
        core, app = z.read("docProps/core.xml").decode(), z.read("docProps/app.xml").decode()
        settings, styles = z.read("word/settings.xml").decode(), z.read("word/styles.xml").decode()
    assert "lastPrinted" not in core and "python-docx" not in core and "<dc:description" not in core
    assert 'w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"' in settings
    assert "ja-JP" not in settings + styles and 'w:eastAsia="zh-CN"' in styles
    assert "Macintosh" not in app
    assert not {p for p in parts if p.startswith(("customXml/", "docProps/thumbnail"))}
    props = open_docx(io.BytesIO(data)).core_properties
    assert props.last_printed is None
    assert props.created is not None and props.modified is not None


def test_a_company_template_made_with_python_docx_loses_its_comment_and_printed_date(db, company):
    """A company's own template saved by python-docx carries its default comment and may carry a last-printed
    date; the rendered file has neither (rendering._drop_invented_properties)."""
    from datetime import datetime, timezone

    from cms_workflows.documents import registry

    template = open_docx(str(registry.template("controlled_document").path()))
    template.core_properties.comments = rendering.PYTHON_DOCX_COMMENT
    template.core_properties.last_printed = datetime(2013, 12, 23)
    buffer = io.BytesIO()
    template.save(buffer)
    L = rendering.labels("zh-CN")
    context = {"L": L, "company": "湖南示范制造有限公司", **PROCEDURE_CONTENT,
               "doc": {"number": "HN01-PR-001", "title": "文件控制程序", "revision": "A", "status": L["status_draft"],
                       "effective_date": "", "issue_date": "", "implementation_date": "", "next_review_date": "",
                       "drafting_department_name": "碳管理办公室", "owner_department_name": "碳管理办公室",
                       "type_name": "程序文件", "cover_page": False},
               "history": [{"revision": "A", "date": "", "change": L["first_issue"], "change_no": "—", "pages": "—",
                            "author": "张明辉", "approver": ""}],
               "approvals": []}
    moment = datetime(2026, 1, 10, tzinfo=timezone.utc)
    meta = rendering.FileMeta("文件控制程序", "HN01-PR-001", "A", 1, "login.a", "login.b", "procedure", "zh-CN",
                              moment, moment)
    data = rendering.render(buffer.getvalue(), context, meta)
    props = open_docx(io.BytesIO(data)).core_properties
    assert props.comments == "" and props.last_printed is None
    # a draft: written by its author, last modified by them too (no approver yet)
    assert (props.author, props.last_modified_by) == ("张明辉", "张明辉")
    assert rendering.render(buffer.getvalue(), context, meta) == data


def test_a_rerender_keeps_the_names_fixed_at_approval(db, company):
    """The names come from the context fixed at approval: a display name changed later does not change the
    bytes of a rerender, whose hash is the register's."""
    from sqlalchemy import update

    from cms_workflows.org.models import User

    number = _released_with_added_reviewer(db, "zh-CN")
    with db.engine.begin() as conn:  # a later change of the display name (its own audit is org's concern)
        conn.execute(update(User).where(User.username == AUTHOR).values(display_name="张明辉（已调岗）"))
    with db.read() as session:
        doc = doc_queries.get_document(session, number)
        rev = doc_queries.effective_revision(session, doc)
        again = output.rerender(session, doc, rev)
    assert sha256_bytes(again) == rev.file_sha256
    assert open_docx(io.BytesIO(again)).core_properties.author != "张明辉（已调岗）"


def test_the_demo_people_have_names_not_parts_of_position_names():
    """Issue 13 saw a reviewer named "李碳核算与" (a surname and the head of 碳核算与报告专员): every name the demo
    gives is a surname and a given name, two or three characters, sharing no two characters with a position."""
    people = ([name for _u, name, _p in demo_company.COMPANY_WIDE_USERS]
              + [name for _u, name, _p, _s in demo_company.AUDITORS]
              + [name for pair in demo_company.PER_SITE_NAMES.values() for name in pair]
              + [demo_company.SUCCESSOR[1]])
    spare = demo_company._spare_names()
    people += [next(spare) for _ in range(40)]
    more = demo_company._more_names(set(people))
    people += [next(more) for _ in range(200)]
    given = set(demo_company.GIVEN_NAMES) | set(demo_company.MORE_GIVEN_NAMES)
    positions = [zh for zh, _en in position_labels().values()]
    fragments = {p[i:i + 2] for p in positions for i in range(len(p) - 1)}
    bad = [n for n in people if n[:1] not in demo_company.SURNAMES or not 2 <= len(n) <= 3
           or any(f in n for f in fragments)]
    assert bad == []
    generated = people[-240:]
    assert all(n[1:] in given for n in generated) and len(set(people)) == len(people)


# ---------------------------------------------------------------- golden files (issue 13, "Tests")

GOLDEN = __import__("pathlib").Path(__file__).parent / "golden"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_procedure_renders_the_golden_document_xml(locale):
    """word/document.xml of the procedure template rendered with tools/check_templates.py's sample context, as
    stored under tests/documents/golden/: any change of the template's body XML shows here as a diff.
    After an intended change: CMS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/documents/test_file_properties.py"""
    import os
    import runpy
    from datetime import datetime, timezone

    from lxml import etree

    from cms_workflows.documents import registry

    check = runpy.run_path(str(GOLDEN.parents[2] / "tools" / "check_templates.py"))
    spec = registry.template("controlled_document")
    title = spec.name_en if locale == "en" else spec.name_zh
    context = {**check["base_context"](check["labels"](locale), title, draft=False), **spec.example}
    moment = datetime(2026, 1, 10, tzinfo=timezone.utc)
    meta = rendering.FileMeta(title, "CS-PR-003", "B", 2, "", "", "procedure", locale, moment, moment)
    data = rendering.render(spec.path().read_bytes(), context, meta)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = etree.tostring(etree.fromstring(z.read("word/document.xml")), pretty_print=True, encoding="unicode")
    golden = GOLDEN / f"controlled_document.{locale}.document.xml"
    if os.environ.get("CMS_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(xml, encoding="utf-8")
    assert xml == golden.read_text(encoding="utf-8"), f"document.xml differs from {golden.name}"
