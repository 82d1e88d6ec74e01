"""GB/T 32150 engine (X-5): hand-checked examples from published defaults, and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_workflows.accounting.calculation import calculate, intensity, rollup
from cms_workflows.accounting.factors import FactorLibrary, Options, Override
from cms_workflows.core.errors import ValidationFailed


def frame(rows):
    cols = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit"]
    return pd.DataFrame(rows, columns=cols)


def one(category, material, qty, unit, period="2023-03", site="HN01", lib=None):
    return calculate(frame([(site, "U1", "F1", category, material, period, qty, unit)]), lib or FactorLibrary()).total


def test_natural_gas_by_gbt32150_table_b1():
    # GB/T 32150-2015 Table B.1: NCV 389.31 GJ/10^4Nm3, 15.3e-3 tC/GJ, oxidation 99 %
    # 10 x 389.31 x 0.0153 x 0.99 x 44/12 = 216.2189 tCO2
    assert one("stationary_combustion", "natural_gas", 10, "10^4Nm3") == pytest.approx(216.2189, abs=1e-4)
    # the same gas in Nm3 and in GJ (AD given as heat: no NCV)
    assert one("stationary_combustion", "natural_gas", 100_000, "Nm3") == pytest.approx(216.2189, abs=1e-4)
    assert one("stationary_combustion", "natural_gas", 3893.1, "GJ") == pytest.approx(216.2189, abs=1e-4)


def test_diesel_and_coal_by_table_b1_and_the_other_table():
    # diesel: 42.652 GJ/t, 20.2e-3 tC/GJ, 98 %: 2 t -> 6.19182 tCO2
    assert one("mobile_combustion", "diesel", 2000, "kg") == pytest.approx(6.191819, abs=1e-6)
    # bituminous coal 5 t: Table B.1 26.1e-3 tC/GJ -> 8.70875; NDRC guideline table 26.18e-3 -> x 26.18/26.1
    assert one("stationary_combustion", "bituminous_coal", 5, "t") == pytest.approx(8.708748, abs=1e-6)
    ndrc = FactorLibrary(options=Options(fuel_table="ndrc2013_guideline"))
    assert one("stationary_combustion", "bituminous_coal", 5, "t", lib=ndrc) == pytest.approx(8.708748 * 26.18 / 26.1, abs=1e-6)


def test_electricity_statistical_vs_market_heat_exports_recovery_gases_carbonates():
    # MEE/NBS 2023 national average 0.5306 tCO2/MWh; market reporting 0.5703 (2022 onward)
    assert one("purchased_electricity", "electricity", 1_000_000, "kWh") == pytest.approx(530.6)
    market = FactorLibrary(options=Options(electricity_kind="market"))
    assert one("purchased_electricity", "electricity", 1000, "MWh", lib=market) == pytest.approx(570.3)
    assert one("purchased_electricity", "electricity", 1000, "MWh", period="2021-06", lib=market) == pytest.approx(581.0)
    assert one("exported_electricity", "electricity", 100, "MWh") == pytest.approx(-53.06)
    assert one("purchased_heat", "heat", 1000, "GJ") == pytest.approx(110.0)  # 0.11 tCO2/GJ
    assert one("co2_recovered", "co2", 5, "t") == pytest.approx(-5.0)
    # SF6 10 kg: AR5 23,500 -> 235 tCO2e; AR6 25,200 -> 252
    assert one("fugitive", "sf6", 10, "kg") == pytest.approx(235.0)
    assert one("fugitive", "sf6", 10, "kg", lib=FactorLibrary(options=Options(gwp_set="AR6"))) == pytest.approx(252.0)
    assert one("waste_treatment", "ch4", 1, "t") == pytest.approx(28.0)
    # limestone: the printed 0.440 tCO2/t by default (issue 15): 100 t -> 44.0; stoichiometric 0.43971 -> 43.971
    assert one("process", "limestone_caco3", 100, "t") == pytest.approx(44.0)
    assert one("process", "limestone_caco3", 100, "t", lib=FactorLibrary(options=Options(
        carbonate_table="stoichiometric"))) == pytest.approx(43.971)


def test_clinker_oxide_method_needs_measured_fractions():
    with pytest.raises(ValidationFailed) as e:
        one("process", "clinker", 1000, "t")
    assert any(p["params"].get("parameter") == "cao_fraction" and p["material"] == "clinker" for p in e.value.problems)
    lib = FactorLibrary([Override("clinker", "cao_fraction", 0.65, evidence="lab"), Override("clinker", "mgo_fraction", 0.02, evidence="lab")])
    # 1000 t x (0.65 x 44.01/56.08 + 0.02 x 44.01/40.30)
    assert one("process", "clinker", 1000, "t", lib=lib) == pytest.approx(1000 * (0.65 * 0.78479 + 0.02 * 1.09206))


def test_missing_factor_names_fuel_year_and_site_never_zero():
    with pytest.raises(ValidationFailed) as e:
        one("purchased_electricity", "electricity", 1000, "MWh", period="2025-01", site="HN02")
    (p,) = e.value.problems
    assert (p["material"], p["year"], p["site"]) == ("electricity", 2025, "HN02")
    with pytest.raises(ValidationFailed):
        one("stationary_combustion", "natural_gas", 1, "MWh-ish")
    with pytest.raises(ValidationFailed):
        one("stationary_combustion", "natural_gas", 1, "t")  # a gas in tonnes: no conversion exists


def test_company_override_with_site_precedence():
    lib = FactorLibrary([Override("electricity", "ef", 0.60, evidence="regional notice", site="*"),
                         Override("electricity", "ef", 0.50, evidence="green power contract", site="HN02")])
    assert one("purchased_electricity", "electricity", 100, "MWh", site="HN01", lib=lib) == pytest.approx(60.0)
    assert one("purchased_electricity", "electricity", 100, "MWh", site="HN02", lib=lib) == pytest.approx(50.0)


def test_biomass_and_embodied_are_memo_items_not_in_the_total():
    lib = FactorLibrary([Override("wood_pellet", "ef", 1.6, unit="t", evidence="supplier")])
    c = calculate(frame([("HN01", "U1", "B2", "biomass", "wood_pellet", "2023-01", 10, "t"),
                         ("HN01", "U1", "B1", "stationary_combustion", "natural_gas", "2023-01", 1, "10^4Nm3")]), lib)
    assert c.total == pytest.approx(21.62189, abs=1e-5)
    assert c.results["memo_tco2e"].sum() == pytest.approx(16.0)


def test_rollups_and_intensity():
    rows = [("HN01", "U1", "F1", "stationary_combustion", "natural_gas", f"2023-{m:02d}", 1, "10^4Nm3") for m in (1, 2)]
    rows += [("HN02", "V1", "G", "purchased_electricity", "electricity", "2023-01", 100, "MWh")]
    res = calculate(frame(rows), FactorLibrary()).results
    site = rollup(res, "site", "year")
    assert list(site["site"]) == ["HN01", "HN02"] and site["tco2e"].iloc[1] == pytest.approx(53.06)
    ent = rollup(res, "enterprise", "month")
    assert ent["tco2e"].sum() == pytest.approx(res["tco2e"].sum())
    out = pd.DataFrame({"site": ["HN02"], "period": ["2023-01"], "product_t": [10.0], "value_10k_cny": [53.06]})
    i = intensity(res, out)
    assert i["tco2e_per_t"].iloc[0] == pytest.approx(5.306) and i["tco2e_per_10k_cny"].iloc[0] == pytest.approx(1.0)


MATERIALS = [("stationary_combustion", "natural_gas", "10^4Nm3"), ("mobile_combustion", "diesel", "t"),
             ("purchased_electricity", "electricity", "MWh"), ("process", "limestone_caco3", "t"),
             ("fugitive", "sf6", "kg"), ("exported_heat", "heat", "GJ")]
rows_strategy = st.lists(st.tuples(st.sampled_from(["HN01", "HN02"]), st.sampled_from(["F1", "F2", "F3"]),
                                   st.sampled_from(MATERIALS), st.integers(1, 12),
                                   st.floats(0, 1e6, allow_nan=False, allow_infinity=False)), min_size=1, max_size=40)


def _frame(rows):
    return frame([(s, "U", f, m[0], m[1], f"2023-{mo:02d}", q, m[2]) for s, f, m, mo, q in rows])


@settings(max_examples=60, deadline=None)
@given(rows_strategy, st.floats(0.001, 1000), st.randoms())
def test_properties_scaling_parts_and_order(rows, k, rnd):
    lib = FactorLibrary()
    base = calculate(_frame(rows), lib)
    scaled = _frame(rows).assign(quantity=lambda d: d["quantity"] * k)
    # scaling activity data by k scales emissions by k
    assert calculate(scaled, lib).total == pytest.approx(base.total * k, rel=1e-9, abs=1e-6)
    # the parts sum to the total, at every level
    for level in ("site", "facility", "category"):
        assert rollup(base.results, level, "month")["tco2e"].sum() == pytest.approx(base.total, rel=1e-9, abs=1e-6)
    # row order does not matter
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    again = calculate(_frame(shuffled), lib).results
    pd.testing.assert_frame_equal(again[["site", "facility", "category", "period"]], base.results[["site", "facility", "category", "period"]])
    np.testing.assert_allclose(again["tco2e"], base.results["tco2e"], rtol=1e-9, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(rows_strategy)
def test_dense_and_hashed_grouping_agree(rows):
    """Large key spaces are hashed instead of counted densely; both paths give the same figures."""
    from cms_workflows.accounting import calculation

    lib = FactorLibrary()
    dense = calculate(_frame(rows), lib).results
    saved = calculation.DENSE_LIMIT
    calculation.DENSE_LIMIT = 0
    try:
        hashed = calculate(_frame(rows), lib).results
    finally:
        calculation.DENSE_LIMIT = saved
    pd.testing.assert_frame_equal(dense, hashed)


def test_memo_rows_on_both_paths():
    from cms_workflows.accounting import calculation

    lib = FactorLibrary([Override("wood_pellet", "ef", 1.6, unit="t", evidence="supplier")])
    f = frame([("HN01", "U1", "B2", "biomass", "wood_pellet", "2023-01", 10, "t"),
               ("HN01", "U1", "B2", "stationary_combustion", "natural_gas", "2023-01", 1, "10^4Nm3")])
    saved = calculation.DENSE_LIMIT
    for limit in (saved, 0):
        calculation.DENSE_LIMIT = limit
        try:
            r = calculate(f, lib).results
        finally:
            calculation.DENSE_LIMIT = saved
        assert r["tco2e"].sum() == pytest.approx(21.62189, abs=1e-5) and r["memo_tco2e"].sum() == pytest.approx(16.0)
