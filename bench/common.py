"""Helpers shared by the benchmarks: timing medians and a throw-away database."""

from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def median_rate(fn, count: int, repeats: int = 5) -> tuple[float, list[float]]:
    """Run fn() `repeats` times; each run does `count` operations. Returns (median ops/s, all)."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates), rates


def scratch_database(url: str | None = None, **settings_overrides):
    """A fresh, initialised database: a SQLite file in a temp folder unless a URL is given."""
    from cms_workflows.bootstrap import installation
    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database

    folder = Path(tempfile.mkdtemp(prefix="cms-bench-"))
    settings = get_settings(data_dir=folder, database_url=url, audit_key="bench-key", locale="en", **settings_overrides)
    db = Database(settings.resolved_database_url(), settings=settings)
    installation.initialize(db)
    return db


def fmt(rate: float) -> str:
    return f"{rate:,.0f}"


@contextmanager
def scratch_postgres(server_url: str):
    """A new, empty PostgreSQL database on the server of `server_url`, dropped afterwards (never touch the named one)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    name = f"cms_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
