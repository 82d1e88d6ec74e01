"""A real browser on a real server: the app under uvicorn on a free port (the test's database), Debian's
chromium driven by Playwright. Screenshots go to test-artifacts/screenshots/ (kept by CI as artifacts)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

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
