"""Chinese everywhere (issue 9): what services raise and report is a message key with parameters,
never a literal sentence, and services raise only the project's error hierarchy."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICE_PACKAGES = ("core", "access", "audit", "org", "documents", "accounting", "identity", "registers", "tasks", "duties", "processes")
KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
ERRORS = {"CmsError", "NotFound", "ValidationFailed", "Conflict", "InvalidTransition", "AccessDenied", "AuthenticationFailed", "Throttled", "PolicyError",
          "RenderError", "MissingFactor"}
# Exceptions that are programming errors, never shown to a user as a message: where they are raised and why.
PROGRAMMING_ERRORS = {"RuntimeError", "UnauditedWrite", "NotImplementedError", "AssertionError", "TypeError"}


def _service_modules() -> list[Path]:
    return sorted(p for pkg in SERVICE_PACKAGES for p in (ROOT / "cms_workflows" / pkg).rglob("*.py"))


def _literal_text(node) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _name(node) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return getattr(node, "id", "")


def _factories(tree) -> set[str]:
    """Helpers that build one of the project's errors (`def invalid(...) -> ValidationFailed`): raising
    what they return is raising a project error."""
    return {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and _name(f.returns) in ERRORS}


@functools.lru_cache(maxsize=1)
def _shared_factories() -> frozenset[str]:
    """The factories every service module may call (a package's shared helper, e.g. processes.cases.invalid)."""
    return frozenset().union(*(_factories(ast.parse(p.read_text(encoding="utf-8"))) for p in _service_modules()))


def _problems(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    factories = _factories(tree) | _shared_factories()
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = _name(node.exc)
            args = node.exc.args
            if name in ERRORS:
                if args and _literal_text(args[0]) and not (isinstance(args[0], ast.Constant) and KEY.match(args[0].value)):
                    found.append(f"{where}: {name} raised with a sentence instead of a message key")
            elif name not in PROGRAMMING_ERRORS and name not in factories:
                found.append(f"{where}: raises {name}, not one of the project's errors")
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "message" and _literal_text(value):
                    found.append(f"{where}: a problem with a literal message; use core.errors.problem(field, key, …)")
    return found


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(ROOT / "cms_workflows")))
def test_services_report_message_keys_not_sentences(path):
    assert _problems(path) == []


def test_the_scan_catches_what_it_is_meant_to(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        'def f(x):\n'
        '    problems = [{"field": "site", "message": f"unknown site {x}"}]\n'
        '    raise ValidationFailed(f"{x} is wrong")\n'
        'def g():\n'
        '    raise ValueError("bad gwp set")\n',
        encoding="utf-8")
    bad_in_root = ROOT / "cms_workflows" / "core" / "_scan_probe.py"
    try:
        bad_in_root.write_text(bad.read_text(encoding="utf-8"), encoding="utf-8")
        assert len(_problems(bad_in_root)) == 3
    finally:
        bad_in_root.unlink()
