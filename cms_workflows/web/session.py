"""Who is asking: the signed-in user of a request, their session cookie and its CSRF token.

A web session is an identity token (the same rows as `cms login` and `cms tokens`), kept in an
HttpOnly, SameSite=Lax cookie (Secure over HTTPS); the API takes the same tokens as a bearer header.
Signing in is the `identity.login.succeed` command (throttled, audited); signing out revokes the token.

CSRF: a form post from a page carries `csrf_token`, the SHA-256 of the session token under a label.
Another site cannot read the cookie (HttpOnly) nor compute the value; a bearer request carries no
cookie, so it needs none. The sign-in form, before any session, is protected by a double-submit
cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from cms_workflows.access import Actor
from cms_workflows.core.errors import AuthenticationFailed, CmsError

SESSION_COOKIE = "cms_session"
LANGUAGE_COOKIE = "cms_lang"
LOGIN_CSRF_COOKIE = "cms_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_DAYS = 1


class NotSignedIn(CmsError):
    """No valid session: pages send the browser to the sign-in page, the API answers 401."""

    key = "web.not_signed_in"
    http_status = 401


class CsrfRefused(CmsError):
    key = "web.csrf_refused"
    http_status = 403


def csrf_for(token: str) -> str:
    return hashlib.sha256(f"cms-csrf:{token}".encode()).hexdigest()


class RequestReads:
    """The read unit of work of one request: signing in, the permission decision and the route's own reads share
    it (one session object, with the access module's per-unit caches), each step in a transaction of its own
    that gives its connection back when the step ends (a request waiting for a worker thread holds none)."""

    def __init__(self, db) -> None:
        self.db = db
        self._uow = None
        self._depth = 0
        self._stale = False

    @contextmanager
    def reading(self):
        if self._uow is None:
            self._uow = self.db.read_unit()
        self._depth += 1
        try:
            yield self._uow
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._uow.close()  # ends the transaction, returns the connection; loaded objects stay usable
                if self._stale:
                    self._uow, self._stale = None, False

    def written(self) -> None:
        """A command wrote: later reads start afresh (the caches may describe the state before it)."""
        if self._depth == 0:
            self._uow = None
        else:
            self._stale = True


def request_reads(request: Request) -> RequestReads:
    reads = getattr(request.state, "reads", None)
    if reads is None:
        reads = request.state.reads = RequestReads(database(request))
    return reads


@dataclass
class Viewer:
    """The signed-in user of one request, and how to act or read as them."""

    actor: Actor
    token: str
    via: str  # "session" (cookie) or "bearer" (API token)
    db: object
    reads: RequestReads | None = field(default=None, repr=False)

    @property
    def username(self) -> str:
        return str(self.actor)

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)

    @contextmanager
    def reading(self):
        """A read unit of work: the request's (see RequestReads), or outside a request one of its own."""
        if self.reads is None:
            with self.db.read() as uow:
                yield uow
        else:
            with self.reads.reading() as uow:
                yield uow

    def act(self, command, *args, **kwargs):
        """Run one service command as this user, in its own unit of work (one transaction)."""
        try:
            with self.db.unit_of_work() as uow:
                return command(uow, self.actor, *args, **kwargs)
        finally:
            if self.reads is not None:
                self.reads.written()


def database(request: Request):
    return request.app.state.db


def request_token(request: Request) -> tuple[str | None, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), "bearer"
    return request.cookies.get(SESSION_COOKIE), "session"


def signed_in_viewer(request: Request) -> Viewer:
    """The request's viewer, authenticated in the request's read unit of work on first use (blocking: call it
    from a worker thread, as the permission dependency does)."""
    from cms_workflows.identity import queries as identity

    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    token, via = request_token(request)
    if not token:
        raise NotSignedIn()
    reads = request_reads(request)
    try:
        with reads.reading() as uow:
            username = identity.authenticate(uow, token)
    except (CmsError, AuthenticationFailed):
        raise NotSignedIn() from None
    viewer = request.state.viewer = Viewer(Actor(username), token, via, reads.db, reads)
    return viewer


async def current_viewer(request: Request) -> Viewer:
    """The dependency of every signed-in route. Async, so that a viewer the permission dependency already
    signed in costs no hop to the thread pool; otherwise the sign-in runs in one."""
    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    return await run_in_threadpool(signed_in_viewer, request)


async def checked_form(request: Request) -> dict:
    """The posted form of a signed-in page, after its CSRF token was checked (a dependency)."""
    viewer = await current_viewer(request)
    form = await request.form()
    if viewer.via == "session" and not hmac.compare_digest(str(form.get(CSRF_FIELD, "")), viewer.csrf):
        raise CsrfRefused()
    return form


def check_api_csrf(request: Request, viewer: Viewer) -> None:
    """An API call that changes something with a session cookie (the pages' own scripts) names the
    CSRF token in a header; a bearer call needs none."""
    if viewer.via == "session" and not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), viewer.csrf):
        raise CsrfRefused()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def sign_in(db, username: str, password: str) -> tuple[str, str]:
    """Check the password and open a session: (username, token). A refusal is recorded (and throttles)."""
    from cms_workflows.identity import service as identity

    try:
        with db.unit_of_work() as uow:
            row, token = identity.login(uow, username, username, password, label="web", days=SESSION_DAYS)
    except AuthenticationFailed:
        with db.unit_of_work() as uow:
            identity.record_failed_login(uow, username)
        raise
    return row.username, token


def sign_out(viewer: Viewer) -> None:
    from cms_workflows.identity import queries as identity_queries
    from cms_workflows.identity import service as identity

    with viewer.reading() as uow:
        token_id = identity_queries.token_row(uow, viewer.token).id
    viewer.act(identity.revoke_token, token_id)


def user_locale(db, username: str) -> str:
    """The language the user chose (the same preference their notifications follow), else the installation's."""
    from cms_workflows.tasks.outbox import recipient_locale

    with db.read() as uow:
        return recipient_locale(uow, username)


def set_session_cookies(response, request: Request, token: str, locale: str | None) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")
    if locale:
        response.set_cookie(LANGUAGE_COOKIE, locale, httponly=True, samesite="lax", secure=secure, path="/",
                            max_age=3600 * 24 * 365)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
