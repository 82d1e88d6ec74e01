"""PostgreSQL only: two people import the same file at the same moment."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func
from sqlmodel import select

from cms_workflows.accounting import service as acc
from cms_workflows.accounting.models import Activity, ImportBatch
from cms_workflows.core.errors import Conflict
from tests.conftest import requires_postgres

from .conftest import DATA_ADMIN, csv_bytes, year_rows

pytestmark = [requires_postgres, pytest.mark.postgres]


def test_concurrent_imports_of_one_file_write_it_once(db, plan):
    data = csv_bytes(year_rows(2023))
    barrier = threading.Barrier(2)
    outcomes: list = []

    def worker():
        try:
            with db.unit_of_work() as s:
                barrier.wait()
                r = acc.import_activity(s, DATA_ADMIN, data, "same.csv")
            outcomes.append("duplicate" if r.duplicate else "imported")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) in (["conflict", "imported"], ["duplicate", "imported"])
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(ImportBatch)).one() == 1
        assert s.exec(select(func.count()).select_from(Activity)).one() == 48
