"""Administration through the pages: users, assignments, password resets, positions; my account
(password, tokens); the users and positions API."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from cms_workflows.access import Resource, can
from cms_workflows.audit.models import AuditEvent
from cms_workflows.identity import service as identity
from cms_workflows.org import queries as org_queries
from cms_workflows.web.session import sign_in
from tests.conftest import token_for

PASSWORD = "correct horse battery"


def _today(db):
    with db.read() as uow:
        return uow.clock.today()


def _assignment_ids(db, username: str) -> list[int]:
    with db.read() as uow:
        return [a.id for a, _u in org_queries.list_assignments(uow, username)]


def _events(db, **where) -> list[AuditEvent]:
    with db.read() as uow:
        q = select(AuditEvent).order_by(AuditEvent.seq)
        for name, value in where.items():
            q = q.where(getattr(AuditEvent, name) == value)
        return list(uow.exec(q))


def test_admin_creates_a_user_assigns_a_position_and_ending_it_removes_the_permission(db, browser, api):
    admin = browser("admin")
    created = admin.submit("/admin/users/new", {"username": "li.na", "display_name": "李娜", "email": "li.na@example.com"})
    assert created.status_code == 303 and created.headers["location"] == "/admin/users/li.na"
    start = _today(db) - timedelta(days=10)
    assigned = admin.submit("/admin/users/li.na/assignments",
                            {"position": "energy_data_admin", "site": "HN01", "valid_from": start.isoformat()})
    assert assigned.status_code == 303
    detail = admin.get("/admin/users/li.na")
    assert detail.status_code == 200 and "能源数据管理员" in detail.text and start.isoformat() in detail.text
    assert "org.user.create" in detail.text  # the account's history
    listing = admin.get("/admin/users")
    assert 'id="user-li.na"' in listing.text

    me = api("li.na").get("/api/v1/me")
    assert {"position": "energy_data_admin", "site": "HN01"} in me.json()["positions"]
    with db.read() as uow:
        assert can(uow, "li.na", "submit", Resource("activity_data", site="HN01"))

    [assignment_id] = _assignment_ids(db, "li.na")
    yesterday = (_today(db) - timedelta(days=1)).isoformat()
    ended = admin.submit(f"/admin/users/li.na/assignments/{assignment_id}/end", {"end_date": yesterday, "reason": "调岗"})
    assert ended.status_code == 303
    assert api("li.na").get("/api/v1/me").json()["positions"] == []
    with db.read() as uow:
        assert not can(uow, "li.na", "submit", Resource("activity_data", site="HN01"))
    assert "调岗" in admin.get("/admin/users/li.na").text


def test_mistakes_come_back_next_to_the_fields_and_nothing_is_written(db, browser):
    admin = browser("admin")
    before = len(_events(db))
    response = admin.submit("/admin/users/new", {"username": "Not Valid", "display_name": "某人", "email": "nope"})
    assert response.status_code == 422
    assert 'id="error-username"' in response.text and 'id="error-email"' in response.text
    assert 'value="Not Valid"' in response.text and 'value="某人"' in response.text
    duplicate = admin.submit("/admin/users/new", {"username": "gm", "display_name": "重复"})
    assert duplicate.status_code == 422 and "form-error" in duplicate.text
    assigned = admin.submit("/admin/users/gm/assignments", {"position": "no_such_position", "site": "HN01"})
    assert assigned.status_code == 422 and 'id="error-position"' in assigned.text
    [gm_assignment, *_] = _assignment_ids(db, "gm")
    ended = admin.submit(f"/admin/users/gm/assignments/{gm_assignment}/end", {"reason": ""})
    assert ended.status_code == 422 and 'id="error-reason"' in ended.text
    assert len(_events(db)) == before
    other = _assignment_ids(db, "verifier")[0]
    assert admin.submit(f"/admin/users/gm/assignments/{other}/end", {"reason": "x"}).status_code == 404


def test_a_non_administrator_is_refused_with_the_positions_needed(db, browser):
    gm = browser("gm")
    for path in ("/admin/users", "/admin/users/new", "/admin/users/admin", "/admin/positions"):
        response = gm.get(path)
        assert response.status_code == 403, path
        assert "系统管理员" in response.text and "system_admin" in response.text
    refused = gm.submit("/admin/users/new", {"username": "sneaky", "display_name": "x"})
    assert refused.status_code == 403
    with db.read() as uow:
        assert "sneaky" not in {u.username for u in org_queries.list_users(uow)}
    assert browser("verifier").get("/admin/users").status_code == 200  # user read: the verifier reads
    assert browser("verifier").get("/admin/users/new").status_code == 403


def test_a_password_reset_is_shown_once_and_ends_the_users_sign_ins(db, browser, api):
    gm_api = api("gm")
    assert gm_api.get("/api/v1/me").status_code == 200
    admin = browser("admin")
    assert admin.submit("/admin/users/gm/password", {}).status_code == 422  # not confirmed
    assert gm_api.get("/api/v1/me").status_code == 200
    response = admin.submit("/admin/users/gm/password", {"confirm": "on"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    password = re.search(r'<code id="new-password">([^<]+)</code>', response.text).group(1)
    assert len(password) >= 10
    assert gm_api.get("/api/v1/me").status_code == 401  # identity revoked every token of gm
    assert sign_in(db, "gm", password)[0] == "gm"
    assert all(password not in e.payload for e in _events(db))
    assert password not in admin.get("/admin/users/gm").text
    assert admin.submit("/admin/users/admin/password", {"confirm": "on"}).status_code == 422  # own: /account


def test_deactivating_a_user_ends_their_assignments_and_sign_ins(db, browser, api):
    user = "carbon.trader"
    assert api(user).get("/api/v1/me").status_code == 200
    admin = browser("admin")
    assert admin.submit(f"/admin/users/{user}/deactivate", {"reason": ""}).status_code == 422
    assert admin.submit(f"/admin/users/{user}/deactivate", {"reason": "离职"}).status_code == 303
    assert api(user).get("/api/v1/me").status_code == 401
    assert "已停用" in admin.get("/admin/users").text
    assert admin.submit("/admin/users/admin/deactivate", {"reason": "x"}).status_code == 422  # not oneself


def test_positions_page_and_api_show_annex_a_and_who_holds_each(browser, api):
    page = browser("admin").get("/admin/positions")
    assert page.status_code == 200
    assert "能源数据管理员" in page.text and "energy_data_admin.hn01" in page.text and "系统管理员" in page.text
    items = api("verifier").get("/api/v1/positions").json()["items"]
    data_admin = next(i for i in items if i["code"] == "energy_data_admin")
    assert {"site": "HN01", "username": "energy_data_admin.hn01"} in data_admin["holders"]
    assert data_admin["department"]["name_zh"]
    refused = api("energy_data_admin.hn01").get("/api/v1/positions")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")


def test_users_api_is_paged_and_needs_user_read(api):
    first = api("verifier").get("/api/v1/users?per_page=5")
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 5 and body["total"] > 5
    second = api("verifier").get("/api/v1/users?per_page=5&page=2").json()
    assert {u["username"] for u in second["items"]}.isdisjoint({u["username"] for u in body["items"]})
    everyone = api("admin").get("/api/v1/users?per_page=200").json()["items"]
    gm = next(u for u in everyone if u["username"] == "gm")
    assert any(a["position"] == "general_manager" and a["held"] for a in gm["assignments"])
    refused = api("gm").get("/api/v1/users")
    assert refused.status_code == 403 and any(p["code"] == "system_admin" for p in refused.json()["positions_needed"])
    assert api("admin").get("/api/v1/users?per_page=0").status_code == 422


def test_my_account_shows_my_positions_and_tokens(browser):
    page = browser("energy_data_admin.hn01").get("/account")
    assert page.status_code == 200
    assert "能源数据管理员" in page.text and "HN01" in page.text and "当前登录" in page.text


def test_changing_my_password_checks_the_current_one(db, browser):
    with db.unit_of_work() as uow:
        identity.set_password(uow, "admin", "gm", PASSWORD)
    gm = browser("gm")
    wrong = gm.submit("/account/password", {"current_password": "not it at all", "new_password": "a new password 1",
                                            "new_password_again": "a new password 1"})
    assert wrong.status_code == 422 and 'id="error-current_password"' in wrong.text
    differ = gm.submit("/account/password", {"current_password": PASSWORD, "new_password": "a new password 1",
                                             "new_password_again": "a new password 2"})
    assert differ.status_code == 422 and 'id="error-new_password_again"' in differ.text
    short = gm.submit("/account/password", {"current_password": PASSWORD, "new_password": "short",
                                            "new_password_again": "short"})
    assert short.status_code == 422 and 'id="error-new_password"' in short.text
    assert sign_in(db, "gm", PASSWORD)[0] == "gm"  # nothing changed so far
    done = gm.submit("/account/password", {"current_password": PASSWORD, "new_password": "a new password 1",
                                           "new_password_again": "a new password 1"})
    assert done.status_code == 303 and done.headers["location"] == "/account?done=password"
    assert sign_in(db, "gm", "a new password 1")[0] == "gm"
    assert gm.get("/api/v1/me").status_code == 200  # one's own change keeps one's sign-ins


def test_a_token_is_shown_once_works_and_can_be_revoked(db, browser, app):
    from fastapi.testclient import TestClient

    gm = browser("gm")
    assert gm.submit("/account/tokens", {"label": "脚本", "days": "0"}).status_code == 422
    response = gm.submit("/account/tokens", {"label": "脚本", "days": "30"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    token = re.search(r'<code id="new-token">([^<]+)</code>', response.text).group(1)
    assert token.startswith("cms_")
    script = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert script.get("/api/v1/me").json()["username"] == "gm"
    account = gm.get("/account")
    assert "脚本" in account.text and token not in account.text
    token_id = max(r.id for r in _tokens(db, "gm"))
    assert gm.submit(f"/account/tokens/{token_id}/revoke").status_code == 303
    assert script.get("/api/v1/me").status_code == 401
    token_for(db, "admin")
    others = max(r.id for r in _tokens(db, "admin"))
    assert gm.submit(f"/account/tokens/{others}/revoke").status_code == 404
    assert gm.post(f"/account/tokens/{token_id}/revoke").status_code == 403  # no CSRF token


def _tokens(db, username: str):
    from cms_workflows.identity import queries

    with db.read() as uow:
        return queries.tokens_of(uow, username)


def test_the_pages_speak_both_languages(browser):
    admin = browser("admin")
    paths = ("/admin/users", "/admin/users/new", "/admin/users/gm", "/admin/positions", "/account", "/evidence", "/verify")
    for locale, word in (("zh-CN", "用户名"), ("en", "Username")):
        assert admin.submit("/language", {"locale": locale, "next": "/account"}).status_code == 303
        for path in paths:
            response = admin.get(path)
            assert response.status_code == 200, path
            assert not re.search(r"\bweb\.(admin|evidence|form)\.", response.text), path
        assert word in admin.get("/admin/users").text
