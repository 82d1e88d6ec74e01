"""The web app on the test database: TestClients signed in as a user by session cookie (with the CSRF
token the pages would carry) or by bearer token (the API); and a real browser on a real server: the app
under uvicorn on a free port, Debian's chromium driven by Playwright, screenshots in
test-artifacts/screenshots/ (kept by CI as artifacts)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from cms_workflows.web.app import create_app
from cms_workflows.web.session import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_for
from tests.accounting.conftest import plan  # noqa: F401  (a fixture here too: the plants' data collection plans)
from tests.conftest import token_for


DATA_ADMIN_HN01, DATA_ADMIN_HN02 = "energy_data_admin.hn01", "energy_data_admin.hn02"


def selects_sent(db) -> list[str]:
    """The SELECT statements sent through the database's engine from now on (BEGIN and ROLLBACK are the driver's,
    not counted; nor is what the event loop reads with SQLite's own driver, audit.queries.SqliteHead)."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    return sent


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


# ---------------------------------------------------------------- a real browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
requires_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                       "(apt-get install chromium; scripts/test installs it)")


@pytest.fixture
def live_url(app):
    """The app served by uvicorn on 127.0.0.1 (the same WebServer `cms serve` runs)."""
    from cms_workflows.web.server import WebServer
    from tests.smtp_server import free_port

    server = WebServer(app, "127.0.0.1", free_port()).start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class Screens:
    """Numbered screenshots of one test, named after what they show."""

    def __init__(self, test_name: str) -> None:
        backend = "pg" if os.environ.get("CMS_TEST_DATABASE_URL") else "sqlite"
        self.folder = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_]+', '_', test_name)}-{backend}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def shot(self, page, what: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def screens(request) -> Screens:
    return Screens(request.node.name)


@pytest.fixture
def new_page(chromium):
    """new_page() -> a page in a fresh browser context (its own cookies: one person per context)."""
    contexts = []

    def make():
        context = chromium.new_context(locale="zh-CN", accept_downloads=True, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
