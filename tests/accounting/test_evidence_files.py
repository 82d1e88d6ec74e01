"""Imported activity files are evidence: stored by hash, re-checked by `cms verify` (X-1, R-8.6)."""

from __future__ import annotations

import os

from cms_workflows.core.filestore import FileStore
from cms_workflows.bootstrap import verify_installation
from tests.accounting.conftest import csv_bytes, year_rows
from tests.accounting.test_service import do_import


def test_imported_file_is_stored_and_verified(db, plan):
    data = csv_bytes(year_rows(2023))
    result = do_import(db, data)
    store = FileStore(db.settings.file_store_dir)
    assert store.get(result.sha256) == data
    assert verify_installation(db).ok

    path = store.path_for(result.sha256)
    os.chmod(path, 0o644)
    path.write_bytes(data.replace(b"2023-01", b"2023-02", 1))  # someone edits the kept file
    report = verify_installation(db)
    assert not report.ok and any(result.sha256 in line for line in report.lines)

    path.unlink()  # or removes it
    report = verify_installation(db)
    assert not report.ok and any(result.sha256 in line and "缺失" in line for line in report.lines)
