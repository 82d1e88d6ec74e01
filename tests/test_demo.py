"""`cms demo`, the main job: a fresh SQLite database, ending in a verifiable evidence trail."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile


def test_cms_demo_runs_end_to_end_and_its_evidence_verifies(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "demo", "--dir", str(tmp_path / "demo")],
                       capture_output=True, text=True, env=env, timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout
    pack = tmp_path / "demo" / "evidence-pack.zip"
    assert "events.jsonl" in zipfile.ZipFile(pack).namelist()
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
