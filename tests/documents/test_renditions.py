"""Marked copies (issue 13 item 1; R-7.5 control of changes and distribution, X-4): the approved file stays
as hashed; a superseded, obsolete or draft revision is handed out only as a stamped rendition, recorded with
its own hash and the original's and an event; a distributed copy carries its 分发号 and holder. Real .docx
files, opened again with python-docx."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document as open_docx
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.core.errors import CmsError
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.documents import distribution, renditions
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import Distribution, Rendition, Revision
from tests.documents.conftest import AUTHOR, DOC_CONTROL, GM, PROCEDURE_CONTENT, audit_count, new_procedure, release

READER = "energy_engineer.hn01"


def texts(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The body's paragraphs and, per section, the paragraphs of its header."""
    document = open_docx(io.BytesIO(data))
    return ([p.text for p in document.paragraphs],
            [[p.text for p in section.header.paragraphs] for section in document.sections])


def superseded_procedure(db) -> str:
    """A procedure whose revision A was superseded by B."""
    number = new_procedure(db)
    release(db, number)
    with db.unit_of_work() as uow:
        docs.edit(uow, AUTHOR, number, content={"scope": "长沙工厂全部部门"}, change_reason="扩大适用范围")
    release(db, number)
    return number


def revision(db, number: str, label: str) -> Revision:
    with db.read() as uow:
        return next(r for r in doc_queries.revisions(uow, doc_queries.get_document(uow, number)) if r.label == label)


def hand_out(db, actor: str, number: str, label: str | None = None, **kwargs) -> renditions.Handout:
    with db.unit_of_work() as uow:
        return renditions.hand_out(uow, actor, number, label, **kwargs)


def test_a_superseded_revision_is_handed_out_stamped_and_recorded(db, company):
    number = superseded_procedure(db)
    a, b = revision(db, number, "A"), revision(db, number, "B")
    with db.read() as uow:
        stored_before = uow.files.get(a.file_sha256)
    events_before = audit_count(db)

    copy = hand_out(db, READER, number, "A")

    assert copy.kind == "superseded" and copy.sha256 == sha256_bytes(copy.data) != a.file_sha256
    body, headers = texts(copy.data)
    assert body[0].startswith("作废 / 已替代")
    assert "被版本 B 替代" in body[0] and b.effective_date.isoformat() in body[0] and a.file_sha256 in body[0]
    assert headers and all(h[0].startswith("作废 / 已替代") for h in headers)
    assert open_docx(io.BytesIO(copy.data)).core_properties.content_status == "作废 / 已替代"
    # the original is untouched: the store still has it, its hash is the register's, its header says 受控
    with db.read() as uow:
        stored = uow.files.get(a.file_sha256)
    assert stored == stored_before and sha256_bytes(stored) == a.file_sha256 == revision(db, number, "A").file_sha256
    plain_body, plain_headers = texts(stored)
    assert plain_body == body[1:] and not any("作废 / 已替代" in p for h in plain_headers for p in h)
    # recorded: its own hash pointing to the original's, who, and an event in the same transaction
    with db.read() as uow:
        rows = list(uow.exec(select(Rendition)))
        event = audit.events_for(uow)[-1]
    assert [(r.kind, r.sha256, r.original_sha256, r.issued_by, r.revision_id, r.locale) for r in rows] == [
        ("superseded", copy.sha256, a.file_sha256, READER, a.id, "zh-CN")]
    assert audit_count(db) == events_before + 1
    payload = json.loads(event.payload)
    assert event.action == "documents.rendition.create" and event.actor == READER
    assert (payload["sha256"], payload["original_sha256"], payload["kind"]) == (copy.sha256, a.file_sha256, "superseded")
    # the same rendition again: the same bytes (deterministic), recorded again as handed out again
    again = hand_out(db, GM, number, "A")
    assert again.data == copy.data
    with db.read() as uow:
        rows = list(uow.exec(select(Rendition).order_by(Rendition.id)))
        assert renditions.reproduce(uow, rows[0]) == copy.data
    assert [r.issued_by for r in rows] == [READER, GM]


