"""Signing in and out through the pages, the session cookie's flags, CSRF, the language, and /api/v1/me."""

from __future__ import annotations

from sqlmodel import select

from cms_workflows.audit.models import AuditEvent
from cms_workflows.identity import service as identity
from cms_workflows.web.session import LANGUAGE_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE

PASSWORD = "correct horse battery"


def _set_password(db, username: str) -> None:
    with db.unit_of_work() as uow:
        identity.set_password(uow, "admin", username, PASSWORD)


def _login(anonymous, username: str, password: str, next_path: str = "/"):
    page = anonymous.get("/login")
    assert page.status_code == 200
    csrf = anonymous.cookies.get(LOGIN_CSRF_COOKIE)
    return anonymous.post("/login", data={"username": username, "password": password, "csrf_token": csrf, "next": next_path})


def test_sign_in_sets_a_locked_down_session_cookie_and_sign_out_revokes_it(db, anonymous):
    _set_password(db, "gm")
    response = _login(anonymous, "gm", PASSWORD, "/api/v1/me")
    assert response.status_code == 303 and response.headers["location"] == "/api/v1/me"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain http in tests
    me = anonymous.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["username"] == "gm"
    assert {"position": "general_manager", "site": "*"} in me.json()["positions"]
    token = anonymous.cookies.get(SESSION_COOKIE)
    from cms_workflows.web.session import csrf_for

    assert anonymous.post("/logout", data={"csrf_token": csrf_for(token)}).status_code == 303
    anonymous.cookies.set(SESSION_COOKIE, token)  # a copied cookie is worth nothing after sign-out
    assert anonymous.get("/api/v1/me").status_code == 401
    with db.read() as uow:
        actions = [e.action for e in uow.exec(select(AuditEvent).where(AuditEvent.object_id == "gm"))]
    assert "identity.login.succeed" in actions and "identity.token.revoke" in actions


def test_a_wrong_password_is_shown_on_the_form_and_recorded(db, anonymous):
    _set_password(db, "gm")
    response = _login(anonymous, "gm", "not the password")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text and 'value="gm"' in response.text
    with db.read() as uow:
        assert uow.exec(select(AuditEvent).where(AuditEvent.action == "identity.login.fail")).first() is not None


def test_sign_in_is_throttled_after_five_failures(db, anonymous):
    _set_password(db, "gm")
    for _ in range(5):
        _login(anonymous, "gm", "wrong wrong wrong")
    response = _login(anonymous, "gm", PASSWORD)
    assert response.status_code == 429 and "15" in response.text


def test_a_login_post_without_its_csrf_cookie_is_refused(db, anonymous):
    _set_password(db, "gm")
    response = anonymous.post("/login", data={"username": "gm", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_empty_fields_come_back_next_to_the_fields(anonymous):
    response = _login(anonymous, "", "")
    assert response.status_code == 422
    assert 'id="error-username"' in response.text and 'id="error-password"' in response.text


def test_sign_in_never_redirects_to_another_site(db, anonymous):
    _set_password(db, "gm")
    response = _login(anonymous, "gm", PASSWORD, "//evil.example/")
    assert response.headers["location"] == "/"


def test_pages_send_an_anonymous_browser_to_sign_in_and_the_api_answers_401_as_a_problem(anonymous):
    page = anonymous.get("/api/v1/me")
    assert page.status_code == 401 and page.headers["content-type"].startswith("application/problem+json")
    assert page.json()["status"] == 401


def test_the_language_is_the_users_choice(db, browser):
    gm = browser("gm")
    assert gm.submit("/language", {"locale": "en", "next": "/api/v1/me"}).status_code == 303
    assert gm.cookies.get(LANGUAGE_COOKIE) == "en"
    assert gm.get("/api/v1/me").json()["locale"] == "en"
    assert gm.post("/language", data={"locale": "zh-CN"}).status_code == 403  # no CSRF token
    assert gm.get("/api/v1/me").json()["locale"] == "en"


def test_a_form_post_carries_its_own_sessions_token_only(db, app, browser):
    """CSRF: a token taken from one user's page does not work with another user's session cookie, and a page
    of another site cannot read either (the cookie is HttpOnly, the token a hash of it)."""
    from fastapi.testclient import TestClient

    from cms_workflows.web.session import SESSION_COOKIE
    from tests.conftest import token_for
    from tests.documents.conftest import new_procedure

    gm = browser("gm")
    legal = TestClient(app, follow_redirects=False)
    legal.cookies.set(SESSION_COOKIE, token_for(db, "legal.lead"))
    crossed = legal.post("/language", data={"locale": "en", "csrf_token": gm.csrf})
    assert crossed.status_code == 403 and crossed.headers["x-cms-error"] == "web.csrf_refused"
    assert legal.get("/api/v1/me").json()["locale"] == "zh-CN"  # nothing changed
    number = new_procedure(db)
    api = legal.post(f"/api/v1/documents/{number}/decisions", json={"decision": "approve"},
                     headers={"X-CSRF-Token": gm.csrf})
    assert api.status_code == 403 and api.headers["x-cms-error"] == "web.csrf_refused"
