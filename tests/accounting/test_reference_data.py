"""Reference data (X-5, R-6.2.3 a): every value carries its source document, table and year."""

from __future__ import annotations

from cms_workflows.accounting import factors


def test_every_fuel_value_names_its_table_and_the_tables_name_document_and_year():
    fuels = factors.reference("fuels.yaml")
    for code, f in fuels["fuels"].items():
        assert f["values"], code
        for table, values in f["values"].items():
            assert table in fuels["tables"], (code, table)
            assert set(values) <= {"ncv", "carbon_content", "oxidation"}
    for t in fuels["tables"].values():
        assert t["document"] and t["table"] and t["year"]
    # FACTS.md: two published tables disagree; both are kept, each with its table
    gas = fuels["fuels"]["natural_gas"]["values"]
    assert gas["gbt32150_b1"]["carbon_content"] == 0.0153 and gas["ndrc2013_guideline"]["carbon_content"] == 0.01532


def test_statistical_and_market_electricity_factors_are_separate_kinds_each_with_its_notice():
    grid = factors.reference("electricity_heat.yaml")["electricity"]
    stat = {r["year_from"]: r["value"] for r in grid if r["kind"] == "statistical"}
    market = {r["year_from"]: r["value"] for r in grid if r["kind"] == "market"}
    assert stat == {2021: 0.5568, 2022: 0.5366, 2023: 0.5306}
    assert market == {2021: 0.5810, 2022: 0.5703}
    assert all(r["document"] and r["table"] and r["year"] for r in grid)


def test_gwp_sets_and_annex_c_and_annex_d():
    gwp = factors.reference("gwp.yaml")
    assert gwp["gases"]["ch4"]["AR5"] == 28 and gwp["gases"]["n2o"]["AR6"] == 273
    assert set(gwp["sets"]) == {"SAR", "AR4", "AR5", "AR6"}
    cats = factors.categories()
    for code in ("stationary_combustion", "mobile_combustion", "process", "waste_treatment", "fugitive",
                 "purchased_electricity", "purchased_heat", "biomass", "product_embodied"):
        assert code in cats and cats[code]["name_zh"]
    standards = factors.reference("sector_standards.yaml")["standards"]
    codes = [s["code"] for s in standards]
    assert codes[0] == "GB/T 32150-2015" and "GB/T 32151.8-2023" in codes and len(codes) >= 37
    assert all(s["title_zh"] and s["published"] and s["effective"] for s in standards)


def test_factor_set_version_changes_with_overrides_and_options_only():
    a = factors.FactorLibrary()
    assert a.version() == factors.FactorLibrary().version()
    b = factors.FactorLibrary([factors.Override("natural_gas", "carbon_content", 0.0155, evidence="lab report 1")])
    c = factors.FactorLibrary(options=factors.Options(electricity_kind="market"))
    assert len({a.version(), b.version(), c.version()}) == 3
