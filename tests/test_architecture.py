"""Architecture contracts (issue 9): layers and no cycles (import-linter, `.importlinter`), a package
root of subpackages only, the same file names for the same jobs, small modules and functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cms_workflows"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter"), "--no-cache"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "BROKEN" not in r.stdout


def test_the_package_root_holds_subpackages_only():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert modules == ["__init__.py"], modules


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name}: over {MAX_MODULE_LINES} lines: split it by job"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_domains_use_the_same_file_names_for_the_same_jobs():
    for domain in ("org", "documents", "accounting"):
        names = {p.name for p in (PACKAGE / domain).glob("*.py")}
        assert {"models.py", "service.py", "queries.py"} <= names, (domain, sorted(names))
    assert not list(PACKAGE.glob("*/cli.py")), "command-line modules live in cms_workflows/cli/, one per domain"


def test_lifecycle_diagrams_are_generated_from_the_tables():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "lifecycles.py"), "--check"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_lifecycle_state_and_command_has_a_name_in_both_locales():
    from cms_workflows.bootstrap import lifecycles
    from cms_workflows.core.i18n import catalog

    tables = lifecycles()
    assert {lc.name for lc in tables} >= {"documents.revision", "accounting.run"}
    for locale in ("zh-CN", "en"):
        keys = catalog(locale)
        for lc in tables:
            for state in lc.states:
                assert lc.label_prefix + state.value in keys, (locale, lc.name, state)
            for name in lc.commands():
                assert f"lifecycle.command.{name}" in keys, (locale, lc.name, name)
