"""Plausibility of activity data with units converted before every comparison (issue 15, item 1; R-8.6, X-5).

The slips a data administrator makes: Nm3 written as 10^4Nm3, kWh as MWh, one month of a file 10,000×
its neighbours, a first import with no history, `m3` without its conditions, a row filed under another
category than the data collection plan's. A figure ≥100× off (or outside the physical range) is refused
unless its row is confirmed with a reason (recorded in the import's event with who and why); 10× stays a
warning."""

from __future__ import annotations

import json

import pytest

from cms_workflows import audit
from cms_workflows.accounting import plausibility, units
from cms_workflows.accounting import service as acc
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.i18n import t

from .conftest import DATA_ADMIN, csv_bytes, row, year_rows
from .test_cli_and_outputs import cms
from .test_service import counts, do_import


def _refused(db, data, **kwargs) -> ValidationFailed:
    before = counts(db)
    with pytest.raises(ValidationFailed) as e, db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, data, "slip.csv", **kwargs)
    assert counts(db) == before  # nothing written
    return e.value


def _gas_year(quantity=38.0, unit="10^4Nm3", year=2023):
    return [row("HN01", "BOILER1", "natural_gas", f"{year}-{m:02d}", quantity, unit) for m in range(1, 13)]


def test_one_month_in_nm3_labelled_10_4nm3_is_refused_within_the_file_on_a_first_import(db, plan):
    rows = _gas_year(380_000, "Nm3")
    rows[6] = dict(rows[6], unit="10^4Nm3")  # July: the meter's Nm3 figure in the 10^4Nm3 column
    exc = _refused(db, csv_bytes(rows))
    keys = {(p["row"], p["key"]) for p in exc.problems}
    assert (8, "accounting.problem.outlier_in_file") in keys  # file row 8 = July
    assert (8, "accounting.problem.outside_physical_range") in keys  # 3.8 billion 10^4Nm3 a month
    assert {p["row"] for p in exc.problems} == {8}
    in_file = next(p for p in exc.problems if p["key"] == "accounting.problem.outlier_in_file")
    message = t(in_file["key"], locale="en", **in_file["params"])
    # the expected magnitude in the row's unit, and how far off
    assert "380,000 10^4Nm3" in message and "about 38 10^4Nm3" in message and "10,000×" in message
    assert "--accept-outliers" in t(in_file["key"], locale="zh-CN", **in_file["params"])


def test_kwh_labelled_mwh_is_refused_against_history_and_imported_once_confirmed_with_who_and_why(db, plan):
    do_import(db, csv_bytes(year_rows(2023)), name="2023.csv")  # electricity about 1,000-1,100 MWh a month
    slip = [row("HN01", "GRID", "electricity", "2024-01", 1_050_000, "MWh")]  # the kWh reading
    exc = _refused(db, csv_bytes(slip))
    (p,) = exc.problems
    assert p["key"] == "accounting.problem.outlier_history" and p["row"] == 2 and p["field"] == "quantity"
    assert p["params"]["usual"] == "1,050" and p["params"]["unit"] == "MWh" and p["params"]["times"] == "1,000×"

    # the same figure in kWh is the facility's usual: compared after conversion, not by label
    with db.unit_of_work() as s:
        fine = acc.import_activity(s, DATA_ADMIN, csv_bytes([dict(slip[0], unit="kWh")]), "kwh.csv")
    assert fine.warnings == []

    # confirming needs a reason; a confirmed row is imported, kept as a warning and recorded in the event
    february = [dict(slip[0], period="2024-02")]
    no_reason = _refused(db, csv_bytes(february), accept_outliers=[2])
    assert [p["key"] for p in no_reason.problems] == ["accounting.problem.accept_reason_required"]
    with db.unit_of_work() as s:
        result = acc.import_activity(s, DATA_ADMIN, csv_bytes(february), "feb.csv", accept_outliers=[2],
                                     reason="新增电解车间投产，已与供电局结算单核对")
    assert [(w["row"], w["key"]) for w in result.warnings] == [(2, "accounting.problem.outlier_accepted")]
    with db.read() as s:
        (event,) = audit.events_for(s, "acc_import", result.import_id)
    payload = json.loads(event.payload)
    assert event.actor == DATA_ADMIN
    assert payload["accepted_outliers"]["rows"] == [2] and payload["accepted_outliers"]["by"] == DATA_ADMIN
    assert payload["accepted_outliers"]["reason"] == "新增电解车间投产，已与供电局结算单核对"
    assert payload["warnings"][0]["key"] == "accounting.problem.outlier_accepted"


