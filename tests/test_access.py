"""Access control (R-5.3, X-2): the compiled table decides exactly as Casbin, SoD, policy checks."""

from __future__ import annotations

import csv
import shutil
from datetime import timedelta

import pytest

from cms_workflows import access
from cms_workflows.access import AccessControl, Policy, Resource
from cms_workflows.core.errors import AccessDenied, PolicyError
from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org
from cms_workflows.access.roles import known_position_codes

POLICY = Policy()
POSITIONS = sorted(known_position_codes())
SITES = ("HN01", "HN02", "*")


def oracle(policy_csv_lines, position: str, held_at: str, site: str, obj: str, act: str) -> bool:
    """An independent reading of the policy file: does this assignment allow this request?"""
    if held_at != "*" and held_at != site:
        return False
    return any(p == position and o == obj and a == act and d in ("*", site) for p, d, o, a in policy_csv_lines)


def read_policy_csv():
    rows = []
    with open(POLICY.policy_path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.lstrip().startswith("#"):
                kind, *rest = [f.strip() for f in next(csv.reader([line]))]
                rows.append(tuple(rest))
    return rows


def _matrix_users(db, position: str) -> None:
    """Two sites; `site.user` holds the position at HN01, `wide.user` company-wide."""
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN01", "一厂")
        org.create_site(session, "admin", "HN02", "二厂")
        org.create_user(session, "admin", "site.user", "站点用户")
        org.create_user(session, "admin", "wide.user", "公司级用户")
        org.assign(session, "admin", "site.user", position, "HN01")
        org.assign(session, "admin", "wide.user", position, "*")


@pytest.mark.parametrize("position", POSITIONS)
def test_matrix_fast_path_decides_exactly_as_casbin(db, position):
    """Every position x every object type and action x own site / other site / company level:
    the compiled table, bare Casbin and an independent reading of policy.csv agree."""
    lines = read_policy_csv()
    _matrix_users(db, position)
    with db.read() as session:
        reference = POLICY.reference_enforcer([(u, p, s) for u, p, s in org_queries.active_assignments(session)],
                                              indexed=True)
        unauthorized_successes, wrong_denials, checked = [], [], 0
        for user, held_at in (("site.user", "HN01"), ("wide.user", "*")):
            for obj, actions in POLICY.vocabulary.items():
                for act in actions:
                    for site in SITES:
                        fast = access.can(session, user, act, Resource(obj, site=site))
                        expected = oracle(lines, position, held_at, site, obj, act)
                        assert reference.enforce(user, site, obj, act) == expected, (user, site, obj, act)
                        checked += 1
                        if fast and not expected:
                            unauthorized_successes.append((user, site, obj, act))
                        if expected and not fast:
                            wrong_denials.append((user, site, obj, act))
    assert checked == 2 * 3 * sum(len(a) for a in POLICY.vocabulary.values())
    assert unauthorized_successes == []
    assert wrong_denials == []


def test_indexed_reference_decides_as_plain_casbin(db):
    """The matrix above asks Casbin's FastEnforcer (indexed on object type and action) for speed: on every
    request of the matrix for a site-level and a company-wide holder of one position, it decides as the plain
    enforcer evaluating every policy line. The position holds both site-scoped and company-level lines."""
    position = "energy_data_admin" if "energy_data_admin" in POSITIONS else POSITIONS[0]
    _matrix_users(db, position)
    with db.read() as session:
        links = [(u, p, s) for u, p, s in org_queries.active_assignments(session)]
    plain, indexed = POLICY.reference_enforcer(links), POLICY.reference_enforcer(links, indexed=True)
    requests = [(user, site, obj, act) for user in ("site.user", "wide.user")
                for obj, actions in POLICY.vocabulary.items() for act in actions for site in SITES]
    decisions = [(r, plain.enforce(*r), indexed.enforce(*r)) for r in requests]
    assert [d for d in decisions if d[1] != d[2]] == []
    assert any(d[1] for d in decisions) and not all(d[1] for d in decisions)


def _department_of(position: str) -> str:
    from cms_workflows.access.roles import load_roles

    return next(d["code"] for d in load_roles()["departments"] for p in d["positions"] if p["code"] == position)


@pytest.mark.parametrize("position", POSITIONS)
def test_matrix_segregation_of_duties_and_route_capacity(db, position):
    """The same matrix for the rules on top of the permission (access.sod): on one's own work every
    own-work-forbidden action is refused and every other permitted action still allowed; nothing is
    allowed on one's own department where a department is audited; and who may decide a route step
    follows the same site rule as every decision (own site, company-wide, company level)."""
    from cms_workflows.access import sod
    from cms_workflows.core.errors import AccessDenied as Denied

    lines = read_policy_csv()
    department = _department_of(position)
    _matrix_users(db, position)
    wrong = []
    with db.read() as session:
        control = access.get_access()
        for user, held_at in (("site.user", "HN01"), ("wide.user", "*")):
            for site in SITES:
                counts = held_at == "*" or held_at == site
                if control.positions_held(session, user, site) != ({position} if counts else set()):
                    wrong.append(("positions_held", user, site))
                step = Resource("doc.procedure", site=site, id="X-1", authors=frozenset({"someone.else"}))
                try:
                    capacity = sod.step_capacity(control, session, user, step, step="s", action="approve",
                                                 positions=[position], taken=set(), decided_by=set())
                except Denied:
                    capacity = None
                if capacity != (position if counts else None):
                    wrong.append(("step_capacity", user, site, capacity))
                own_step = Resource("doc.procedure", site=site, id="X-1", authors=frozenset({user}))
                with pytest.raises(Denied):
                    sod.step_capacity(control, session, user, own_step, step="s", action="approve",
                                      positions=[position], taken=set(), decided_by=set())
                for obj, actions in POLICY.vocabulary.items():
                    for act in actions:
                        permitted = oracle(lines, position, held_at, site, obj, act)
                        own = access.can(session, user, act, Resource(obj, site=site, authors=frozenset({user})))
                        if own != (permitted and act not in POLICY.own_work_forbidden):
                            wrong.append(("own_work", user, site, obj, act))
                        audited = access.can(session, user, act, Resource(obj, site=site, department=department))
                        if audited:
                            wrong.append(("own_department", user, site, obj, act))
    assert wrong == []


def test_annex_a_duties_are_in_the_policy(company, db):
    """Spot checks of A.1 duties as written in policy.csv."""
    with db.read() as session:
        can = lambda u, a, t, s="HN01": access.can(session, u, a, Resource(t, site=s))  # noqa: E731
        assert can("gm", "approve", "doc.policy")  # approves the carbon policy
        assert can("gm", "approve", "doc.plan")  # GHG quality-control plan, trading plan
        assert can("carbon_accountant.hn01", "compile", "emission_report")
        assert can("carbon_accountant.hn01", "submit", "emission_report")
        assert not can("carbon_accountant.hn01", "approve", "emission_report")
        assert can("energy_data_admin.hn01", "submit", "activity_data")
        assert not can("energy_data_admin.hn01", "submit", "activity_data", "HN02")  # other site
        assert can("verifier", "read", "doc.policy") and can("verifier", "export", "audit_trail", "*")
        for obj, actions in POLICY.vocabulary.items():
            for act in actions:
                if act not in ("read", "verify", "export"):
                    assert not can("verifier", act, obj), (obj, act)  # external verifiers change nothing
        assert not can("admin", "approve", "doc.policy")  # the administrator takes no part in approvals


def test_denial_names_the_needed_positions(company, db):
    with db.read() as session:
        with pytest.raises(AccessDenied) as err:
            access.require(session, "purchaser.hn01", "approve", Resource("doc.policy", site="HN01"))
    message = err.value.message("zh-CN")
    assert "general_manager" in message and "公司法人/总经理" in message
    assert "purchaser.hn01" in message


def test_grant_names_position_and_site(company, db):
    with db.read() as session:
        grant = access.require(session, "carbon_accountant.hn02", "run", Resource("calculation", site="HN02"))
    assert (grant.username, grant.position, grant.site) == ("carbon_accountant.hn02", "carbon_accountant", "HN02")


def test_nobody_reviews_or_approves_their_own_work(company, db):
    with db.read() as session:
        own = Resource("doc.policy", site="HN01", authors=frozenset({"gm"}))
        with pytest.raises(AccessDenied) as err:
            access.require(session, "gm", "approve", own)
        assert "职责分离" in err.value.message("zh-CN")
        with pytest.raises(AccessDenied):
            access.require(session, "strategy_manager.hn01", "review", Resource("doc.procedure", site="HN01", authors=frozenset({"strategy_manager.hn01"})))
        # reading and distributing one's own work are fine; someone else may approve it
        access.require(session, "gm", "read", own)
        access.require(session, "gm", "approve", Resource("doc.policy", site="HN01", authors=frozenset({"strategy_manager.hn01"})))


def test_auditor_does_not_audit_own_department(company, db):
    with db.read() as session:
        # auditor1 also holds energy_engineer at HN01: energy_management is their own department
        with pytest.raises(AccessDenied) as err:
            access.require(session, "auditor1", "read", Resource("activity_data", site="HN01", department="energy_management"))
        assert "energy_management" in err.value.message("zh-CN")
        access.require(session, "auditor1", "read", Resource("activity_data", site="HN01", department="quality_control"))
        access.require(session, "auditor2", "read", Resource("activity_data", site="HN01", department="energy_management"))


def test_decisions_follow_assignment_changes_and_dates(db):
    today = db.clock.today()  # the installation's day (Asia/Shanghai), not the host's
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN01", "一厂")
        org.create_user(session, "admin", "zhang", "张三")
        row = org.assign(session, "admin", "zhang", "carbon_accountant", "HN01", valid_from=today - timedelta(days=30))
        org.assign(session, "admin", "zhang", "carbon_trader", "HN01", valid_from=today + timedelta(days=1))
    run = Resource("calculation", site="HN01")
    with db.read() as session:
        assert access.can(session, "zhang", "run", run)
        assert not access.can(session, "zhang", "submit", Resource("doc.plan", site="HN02"))
    with db.unit_of_work() as session:
        org.end_assignment(session, "admin", row.id, today - timedelta(days=1), "离职")
    with db.read() as session:
        assert not access.can(session, "zhang", "run", run)  # ended yesterday
        assert not access.can(session, "zhang", "draft", Resource("doc.plan", site="HN01"))  # trader starts tomorrow


def test_uncommitted_assignment_is_seen_in_its_own_unit_of_work_only(db):
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN01", "一厂")
        org.create_user(session, "admin", "li", "李四")
    with pytest.raises(RuntimeError):
        with db.unit_of_work() as session:
            org.assign(session, "admin", "li", "carbon_accountant", "HN01")
            assert access.can(session, "li", "run", Resource("calculation", site="HN01"))
            raise RuntimeError("roll back")
    with db.read() as session:
        assert not access.can(session, "li", "run", Resource("calculation", site="HN01"))


def test_deactivated_user_can_do_nothing(company, db):
    with db.unit_of_work() as session:
        org.deactivate_user(session, "admin", "carbon_accountant.hn01", "离职")
    with db.read() as session:
        assert not access.can(session, "carbon_accountant.hn01", "read", Resource("doc.policy", site="HN01"))


# ---------------------------------------------------------------- the policy files are checked at load


def _policy_copy(tmp_path, extra_line: str):
    folder = tmp_path / "policies"
    shutil.copytree(POLICY.directory, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    with open(folder / "policy.csv", "a", encoding="utf-8") as fh:
        fh.write(extra_line + "\n")
    lineno = sum(1 for _ in open(folder / "policy.csv", encoding="utf-8"))
    return folder, lineno


@pytest.mark.parametrize(
    "line, key, value",
    [
        ("p, chief_dreamer, *, doc.policy, approve", "policy.unknown_position", "chief_dreamer"),
        ("p, general_manager, *, doc.poem, approve", "policy.unknown_object_type", "doc.poem"),
        ("p, general_manager, *, doc.policy, bless", "policy.unknown_action", "bless"),
        ("p, general_manager, doc.policy, approve", "policy.bad_shape", None),
        ("g, alice, general_manager, *", "policy.no_grouping", None),
    ],
)
def test_malformed_policy_line_is_a_clear_error_naming_the_line(tmp_path, line, key, value):
    folder, lineno = _policy_copy(tmp_path, line)
    with pytest.raises(PolicyError) as err:
        Policy(folder)
    assert err.value.key == key
    message = err.value.message("en")
    assert f"line {lineno}" in message and "policy.csv" in message
    if value:
        assert value in message


def test_custom_policy_changes_decisions(tmp_path, company, db):
    folder, _ = _policy_copy(tmp_path, "p, purchaser, *, doc.policy, approve")
    access.set_access(AccessControl(Policy(folder), access.directory()))
    try:
        with db.read() as session:
            assert access.can(session, "purchaser.hn01", "approve", Resource("doc.policy", site="HN01"))
    finally:
        access.set_access(None)
    with db.read() as session:
        assert not access.can(session, "purchaser.hn01", "approve", Resource("doc.policy", site="HN01"))
