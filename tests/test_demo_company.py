"""The demo company reads like a real one (issue 11): people with real names, plants whose names,
facilities and profiles match the accounting data (R-6.2.3, R-6.3.5)."""

from __future__ import annotations

import re

from cms_workflows.demo import accounting as demo_accounting
from cms_workflows.demo import company as demo_company
from cms_workflows.demo import profile as demo_profile
from cms_workflows.org import queries as org_queries


def test_every_demo_user_has_a_distinct_chinese_full_name(db, company):
    """R-5.3: the people holding the positions are named persons, never their position."""
    with db.read() as session:
        users = {u.username: u for u in org_queries.list_users(session) if u.username not in ("admin", "system")}
    names = [u.display_name for u in users.values()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", n) and n[0] in demo_company.SURNAMES for n in names), names
    assert demo_company.SUCCESSOR[1] not in names  # the successor joins in the demo's handover, by another name


def test_every_plan_item_has_a_facility_name_and_every_review_member_exists(company):
    """R-6.3.5: the data collection plan names each facility; R-6.2.3: the review team are demo users."""
    assert {(site, facility) for site, _u, facility, *_r in demo_accounting.PLAN} == set(demo_accounting.FACILITY_NAMES)
    users = {u for holders in company.values() for u in holders}
    for site, team in demo_profile.REVIEW_TEAMS.items():
        assert {u for u, _role in team} <= users
        assert dict((c, zh) for c, zh, _en in demo_company.SITES)[site] in demo_profile.SITE_PROFILES[site]
