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
