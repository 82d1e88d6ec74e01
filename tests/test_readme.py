"""The README's "A tour of the CLI" is a test (issue 15, item 6): every line of every block of the section
runs, in order, in a shell, on a fresh database, as a new user would type it; the first line that fails
fails the test, named. The README cannot drift from the product again.

What a reader supplies, the test supplies the same way, and only where the README line says so:
- `cms login NAME` asks for the password; the reader types the one `cms users password NAME --generate`
  showed, the test answers the prompt with it (no terminal: the prompt reads standard input).
- An UPPERCASE placeholder (RUN, TASK, …) stands for a number or code an earlier command printed; the line's
  comment says which (`RUN: …`), and `PLACEHOLDERS` below declares where the test reads it.
- Files the tour reads are in `docs/tour/` of the repository; the tour runs from the repository's folder,
  here a copy of `docs/tour/` in a temporary folder so that what the tour writes lands there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# placeholder -> (the command whose output holds it, the pattern whose first group is its value)
PLACEHOLDERS = {
    "ASSIGNMENT": ("cms users assign zhao.liu ", r"(?:任职记录|assignment) #?(\d+)"),
    "RUN": ("cms accounting runs", r"^(?:核算批次|[Rr]un) #?(\d+)\s"),
    "TASK": ("cms tasks mine", r"^\s*#?(\d+)\s.*MI-001"),
    "CASE": ("cms cases open ", r"\b(NC-\d{4}-\d+)\b"),
}
GENERATED_PASSWORD = re.compile(r"^cms users password (\S+) --generate")
LOGIN = re.compile(r"^cms login (\S+)$")


def tour_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## A tour of the CLI\n", 1)[1].split("\n## ", 1)[0]


def code_lines(section: str) -> list[str]:
    """Every line of every indented block (a comment-only line is no command)."""
    lines = [line[4:] for line in section.splitlines() if line.startswith("    ") and line.strip()]
    return [line for line in lines if not line.lstrip().startswith("#")]


def command(line: str) -> str:
    """The line without its trailing comment (two spaces then #, as the README writes them)."""
    return re.split(r"\s{2,}#", line, maxsplit=1)[0].strip()


def test_the_tour_section_has_no_pattern_lines():
    """A line a reader cannot type as written (…, a|b alternatives) is not part of the tour."""
    for line in code_lines(tour_section()):
        typed = command(line)
        assert "…" not in typed and not re.search(r"\w\|\w", typed), line


def test_every_placeholder_says_where_it_comes_from():
    for line in code_lines(tour_section()):
        for name in PLACEHOLDERS:
            if re.search(rf"\b{name}\b", command(line)):
                assert f"{name}:" in line, f"{line!r} uses {name} without saying where it comes from"


def test_the_tour_runs_on_a_fresh_database(tmp_path):
    lines = code_lines(tour_section())
    assert "cms init" in [command(line) for line in lines[:3]]
    shutil.copytree(ROOT / "docs" / "tour", tmp_path / "docs" / "tour")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    env.update(HOME=str(home), CMS_DATA_DIR=str(tmp_path / "cms-data"), CMS_LOCALE="zh-CN",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    env.pop("XDG_CONFIG_HOME", None)
    passwords: dict[str, str] = {}
    values: dict[str, str] = {}
    run = 0
    for number, line in enumerate(lines, 1):
        typed = command(line)
        for name, value in values.items():
            typed = re.sub(rf"\b{name}\b", value, typed)
        unresolved = [n for n in PLACEHOLDERS if re.search(rf"\b{n}\b", typed)]
        assert not unresolved, f"line {number} {line!r}: {unresolved} not printed by an earlier line"
        answer = None
        login = LOGIN.match(typed)
        if login:
            assert login.group(1) in passwords, f"line {number} {line!r}: no password was generated for the user"
            answer = passwords[login.group(1)] + "\n"
        env_file = tmp_path / ".tour-env"
        script = f"set -eo pipefail\n{typed}\nenv -0 > {env_file}\n"
        r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, input=answer or "",
                           capture_output=True, text=True, timeout=600, start_new_session=True)
        run += 1
        assert r.returncode == 0, f"README tour line {number} failed: {line}\n{r.stdout}\n{r.stderr}"
        env = dict(item.split("=", 1) for item in env_file.read_text(encoding="utf-8").split("\0") if "=" in item)
        generated = GENERATED_PASSWORD.match(typed)
        if generated:
            passwords[generated.group(1)] = r.stdout.strip().splitlines()[-1].split("：")[-1].split(": ")[-1].strip()
        for name, (prefix, pattern) in PLACEHOLDERS.items():
            if typed.startswith(prefix):
                found = re.search(pattern, r.stdout, re.MULTILINE)
                assert found, f"line {number} {line!r}: {name} not found in its output\n{r.stdout}"
                values[name] = found.group(1)
    assert run == len(code_lines(tour_section())) and run >= 60  # every command line of every block ran
    assert (tmp_path / "pack.zip").exists() and (tmp_path / "results.xlsx").exists()
    with zipfile.ZipFile(tmp_path / "a.docx") as docx:  # the controlled file names the company of CMS_COMPANY_NAME
        company = re.search(r"export CMS_COMPANY_NAME=(\S+)", tour_section()).group(1)
        assert any(company in docx.read(name).decode("utf-8") for name in docx.namelist() if name.endswith(".xml"))
