"""Approving a run with gaps, and imports into closed months (issue 15, item 5; R-6.3.2.4, R-8.6, R-9.1).

A run whose planned lines miss months, or whose rows carry unresolved import warnings, is approved only
with the gaps accepted explicitly (who, which gaps and why in the approval event). An import that changes
a month locked to an approved run says that a recalculation is needed and reopens the run (official →
reopened, an event on the run); an approved recalculation makes it official again or supersedes it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.models import CalculationRun, PeriodLock
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.i18n import t

from .conftest import ACCOUNTANT, DATA_ADMIN, GM, csv_bytes, row, year_rows
from .test_cli_and_outputs import cms
from .test_service import counts, do_import

HN01_LINES = [("BOILER1", "natural_gas"), ("GRID", "electricity"), ("KILN1", "limestone_caco3"), ("TRUCKS", "diesel")]


def _run(db, first="2023-01", last="2023-12") -> int:
    with db.unit_of_work() as s:
        return acc.calculate(s, ACCOUNTANT, first, last, ["HN01"]).run_id


def _status(db, run_id: int) -> str:
    with db.read() as s:
        return s.get(CalculationRun, run_id).status


def _approve_refused(db, run_id: int, **kwargs) -> ValidationFailed:
    before = counts(db)
    with pytest.raises(ValidationFailed) as e:
        with db.unit_of_work() as s:
            acc.approve_run(s, GM, run_id, **kwargs)
    assert counts(db) == before and _status(db, run_id) == "draft"  # nothing written, no event
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(PeriodLock)).one() == 0
    return e.value


def test_a_run_with_ten_of_twelve_months_empty_is_approved_only_with_the_gaps_accepted(db, plan):
    do_import(db, csv_bytes([r for r in year_rows(2023) if r["period"] <= "2023-02"]))
    run_id = _run(db)

    refused = _approve_refused(db, run_id, comment="已核对")
    assert refused.key == "accounting.approval_gaps" and refused.params == {"run_id": run_id}
    assert [(p["field"], p["key"], p["params"]["facility"], p["params"]["material"], p["params"]["count"],
             p["params"]["months"]) for p in refused.problems] == [
        ("accept_gaps", "accounting.problem.gap_months", facility, material, 10, "2023-03…2023-12")
        for facility, material in HN01_LINES]
    assert "--accept-gaps" in refused.message("en")
    assert t(refused.problems[3]["key"], locale="en", **refused.problems[3]["params"]) == \
        "HN01 / TRUCKS / diesel: no data for 10 months (2023-03…2023-12)"
    # accepting needs a reason
    no_reason = _approve_refused(db, run_id, accept_gaps=True)
    assert no_reason.key == "accounting.approval_gaps_comment" and no_reason.problems[0]["field"] == "comment"

    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run_id, comment="3–12 月数据待补录，先锁定 1–2 月", accept_gaps=True)
    assert _status(db, run_id) == "official"
    with db.read() as s:
        (event,) = audit.events_for(s, "acc_run", run_id, event="accounting.run.approve")
    payload = json.loads(event.payload)
    assert event.actor == GM and payload["accept_gaps"] is True
    assert payload["comment"] == "3–12 月数据待补录，先锁定 1–2 月"
    assert payload["gaps"]["warnings"] == []
    assert [(g["site"], g["facility"], g["material"], g["months"]) for g in payload["gaps"]["missing"]] == [
        ("HN01", facility, material, [f"2023-{m:02d}" for m in range(3, 13)]) for facility, material in HN01_LINES]


def test_a_complete_run_is_approved_without_accepting_anything(db, plan):
    do_import(db, csv_bytes(year_rows(2023)))
    run_id = _run(db)
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run_id)
    with db.read() as s:
        (event,) = audit.events_for(s, "acc_run", run_id, event="accounting.run.approve")
    payload = json.loads(event.payload)
    assert payload["accept_gaps"] is False and payload["gaps"] == {"missing": [], "warnings": []}


def test_an_import_warning_is_a_gap_until_a_correcting_import_replaces_the_row(db, plan):
    do_import(db, csv_bytes(year_rows(2022)), name="2022.csv")
    january = [r for r in year_rows(2023) if r["period"] == "2023-01"]
    typo = [dict(r, quantity=r["quantity"] * 30) if r["facility"] == "BOILER1" else r for r in january]
    result = do_import(db, csv_bytes(typo), name="2023-01.csv")
    assert [w["key"] for w in result.warnings] == ["accounting.problem.far_from_usual"]
    run_id = _run(db, "2023-01", "2023-01")

    refused = _approve_refused(db, run_id, comment="ok")
    (p,) = refused.problems
    assert p["key"] == "accounting.problem.gap_warning" and p["field"] == "accept_gaps"
    assert (p["params"]["facility"], p["params"]["period"], p["params"]["import_id"]) == (
        "BOILER1", "2023-01", result.import_id)
    assert "BOILER1" in t(p["key"], locale="en", **p["params"]) and "far" in t(p["key"], locale="en", **p["params"])

    # the data administrator corrects the row: the next run has nothing to accept
    do_import(db, csv_bytes([r for r in january if r["facility"] == "BOILER1"]), name="2023-01-fix.csv", replace=True)
    fixed_run = _run(db, "2023-01", "2023-01")
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, fixed_run, comment="更正后的燃气读数")
    assert _status(db, fixed_run) == "official"


def test_an_import_into_a_locked_month_reopens_the_run_and_an_approved_recalculation_restores_it(db, plan):
    do_import(db, csv_bytes(year_rows(2023)), name="2023.csv")
    run_id = _run(db)
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run_id, comment="全年数据完整")
    with db.read() as s:
        official_before = q.locked_results(s, "2023-01", "2023-12", "HN01")["tco2e"].sum()

    march = row("HN01", "BOILER1", "natural_gas", "2023-03", 11.5, "10^4Nm3")
    result = do_import(db, csv_bytes([march]), name="2023-03-fix.csv", replace=True)
    assert result.recalculation == [{"run_id": run_id, "months": ["HN01 2023-03"], "status": "reopened"}]
    assert _status(db, run_id) == "reopened"
    with db.read() as s:
        (reopen,) = audit.events_for(s, "acc_run", run_id, event="accounting.run.reopen")
        (imported,) = audit.events_for(s, "acc_import", result.import_id, event="accounting.import_batch.create")
        official_after = q.locked_results(s, "2023-01", "2023-12", "HN01")["tco2e"].sum()
    assert reopen.actor == DATA_ADMIN and json.loads(reopen.payload) == {
        "import_id": result.import_id, "months": ["HN01 2023-03"], "from": "official", "to": "reopened"}
    assert json.loads(imported.payload)["recalculation_needed"] == result.recalculation
    assert official_after == pytest.approx(official_before)  # the figures of record stay until a recalculation

    # a further change to the reopened run says so again, with no second transition
    april = row("HN01", "GRID", "electricity", "2023-04", 999.0, "MWh")
    again = do_import(db, csv_bytes([april]), name="2023-04-fix.csv", replace=True)
    assert again.recalculation == [{"run_id": run_id, "months": ["HN01 2023-04"], "status": "reopened"}]
    with db.read() as s:
        assert len(audit.events_for(s, "acc_run", run_id, event="accounting.run.reopen")) == 1

    # the changed months recalculated and approved: the run keeps its other months and is official again
    recalculation = _run(db, "2023-03", "2023-04")
    assert _status(db, recalculation) == "pending_approval"
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, recalculation, comment="3、4 月更正已核对")
    assert _status(db, run_id) == "official" and _status(db, recalculation) == "official"
    with db.read() as s:
        locked = q.locks(s, "2023-01", "2023-12", ["HN01"])
    assert locked[("HN01", "2023-03")] == recalculation and locked[("HN01", "2023-05")] == run_id

    # a month changed again, then the whole year recalculated: the first run is superseded
    do_import(db, csv_bytes([dict(march, quantity=11.7)]), name="2023-03-fix2.csv", replace=True)
    assert _status(db, recalculation) == "reopened" and _status(db, run_id) == "official"
    year_again = _run(db)
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, year_again, comment="全年重新核算")
    assert {_status(db, r) for r in (run_id, recalculation)} == {"superseded"}


def test_cli_approve_lists_the_gaps_accepts_them_and_import_says_a_recalculation_is_needed(db, plan, cli_env,
                                                                                             tmp_path):
    do_import(db, csv_bytes([r for r in year_rows(2023) if r["period"] <= "2023-02"]))
    run_id = _run(db)
    r = cms(cli_env, "approve", "--help", user=GM)
    assert r.returncode == 0 and "--accept-gaps" in r.stdout
    before = counts(db)
    r = cms(cli_env, "approve", str(run_id), user=GM)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--accept-gaps" in r.stderr and "HN01 / TRUCKS / diesel：10 个月没有数据（2023-03…2023-12）" in r.stderr
    r = cms(cli_env, "approve", str(run_id), "--accept-gaps", user=GM, locale="en")
    assert r.returncode == 2 and "needs a comment" in r.stderr
    assert counts(db) == before
    r = cms(cli_env, "approve", str(run_id), "--accept-gaps", "--comment", "先锁定 1–2 月", user=GM)
    assert r.returncode == 0, r.stderr
    with db.read() as s:
        (event,) = audit.events_for(s, "acc_run", run_id, event="accounting.run.approve")
    payload = json.loads(event.payload)
    assert payload["accept_gaps"] is True and payload["comment"] == "先锁定 1–2 月"
    assert len(payload["gaps"]["missing"]) == 4

    fix = tmp_path / "2023-02-fix.csv"
    fix.write_bytes(csv_bytes([row("HN01", "TRUCKS", "diesel", "2023-02", 2.4, "t")]))
    r = cms(cli_env, "import", str(fix), "--replace", user=DATA_ADMIN)
    assert r.returncode == 0, r.stderr
    assert f"已批准核算批次 {run_id} 锁定的月份（HN01 2023-02）" in r.stdout and "需对这些月份重新核算" in r.stdout
    r = cms(cli_env, "runs", user=GM, locale="en")
    assert r.returncode == 0 and f"Run {run_id}" in r.stdout and "data changed: recalculation needed" in r.stdout
