"""Segregation of duties across an approval route (X-2, R-7.5; issue 14 item 5).

The findings: a user holding quality_system_engineer@HN01 and general_manager@* reviewed and then
approved the same revision; a compliance officer who also holds general manager countersigned and
then approved the carbon policy. By default one person now decides at most one step of a route
(per revision and round); a step may relax this in approval_routes.yaml (`same_decider_allowed`),
and `cms policy check` lists where it does.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from cms_workflows import access, audit
from cms_workflows.access import AccessControl, Policy
from cms_workflows.bootstrap import policy_checks
from cms_workflows.core.errors import AccessDenied, PolicyError
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import registry
from cms_workflows.documents import service as docs
from cms_workflows.org import service as org

from .conftest import AUTHOR, DOC_CONTROL, GM, REVIEWER

DUAL = "dual.hn01"  # quality_system_engineer@HN01 and general_manager@*


def _second_position(db, username: str, position: str, site: str, *, new: bool = False) -> None:
    """Give a user another position, through the org service (as an administrator would)."""
    with db.unit_of_work() as session:
        if new:
            org.create_user(session, "admin", username, "兼职人员", f"{username}@demo.example.cn")
        org.assign(session, "admin", username, position, site)


@pytest.fixture
def dual(db, company) -> str:
    _second_position(db, DUAL, "quality_system_engineer", "HN01", new=True)
    _second_position(db, DUAL, "general_manager", "*")
    return DUAL


def _decide(db, user: str, number: str, decision: str = "approve", comment: str = "同意", **kwargs):
    with db.unit_of_work() as session:
        return doc_approval.decide(session, user, number, decision, comment, **kwargs)


def _submitted_procedure(db, title: str = "文件控制程序") -> str:
    from .conftest import new_procedure

    number = new_procedure(db, title)
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, number)
    return number


def _revision(db, number: str):
    with db.read() as session:
        doc = doc_queries.get_document(session, number)
        return doc_queries.open_revision(session, doc) or doc_queries.revisions(session, doc)[-1]


def _decision_events(db, number: str) -> list[dict]:
    with db.read() as session:
        doc = doc_queries.get_document(session, number)
        return [json.loads(e.payload) for e in audit.events_for(session, "doc_document", doc.id)
                if e.action == "documents.revision.decide"]


def test_reviewer_who_is_also_general_manager_cannot_approve_what_they_reviewed(db, dual):
    """Finding 1: QSE@HN01 + GM@* reviewed and then approved the same revision."""
    number = _submitted_procedure(db)
    _decide(db, dual, number, expect="review")  # the review, as quality system engineer
    with pytest.raises(AccessDenied) as err:  # the attack: approving the same revision as general manager
        _decide(db, dual, number, expect="approve")
    assert err.value.key == "access.sod_same_decider"
    assert err.value.params["earlier_step"] == "review" and err.value.params["step"] == "approve"
    assert "review" in err.value.message("en") and "“review”" in err.value.message("zh-CN")
    assert _revision(db, number).status != "approved"
    rev = _decide(db, GM, number, expect="approve")  # another general manager approves
    assert rev.status == "approved" and rev.approved_by == GM


def test_compliance_officer_who_is_also_general_manager_cannot_countersign_and_approve(db, company):
    """Finding 2: the compliance officer, also general manager, countersigned and then approved the carbon policy."""
    _second_position(db, "compliance.lead", "general_manager", "*")
    with db.unit_of_work() as session:
        rev = docs.create(session, "carbon.lead", doc_type="policy", site="*", title="碳方针",
                          owner_department="carbon_management", content=dict(registry.template("carbon_policy").example))
        number = doc_queries.document_number(session, rev.document_id)
    with db.unit_of_work() as session:
        docs.submit(session, "carbon.lead", number)
    _decide(db, "compliance.lead", number, comment="符合法规要求")
    _decide(db, "legal.lead", number, comment="无异议")
    with pytest.raises(AccessDenied) as err:
        _decide(db, "compliance.lead", number, comment="批准发布", expect="approve")
    assert err.value.key == "access.sod_same_decider" and err.value.params["earlier_step"] == "countersign"
    assert _decide(db, GM, number, comment="批准发布", expect="approve").status == "approved"


def test_a_holder_of_two_positions_still_decides_one_step(db, dual):
    """The rule is one step per person, not a ban on people with two positions."""
    number = _submitted_procedure(db)
    _decide(db, REVIEWER, number, expect="review")
    rev = _decide(db, dual, number, expect="approve")
    assert rev.status == "approved" and rev.approved_by == dual


def test_a_rejection_is_a_decision_too(db, dual):
    """Whoever reviewed cannot return the revision at the approval step either (it is still deciding twice)."""
    number = _submitted_procedure(db)
    _decide(db, dual, number, expect="review")
    with pytest.raises(AccessDenied) as err:
        _decide(db, dual, number, "reject", "请修改")
    assert err.value.key == "access.sod_same_decider"


def test_a_new_round_is_a_new_route(db, dual):
    """After a return to draft the next round is decided afresh: the reviewer of round 1 may approve round 2
    when someone else reviews it (the rule is per revision and round)."""
    number = _submitted_procedure(db)
    _decide(db, dual, number, expect="review")
    _decide(db, GM, number, "reject", "请补充职责")
    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, number)
    _decide(db, REVIEWER, number, expect="review")
    assert _decide(db, dual, number, expect="approve").status == "approved"


def test_an_added_reviewer_counts_as_a_decider_of_the_route(db, dual):
    """Document control cannot add the person who reviewed as a named reviewer of the approval step, and a
    reviewer added by name at the review step cannot then approve as general manager."""
    number = _submitted_procedure(db)
    _decide(db, dual, number, expect="review")
    with pytest.raises(AccessDenied) as err:
        with db.unit_of_work() as session:
            doc_approval.add_reviewer(session, DOC_CONTROL, number, dual, "再看一遍")
    assert err.value.key == "access.sod_same_decider"

    other = _submitted_procedure(db, "记录控制程序")
    with db.unit_of_work() as session:
        doc_approval.add_reviewer(session, DOC_CONTROL, other, dual, "涉及质量体系条款")
    _decide(db, REVIEWER, other, expect="review")
    _decide(db, dual, other, expect="review")  # decides the review step as the named reviewer
    with pytest.raises(AccessDenied) as err:
        _decide(db, dual, other, expect="approve")
    assert err.value.key == "access.sod_same_decider" and err.value.params["earlier_step"] == "review"


# ---------------------------------------------------------------- a route that relaxes the rule on one step


def _relaxed_policy(tmp_path, doc_type: str = "procedure", step_no: int = 2, **extra) -> Policy:
    """A copy of the policy folder whose route for `doc_type` sets same_decider_allowed on one step."""
    folder = tmp_path / "policies"
    shutil.copytree(Policy().directory, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    path = folder / registry.ROUTES_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["routes"][doc_type][step_no - 1].update(extra or {"same_decider_allowed": True})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return Policy(folder)


@pytest.fixture
def relaxed(tmp_path):
    policy = _relaxed_policy(tmp_path)
    access.set_access(AccessControl(policy, access.directory()))
    yield policy
    access.set_access(None)


def test_a_relaxed_step_lets_the_reviewer_approve_and_the_trail_says_so(db, dual, relaxed):
    number = _submitted_procedure(db)
    _decide(db, dual, number, expect="review")
    rev = _decide(db, dual, number, expect="approve")
    assert rev.status == "approved" and rev.approved_by == dual
    review, approval = _decision_events(db, number)
    assert "also_decided_step" not in review
    assert approval["also_decided_step"] == "review" and approval["in_capacity"] == "general_manager"


def test_relaxing_one_route_leaves_the_others_strict(db, company, relaxed):
    _second_position(db, "compliance.lead", "general_manager", "*")
    with db.unit_of_work() as session:
        rev = docs.create(session, "carbon.lead", doc_type="policy", site="*", title="碳方针",
                          owner_department="carbon_management", content=dict(registry.template("carbon_policy").example))
        number = doc_queries.document_number(session, rev.document_id)
    with db.unit_of_work() as session:
        docs.submit(session, "carbon.lead", number)
    _decide(db, "compliance.lead", number)
    _decide(db, "legal.lead", number)
    with pytest.raises(AccessDenied):
        _decide(db, "compliance.lead", number, expect="approve")


def test_policy_check_lists_where_a_route_relaxes_the_rule(tmp_path):
    """`cms policy check` (the documents registry's check, through bootstrap.policy_checks) names each relaxed step."""
    packaged = [line for check in policy_checks() for line in check(Policy())]
    assert registry.check in policy_checks()
    from cms_workflows.core.i18n import t

    assert t("documents.route_one_decision_each") in packaged
    policy = _relaxed_policy(tmp_path)
    relaxed = [line for check in policy_checks() for line in check(policy)]
    expected = t("documents.route_same_decider_allowed", route="procedure", step_no=2, step="approve")
    assert expected in relaxed and t("documents.route_one_decision_each") not in relaxed
    assert "procedure" in expected and "2" in expected


@pytest.mark.parametrize("extra, problem", [
    ({"same_decider_alowed": True}, "unknown_keys"),  # a misspelt relaxation is refused, not ignored
    ({"same_decider_allowed": "yes"}, "same_decider_flag"),
])
def test_a_malformed_relaxation_is_a_clear_policy_error(tmp_path, extra, problem):
    policy = _relaxed_policy(tmp_path, **extra)
    with pytest.raises(PolicyError) as err:
        registry.check(policy)
    assert err.value.key == "documents.bad_config" and err.value.params["problem"].key == f"documents.config_problem.{problem}"
    assert "procedure step 2" in err.value.message("en")


def test_relaxing_the_first_step_is_refused(tmp_path):
    policy = _relaxed_policy(tmp_path, step_no=1)
    with pytest.raises(PolicyError) as err:
        registry.check(policy)
    assert err.value.params["problem"].key == "documents.config_problem.same_decider_first_step"


def test_the_packaged_routes_relax_nothing_and_the_demo_needs_no_relaxation():
    """Every packaged route is strict; the demo (cms demo) therefore never has one person decide twice
    (tests/test_demo.py runs it end to end under these routes)."""
    assert not [s for steps in registry.routes(Policy().directory).values() for s in steps if s.same_decider_allowed]
