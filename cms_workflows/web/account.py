"""Signing in and out, the user's language, and who am I (`/api/v1/me`)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows.core.errors import CmsError, ValidationFailed
from cms_workflows.web.authorization import OWN
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import (
    LANGUAGE_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, CsrfRefused, Viewer, checked_form, database,
    new_login_csrf, set_session_cookies, sign_in, sign_out, user_locale,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["account"])


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never //host or a scheme): sign-in must not become an open redirect."""
    target = target or "/"
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _login_page(request: Request, status_code: int = 200, values=None, errors=None):
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    response = page(request, "login.html", status_code=status_code, title=form("login").title, form=form("login"),
                    values=values or {}, errors=errors or {}, csrf=csrf,
                    next=_safe_next(request.query_params.get("next")))
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@pages.get("/login")
def login_form(request: Request):
    return _login_page(request)


@pages.post("/login")
async def login(request: Request):
    posted = await request.form()
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, str(posted.get("csrf_token", ""))):
        raise CsrfRefused()
    values = {"username": str(posted.get("username", ""))}
    try:
        data = form("login").parse(posted)
        username, token = sign_in(database(request), data["username"], data["password"])
    except ValidationFailed as exc:
        return _login_page(request, 422, values, field_errors(exc))
    except CmsError as exc:  # wrong name or password (one message for both), throttled, inactive
        return _login_page(request, exc.http_status, values, {"": exc.message()})
    locale = user_locale(database(request), username)
    response = RedirectResponse(_safe_next(str(posted.get("next", ""))), status_code=303)
    set_session_cookies(response, request, token, locale)
    return response


@pages.post("/logout")
def logout(viewer: Viewer = OWN, _form=Depends(checked_form)):
    sign_out(viewer)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@pages.post("/language")
def choose_language(request: Request, viewer: Viewer = OWN, posted=Depends(checked_form)):
    """The user's language: kept as their preference (notifications follow it too) and in a cookie."""
    from cms_workflows.tasks import service as tasks

    data = form("language").parse(posted)
    viewer.act(tasks.set_locale, viewer.username, data["locale"])
    response = RedirectResponse(_safe_next(str(posted.get("next", ""))), status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, data["locale"], httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https", max_age=3600 * 24 * 365)
    return response


@pages.get("/")
def home(viewer: Viewer = OWN):
    return RedirectResponse("/dashboard", status_code=303)


@api.get("/me")
def me(viewer: Viewer = OWN):
    """The signed-in user, the positions they hold (by site) and their language."""
    from cms_workflows.access import held_positions

    with viewer.reading() as uow:
        held = held_positions(uow, viewer.username)
    return {"username": viewer.username, "positions": [{"position": p, "site": s} for p, s in held],
            "locale": user_locale(viewer.db, viewer.username), "via": viewer.via}