def test_history_is_compared_in_base_units_and_a_tenfold_deviation_stays_a_warning(db, plan):
    do_import(db, csv_bytes(_gas_year(380_000, "Nm3", 2022)), name="2022.csv")  # history entered in Nm3
    with db.unit_of_work() as s:
        same = acc.import_activity(s, DATA_ADMIN, csv_bytes([row("HN01", "BOILER1", "natural_gas", "2023-01", 38,
                                                                 "10^4Nm3")]), "jan.csv")
    assert same.warnings == []  # 38 10^4Nm3 = 380,000 Nm3: the usual figure under another label
    with db.unit_of_work() as s:
        tenfold = acc.import_activity(s, DATA_ADMIN, csv_bytes([row("HN01", "BOILER1", "natural_gas", "2023-02",
                                                                    380, "10^4Nm3")]), "feb.csv")
    (w,) = tenfold.warnings
    assert w["key"] == "accounting.problem.far_from_usual" and w["params"]["usual"] == "38 10^4Nm3"
    # 10,000× the usual in the 10^4Nm3 column (the Nm3 figure) is refused
    exc = _refused(db, csv_bytes([row("HN01", "BOILER1", "natural_gas", "2023-03", 380_000, "10^4Nm3")]))
    assert {p["key"] for p in exc.problems} == {"accounting.problem.outlier_history",
                                                "accounting.problem.outside_physical_range"}


def test_a_row_far_below_its_neighbours_is_refused_and_a_listed_row_without_a_finding_is_a_mistake(db, plan):
    rows = _gas_year(38)
    rows[2] = dict(rows[2], quantity=0.0038)  # 10^4Nm3 figure divided again by 10^4
    rows[3] = dict(rows[3], quantity=0)  # an idle month is not a slip
    exc = _refused(db, csv_bytes(rows), accept_outliers=[6], reason="检修月")
    assert {(p["row"], p["key"]) for p in exc.problems} == {
        (4, "accounting.problem.outlier_in_file"), (6, "accounting.problem.nothing_to_accept")}
    assert exc.problems[0]["params"]["times"] == "1/10,000×"


def test_m3_must_say_it_is_at_standard_conditions(db, plan):
    assert units.conditions_unstated("m3") and units.conditions_unstated("万立方米")
    assert units.normalize("m3") is None and units.normalize("m3(标况)") == "Nm3" and units.normalize("万标方") == "10^4Nm3"
    exc = _refused(db, csv_bytes(_gas_year(380_000, "m3")))
    assert {p["key"] for p in exc.problems} == {"accounting.problem.unit_conditions_unstated"}
    assert "Nm3" in t(exc.problems[0]["key"], locale="en", **exc.problems[0]["params"])
    with db.unit_of_work() as s:
        ok = acc.import_activity(s, DATA_ADMIN, csv_bytes(_gas_year(380_000, "m3(标况)")), "nm3.csv")
    assert ok.rows == 12 and ok.warnings == []


def test_category_and_unit_are_checked_against_the_plan_line(db, plan):
    rows = [row("HN01", "KILN1", "limestone_caco3", "2023-01", 100, "t", category="stationary_combustion"),
            row("HN01", "BOILER1", "natural_gas", "2023-01", 14_800, "GJ"),  # plan: 10^4Nm3
            dict(row("HN01", "GRID", "electricity", "2023-01", 1000, "MWh"), material="diesel", unit="t")]
    exc = _refused(db, csv_bytes(rows))
    by_row = {p["row"]: p for p in exc.problems}
    assert by_row[2]["key"] == "accounting.problem.category_not_plan" and by_row[2]["params"]["expected"] == "process"
    assert by_row[3]["key"] == "accounting.problem.unit_not_plan" and by_row[3]["params"]["plan_unit"] == "10^4Nm3"
    assert by_row[4]["key"] == "accounting.problem.material_not_in_plan"
    assert by_row[4]["params"]["planned"] == "electricity"


def test_row_lists_and_ranges_data():
    assert plausibility.parse_rows("5, 12，20-22") == [5, 12, 20, 21, 22] and plausibility.parse_rows("") == []
    with pytest.raises(ValidationFailed) as e:
        plausibility.parse_rows("5;abc")
    assert e.value.problems[0]["key"] == "accounting.problem.accept_rows_format"
    ranges = plausibility.physical_ranges()
    # every shipped fuel, carbonate and the grid have a range; each is wide: ~1000× a plant's month
    for material in ("natural_gas", "bituminous_coal", "electricity", "diesel", "limestone_caco3", "sf6"):
        assert material in ranges["materials"]
    assert ranges["materials"]["natural_gas"][3] == 1e5 and ranges["materials"]["natural_gas"][2] == "10^4Nm3"


def test_cli_import_refuses_then_accepts_an_outlier_with_a_reason(db, plan, cli_env, tmp_path):
    rows = _gas_year(38)
    rows[6] = dict(rows[6], quantity=380_000)
    path = tmp_path / "gas.csv"
    path.write_bytes(csv_bytes(rows))
    refused = cms(cli_env, "import", str(path), user=DATA_ADMIN, locale="en")
    assert refused.returncode != 0 and "10,000×" in refused.stdout + refused.stderr
    accepted = cms(cli_env, "import", str(path), "--accept-outliers", "8", "--reason", "checked with the supplier",
                   user=DATA_ADMIN, locale="en")
    assert accepted.returncode == 0, accepted.stderr
    assert "rows 8 (checked with the supplier)" in accepted.stdout
