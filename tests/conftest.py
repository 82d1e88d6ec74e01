"""Fixtures: a fresh, migrated database per test, on SQLite or on PostgreSQL.

SQLite (default): each test gets a copy of a template database file that was
migrated and initialised once per session. PostgreSQL (when CMS_TEST_DATABASE_URL
is set, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test): each test gets a
new database created from a template database, dropped afterwards. Either way the
schema comes from the Alembic migrations, exactly as `cms init` makes it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cms_workflows.bootstrap import configure
from cms_workflows.core.config import Settings, get_settings
from cms_workflows.core.db import Database

configure()  # access reads the organisation through org's directory, as in every process of cms

PG_URL = os.environ.get("CMS_TEST_DATABASE_URL")
TEST_AUDIT_KEY = "test-audit-key-not-secret"
TEST_COMPANY_NAME = "湖南示范制造有限公司"
requires_postgres = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set CMS_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
# the fixtures that hand a test the database of the run (CMS_TEST_DATABASE_URL's server, else SQLite)
DATABASE_FIXTURES = {"db", "empty_db"}


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, only the tests that use its database run: through a database fixture, or marked
    `postgres`. The others (pure functions, and the tests that make their own fresh SQLite installation as a
    new user does: the README tour, the demo, the wheel) would repeat the SQLite run unchanged."""
    if not PG_URL:
        return
    repeat = pytest.mark.skip(reason="uses no database of CMS_TEST_DATABASE_URL: the SQLite run covers it")
    for item in items:
        if not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("postgres") is None:
            item.add_marker(repeat)


def pytest_report_header(config):
    return f"cms database: {'PostgreSQL ' + make_url(PG_URL).render_as_string(hide_password=True) if PG_URL else 'SQLite files'}"


def make_settings(data_dir: Path, url: str | None = None) -> Settings:
    return get_settings(data_dir=data_dir, database_url=url, audit_key=TEST_AUDIT_KEY, locale="zh-CN",
                        company_name=TEST_COMPANY_NAME)


def _pg_admin_engine():
    url = make_url(PG_URL)
    if url.drivername in ("postgresql", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT"), url


@contextmanager
def _pg_database(data_dir: Path, template: str | None = None):
    """A new PostgreSQL database (a copy of `template` if given), dropped afterwards."""
    admin, base = _pg_admin_engine()
    dbname = f"cms_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else "")))
    url = base.set(database=dbname).render_as_string(hide_password=False)
    database = Database(url, settings=make_settings(data_dir, url))
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


def _build(db: Database, with_company: bool) -> None:
    from cms_workflows.bootstrap import installation
    from cms_workflows.demo import company as demo_company

    installation.initialize(db)
    if with_company:
        with db.unit_of_work() as session:
            demo_company.seed(session)


class Templates:
    """Template databases built once per test session (per xdist worker)."""

    def __init__(self, root: Path, worker: str) -> None:
        self.root = root
        self.worker = worker
        self.built: dict[str, str] = {}

    def get(self, with_company: bool) -> str:
        name = "company" if with_company else "empty"
        if name not in self.built:
            if PG_URL:
                admin, base = _pg_admin_engine()
                # named per test run as well as per worker: two runs on one server must not share templates
                run = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:8]
                dbname = f"cms_tmpl_{run}_{self.worker}_{name}"
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{dbname}"'))
                url = base.set(database=dbname).render_as_string(hide_password=False)
                db = Database(url, settings=make_settings(self.root / name, url))
                _build(db, with_company)
                db.dispose()
                admin.dispose()
                self.built[name] = dbname
            else:
                folder = self.root / name
                db = Database(f"sqlite:///{folder / 'cms.db'}", settings=make_settings(folder))
                _build(db, with_company)
                db.dispose()  # the last connection closing checkpoints the WAL into the file
                self.built[name] = str(folder / "cms.db")
        return self.built[name]