def test_the_effective_revision_is_the_original_and_leaves_no_rendition(db, company):
    number = superseded_procedure(db)
    b = revision(db, number, "B")
    before = audit_count(db)
    for label in ("B", None):
        got = hand_out(db, READER, number, label)
        assert got.rendition is None and got.kind == "original"
        assert sha256_bytes(got.data) == got.sha256 == b.file_sha256 and len(got.data) == b.file_size
    with db.read() as uow:
        assert list(uow.exec(select(Rendition))) == []
    assert audit_count(db) == before


def test_a_draft_is_stamped_uncontrolled(db, company):
    number = new_procedure(db)
    copy = hand_out(db, AUTHOR, number)
    body, headers = texts(copy.data)
    assert copy.kind == "draft" and body[0].startswith("草稿 / 未受控") and "草稿" in body[0]
    assert all(h[0].startswith("草稿 / 未受控") for h in headers)
    with db.read() as uow:
        row = uow.exec(select(Rendition)).one()
        preview = doc_queries.revision_file(uow, AUTHOR, number)[1]
    # a draft has no register hash: the row points to the unmarked preview it was stamped on
    assert row.original_sha256 == sha256_bytes(preview) and row.sha256 == copy.sha256


def test_an_english_document_is_stamped_in_english(db, company):
    with db.unit_of_work() as uow:
        rev = docs.create(uow, AUTHOR, doc_type="procedure", site="HN01", title="Document control",
                          owner_department="carbon_management", language="en",
                          content=dict(PROCEDURE_CONTENT))
        number = doc_queries.document_number(uow, rev.document_id)
    body, headers = texts(hand_out(db, AUTHOR, number).data)
    assert body[0].startswith("DRAFT / UNCONTROLLED") and "not in force" in body[0]
    assert headers[0][0].startswith("DRAFT / UNCONTROLLED")


def test_an_obsolete_revision_is_stamped_void_with_the_reason(db, procedure):
    release(db, procedure)
    with db.unit_of_work() as uow:
        docs.obsolete(uow, DOC_CONTROL, procedure, "工艺取消")
    body, _headers = texts(hand_out(db, READER, procedure).data)
    assert body[0].startswith("作废") and "工艺取消" in body[0]


def test_a_distributed_copy_carries_its_number_and_holder(db, company):
    number = superseded_procedure(db)
    with db.unit_of_work() as uow:
        rows = distribution.distribute(uow, DOC_CONTROL, number, [("energy_engineer", "HN01"),
                                                                   ("quality_system_engineer", "HN01")])
    assert [r.copy_no for r in rows] == [1, 2]
    with db.read() as uow:
        event = audit.events_for(uow)[-1]
    assert json.loads(event.payload)["copy_numbers"] == {"energy_engineer@HN01": 1, "quality_system_engineer@HN01": 2}

    copy = hand_out(db, READER, number, copy_no=1)  # the holder takes their copy
    body, headers = texts(copy.data)
    assert copy.kind == "distributed_copy" and body[0].startswith("受控副本　分发号：1")
    assert "能源" in body[0] and "B" in body[0]
    assert all(h[0].startswith("受控副本　分发号：1") for h in headers)
    with db.read() as uow:
        row = uow.exec(select(Rendition)).one()
    assert (row.copy_no, row.issued_by, row.original_sha256) == (1, READER, revision(db, number, "B").file_sha256)
    # document control prints copy 2 for its holder; another holder may not take someone else's copy
    assert texts(hand_out(db, DOC_CONTROL, number, copy_no=2).data)[0][0].startswith("受控副本　分发号：2")
    with pytest.raises(CmsError) as refused:
        hand_out(db, READER, number, copy_no=2)
    assert refused.value.key.startswith("access.")
    with pytest.raises(CmsError) as unknown:
        hand_out(db, READER, number, copy_no=9)
    assert unknown.value.key == "documents.rendition.unknown_copy"
    with pytest.raises(CmsError) as old:
        hand_out(db, READER, number, "A", copy_no=1)
    assert old.value.key == "documents.rendition.copy_of_effective_only"


