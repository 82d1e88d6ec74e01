"""Controlled Word files (X-4): every rendered file is opened again and checked against the revision's data;
renders are byte-identical across processes; missing variables are clear errors; both locales are complete."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import date

import pytest
from docx import Document as open_docx
from docx.oxml.ns import qn

from cms_workflows.documents import output, registry, rendering
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.core.i18n import LOCALES

from .conftest import AUTHOR, DOC_CONTROL, GM, release

def _cells_text(table) -> list[list[str]]:
    return [[c.text.strip() for c in row.cells] for row in table.rows]


def _header_text(document) -> str:
    header = document.sections[0].header
    parts = [p.text for p in header.paragraphs]
    for table in header.tables:
        parts += [c for row in _cells_text(table) for c in row]
    return "\n".join(parts)


def _footer_fields(document) -> list[str]:
    footer = document.sections[0].footer._element
    return [el.text.strip() for el in footer.iter(qn("w:instrText"))]


def _table_starting(document, first_cell: str):
    for table in document.tables:
        if table.rows and table.rows[0].cells[0].text.strip() == first_cell:
            return table
    raise AssertionError(f"no table headed {first_cell!r}")


def check_controlled_file(data: bytes, context: dict) -> None:
    """The file shows the identity, page x of y, revision history and approval block of its context."""
    document = open_docx(io.BytesIO(data))
    L, doc = context["L"], context["doc"]
    header = _header_text(document)
    for value in (context["company"], doc["title"], doc["number"], doc["revision"], doc["status"], doc["issue_date"],
                  doc["implementation_date"], doc["owner_department_name"], doc["next_review_date"]):
        assert value and value in header, value
    assert _footer_fields(document) == ["PAGE", "NUMPAGES"]
    footer_text = "".join(t.text or "" for t in document.sections[0].footer._element.iter(qn("w:t")))
    assert L["page_before"].strip() in footer_text and L["page_between"].strip() in footer_text
    history = _cells_text(_table_starting(document, L["revision"]))
    assert history[1:] == [[h["revision"], h["change_no"], h["pages"], h["change"], h["date"], h["author"], h["approver"]]
                           for h in context["history"]]
    approvals = _cells_text(_table_starting(document, L["role"]))
    assert approvals[1:] == [[a["role"], a["name"], a["position"], a["signature"], a["date"]] for a in context["approvals"]]
    body = "\n".join(p.text for p in document.paragraphs)
    assert "{{" not in body and "{%" not in body


def _effective(db, number):
    with db.read() as session:
        doc = doc_queries.get_document(session, number)
        return doc, doc_queries.effective_revision(session, doc)


def test_the_released_procedure_shows_its_identity_history_and_approvals(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as session:
        docs.edit(session, AUTHOR, procedure, change_reason="增加外来文件查新频次")
    release(db, procedure)
    doc, rev = _effective(db, procedure)
    with db.read() as session:
        _rev, data = doc_queries.revision_file(session, GM, procedure)
    context = json.loads(rev.rendered_context)
    assert sha256_bytes(data) == rev.file_sha256
    check_controlled_file(data, context)
    assert context["company"] == "湖南示范制造有限公司"
    assert context["doc"]["status"] == "受控" and context["doc"]["effective_date"] == rev.effective_date.isoformat()
    assert [(h["revision"], h["change"]) for h in context["history"]] == [("A", "首次发布"), ("B", "增加外来文件查新频次")]
    from cms_workflows.access.roles import position_labels

    positions = position_labels()
    assert [(a["role"], a["position"], a["decision"]) for a in context["approvals"]] == [
        ("编制", positions["strategy_manager"][0], ""), ("审核", positions["quality_system_engineer"][0], "同意"),
        ("批准", positions["general_manager"][0], "同意")]
    assert context["approvals"][-1]["name"] == "王建国"


def test_chinese_text_uses_east_asian_fonts(db, procedure):
    release(db, procedure)
    _doc, rev = _effective(db, procedure)
    with db.read() as session:
        _rev, data = doc_queries.revision_file(session, GM, procedure)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        styles = z.read("word/styles.xml").decode("utf-8")
    assert 'w:eastAsia="宋体"' in styles and 'w:eastAsia="黑体"' in styles
    assert 'w:ascii="Times New Roman"' in styles


def test_renders_are_byte_identical_across_processes(db, procedure):
    release(db, procedure)
    doc, rev = _effective(db, procedure)
    with db.read() as session:
        again = output.rerender(session, doc, rev)
    assert sha256_bytes(again) == rev.file_sha256
    script = (
        "import json, sys\n"
        "from cms_workflows.documents import rendering\n"
        "from cms_workflows.documents.models import Document, Revision\n"
        "from cms_workflows.documents.output import file_meta\n"
        "tpl, ctx, meta = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])\n"
        "from datetime import datetime, date\n"
        "d = Document(**{k: v for k, v in meta['doc'].items()})\n"
        "r = Revision(**{**meta['rev'], 'created_at': datetime.fromisoformat(meta['rev']['created_at']),"
        " 'approved_at': datetime.fromisoformat(meta['rev']['approved_at'])})\n"
        "data = rendering.render(open(tpl, 'rb').read(), json.load(open(ctx, encoding='utf-8')), file_meta(d, r, r.approved_at))\n"
        "sys.stdout.write(__import__('hashlib').sha256(data).hexdigest())\n"
    )
    with db.read() as session:
        tpl_path = output.store(session).path_for(rev.template_sha256)
    ctx_path = db.settings.data_dir / "context.json"
    ctx_path.write_text(rev.rendered_context, encoding="utf-8")
    meta = {"doc": {"number": doc.number, "title": doc.title, "doc_type": doc.doc_type, "site": doc.site,
                    "owner_department": doc.owner_department, "language": doc.language, "created_by": doc.created_by},
            "rev": {"document_id": rev.document_id, "seq": rev.seq, "label": rev.label, "author": rev.author,
                    "approved_by": rev.approved_by, "created_at": rev.created_at.isoformat(),
                    "approved_at": rev.approved_at.isoformat()}}
    hashes = {subprocess.run([sys.executable, "-c", script, str(tpl_path), str(ctx_path), json.dumps(meta)],
                             capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert hashes == {rev.file_sha256}


@pytest.mark.parametrize("name", sorted(registry.templates()))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_renders_completely_in_both_locales(name, locale):
    tpl = registry.template(name)
    labels = rendering.labels(locale)
    context = {**tpl.example, "L": labels, "company": "湖南示范制造有限公司",
               "doc": {"number": "HN01-PR-001", "title": "文件控制程序", "type_name": "程序文件", "site": "HN01",
                       "site_name": "长沙水泥厂", "owner_department": "carbon_management", "revision": "A",
                       "status": labels["status_controlled"], "effective_date": "2026-03-01", "approved_date": "2026-02-20",
                       "issue_date": "2026-02-20", "implementation_date": "2026-03-01", "next_review_date": "2027-03-01",
                       "drafting_department_name": "战略发展部", "owner_department_name": "碳管理办公室",
                       "cover_page": False},
               "history": [{"revision": "A", "date": "2026-03-01", "change": labels["first_issue"], "change_no": "—",
                            "pages": "—", "author": "周志强", "approver": "王建国"}],
               "approvals": [{"role": labels["prepared"], "name": "周志强", "position": "碳战略管理", "date": "2026-02-10", "decision": "",
                              "signature": labels["signed_in_system"]},
                             {"role": labels["step_approve"], "name": "王建国", "position": "总经理", "date": "2026-02-20",
                              "decision": labels["decision_approve"], "signature": labels["signed_in_system"]}]}
    assert rendering.template_variables(tpl.path().read_bytes()) <= set(context)
    meta = rendering.FileMeta("文件控制程序", "HN01-PR-001", "A", 1, "a", "b", "procedure", locale,
                              *(2 * [__import__("datetime").datetime(2026, 2, 20, 8, 0)]))
    data = rendering.render(tpl.path().read_bytes(), context, meta)
    check_controlled_file(data, context)
    # no fixed text of the other language leaks into a locale's rendering: all of it comes from labels
    neutral = {**context, **{k: _neutral(v) for k, v in tpl.example.items()}}
    document = open_docx(io.BytesIO(rendering.render(tpl.path().read_bytes(), neutral, meta)))
    text = "\n".join([p.text for p in document.paragraphs] + [c for t in document.tables for row in _cells_text(t) for c in row])
    other = rendering.labels("en" if locale == "zh-CN" else "zh-CN")
    own = set(labels.values())
    leaked = [v for k, v in other.items() if len(v) > 3 and v not in own and v in text and k not in ("page_after",)]
    assert leaked == []


def _neutral(value):
    """Content without language: the same structure with every text replaced."""
    if isinstance(value, dict):
        return {k: _neutral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_neutral(v) for v in value]
    return "x"


def test_a_missing_variable_is_an_error_naming_it():
    tpl = registry.template("controlled_document")
    with pytest.raises(rendering.RenderError) as err:
        rendering.render(tpl.path().read_bytes(), {"L": rendering.labels("zh-CN"), "company": "x"},
                         rendering.FileMeta("t", "n", "A", 1, "a", "a", "s", "zh-CN", *(2 * [__import__("datetime").datetime(2026, 1, 1)])))
    message = err.value.message("en")
    for name in ("doc", "history", "approvals", "purpose", "scope", "sections"):
        assert name in message


def test_english_documents_render_with_english_labels(db, company):
    with db.unit_of_work() as session:
        rev = docs.create(session, AUTHOR, doc_type="procedure", site="HN01", title="Document control procedure",
                          owner_department="carbon_management", language="en",
                          content=dict(registry.template("controlled_document").example))
        number = doc_queries.document_number(session, rev.document_id)
    release(db, number)
    _doc, rev = _effective(db, number)
    context = json.loads(rev.rendered_context)
    assert context["doc"]["status"] == "Controlled" and context["history"][0]["change"] == "First issue"
    with db.read() as session:
        _r, data = doc_queries.revision_file(session, GM, number)
    check_controlled_file(data, context)


def test_a_draft_preview_says_it_is_uncontrolled(db, procedure):
    with db.read() as session:
        rev, data = doc_queries.revision_file(session, AUTHOR, procedure)
    assert rev.file_sha256 is None
    header = _header_text(open_docx(io.BytesIO(data)))
    assert "草稿（非受控）" in header and "受控\n" not in header


def test_a_company_template_is_checked_for_its_variables_and_then_used(db, procedure):
    good = registry.template("controlled_document").path().read_bytes()
    bad = _with_extra_paragraph(good, "{{ budget }}")
    with pytest.raises(ValidationFailed) as err:
        with db.unit_of_work() as session:
            output.register_template(session, DOC_CONTROL, "procedure", bad, "ours.docx")
    assert [p["field"] for p in err.value.problems] == ["budget"]
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            output.register_template(session, DOC_CONTROL, "procedure", b"not a word file", "ours.docx")
    ours = _with_extra_paragraph(good, "{{ doc.owner_department }}")
    with db.unit_of_work() as session:
        row = output.register_template(session, DOC_CONTROL, "procedure", ours, "ours.docx")
    with db.unit_of_work() as session:  # a company template is used once approved (test_template_sandbox.py)
        output.approve_template(session, GM, row.id)
    release(db, procedure)
    _doc, rev = _effective(db, procedure)
    assert rev.template_sha256 == row.sha256


def _with_extra_paragraph(template: bytes, text: str) -> bytes:
    document = open_docx(io.BytesIO(template))
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("payload,reason", [(b"", "empty"), (b"\xd0\xcf\x11\xe0" + b"0" * 100, "legacy"),
                                            (b"PK\x03\x04garbage", "zip"), (b"hello", "zip")])
def test_corrupt_or_non_docx_uploads_are_rejected(db, company, payload, reason):
    from cms_workflows.documents import imports

    with pytest.raises(ValidationFailed) as err:
        with db.unit_of_work() as session:
            imports.import_file(session, AUTHOR, payload, "文件控制程序.docx", doc_type="procedure", site="HN01",
                                title="文件控制程序", owner_department="carbon_management")
    assert err.value.key == "documents.not_docx" and reason in err.value.params["reason"].key
    with db.read() as session:
        assert doc_queries.list_documents(session, GM) == []


def test_a_zip_without_word_content_is_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ValidationFailed) as err:
        rendering.check_docx(buf.getvalue(), "x.docx")
    assert "word/document.xml" in err.value.message("en")


def test_release_date_is_the_effective_date_in_the_file(db, procedure):
    release(db, procedure, today=date.today())
    _doc, rev = _effective(db, procedure)
    assert json.loads(rev.rendered_context)["doc"]["effective_date"] == date.today().isoformat()
