"""The register's configuration as data: types, numbering, labels, routes checked against policy.csv,
and templates that are exactly what tools/build_templates.py builds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from cms_workflows.access import Policy
from cms_workflows.documents import numbering, registry
from cms_workflows.core.errors import PolicyError, ValidationFailed

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scheme,previous,major,expected", [
    ("letters", "A", False, "B"), ("letters", "Z", False, "AA"), ("letters", "AZ", False, "BA"),
    ("numeric", "1.0", False, "1.1"), ("numeric", "1.9", False, "1.10"), ("numeric", "1.3", True, "2.0")])
def test_revision_labels(scheme, previous, major, expected):
    assert numbering.next_label(scheme, previous, major) == expected


@pytest.mark.parametrize("scheme,label", [("letters", "1.0"), ("letters", "甲"), ("numeric", "B"), ("numeric", "2")])
def test_a_label_outside_its_scheme_is_refused(scheme, label):
    with pytest.raises(ValidationFailed):
        numbering.check_label(scheme, label)


def test_every_type_has_a_route_its_positions_may_take():
    lines = registry.check(Policy())
    assert "16" in lines[0]
    operating = {f"{area}_{kind}" for area in ("design", "procurement", "operation", "storage_transport")
                 for kind in ("criteria", "record")}  # –8.5 (tests/registers/test_operations.py)
    assert set(registry.doc_types()) == {"manual", "procedure", "work_instruction", "record_form", "policy", "plan",
                                         "report", "external"} | operating
    policy_route = registry.route("policy")
    assert (policy_route[0].mode, set(policy_route[0].positions)) == ("all", {"compliance_officer", "legal_specialist"})
    assert policy_route[-1].positions == ("general_manager",)  # approved by top management


def test_a_route_step_the_policy_does_not_allow_is_refused():
    policy = Policy()
    policy.holders_of = {k: v for k, v in policy.holders_of.items() if k != ("doc.policy", "approve")}
    with pytest.raises(PolicyError) as err:
        registry.check(policy)
    message = err.value.message("en")
    assert "approval_routes.yaml" in message and "policy #2" in message and "general_manager" in message


def test_the_committed_templates_are_what_the_build_script_builds():
    spec = importlib.util.spec_from_file_location("build_templates", ROOT / "tools" / "build_templates.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for name, content in build.TEMPLATES.items():
        assert build.build(content) == (ROOT / "document_templates" / f"{name}.docx").read_bytes(), name
    assert set(build.TEMPLATES) == set(registry.templates())
