"""`cms doc …` as real processes: the whole route of a procedure, clear errors that change nothing."""

from __future__ import annotations

import io

from docx import Document as open_docx

from tests.test_cli import cms, event_count

from .conftest import AUTHOR, DOC_CONTROL, GM, REVIEWER


def doc(env, *args, user=None, locale="zh-CN"):
    return cms(env, "doc", *args, user=user, locale=locale)


def test_a_procedure_from_draft_to_acknowledged_through_the_cli(db, company, cli_env, tmp_path):
    r = doc(cli_env, "types", locale="en")
    assert r.returncode == 0 and "procedure" in r.stdout and "general_manager" in r.stdout
    r = doc(cli_env, "new", "procedure", "--title", "文件控制程序", "--site", "HN01", "--dept", "carbon_management",
            "--example", user=AUTHOR)
    assert r.returncode == 0, r.stderr
    assert "HN01-PR-001" in r.stdout
    number = "HN01-PR-001"
    preview = tmp_path / "preview.docx"
    assert doc(cli_env, "render", number, "--out", str(preview), user=AUTHOR).returncode == 0
    assert "草稿（非受控）" in "".join(c.text for t in open_docx(preview).sections[0].header.tables for row in t.rows for c in row.cells)

    before = event_count(db)
    r = doc(cli_env, "approve", number, user=GM)  # approving a draft
    assert r.returncode == 2 and "草稿" in r.stderr and "Traceback" not in r.stderr
    assert event_count(db) == before

    assert doc(cli_env, "submit", number, user=AUTHOR).returncode == 0
    r = doc(cli_env, "reject", number, "--comment", "请补充职责", user=REVIEWER)
    assert r.returncode == 0 and "草稿" in r.stdout
    assert doc(cli_env, "submit", number, user=AUTHOR).returncode == 0
    assert doc(cli_env, "review", number, "--comment", "同意", user=REVIEWER).returncode == 0
    r = doc(cli_env, "approve", number, user=GM)
    assert r.returncode == 0 and "SHA-256" in r.stdout, r.stderr
    r = doc(cli_env, "effective", number, user=DOC_CONTROL)
    assert r.returncode == 0 and "现行有效" in r.stdout
    assert doc(cli_env, "distribute", number, "--to", "energy_engineer@HN01", user=DOC_CONTROL).returncode == 0
    r = doc(cli_env, "ack", number, user="energy_engineer.hn01")
    assert r.returncode == 0, r.stderr
    r = doc(cli_env, "ack", number, "--pending", user=DOC_CONTROL)
    assert "auditor1" in r.stdout and "energy_engineer.hn01" not in r.stdout

    out = tmp_path / "released.docx"
    r = doc(cli_env, "render", number, "--out", str(out), user=GM, locale="en")
    assert r.returncode == 0 and "controlled file" in r.stdout
    header = "".join(c.text for t in open_docx(out).sections[0].header.tables for row in t.rows for c in row.cells)
    assert "受控" in header and number in header

    r = doc(cli_env, "show", number, user=GM)
    assert r.returncode == 0 and "请补充职责" in r.stdout and "现行有效" in r.stdout
    r = doc(cli_env, "list", user=GM, locale="en")
    assert number in r.stdout and "A (" in r.stdout
    r = doc(cli_env, "due", "--by", "2099-12-31", user=DOC_CONTROL)
    assert number in r.stdout


def test_import_and_its_errors_through_the_cli(db, company, cli_env, tmp_path):
    bad = tmp_path / "旧文件.doc"
    bad.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 200)
    r = doc(cli_env, "import", str(bad), "--type", "procedure", "--site", "HN01", "--title", "旧程序",
            "--dept", "carbon_management", user=AUTHOR, locale="en")
    assert r.returncode == 2 and "legacy .doc" in r.stderr and "Traceback" not in r.stderr
    good = tmp_path / "能源计量管理程序.docx"
    document = open_docx()
    document.add_paragraph("能源计量器具的配备与检定")
    buf = io.BytesIO()
    document.save(buf)
    good.write_bytes(buf.getvalue())
    r = doc(cli_env, "import", str(good), "--type", "procedure", "--site", "HN01", "--title", "能源计量管理程序",
            "--dept", "energy_management", "--label", "C", "--legacy-number", "QP-EN-07", user=AUTHOR)
    assert r.returncode == 0 and "HN01-PR-001" in r.stdout and "C" in r.stdout, r.stderr
    r = doc(cli_env, "edit", "HN01-PR-001", "--title", "", user=AUTHOR)
    assert r.returncode == 2 and "title" in r.stderr


def test_policy_check_and_verify_in_fresh_processes_cover_documents(db, procedure, cli_env):
    from .conftest import release

    r = cms(cli_env, "policy", "check", locale="en")
    assert r.returncode == 0 and "Document control: 16 document types, 16 approval routes, 7 templates" in r.stdout, r.stdout + r.stderr
    release(db, procedure)
    with db.read() as session:
        from cms_workflows.documents import queries as doc_queries

        sha = doc_queries.effective_revision(session, doc_queries.get_document(session, procedure)).file_sha256
    assert cms(cli_env, "verify", "--no-anchor").returncode == 0
    (db.settings.file_store_dir / sha[:2] / sha).unlink()
    r = cms(cli_env, "verify", "--no-anchor", locale="en")
    assert r.returncode == 1 and sha in r.stdout and "lacks it" in r.stdout
