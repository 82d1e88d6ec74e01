"""Engine, unit of work and schema management.

Services never commit: the caller opens one unit of work per command, the
command authorizes, validates, changes state and appends its audit event, and the
unit of work commits once. A failure anywhere rolls the whole command back.

SQLite is the embedded default (one file, WAL, foreign keys on). Writing units of
work start with BEGIN IMMEDIATE so two writers queue on the database lock instead
of failing on a stale snapshot; read-only units use an ordinary deferred BEGIN.
PostgreSQL is used through the same code (psycopg 3).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from uuid import uuid4

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from cms_workflows.core.clock import Clock, utcnow  # noqa: F401  (utcnow: model defaults)
from cms_workflows.core.config import Settings, get_settings
from cms_workflows.core.filestore import FileStore
from cms_workflows.core.uow import UnitOfWork

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control from pysqlite so BEGIN is ours to choose.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # on the driver's connection: SQLAlchemy's statement machinery was a fair part of a short read (bench/web.py)
        conn.connection.dbapi_connection.execute(_BEGIN[mode])


class Database:
    """One database: its engine, its clock and file store, and units of work."""

    def __init__(self, url: str, *, settings: Settings | None = None, clock: Clock | None = None,
                 **engine_kwargs) -> None:
        self.url = url
        self.instance = uuid4().hex  # names this database in process-wide caches
        self.settings = settings or get_settings()
        self.clock = clock or Clock(self.settings.timezone)
        self.files = FileStore(self.settings.file_store_dir)
        self.engine = make_engine(url, **engine_kwargs)
        self._read_engine = self.engine.execution_options(sqlite_begin="DEFERRED")

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Database":
        settings = settings or get_settings()
        return cls(settings.resolved_database_url(), settings=settings)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One command: commits on success (refusing a write without an audit event), rolls back on any
        exception; files the command stored follow the transaction's fate."""
        with UnitOfWork(self, bind=self.engine) as uow:
            try:
                yield uow
                uow.commit()
            except BaseException:
                uow.rollback()
                uow.files.rolled_back()
                raise
            uow.files.committed()

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A read-only unit of work (never commits)."""
        # closing (not rolling back) ends the transaction and keeps loaded objects usable
        with self.read_unit() as uow:
            yield uow

    def read_unit(self) -> UnitOfWork:
        """A read-only unit of work the caller closes (`read()` is the usual way)."""
        return UnitOfWork(self, bind=self._read_engine)

    @contextmanager
    def read_connection(self):
        """A Core connection for bulk reads, without taking SQLite's write lock."""
        with self._read_engine.connect() as conn:
            yield conn

    def upgrade(self, revision: str = "heads") -> None:
        """Create or upgrade the schema in place with the Alembic migrations."""
        from alembic import command

        with self.engine.begin() as conn:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def current_revisions(self) -> set[str]:
        """The migrations the database says it is at (empty before `cms init`).

        Read from Alembic's own table with a plain query: importing Alembic costs more than the rest
        of a simple command's start (issue 15), and every command checks this."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(VERSION_TABLE):
                return set()
            return {row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}

    def dispose(self) -> None:
        self.engine.dispose()


VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The heads of the migration scripts (what `cms init` upgrades to), read from the scripts' own
    `revision` / `down_revision` lines without importing Alembic: a head is a revision no other script
    names as its parent. tests/test_migrations.py checks that this agrees with Alembic's ScriptDirectory."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (resources.files("cms_workflows") / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py") or script.name.startswith("_"):
            continue
        found = dict(_ASSIGNMENT.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("cms_workflows") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
