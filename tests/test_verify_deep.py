"""`cms verify --deep` (issue 14, item 4): business rows edited behind the application's back are named.

Each attack is first shown to pass plain `cms verify` (the chain and the file store are intact), then
to be named by the deep check; a forged controlled file is also refused for download.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from cms_workflows.accounting import service as acc
from cms_workflows.bootstrap import verify_deep, verify_installation
from cms_workflows.core.errors import CmsError
from cms_workflows.documents import queries as doc_queries
from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org
from tests.accounting.conftest import ACCOUNTANT, DATA_ADMIN, GM, csv_bytes, plan, year_rows  # noqa: F401 (fixture)
from tests.documents.conftest import new_procedure, release

YEAR = 2023


def _sql(db, statement: str, **params) -> None:
    """An edit straight in the database, as someone with database access (no command, no event)."""
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def _accounting_year(db) -> int:
    with db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, csv_bytes(year_rows(YEAR)), "hn01-2023.csv")
    with db.unit_of_work() as s:
        run_id = acc.calculate(s, ACCOUNTANT, f"{YEAR}-01", f"{YEAR}-12").run_id
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run_id)
    return run_id


def _plain_ok(db) -> bool:
    return verify_installation(db, record_anchor=False).ok


def _deep_problem(db) -> str:
    report = verify_deep(db)
    assert not report.ok
    return report.problem.key, report.problem.params, report.lines[0]


@pytest.fixture
def year(db, company, plan):  # noqa: F811
    """A released procedure and an approved calculation run: the state the attacks start from."""
    number = new_procedure(db)
    release(db, number)
    return {"number": number, "run_id": _accounting_year(db)}


def test_untouched_installation_passes_deep(db, year):
    report = verify_deep(db)
    assert report.ok, report.lines
    checked = report.checked
    assert checked["documents.deep.count_revisions"] == 1
    assert checked["documents.deep.count_decisions"] == 2
    assert checked["accounting.deep.count_runs"] == 1
    assert checked["accounting.deep.count_activity"] == 48
    assert checked["org.deep.count_assignments"] > 10
    assert "业务数据与审核追踪一致" in report.lines[0]


def test_forged_controlled_file_is_named_and_not_handed_out(db, year):
    number = year["number"]
    with db.read() as s:
        rev, original = doc_queries.revision_file(s, "gm", number)
    forged = original.replace(b"word/", b"word/", 1) + b"forged"  # any other bytes, stored under their own hash
    stored = db.files.put(forged)
    # the attack: the revision points at the forged file, and the original leaves the store
    _sql(db, "UPDATE doc_revision SET file_sha256 = :sha, file_size = :size WHERE id = :id",
         sha=stored.sha256, size=stored.size, id=rev.id)
    db.files.remove(rev.file_sha256)
    assert _plain_ok(db)  # the finding: the chain and the store are intact, plain verify says OK

    key, params, line = _deep_problem(db)
    assert key == "documents.deep.file_hash"
    assert params["number"] == number and params["revision"] == rev.label
    assert params["stored"] == stored.sha256 and params["approved"] == rev.file_sha256
    assert number in line
    with db.read() as s, pytest.raises(CmsError) as refused:
        doc_queries.revision_file(s, "gm", number)
    assert refused.value.key == "documents.file_not_as_recorded"
    assert stored.sha256 in refused.value.message()


def test_halved_results_and_quantities_are_named(db, year):
    _sql(db, "UPDATE acc_result SET tco2e = tco2e / 2, memo_tco2e = memo_tco2e / 2")
    _sql(db, "UPDATE acc_run SET total_tco2e = total_tco2e / 2")
    _sql(db, "UPDATE acc_activity SET quantity = quantity / 2")
    assert _plain_ok(db)

    key, params, line = _deep_problem(db)
    # the first row of the import, named with the value the imported file (its hash in the trail) holds
    assert key == "accounting.deep.row_differs"
    assert str(params["field"]) and params["recorded"] == 2 * params["stored"]
    with db.read() as s:
        first = s.execute(text("SELECT min(id) FROM acc_activity")).scalar()
    assert params["id"] == first


def test_halved_results_alone_name_the_run(db, year):
    _sql(db, "UPDATE acc_result SET tco2e = tco2e / 2")
    assert _plain_ok(db)
    key, params, _line = _deep_problem(db)
    assert key == "accounting.deep.run_result_total"
    assert params["run_id"] == year["run_id"]


def test_consistently_halved_run_is_recomputed(db, year):
    """Results halved and their total made to agree with the trail: only recomputation shows it."""
    with db.read() as s:
        row = s.execute(text("SELECT id, tco2e FROM acc_result WHERE run_id = :r AND tco2e > 0 ORDER BY id LIMIT 2"),
                        {"r": year["run_id"]}).all()
    (a, ta), (b, tb) = row
    _sql(db, "UPDATE acc_result SET tco2e = :v WHERE id = :id", v=ta / 2, id=a)
    _sql(db, "UPDATE acc_result SET tco2e = :v WHERE id = :id", v=tb + ta / 2, id=b)  # the sum stays
    assert _plain_ok(db)
    key, params, _line = _deep_problem(db)
    assert key == "accounting.deep.run_result"
    assert params["run_id"] == year["run_id"]


def test_activity_row_outside_any_recorded_import(db, year):
    """A batch written straight to the tables: its file hash is not in the trail."""
    _sql(db, "INSERT INTO acc_import (sha256, filename, rows, warnings, replaces, imported_by, imported_at) "
             "VALUES (:sha, 'smuggled.csv', 1, 0, :f, 'energy_data_admin.hn01', '2024-01-01 00:00:00')",
         sha="ab" * 32, f=False)
    with db.read() as s:
        batch = s.execute(text("SELECT id FROM acc_import WHERE filename = 'smuggled.csv'")).scalar()
    _sql(db, "INSERT INTO acc_activity (import_id, file_row, site, production_unit, facility, category, material, "
             "period, quantity, unit, data_source, evidence_ref) VALUES (:b, 2, 'HN01', 'U1', 'GRID', "
             "'purchased_electricity', 'electricity', '2024-01', 5, 'MWh', 'meter', '')", b=batch)
    key, params, _line = _deep_problem(db)
    assert key == "accounting.deep.import_without_event"
    assert params["import_id"] == batch and params["sha256"] == "ab" * 32


def test_activity_row_moved_to_an_unknown_import(db, year):
    with db.read() as s:
        row = s.execute(text("SELECT min(id) FROM acc_activity")).scalar()
    if db.dialect == "sqlite":  # a plain sqlite3 connection does not enforce foreign keys
        import sqlite3

        with sqlite3.connect(db.engine.url.database) as conn:
            conn.execute("UPDATE acc_activity SET import_id = 999 WHERE id = ?", (row,))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # the superuser skips foreign keys
            conn.execute(text("UPDATE acc_activity SET import_id = 999 WHERE id = :id"), {"id": row})
    key, params, _line = _deep_problem(db)
    assert key == "accounting.deep.row_without_import"
    assert params["id"] == row and params["import_id"] == 999


@pytest.mark.parametrize("column, value", [("valid_from", "2020-01-01"), ("valid_to", "2099-12-31"),
                                           ("position_code", "general_manager")])
def test_assignment_edited_in_sql(db, company, column, value):
    with db.read() as s:
        assignment = next(a for a, _u in org_queries.list_assignments(s, "carbon_accountant.hn01"))
    _sql(db, f"UPDATE org_assignment SET {column} = :v WHERE id = :id", v=value, id=assignment.id)
    assert _plain_ok(db)
    key, params, line = _deep_problem(db)
    assert key == "org.deep.assignment_differs"
    assert params["id"] == assignment.id and params["username"] == "carbon_accountant.hn01"
    assert f"{params['field']}" == {"valid_from": "起始日期", "valid_to": "截止日期", "position_code": "岗位"}[column]


def test_ended_and_deactivated_assignments_follow_their_events(db, company):
    """Ends and deactivations are replayed: the untouched state passes, an end date moved back is named."""
    with db.unit_of_work() as s:
        org.create_user(s, "admin", "temp.hn01", "临时人员")
        row = org.assign(s, "admin", "temp.hn01", "energy_engineer", "HN01")
    with db.unit_of_work() as s:
        org.deactivate_user(s, "admin", "temp.hn01", "离职")
    assert verify_deep(db).ok
    _sql(db, "UPDATE org_assignment SET valid_to = NULL WHERE id = :id", id=row.id)
    key, params, _line = _deep_problem(db)
    assert key == "org.deep.assignment_differs" and params["id"] == row.id


@pytest.mark.parametrize("column, value", [("decision", "reject"), ("username", "gm"), ("comment", "改过的意见")])
def test_route_decision_edited_in_sql(db, year, column, value):
    with db.read() as s:
        first = s.execute(text("SELECT min(id) FROM doc_decision")).scalar()
    _sql(db, f"UPDATE doc_decision SET {column} = :v WHERE id = :id", v=value, id=first)
    assert _plain_ok(db)
    key, params, _line = _deep_problem(db)
    # a changed decider no longer matches the event of the real one; other fields are named as fields
    assert key == ("documents.deep.decision_without_event" if column == "username" else "documents.deep.decision_differs")
    assert params["id"] == first and params["number"] == year["number"]


def test_verify_deep_cli_exit_codes(db, year, cli_env):
    """`cms verify --deep` exits 0 on an untouched installation and 1 naming the first disagreement."""
    env = {**os.environ, **cli_env}
    cmd = [sys.executable, "-m", "cms_workflows.cli", "verify", "--deep", "--no-anchor"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "业务数据与审核追踪一致" in ok.stdout
    _sql(db, "UPDATE acc_result SET tco2e = tco2e * 2")
    plain = subprocess.run(cmd[:-2] + ["--no-anchor"], env=env, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stdout + plain.stderr  # without --deep the edit goes unseen
    bad = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"核算批次 {year['run_id']}" in bad.stdout
