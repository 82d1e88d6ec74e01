"""`cms demo`, the main job: a fresh SQLite database, ending in a verifiable evidence trail."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile

from docx import Document


def test_cms_demo_runs_end_to_end_and_its_evidence_verifies(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "demo", "--dir", str(tmp_path / "demo")],
                       capture_output=True, text=True, env=env, timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout
    pack = tmp_path / "demo" / "evidence-pack.zip"
    members = zipfile.ZipFile(pack).namelist()
    assert "events.jsonl" in members
    # the approved Word records: the released carbon policy is a controlled file whose hash is in the pack
    policy = tmp_path / "demo" / "documents" / "CMS-PO-001-1.0.docx"
    header = [c.text for t in Document(policy).sections[0].header.tables for row in t.rows for c in row.cells]
    assert "CMS-PO-001" in header and "受控" in header and "碳方针" in header
    assert f"files/{hashlib.sha256(policy.read_bytes()).hexdigest()}" in members
    assert {p.name for p in (tmp_path / "demo" / "documents").glob("*.docx")} >= {
        "HN01-PR-001-A-superseded.docx", "HN01-PR-001-B.docx", "HN02-PR-001-C.docx", "CMS-EX-001-A.docx"}
    _revisions_carry_their_own_dates(tmp_path / "demo" / "documents" / "HN01-PR-001-B.docx")
    _the_pdca_year_ran(tmp_path / "demo", r.stdout)
    _the_year_opens_in_the_web_app(tmp_path / "demo", r.stdout)
    # running it again starts from a fresh database in the same folder
    again = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "demo", "--dir", str(tmp_path / "demo")],
                           capture_output=True, text=True, env=env, timeout=1800)
    assert again.returncode == 0, again.stderr


def test_demo_refuses_a_folder_it_did_not_create(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "demo", "--dir", str(tmp_path)], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def _revisions_carry_their_own_dates(revision_b) -> None:
    """Issue 13: the procedure's revision A (January) and B (July) are dated apart in B's revision history."""
    history = next(t for t in Document(revision_b).tables if t.rows[0].cells[0].text == "版本")
    column = [c.text for c in history.rows[0].cells].index("日期")
    dated = {row.cells[0].text: row.cells[column].text for row in history.rows[1:]}
    assert set(dated) == {"A", "B"} and dated["A"] < dated["B"], dated


def _the_pdca_year_ran(folder, out: str) -> None:
    """Issue 11: every process ended in its approved record, one nonconformity found by the audit was
    closed after its effectiveness review, a deviation was investigated, the automatic part ran as
    Prefect flows; the carbon review report tells of the plants the data has."""
    from cms_workflows.core.db import Database
    from cms_workflows.processes.models import Case
    from sqlmodel import select

    db = Database(f"sqlite:///{folder / 'cms.db'}")
    with db.read() as uow:
        found = {c.number: c for c in uow.exec(select(Case))}
    db.dispose()
    by_kind: dict[str, list] = {}
    for case in found.values():
        by_kind.setdefault(case.kind, []).append(case)
    for kind in ("audit_programme", "internal_audit", "carbon_review", "compliance_evaluation", "management_review"):
        assert by_kind[kind] and all(c.status == "approved" and c.document_number for c in by_kind[kind]), kind
    audit_nc = [c for c in by_kind["corrective_action"] if c.trigger == "audit"]
    assert [c.status for c in audit_nc] == ["closed"]
    assert any(c.status == "closed" for c in by_kind["deviation"])
    for case in found.values():
        if case.document_number:
            assert (folder / "documents" / f"{case.document_number}-1.0.docx").exists(), case.number
    review = next(c for c in by_kind["carbon_review"])
    text = "\n".join(p.text for p in Document(folder / "documents" / f"{review.document_number}-1.0.docx").paragraphs)
    assert "水泥" in text and "冲压" in text and "汽车零部件" not in text
    assert "Prefect" in out


def _the_year_opens_in_the_web_app(folder, stdout: str) -> None:
    """As the demo's last line says: its people sign in to the web app with the passwords it wrote and see the
    year's cases and documents."""
    from fastapi.testclient import TestClient

    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database
    from cms_workflows.web.app import create_app
    from cms_workflows.web.session import LOGIN_CSRF_COOKIE

    assert "cms serve" in stdout.splitlines()[-1]
    accounts = dict(line.split("\t") for line in (folder / "demo-accounts.txt").read_text().splitlines())
    db = Database.from_settings(get_settings(data_dir=folder, database_url=None, audit_key=None, locale="zh-CN"))
    try:
        client = TestClient(create_app(db), follow_redirects=False)
        client.get("/login")
        signed_in = client.post("/login", data={"username": "carbon.lead", "password": accounts["carbon.lead"],
                                                "csrf_token": client.cookies.get(LOGIN_CSRF_COOKIE), "next": "/cases"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/cases"
        cases = client.get("/cases")
        assert cases.status_code == 200 and "管理评审" in cases.text and "碳评审" in cases.text
        assert "CMS-PO-001" in client.get("/documents").text
    finally:
        db.dispose()