def test_a_new_revision_keeps_the_copy_numbers(db, company):
    """A position@site keeps its 分发号 from revision to revision; a new holder gets the next number."""
    number = new_procedure(db)
    release(db, number)
    with db.unit_of_work() as uow:
        distribution.distribute(uow, DOC_CONTROL, number, [("quality_system_engineer", "HN01"), ("energy_engineer", "HN01")])
    with db.unit_of_work() as uow:
        docs.edit(uow, AUTHOR, number, content={"scope": "长沙工厂全部部门"}, change_reason="扩大适用范围")
    release(db, number)  # the release copies the distribution (without numbers)
    copy = hand_out(db, READER, number, copy_no=2)  # numbered when first asked for
    assert texts(copy.data)[0][0].startswith("受控副本　分发号：2")
    with db.unit_of_work() as uow:
        distribution.distribute(uow, DOC_CONTROL, number, [("carbon_accountant", "HN01")])
    with db.read() as uow:
        rev, rows = distribution.copies(uow, READER, number)
    assert rev.label == "B"
    assert [(d.position, d.copy_no) for d in rows] == [("quality_system_engineer", 1), ("energy_engineer", 2),
                                                       ("carbon_accountant", 3)]


def test_a_file_that_is_not_word_is_refused_not_handed_out_unmarked(db, company):
    from cms_workflows.documents import imports

    with db.unit_of_work() as uow:
        rev = imports.import_file(uow, "compliance.lead", b"%PDF-1.4 a standard", "GBT.pdf", doc_type="external",
                                  site="*", title="通则", owner_department="carbon_management", issuer="国家标准委",
                                  external_version="GB/T 32150-2015")
        number = doc_queries.document_number(uow, rev.document_id)
    before = audit_count(db)
    with pytest.raises(CmsError) as refused:
        hand_out(db, "compliance.lead", number)
    assert refused.value.key == "documents.rendition.not_word" and number in refused.value.message("zh-CN")
    assert audit_count(db) == before


def test_existing_distributions_are_numbered_by_the_migration(empty_db):
    from sqlalchemy import text

    empty_db.upgrade("0005_documents_template_approval")
    with empty_db.engine.begin() as conn:
        conn.execute(text("INSERT INTO doc_document (id, number, doc_type, site, title, owner_department, language, "
                          "status, created_by, created_at) VALUES (1, 'X-1', 'procedure', 'HN01', 't', 'd', 'zh-CN', "
                          "'active', 'u', '2024-01-01 00:00:00')"))
        for rid, label in ((1, "A"), (2, "B")):
            conn.execute(text("INSERT INTO doc_revision (id, document_id, seq, label, status, author, author_position, "
                              "change_reason, content, source, round, created_at) VALUES "
                              f"({rid}, 1, {rid}, '{label}', 'effective', 'u', '', '', '{{}}', 'rendered', 0, "
                              "'2024-01-01 00:00:00')"))
        for did, rid, position in ((1, 1, "p1"), (2, 1, "p2"), (3, 2, "p2"), (4, 2, "p3"), (5, 2, "p1")):
            conn.execute(text("INSERT INTO doc_distribution (id, revision_id, position, site, distributed_by, "
                              f"distributed_at) VALUES ({did}, {rid}, '{position}', 'HN01', 'u', '2024-01-01 00:00:00')"))
    empty_db.upgrade("0014_documents_renditions")
    with empty_db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, copy_no FROM doc_distribution ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, 1), (2, 2), (3, 2), (4, 3), (5, 1)]


def test_the_distribution_rows_keep_one_number_per_position(db, company):
    number = new_procedure(db)
    release(db, number)
    with db.unit_of_work() as uow:
        distribution.distribute(uow, DOC_CONTROL, number, [("energy_engineer", "HN01")])
    with db.unit_of_work() as uow:
        distribution.distribute(uow, DOC_CONTROL, number, [("energy_engineer", "*")])
    with db.read() as uow:
        assert [(d.site, d.copy_no) for d in uow.exec(select(Distribution).order_by(Distribution.id))] == [
            ("HN01", 1), ("*", 2)]


