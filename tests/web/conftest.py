"""The web app on the test database: TestClients signed in as a user by session cookie (with the CSRF
token the pages would carry) or by bearer token (the API)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cms_workflows.web.app import create_app
from cms_workflows.web.session import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_for
from tests.conftest import token_for


class UserClient(TestClient):
    """A browser signed in as one user: form posts carry the CSRF token, as the pages' forms do."""

    def __init__(self, app, token: str, username: str) -> None:
        super().__init__(app, follow_redirects=False)
        self.username, self.token, self.csrf = username, token, csrf_for(token)
        self.cookies.set(SESSION_COOKIE, token)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        """A form post as the page sends it (with its CSRF token)."""
        return self.post(url, data={**(data or {}), CSRF_FIELD: self.csrf}, **kwargs)

    def api_write(self, method: str, url: str, **kwargs):
        """An API call that changes something, from a page's session (the CSRF header)."""
        headers = {**kwargs.pop("headers", {}), CSRF_HEADER: self.csrf}
        return self.request(method, url, headers=headers, **kwargs)


class BearerClient(TestClient):
    """A script with an API token (no cookie, so no CSRF token)."""

    def __init__(self, app, token: str, username: str) -> None:
        super().__init__(app, follow_redirects=False, headers={"Authorization": f"Bearer {token}"})
        self.username = username


@pytest.fixture
def app(db, company):
    return create_app(db)


@pytest.fixture
def anonymous(app):
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def browser(app, db):
    """browser(username) -> a UserClient signed in as that user (one sign-in per user and test)."""
    made: dict[str, UserClient] = {}

    def signed_in(username: str) -> UserClient:
        if username not in made:
            made[username] = UserClient(app, token_for(db, username), username)
        return made[username]

    return signed_in


@pytest.fixture
def api(app, db):
    """api(username) -> a BearerClient for that user."""
    made: dict[str, BearerClient] = {}

    def client(username: str) -> BearerClient:
        if username not in made:
            made[username] = BearerClient(app, token_for(db, username), username)
        return made[username]

    return client
