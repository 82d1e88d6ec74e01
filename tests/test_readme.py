"""README's CLI tour works line by line on a fresh database, as a new user would type it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tour_lines() -> list[str]:
    """The commands of the first block under "A tour of the CLI" (comments dropped; `…` lines are patterns)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## A tour of the CLI", 1)[1].split("\n\n", 2)[1]
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line.startswith(("cms ", "export ")) and "…" not in line]


def test_the_tour_runs_on_a_fresh_database(tmp_path):
    lines = tour_lines()
    commands = [line for line in lines if line.startswith("cms ")]
    assert commands[0] == "cms init" and len(commands) >= 12
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    env.update(HOME=str(home), CMS_DATA_DIR=str(tmp_path / "data"), CMS_LOCALE="zh-CN")
    for line in lines:
        if line.startswith("export "):  # the shell would expand ~ to the (here: the test's) home folder
            name, value = line.removeprefix("export ").split("=", 1)
            env[name] = str(home) + value[1:] if value.startswith("~") else value
            continue
        args = [str(home) + a[1:] if a.startswith("~") else a for a in shlex.split(line)[1:]]
        r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (line, r.stdout, r.stderr)
    assert (tmp_path / "pack.zip").exists()
    assert (home / ".config" / "cms_workflows" / "credentials.json").exists()  # cms init signed the administrator in