# ------------------------------------------------------------------ the web app and the CLI hand out the same

@pytest.fixture
def web(db, company):
    from fastapi.testclient import TestClient

    from cms_workflows.web.app import create_app
    from cms_workflows.web.session import SESSION_COOKIE
    from tests.conftest import token_for

    app = create_app(db)

    def client(username: str) -> TestClient:
        signed_in = TestClient(app, follow_redirects=False)
        signed_in.cookies.set(SESSION_COOKIE, token_for(db, username))
        return signed_in

    return client


def test_the_web_serves_the_stamped_copy_of_a_superseded_revision_and_the_original_of_the_effective(db, web):
    number = superseded_procedure(db)
    a, b = revision(db, number, "A"), revision(db, number, "B")
    reader = web(READER)
    for path in (f"/documents/{number}/revisions/A.docx", f"/api/v1/documents/{number}/revisions/A/file"):
        old = reader.get(path)
        assert old.status_code == 200, old.text
        assert texts(old.content)[0][0].startswith("作废 / 已替代")
        assert old.headers["x-content-sha256"] == sha256_bytes(old.content) != a.file_sha256
        assert old.headers["x-original-sha256"] == a.file_sha256 and old.headers["x-cms-copy"] == "superseded"
        assert "superseded" in old.headers["content-disposition"]
    for path in (f"/documents/{number}/revisions/B.docx", f"/api/v1/documents/{number}/revisions/B/file"):
        current = reader.get(path)
        assert current.status_code == 200 and current.headers["x-cms-copy"] == "original"
        assert sha256_bytes(current.content) == current.headers["x-content-sha256"] == b.file_sha256
    with db.read() as uow:
        assert [(r.kind, r.issued_by) for r in uow.exec(select(Rendition))] == [("superseded", READER)] * 2


def test_the_web_serves_a_distributed_copy_to_its_holder(db, web):
    number = superseded_procedure(db)
    with db.unit_of_work() as uow:
        distribution.distribute(uow, DOC_CONTROL, number, [("energy_engineer", "HN01")])
    got = web(READER).get(f"/documents/{number}/copies/1.docx")
    assert got.status_code == 200 and texts(got.content)[0][0].startswith("受控副本　分发号：1")
    assert web(READER).get(f"/documents/{number}/copies/7.docx").status_code == 404
    assert web("quality_system_engineer.hn01").get(f"/documents/{number}/copies/1.docx").status_code == 403


def test_the_cli_exports_a_stamped_copy_and_lists_the_copies(db, company, cli_env, tmp_path):
    from tests.test_cli import cms

    number = superseded_procedure(db)
    with db.unit_of_work() as uow:
        distribution.distribute(uow, DOC_CONTROL, number, [("energy_engineer", "HN01")])
    out = tmp_path / "a.docx"
    r = cms(cli_env, "doc", "render", number, "--revision", "A", "--out", str(out), user=READER, locale="en")
    assert r.returncode == 0, r.stderr
    assert "void copy" in r.stdout and revision(db, number, "A").file_sha256 in r.stdout
    assert texts(out.read_bytes())[0][0].startswith("作废 / 已替代")  # the stamp speaks the document's language
    current = tmp_path / "b.docx"
    assert cms(cli_env, "doc", "render", number, "--out", str(current), user=READER).returncode == 0
    assert sha256_bytes(current.read_bytes()) == revision(db, number, "B").file_sha256
    r = cms(cli_env, "doc", "copies", number, user=DOC_CONTROL)
    assert r.returncode == 0 and "分发号" in r.stdout and "energy_engineer" in r.stdout
    copy = tmp_path / "copy1.docx"
    r = cms(cli_env, "doc", "render", number, "--copy", "1", "--out", str(copy), user=DOC_CONTROL)
    assert r.returncode == 0, r.stderr
    assert texts(copy.read_bytes())[0][0].startswith("受控副本　分发号：1")
