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

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from uuid import uuid4

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from cms_workflows.core.clock import Clock, utcnow  # noqa: F401  (utcnow: model defaults)
from cms_workflows.core.config import Settings, get_settings
from cms_workflows.core.filestore import FileStore
from cms_workflows.core.uow import UnitOfWork

SQLITE_BUSY_TIMEOUT_MS = 30_000


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
        conn.exec_driver_sql(f"BEGIN {mode}")


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
        with UnitOfWork(self, bind=self._read_engine) as uow:
            yield uow

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
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("cms_workflows") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
