"""Organisation (R-5.3): Annex A reference data, users, assignments that end but never vanish."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml

from cms_workflows import audit
from cms_workflows.core.errors import AccessDenied, NotFound, ValidationFailed
from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org


def test_annex_a_table_is_seeded_with_both_languages_and_duties(db):
    roles = yaml.safe_load(open("cms_workflows/data/roles.yaml", encoding="utf-8"))
    annex = [p for d in roles["departments"] if d["source"] == "annex_a" for p in d["positions"] if p.get("source") != "added"]
    assert len(annex) == 23  # 表A.1: 1 + 5 + 2 + 3 + 2 + 3 + 4 + 3 positions
    with db.read() as session:
        positions = {p.code: p for p in org_queries.list_positions(session)}
        departments = {d.code for d in org_queries.list_departments(session)}
    assert {"top_management", "carbon_management", "energy_management", "environmental_protection", "production",
            "rnd", "procurement", "quality_control"} <= departments
    for p in positions.values():
        assert p.name_zh and p.name_en and p.duties_zh and p.duties_en
    assert positions["general_manager"].name_zh == "公司法人/总经理"
    assert "温室气体质量控制计划" in positions["general_manager"].duties_zh
    assert positions["external_verifier"].read_only and positions["external_verifier"].source == "added"


def test_seeding_twice_changes_nothing(db):
    with db.unit_of_work() as session:
        assert org.seed_reference_data(session) == {"departments": 0, "positions": 0}


def test_assignment_lifecycle_keeps_history(db):
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN01", "一厂", "Plant 1")
        org.create_user(session, "admin", "wang.wu", "王五", "wang.wu@example.cn")
        first = org.assign(session, "admin", "wang.wu", "energy_data_admin", "HN01", date(2025, 1, 1))
    with db.unit_of_work() as session:
        org.end_assignment(session, "admin", first.id, date(2025, 6, 30), "调岗")
        org.assign(session, "admin", "wang.wu", "energy_data_admin", "HN01", date(2025, 7, 1))
    with db.read() as session:
        rows = org_queries.list_assignments(session, "wang.wu")
        events = audit.events_for(session, "assignment")
    assert [(a.valid_from, a.valid_to) for a, _ in rows] == [(date(2025, 1, 1), date(2025, 6, 30)), (date(2025, 7, 1), None)]
    assert rows[0][0].end_reason == "调岗"
    assert [e.action for e in events][-3:] == ["org.assignment.create", "org.assignment.end", "org.assignment.create"]


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(username="ghost", position="carbon_accountant", site="HN01"), "org.unknown_user"),
        (dict(username="zhao", position="chief_dreamer", site="HN01"), "org.unknown_position"),
        (dict(username="zhao", position="carbon_accountant", site="HN77"), "org.unknown_site"),
        (dict(username="zhao", position="carbon_accountant", site="HN01", valid_from=date(2025, 5, 1), valid_to=date(2025, 4, 1)), "org.bad_dates"),
        (dict(username="zhao", position="carbon_accountant", site="HN01", valid_from=date(2025, 3, 1)), "org.overlapping_assignment"),
    ],
)
def test_bad_assignment_is_a_clear_error_and_writes_nothing(db, kwargs, key):
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN01", "一厂")
        org.create_user(session, "admin", "zhao", "赵六")
        org.assign(session, "admin", "zhao", "carbon_accountant", "HN01", date(2025, 1, 1), date(2025, 12, 31))
    with db.read() as session:
        before = (len(org_queries.list_assignments(session)), len(audit.events_for(session)))
    with pytest.raises((ValidationFailed, NotFound)) as err:
        with db.unit_of_work() as session:
            org.assign(session, "admin", **kwargs)
    assert err.value.key == key
    assert err.value.message("zh-CN") != key  # a translated message, not the bare key
    with db.read() as session:
        assert (len(org_queries.list_assignments(session)), len(audit.events_for(session))) == before


def test_non_overlapping_reassignment_is_allowed(db):
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN01", "一厂")
        org.create_user(session, "admin", "zhao", "赵六")
        org.assign(session, "admin", "zhao", "carbon_accountant", "HN01", date(2025, 1, 1), date(2025, 6, 30))
        org.assign(session, "admin", "zhao", "carbon_accountant", "HN01", date(2025, 7, 1))
        org.assign(session, "admin", "zhao", "carbon_accountant", "*", date(2025, 1, 1))  # another site is another assignment


@pytest.mark.parametrize(
    "username, display_name, email, field",
    [("Bad Name", "x", None, "username"), ("ok.name", "  ", None, "display_name"), ("ok.name", "名字", "not-an-email", "email")],
)
def test_invalid_user_names_the_field(db, username, display_name, email, field):
    with pytest.raises(ValidationFailed) as err:
        with db.unit_of_work() as session:
            org.create_user(session, "admin", username, display_name, email)
    assert [p["field"] for p in err.value.problems] == [field]


def test_duplicate_user_and_site_are_refused(db):
    with db.unit_of_work() as session:
        org.create_site(session, "admin", "HN01", "一厂")
        org.create_user(session, "admin", "zhao", "赵六")
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            org.create_user(session, "admin", "zhao", "另一个赵六")
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            org.create_site(session, "admin", "HN01", "又一厂")


def test_only_the_administrator_manages_users(company, db):
    with pytest.raises(AccessDenied) as err:
        with db.unit_of_work() as session:
            org.create_user(session, "gm", "newbie", "新人")
    assert "system_admin" in err.value.message("en")


def test_deactivation_ends_assignments_and_deletes_nothing(company, db):
    today = db.clock.today()  # the installation's day (Asia/Shanghai), not the host's
    with db.unit_of_work() as session:
        org.deactivate_user(session, "admin", "purchaser.hn01", "离职")
    with db.read() as session:
        user = org_queries.get_user(session, "purchaser.hn01")
        rows = org_queries.list_assignments(session, "purchaser.hn01")
    assert not user.active and user.deactivated_at is not None
    assert rows and all(a.valid_to is not None and a.valid_to <= max(today, a.valid_from) for a, _ in rows)
    with pytest.raises(ValidationFailed):
        with db.unit_of_work() as session:
            org.assign(session, "admin", "purchaser.hn01", "purchaser", "HN01", today + timedelta(days=1))


def test_first_administrator_only_once(db):
    from cms_workflows.core.errors import CmsError

    with pytest.raises(CmsError) as err:
        with db.unit_of_work() as session:
            org.bootstrap_admin(session, "admin2", "第二管理员")
    assert err.value.key == "org.admin_exists"
