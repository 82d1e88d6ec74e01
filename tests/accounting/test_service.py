"""Accounting commands on a real database (SQLite, or PostgreSQL with CMS_TEST_DATABASE_URL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.factors import Options
from cms_workflows.accounting.models import (
    Activity,
    CalculationRun,
    ImportBatch,
    PeriodLock,
)
from cms_workflows.core.errors import (
    AccessDenied,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)

from .conftest import (
    ACCOUNTANT,
    ACCOUNTANT2,
    DATA_ADMIN,
    DATA_ADMIN2,
    GM,
    csv_bytes,
    row,
    year_rows,
)


def counts(db):
    with db.read() as s:
        return (s.exec(select(func.count()).select_from(Activity)).one(), s.exec(select(func.count()).select_from(ImportBatch)).one(),
                len(audit.events_for(s)))


def do_import(db, data, user=DATA_ADMIN, name="a.csv", replace=False):
    with db.unit_of_work() as s:
        return acc.import_activity(s, user, data, name, replace=replace)


def test_import_is_audited_atomic_and_idempotent(db, plan):
    data = csv_bytes(year_rows(2023))
    r = do_import(db, data)
    assert not r.duplicate and r.rows == 48
    with db.read() as s:
        (ev,) = audit.events_for(s, "acc_import", r.import_id)
        assert r.sha256 in ev.payload and ev.actor == DATA_ADMIN
    before = counts(db)
    again = do_import(db, data, name="renamed.csv")
    assert again.duplicate and again.import_id == r.import_id and counts(db) == before
    # one bad row: nothing of the file is written
    bad = year_rows(2024)
    bad[30]["quantity"] = "-1"
    with pytest.raises(ValidationFailed) as e:
        do_import(db, csv_bytes(bad))
    assert [(p["row"], p["field"]) for p in e.value.problems] == [(32, "quantity")]
    assert counts(db) == before
    # same months again: duplicate period against the database, unless it is a correction
    with pytest.raises(ValidationFailed) as e:
        do_import(db, csv_bytes(year_rows(2023, scale=1.01)))
    assert len(e.value.problems) == 48 and e.value.problems[0]["key"] == "accounting.problem.period_exists"
    assert counts(db) == before
    corr = do_import(db, csv_bytes(year_rows(2023, scale=1.01)), replace=True)
    with db.read() as s:
        live = s.exec(select(func.count()).select_from(Activity).where(Activity.replaced_by_import.is_(None))).one()
        assert live == 48 and s.get(ImportBatch, corr.import_id).replaces


def test_import_needs_submit_rights_at_every_site_in_the_file(db, plan):
    rows = year_rows(2023) + year_rows(2023, site="HN02")
    with pytest.raises(AccessDenied):
        do_import(db, csv_bytes(rows), user=DATA_ADMIN)  # HN01 only
    with pytest.raises(AccessDenied):
        do_import(db, csv_bytes(year_rows(2023)), user="verifier")
    assert counts(db)[0] == 0
    do_import(db, csv_bytes(year_rows(2023, site="HN02")), user=DATA_ADMIN2)


def test_calculation_run_is_traceable_and_reproducible(db, plan):
    do_import(db, csv_bytes(year_rows(2023)))
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.calculate(s, DATA_ADMIN, "2023-01", "2023-12")
    with db.unit_of_work() as s:
        out = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12")
    assert out.status == "draft" and out.differences is None
    with db.read() as s:
        run = s.get(CalculationRun, out.run_id)
        assert run.code_version and len(run.input_hash) == 64 and run.factor_version and run.rows == 48
        assert "GB/T 32150-2015" in run.factors_used and "0.5306" in run.factors_used
        stored = q.run_results(s, out.run_id)
        again = q.reproduce(s, out.run_id)
    assert stored["tco2e"].sum() == pytest.approx(out.total_tco2e)
    assert list(again["tco2e"]) == list(stored.sort_values(["site", "production_unit", "facility", "category", "period"])["tco2e"])
    # January by hand: gas 10.5 (x1.05) 10^4Nm3, limestone 105 t, electricity 1050 MWh, diesel 2.1 t
    jan = stored[stored["period"] == "2023-01"]["tco2e"].sum()
    expect = 1.05 * (216.2188809 + 44.0 + 530.6 + 6.1918193)  # limestone at the printed 0.440 (issue 15)
    assert jan == pytest.approx(expect, rel=1e-9)
    # missing factor: 2025 has no published statistical electricity factor
    do_import(db, csv_bytes([row("HN01", "GRID", "electricity", "2025-01", 1000, "MWh")]))  # a usual month
    with pytest.raises(ValidationFailed) as e, db.unit_of_work() as s:
        acc.calculate(s, ACCOUNTANT, "2025-01", "2025-01")
    assert e.value.problems[0]["year"] == 2025 and e.value.problems[0]["site"] == "HN01"
    with pytest.raises(NotFound), db.unit_of_work() as s:
        acc.calculate(s, ACCOUNTANT, "2030-01", "2030-01")


def test_closed_period_changes_only_through_an_approved_recalculation(db, plan):
    do_import(db, csv_bytes(year_rows(2023)))
    with db.unit_of_work() as s:
        first = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12")
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.approve_run(s, ACCOUNTANT, first.run_id)  # the accountant may not approve
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, first.run_id)
    with pytest.raises(InvalidTransition), db.unit_of_work() as s:
        acc.approve_run(s, GM, first.run_id)
    with db.read() as s:
        official = q.official_results(s, GM, "2023-01", "2023-12")
        assert s.exec(select(func.count()).select_from(PeriodLock)).one() == 12
    assert official["tco2e"].sum() == pytest.approx(first.total_tco2e)

    # corrected March gas reading, and a measured carbon content from 2023 (a method/factor change)
    do_import(db, csv_bytes([row("HN01", "BOILER1", "natural_gas", "2023-03", 20, "10^4Nm3")]), replace=True)
    with pytest.raises(AccessDenied), db.unit_of_work() as s:  # a company-wide value needs a company-wide holder
        acc.add_factor_override(s, ACCOUNTANT, material="limestone_caco3", parameter="calcination", value=0.9,
                                evidence="LAB-2023-17", year_from=2023)
    with pytest.raises(ValidationFailed), db.unit_of_work() as s:
        acc.add_factor_override(s, ACCOUNTANT, material="limestone_caco3", parameter="calcination", value=0.9,
                                evidence=" ", site="HN01", year_from=2023)
    with db.unit_of_work() as s:
        acc.add_factor_override(s, ACCOUNTANT, material="limestone_caco3", parameter="calcination", value=0.9,
                                evidence="LAB-2023-17 calcination test", site="HN01", year_from=2023)
    with db.unit_of_work() as s:
        recalc = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12")
    assert recalc.status == "pending_approval"
    diff = recalc.differences.set_index(["site", "category", "facility"])["difference"]
    gas_delta = (20 - 10 * 1.0) * 21.62188809  # March factor was 1 + 0.05 x 0 = 1.0
    assert diff[("HN01", "stationary_combustion", "BOILER1")] == pytest.approx(gas_delta, rel=1e-9)
    limestone_total = sum(100 * (1 + 0.05 * (m % 3)) for m in range(1, 13)) * 0.440
    assert diff[("HN01", "process", "KILN1")] == pytest.approx(-0.1 * limestone_total, rel=1e-9)
    assert ("HN01", "purchased_electricity", "GRID") not in diff.index
    # not yet approved: the figures of record are unchanged
    with db.read() as s:
        assert q.official_results(s, GM, "2023-01", "2023-12")["tco2e"].sum() == pytest.approx(first.total_tco2e)
    with db.unit_of_work() as s:
        approved_diff = acc.approve_run(s, GM, recalc.run_id, comment="差异已核对：3 月燃气读数更正、石灰石实测煅烧比例")
    assert len(approved_diff) == 2
    with db.read() as s:
        assert q.official_results(s, GM, "2023-01", "2023-12")["tco2e"].sum() == pytest.approx(recalc.total_tco2e)
        assert s.get(CalculationRun, first.run_id).status == "superseded"
        # the superseded run still reproduces exactly from the rows and factors it saw
        old = q.reproduce(s, first.run_id)
        assert old["tco2e"].sum() == pytest.approx(first.total_tco2e, rel=1e-12)
        (ev,) = audit.events_for(s, "acc_run", recalc.run_id)[-1:]
        assert ev.action == "accounting.run.approve" and "differences" in ev.payload
        assert json.loads(ev.payload)["comment"] == "差异已核对：3 月燃气读数更正、石灰石实测煅烧比例"


def _official_year(db, year, scale=1.0, site="HN01"):
    do_import(db, csv_bytes(year_rows(year, site=site, scale=scale)), user=DATA_ADMIN if site == "HN01" else DATA_ADMIN2,
              name=f"{site}-{year}.csv")
    with db.unit_of_work() as s:
        run = acc.calculate(s, ACCOUNTANT if site == "HN01" else ACCOUNTANT2, f"{year}-01", f"{year}-12",
                            options=Options(electricity_kind="market"))
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run.run_id)
    return run


def test_baseline_deviation_and_triggers(db, plan):
    _official_year(db, 2022)
    _official_year(db, 2023, scale=1.3)
    with db.unit_of_work() as s:
        bid = acc.set_baseline(s, ACCOUNTANT, "site", "HN01", "2022-01", "2022-12", "average")
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.approve_baseline(s, ACCOUNTANT, bid)
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as s:
        acc.approve_baseline(s, GM, bid, comment="x" * 2001)
    assert refused.value.problems[0]["field"] == "comment"
    with db.unit_of_work() as s:
        acc.approve_baseline(s, GM, bid, comment="基准期 2022 年数据完整")
    with db.read() as s:
        (ev,) = audit.events_for(s, "acc_baseline", bid, event="accounting.baseline.approve")
        assert json.loads(ev.payload) == {"level": "site", "scope": "HN01", "comment": "基准期 2022 年数据完整"}
        table, over = q.deviations(s, GM, bid, "2023-01", "2023-12", threshold=0.2)
    assert len(table) == 12 and len(over) == 12
    assert all(d["deviation"] == pytest.approx(0.3) and d["vs_last_year"] == pytest.approx(0.3) for d in over)
    with db.read() as s:
        _t, none_over = q.deviations(s, GM, bid, "2023-01", "2023-12", threshold=0.35)
    assert none_over == []
    with db.unit_of_work() as s:
        tid = acc.record_trigger(s, ACCOUNTANT, "HN01", "equipment", "新增 2 号燃气锅炉", bid)
    with pytest.raises(ValidationFailed), db.unit_of_work() as s:
        acc.record_trigger(s, ACCOUNTANT, "HN01", "weather", "x")
    with db.read() as s:
        (t,) = q.triggers(s, "HN01")
        assert t.id == tid and t.trigger == "equipment"
        assert audit.events_for(s, "acc_baseline_trigger", tid)


def test_quality_and_major_facilities(db, plan):
    rows = [r for r in year_rows(2023) if not (r["facility"] == "TRUCKS" and r["period"] in ("2023-05", "2023-06"))]
    for r in rows:
        if r["facility"] == "KILN1" and r["period"] >= "2023-07":
            r["data_source"] = "estimate"
    do_import(db, csv_bytes(rows))
    with db.read() as s:
        report = q.quality(s, ACCOUNTANT, "2023-01", "2023-12", site="HN01")
    kinds = [(g["kind"], g["facility"]) for g in report["gaps"]]
    assert kinds.count(("completeness", "TRUCKS")) == 2 and ("consistency", "KILN1") in kinds and ("accuracy", "KILN1") in kinds
    assert 0 < report["score"] < 100 and report["completeness"] == pytest.approx(1 - 2 / 48, abs=1e-4)
    with db.unit_of_work() as s:
        run = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12")
    with db.unit_of_work() as s:  # TRUCKS has no data for May and June: approved only with the gap accepted
        acc.approve_run(s, GM, run.run_id, comment="5、6 月车辆停用", accept_gaps=True)
    with db.read() as s:
        p = q.major_facilities(s, GM, "2023-01", "2023-12", 0.8)
    assert list(p["facility"][:2]) == ["GRID", "BOILER1"] and list(p["major"]) == [True, True, False, False]
    assert p["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def _xlsx_with_formula() -> bytes:
    import io

    from openpyxl import Workbook

    from cms_workflows.accounting import importing

    wb = Workbook()
    ws = wb.active
    ws.append(importing.FIELDS)
    r = row("HN01", "GRID", "electricity", "2023-01", 1, "MWh")
    ws.append([r[f] for f in importing.FIELDS])
    ws["G2"] = "=SUM(1,2)"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name,data", [
    ("empty.csv", b""),
    ("garbage.csv", bytes(range(256)) * 20),
    ("gbk_bad_number.csv", csv_bytes([row("HN01", "GRID", "electricity", "2023-01", "一千", "MWh")], "gbk")),
    ("huge.csv", csv_bytes([row("HN01", "GRID", "electricity", "2023-01", "1e400", "MWh")])),
    ("formula.xlsx", _xlsx_with_formula()),
    ("wrong_columns.csv", "名称,数值\n锅炉,1\n".encode("gbk")),
])
def test_bad_files_through_the_service_write_nothing(db, plan, name, data):
    before = counts(db)
    with pytest.raises(ValidationFailed) as e:
        do_import(db, data, name=name)
    assert e.value.problems and all("field" in p and "key" in p for p in e.value.problems)
    assert e.value.message()  # a readable report in the locale
    assert counts(db) == before


def test_intensity_per_product_and_output_value(db, plan):
    _official_year(db, 2023)
    with db.unit_of_work() as s:
        for m in range(1, 13):
            acc.record_output(s, DATA_ADMIN, "HN01", f"2023-{m:02d}", 1000.0, 500.0)
    with pytest.raises(ValidationFailed), db.unit_of_work() as s:
        acc.record_output(s, DATA_ADMIN, "HN01", "2023-13", 1.0, 1.0)
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.record_output(s, DATA_ADMIN, "HN02", "2023-01", 1.0, 1.0)
    with db.read() as s:
        table = q.intensity(s, GM, "2023-01", "2023-12")
        total = q.official_results(s, GM, "2023-01", "2023-12")["tco2e"].sum()
    (r,) = table.to_dict("records")
    assert r["tco2e_per_t"] == pytest.approx(total / 12_000) and r["tco2e_per_10k_cny"] == pytest.approx(total / 6_000)
