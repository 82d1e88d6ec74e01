"""Purity of process inputs wired end to end (issue 15 item 3, GB/T 32150-2015 process emissions; R-6.3.5, X-5):
the import's optional `purity` column, the plan line's default purity (service, CLI), the template, and
earlier runs (no purity) still hashing and reproducing as before."""

from __future__ import annotations

import hashlib
import json
import io

import pandas as pd
import pytest
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.accounting import importing
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.models import Activity, CalculationRun, PlanItem
from cms_workflows.core.errors import ValidationFailed

from .conftest import ACCOUNTANT, DATA_ADMIN, csv_bytes, row
from .test_cli_and_outputs import cms

PERIOD = "2023-03"


def purity_csv(rows: list[tuple[dict, object]], header: str = "purity") -> bytes:
    """An import file with a purity column (`header`: purity or 纯度) after the usual ones."""
    lines = [",".join([*importing.FIELDS, header])]
    lines += [",".join([*(str(r.get(f, "")) for f in importing.FIELDS), "" if p is None else str(p)]) for r, p in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def kiln(period=PERIOD, quantity=100):
    return row("HN01", "KILN1", "limestone_caco3", period, quantity, "t")


def imported(db, data: bytes, name="a.csv"):
    with db.unit_of_work() as s:
        return acc.import_activity(s, DATA_ADMIN, data, name)


def run(db, first=PERIOD, last=PERIOD) -> int:
    with db.unit_of_work() as s:
        return acc.calculate(s, ACCOUNTANT, first, last, ["HN01"]).run_id


def kiln_tco2e(db, run_id: int) -> pd.Series:
    with db.read() as s:
        results = q.run_results(s, run_id)
    return results[results["facility"] == "KILN1"].set_index("period")["tco2e"]


def test_a_purity_column_is_stored_and_scales_limestone_to_41_8_t(db, plan):
    # 100 t x 0.95 x 0.440 tCO2/t (process_materials.yaml, table_3dp) = 41.8 t; the Chinese header 纯度 too
    imported(db, purity_csv([(kiln(), 0.95), (row("HN01", "BOILER1", "natural_gas", PERIOD, 10, "10^4Nm3"), None)],
                            header="纯度/purity"))
    with db.read() as s:
        stored = dict(s.exec(select(Activity.facility, Activity.purity)).all())
    assert stored["KILN1"] == 0.95 and stored["BOILER1"] is None
    assert kiln_tco2e(db, run(db))[PERIOD] == pytest.approx(41.8, abs=1e-9)


@pytest.mark.parametrize("value", ["95", "0", "-0.1", "abc"])
def test_a_purity_outside_0_to_1_is_refused_with_its_row_and_field_and_nothing_written(db, plan, value):
    with pytest.raises(ValidationFailed) as e:
        imported(db, purity_csv([(kiln("2023-01"), 0.9), (kiln("2023-02"), value)]))
    (p,) = e.value.problems
    key = "accounting.problem.not_a_number" if value == "abc" else "accounting.problem.purity_range"
    assert (p["row"], p["field"], p["key"]) == (3, "purity", key)
    assert p["params"]["value"] == (value if value == "abc" else f"{float(value):g}")
    with db.read() as s:
        assert s.exec(select(Activity)).all() == []


def test_a_purity_on_a_fuel_row_is_refused_at_import(db, plan):
    with pytest.raises(ValidationFailed) as e:
        imported(db, purity_csv([(row("HN01", "BOILER1", "natural_gas", PERIOD, 10, "10^4Nm3"), 0.9)]))
    (p,) = e.value.problems
    assert (p["row"], p["field"], p["key"]) == (2, "purity", "accounting.problem.purity_not_applicable")


def test_the_plan_lines_purity_applies_to_rows_that_give_none(db, company):
    with db.unit_of_work() as s:
        acc.add_plan_item(s, ACCOUNTANT, site="HN01", production_unit="U1", facility="KILN1", category="process",
                          material="limestone_caco3", unit="t", data_source="invoice", purity=0.92)
    with db.read() as s:
        (item,) = s.exec(select(PlanItem)).all()
        (event,) = [e for e in audit.events_for(s, "acc_plan_item", item.id)]
    assert item.purity == 0.92 and json.loads(event.payload)["purity"] == 0.92
    imported(db, purity_csv([(kiln("2023-03"), None), (kiln("2023-04"), 0.97)]))
    by = kiln_tco2e(db, run(db, "2023-03", "2023-04"))
    assert by["2023-03"] == pytest.approx(40.48) and by["2023-04"] == pytest.approx(42.68)  # 100x0.92|0.97x0.44


@pytest.mark.parametrize("purity, key", [(95.0, "purity_range"), (0.0, "purity_range"),
                                         (0.9, "purity_not_applicable")])
def test_a_bad_plan_purity_is_refused(db, company, purity, key):
    material = "natural_gas" if key == "purity_not_applicable" else "limestone_caco3"
    with pytest.raises(ValidationFailed) as e, db.unit_of_work() as s:
        acc.add_plan_item(s, ACCOUNTANT, site="HN01", production_unit="U1", facility="K", category="process",
                          material=material, unit="t" if material != "natural_gas" else "10^4Nm3", purity=purity)
    assert [(p["field"], p["key"]) for p in e.value.problems] == [("purity", f"accounting.problem.{key}")]
    with db.read() as s:
        assert s.exec(select(PlanItem)).all() == []


def _hash_before_purity(frame: pd.DataFrame) -> str:
    """`queries.input_hash` as it was written before the purity column existed (eight columns)."""
    frame = frame[["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit"]]
    canon = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    return hashlib.sha256(canon.to_csv(index=False, float_format="%.17g").encode()).hexdigest()


def test_an_old_style_file_imports_and_its_run_hashes_and_reproduces_as_before(db, plan):
    r = imported(db, csv_bytes([kiln(), row("HN01", "GRID", "electricity", PERIOD, 1000, "MWh")]))
    assert r.rows == 2
    run_id = run(db)
    with db.read() as s:
        stored = s.get(CalculationRun, run_id).input_hash
        frame = q.activity_frame(s, PERIOD, PERIOD, ["HN01"])
        assert frame["purity"].isna().all()
        assert stored == _hash_before_purity(frame) == q.input_hash(frame)
        results = q.reproduce(s, run_id)
    assert results.set_index("facility")["tco2e"]["KILN1"] == pytest.approx(44.0)  # 100 t x 0.440, pure


def test_a_run_with_purity_hashes_the_purity(db, plan):
    imported(db, purity_csv([(kiln(), 0.95)]))
    run_id = run(db)
    with db.read() as s:
        frame = q.activity_frame(s, PERIOD, PERIOD, ["HN01"])
        assert s.get(CalculationRun, run_id).input_hash == q.input_hash(frame) != _hash_before_purity(frame)
        assert q.reproduce(s, run_id)["tco2e"].sum() == pytest.approx(41.8)


def test_the_template_has_an_empty_purity_column_when_a_plan_material_takes_one(db, plan):
    with db.read() as s:
        data = q.template(s, DATA_ADMIN, [PERIOD], site="HN01", fmt="csv")
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert "纯度/purity" in table.columns
    cells = dict(zip(table["燃料/物料/material"].str.lstrip("'"), table["纯度/purity"]))
    assert set(cells) == {"natural_gas", "limestone_caco3", "electricity", "diesel"} and set(cells.values()) == {""}
    fuel_only = importing.template_rows([{"site": "HN01", "production_unit": "U1", "facility": "B", "category": "c",
                                          "material": "diesel", "unit": "t"}], [PERIOD], {"limestone_caco3"})
    assert "purity" not in fuel_only[0]
    header = importing.write_template(fuel_only, "csv").decode("utf-8-sig").splitlines()[0]
    assert header.split(",") == [f"{importing.HEADERS_ZH[f]}/{f}" for f in importing.FIELDS]  # the old layout


def test_cli_plan_add_takes_a_purity(db, company, cli_env):
    r = cms(cli_env, "plan", "add", "HN01", "U1", "KILN9", "process", "limestone_caco3", "t", "--purity", "0.95",
            user=ACCOUNTANT)
    assert r.returncode == 0, r.stderr
    bad = cms(cli_env, "plan", "add", "HN01", "U1", "KILN8", "process", "limestone_caco3", "t", "--purity", "95",
              user=ACCOUNTANT, locale="en")
    assert bad.returncode != 0 and "0.95" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr
    with db.read() as s:
        assert [(i.facility, i.purity) for i in s.exec(select(PlanItem))] == [("KILN9", 0.95)]


def test_cms_verify_deep_agrees_with_a_run_that_used_purities_and_names_an_edited_purity(db, company):
    from cms_workflows.bootstrap import verify_deep

    with db.unit_of_work() as s:  # one row's own purity, one from its plan line
        acc.add_plan_item(s, ACCOUNTANT, site="HN01", production_unit="U1", facility="KILN1", category="process",
                          material="limestone_caco3", unit="t", data_source="invoice", purity=0.92)
    imported(db, purity_csv([(kiln("2023-03"), None), (kiln("2023-04"), 0.97)]))
    run(db, "2023-03", "2023-04")
    report = verify_deep(db)
    assert report.ok, report.lines
    with db.engine.begin() as conn:  # an edit behind the application's back
        conn.execute(Activity.__table__.update().where(Activity.period == "2023-04").values(purity=0.5))
    report = verify_deep(db)
    assert not report.ok and report.problem.key == "accounting.deep.run_inputs"