@pytest.fixture(scope="session")
def _templates(tmp_path_factory, worker_id):
    templates = Templates(tmp_path_factory.mktemp("templates"), worker_id)
    yield templates
    if PG_URL and templates.built:
        admin, _base = _pg_admin_engine()
        with admin.connect() as conn:
            for dbname in templates.built.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db(request, tmp_path, _templates) -> Database:
    """A fresh database with the schema, the Annex A reference data, `system` and `admin`.
    With the `company` fixture in the same test it also holds the demo company."""
    with_company = "company" in request.fixturenames
    template = _templates.get(with_company)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if PG_URL:
        with _pg_database(data_dir, template) as database:
            yield database
    else:
        shutil.copyfile(template, data_dir / "cms.db")
        database = Database(f"sqlite:///{data_dir / 'cms.db'}", settings=make_settings(data_dir))
        yield database
        database.dispose()


@pytest.fixture
def settings(db) -> Settings:
    return db.settings


@pytest.fixture
def company(db) -> dict[str, list[str]]:
    """The demo company (cms_workflows.demo.company): {position: [usernames]} as seeded."""
    from cms_workflows.org import queries as org_queries

    with db.read() as session:
        holders: dict[str, list[str]] = {}
        for username, position, _site in org_queries.active_assignments(session):
            holders.setdefault(position, []).append(username)
    return {k: sorted(v) for k, v in holders.items()}


def token_for(db: Database, username: str) -> str:
    """A sign-in token for a user of the test database, as `cms tokens create` makes one (the CLI acts
    only for a signed-in user)."""
    from cms_workflows.identity import service as identity

    with db.unit_of_work() as uow:
        _row, token = identity.create_token(uow, username, username, label="test", days=1)
    return token


class CliEnv(dict):
    """The environment of `cms` run against a test database, signed in as `admin`; `as_user(name)` gives
    the same environment signed in as another user (tokens made once per user)."""

    def __init__(self, db: Database, values: dict) -> None:
        super().__init__(values)
        self.db, self._tokens = db, {}

    def sign_in_everyone(self) -> None:
        """A token for every active user now, so that signing in (itself an event) does not happen in the
        middle of a test that counts events."""
        from cms_workflows.identity import service as identity
        from cms_workflows.org.models import User
        from sqlmodel import select

        with self.db.unit_of_work() as uow:
            for user in uow.exec(select(User).where(User.active, User.username != "system")).all():
                _row, self._tokens[user.username] = identity.create_token(uow, user.username, user.username, label="test", days=1)

    def as_user(self, username: str | None) -> dict:
        if not username:
            return dict(self)
        if username not in self._tokens:
            self._tokens[username] = token_for(self.db, username)
        return {**self, "CMS_TOKEN": self._tokens[username]}


def signed_in_env(env: dict, username: str | None) -> dict:
    """`env` signed in as `username` (a CliEnv), or unchanged."""
    return env.as_user(username) if isinstance(env, CliEnv) else dict(env)


@pytest.fixture
def cli_env(db, monkeypatch, tmp_path):
    """Environment for running `cms` against the test database (in-process or as a subprocess), signed in
    as `admin`; a sign-in stored by `cms login` goes to a folder of the test's own."""
    env = {"CMS_DATA_DIR": str(db.settings.data_dir), "CMS_DATABASE_URL": db.url, "CMS_AUDIT_KEY": TEST_AUDIT_KEY, "CMS_LOCALE": "zh-CN",
           "CMS_COMPANY_NAME": TEST_COMPANY_NAME, "CMS_CONFIG_DIR": str(tmp_path / "config")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    env = CliEnv(db, env)
    env.sign_in_everyone()
    env["CMS_TOKEN"] = env.as_user("admin")["CMS_TOKEN"]
    monkeypatch.setenv("CMS_TOKEN", env["CMS_TOKEN"])
    return env


@pytest.fixture
def empty_db(tmp_path) -> Database:
    """A database with no schema at all (what `cms init` finds on a new installation)."""
    data_dir = tmp_path / "empty"
    data_dir.mkdir()
    if PG_URL:
        with _pg_database(data_dir) as database:
            yield database
    else:
        database = Database(f"sqlite:///{data_dir / 'cms.db'}", settings=make_settings(data_dir))
        yield database
        database.dispose()


@pytest.fixture
def smtp():
    """A real SMTP server on a free local port; `.mails` holds what it accepted, `.url` is CMS_SMTP_URL."""
    from aiosmtpd.controller import Controller

    from tests.smtp_server import Inbox, free_port

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}?from=cms@demo.example.cn"
    yield inbox
    controller.stop()
