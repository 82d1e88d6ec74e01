"""Daily sweep benchmark (issue 10, X-3): the sweep over 10,000, 30,000 and 100,000 open tasks.

Each size is built once (the demo company, its plan lines, and N open tasks inserted in bulk with the
schedule state daily sweeps up to yesterday would have left: next reminder and next escalation days;
the notices of earlier days are not materialised, so a reminder on its day also records the passed
step), then every timed run starts from a fresh copy of it (SQLite: a file copy; PostgreSQL: CREATE
DATABASE … TEMPLATE). Due dates are spread evenly over [today − 30, today + 335], so a day's sweep
reminds about 2/365 and escalates about 2/365 of the tasks — each an audited command — besides
generating the duties' occurrences and counting the outbox.

Printed: the median time of the bare service call (`bootstrap.sweep`) per size, the exponent of time
against n fitted on a log-log scale (1.0 = linear), and for the smallest size the same sweep run as
the Prefect flow (`flows/daily_sweep.py`, in local mode: an ephemeral server, started by a warm-up run
that is not timed) beside the bare call. Goal: 100,000 under 10 s, linear growth.

Run: python bench/sweep.py [--sizes 10000 30000 100000] [--repeats 3] [--postgres URL] [--no-prefect]
(URL: a server, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres; a scratch database is made on it)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="cms-bench-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from bench.common import scratch_database  # noqa: E402

BATCH = 5000
SITES = ("HN01", "HN02")
POSITIONS = ("energy_data_admin", "carbon_accountant", "emission_monitor", "maintenance_engineer")


def _schedule(due: date, today: date) -> tuple[date | None, date | None]:
    """(next_reminder_on, next_escalation_on) after daily sweeps up to yesterday, for reminders [7, 1] and
    escalation after 1 and 7 days."""
    if due - timedelta(days=7) >= today:
        return due - timedelta(days=7), due + timedelta(days=1)
    if due - timedelta(days=1) >= today:
        return due - timedelta(days=1), due + timedelta(days=1)
    if due + timedelta(days=1) >= today:
        return None, due + timedelta(days=1)
    if due + timedelta(days=7) >= today:
        return None, due + timedelta(days=7)
    return None, None


def fill(db, n: int, today: date) -> None:
    """N open tasks, inserted with SQLAlchemy Core (FACTS.md: the ORM is 15x slower for bulk rows)."""
    from sqlalchemy import insert

    from cms_workflows.tasks.models import Task

    now = datetime.now(timezone.utc)
    escalation = json.dumps([{"after_days": 1, "to": "department_head"}, {"after_days": 7, "to": "top_management"}])
    rows = []
    for i in range(n):
        due = today + timedelta(days=(i % 366) - 30)
        reminder, escalate = _schedule(due, today)
        rows.append({"key": f"bench:{i}", "title_key": "tasks.title.ad_hoc", "title_params": json.dumps({"text": f"#{i}"}),
                     "clause": "X-3", "site": SITES[i % 2], "position": POSITIONS[i % len(POSITIONS)], "assignee": None,
                     "due": due, "reminder_days": "[7, 1]", "escalation": escalation, "evidence_kind": "none",
                     "status": "open", "next_reminder_on": reminder, "next_escalation_on": escalate, "sequence": 0,
                     "created_by": "system", "created_at": now, "updated_at": now})
    with db.engine.begin() as conn:
        for start in range(0, n, BATCH):
            conn.execute(insert(Task.__table__), rows[start:start + BATCH])


def build(n: int, pg_server: str | None, today: date):
    """A base database for size n: (url or file, settings factory kwargs, cleanup)."""
    from cms_workflows.demo import accounting as demo_accounting
    from cms_workflows.demo import company

    url = None
    if pg_server:
        url = _pg_create(pg_server, f"cms_bench_base_{uuid.uuid4().hex[:8]}")
    db = scratch_database(url)
    with db.unit_of_work() as uow:
        company.seed(uow)
    from cms_workflows.accounting import service as acc

    with db.unit_of_work() as uow:
        for site, unit, facility, category, material, u, source, _q in demo_accounting.PLAN:
            acc.add_plan_item(uow, demo_accounting.ACCOUNTANT[site], site=site, production_unit=unit, facility=facility,
                              category=category, material=material, unit=u, data_source=source)
    fill(db, n, today)
    db.dispose()
    return db


def _pg_admin(server: str):
    from sqlalchemy import create_engine

    return create_engine(server, isolation_level="AUTOCOMMIT")


def _pg_create(server: str, name: str, template: str | None = None) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = _pg_admin(server)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _pg_drop(server: str, name: str) -> None:
    from sqlalchemy import text

    admin = _pg_admin(server)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def fresh_copy(base, pg_server: str | None):
    """A database equal to `base`, for one timed run."""
    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database

    folder = Path(tempfile.mkdtemp(prefix="cms-bench-run-"))
    if pg_server:
        from sqlalchemy.engine import make_url

        name = f"cms_bench_run_{uuid.uuid4().hex[:8]}"
        url = _pg_create(pg_server, name, template=make_url(base.url).database)
    else:
        shutil.copyfile(Path(base.settings.data_dir) / "cms.db", folder / "cms.db")
        url = None
    settings = get_settings(data_dir=folder, database_url=url, audit_key=base.settings.audit_key, locale="en")
    db = Database(settings.resolved_database_url(), settings=settings)
    try:
        yield db
    finally:
        db.dispose()
        if pg_server:
            _pg_drop(pg_server, name)
        shutil.rmtree(folder, ignore_errors=True)


def time_bare(base, pg_server, today: date) -> tuple[float, dict]:
    from cms_workflows import bootstrap

    with fresh_copy(base, pg_server) as db:
        start = time.perf_counter()
        report = bootstrap.sweep(db, today)
        took = time.perf_counter() - start
    return took, {s.name: s.counts for s in report.steps}


def time_flow(base, pg_server, today: date) -> float:
    from cms_workflows.flows.daily_sweep import daily_sweep

    with fresh_copy(base, pg_server) as db:
        os.environ.update({"CMS_DATABASE_URL": db.url, "CMS_DATA_DIR": str(db.settings.data_dir),
                           "CMS_AUDIT_KEY": db.settings.audit_key or "", "CMS_LOCALE": "en"})
        os.environ.pop("CMS_SIGNING_KEY", None)
        os.environ.pop("CMS_SMTP_URL", None)
        start = time.perf_counter()
        daily_sweep(day=today)
        return time.perf_counter() - start


def fitted_exponent(sizes: list[int], times: list[float]) -> float:
    import numpy as np

    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL server (a scratch database is made)")
    parser.add_argument("--no-prefect", action="store_true", help="skip the Prefect flow comparison")
    args = parser.parse_args()
    from cms_workflows.bootstrap import configure

    configure()
    today = date.today()
    backends = [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    for label, pg_server in backends:
        print(f"\n== {label}: daily sweep of {today}, medians of {args.repeats} runs ==")
        medians, bases = [], {}
        for n in args.sizes:
            t0 = time.perf_counter()
            bases[n] = build(n, pg_server, today)
            built = time.perf_counter() - t0
            runs = [time_bare(bases[n], pg_server, today) for _ in range(args.repeats)]
            median = statistics.median(t for t, _c in runs)
            medians.append(median)
            counts = runs[0][1]
            print(f"n={n:>7,}  bare service: {median:6.2f} s  (runs {', '.join(f'{t:.2f}' for t, _ in runs)}; "
                  f"built in {built:.1f} s)  reminders {counts['remind']['reminders']} on {counts['remind']['tasks']} tasks, "
                  f"escalations {counts['escalate']['escalations']}, duty tasks created {counts['generate']['created']}")
        if len(args.sizes) > 1:
            print(f"fitted exponent of time vs n: {fitted_exponent(args.sizes, medians):.2f}  (1.0 = linear)")
        if not args.no_prefect:
            n = args.sizes[0]
            t0 = time.perf_counter()
            time_flow(bases[n], pg_server, today)  # warm-up: starts Prefect's ephemeral server in this process
            warmup = time.perf_counter() - t0
            flows = [time_flow(bases[n], pg_server, today) for _ in range(args.repeats)]
            bare = [time_bare(bases[n], pg_server, today)[0] for _ in range(args.repeats)]
            fm, bm = statistics.median(flows), statistics.median(bare)
            print(f"n={n:>7,}  Prefect flow: {fm:6.2f} s  bare service: {bm:6.2f} s  wrapper cost: {fm - bm:+.2f} s "
                  f"({fm / bm:.2f}x); first flow run (server start-up) {warmup:.1f} s")
        if pg_server:
            from sqlalchemy.engine import make_url

            for base in bases.values():
                _pg_drop(pg_server, make_url(base.url).database)


if __name__ == "__main__":
    main()
