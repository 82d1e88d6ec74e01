"""Indicators of the figures of record (issue 15 item 4): results by material, company and monthly intensity
(a month without production, a month without output value), year-on-year by category, ranking by source and
by facility; old runs without a material still verify. Every expected figure is worked out here by hand from
the published factors (GB/T 32150-2015 Table B.1, MEE/NBS grid factors, AR5), not by the code under test."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cms_workflows.accounting import indicators, integrity, names, reports
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service as acc
from cms_workflows.core.errors import AccessDenied, ValidationFailed

from .conftest import ACCOUNTANT, ACCOUNTANT2, DATA_ADMIN, DATA_ADMIN2, GM, csv_bytes, row

# tCO2 per unit, by hand from the published parameters
GAS = 389.31 * 0.0153 * 0.99 * 44 / 12  # per 10^4 Nm3: NCV x carbon content x oxidation x 44/12
DIESEL = 42.652 * 0.0202 * 0.98 * 44 / 12  # per t
LIME = 0.440  # per t limestone (the printed table value)
SF6 = 23.5  # per kg (AR5 GWP 23,500)
GRID = {2022: 0.5366, 2023: 0.5306}  # per MWh, statistical national average of the data year

# (site, facility, material, unit) -> {period: quantity}
DATA = {
    ("HN01", "BOILER1", "natural_gas", "10^4Nm3"): {"2022-01": 10, "2022-02": 20, "2023-01": 12, "2023-02": 20},
    ("HN01", "GRID", "electricity", "MWh"): {"2022-01": 1000, "2022-02": 1000, "2023-01": 1100, "2023-02": 900},
    ("HN01", "KILN1", "limestone_caco3", "t"): {"2022-01": 100, "2022-02": 100, "2023-01": 100, "2023-02": 60},
    ("HN01", "TRUCKS", "diesel", "t"): {"2022-01": 1, "2022-02": 1, "2023-01": 2, "2023-02": 1},
    ("HN02", "GRID", "electricity", "MWh"): {"2022-01": 500, "2022-02": 500, "2023-01": 600, "2023-02": 400},
    ("HN02", "SWITCHGEAR", "sf6", "kg"): {"2022-01": 2, "2022-02": 2, "2023-01": 1, "2023-02": 3},
}
# site-month emissions of 2023 by hand
E = {("HN01", "2023-01"): 12 * GAS + 1100 * GRID[2023] + 100 * LIME + 2 * DIESEL,
     ("HN01", "2023-02"): 20 * GAS + 900 * GRID[2023] + 60 * LIME + 1 * DIESEL,
     ("HN02", "2023-01"): 600 * GRID[2023] + 1 * SF6,
     ("HN02", "2023-02"): 400 * GRID[2023] + 3 * SF6}
# production (t) and output value (10^4 CNY): HN01 has no value for 2023-02, HN02 no production at all for 2023-02
OUTPUT = [("HN01", "2023-01", 1000.0, 500.0), ("HN01", "2023-02", 800.0, None), ("HN02", "2023-01", 200.0, 100.0)]


def two_years(db) -> None:
    """Both sites' data for Jan-Feb 2022 and 2023, each year calculated and approved; the 2023 output."""
    for site, user in (("HN01", DATA_ADMIN), ("HN02", DATA_ADMIN2)):
        for year in (2022, 2023):
            rows = [row(s, f, m, p, qty, u) for (s, f, m, u), months in DATA.items() if s == site
                    for p, qty in months.items() if p.startswith(str(year))]
            with db.unit_of_work() as s:
                acc.import_activity(s, user, csv_bytes(rows), f"{site}-{year}.csv")
    for year in (2022, 2023):
        for site, accountant in (("HN01", ACCOUNTANT), ("HN02", ACCOUNTANT2)):
            with db.unit_of_work() as s:
                run_id = acc.calculate(s, accountant, f"{year}-01", f"{year}-02", [site]).run_id
            with db.unit_of_work() as s:
                acc.approve_run(s, GM, run_id, comment="与能源台账核对一致")
    with db.unit_of_work() as s:
        for site, period, product, value in OUTPUT:
            acc.record_output(s, DATA_ADMIN if site == "HN01" else DATA_ADMIN2, site, period, product, value)


@pytest.fixture
def figures(db, plan):
    two_years(db)
    return db


# ------------------------------------------------------------------ results by material, rollups unchanged

def test_results_carry_the_material_and_the_totals_are_those_by_hand(figures):
    with figures.read() as s:
        res = q.official_results(s, GM, "2023-01", "2023-12")
    assert set(res["material"]) == {"natural_gas", "electricity", "limestone_caco3", "diesel", "sf6"}
    gas = res[(res["material"] == "natural_gas") & (res["period"] == "2023-01")]
    assert gas["tco2e"].sum() == pytest.approx(12 * GAS, rel=1e-9)
    assert res["tco2e"].sum() == pytest.approx(sum(E.values()), rel=1e-9)
    with figures.read() as s:  # the results tables at the existing levels: summed over the material
        by_site = reports.results_table(s, GM, first="2023-01", last="2023-12", level="site", by="month")
        by_facility = reports.results_table(s, GM, first="2023-01", last="2023-12", level="facility", by="year")
    assert "material" not in by_site.columns and len(by_site) == 4
    for (site, period), value in E.items():
        got = by_site[(by_site["site"] == site) & (by_site["period"] == period)]["tco2e"]
        assert float(got.iloc[0]) == pytest.approx(value, rel=1e-9)
    hn01_grid = by_facility[(by_facility["site"] == "HN01") & (by_facility["facility"] == "GRID")]
    assert float(hn01_grid["tco2e"].iloc[0]) == pytest.approx(2000 * GRID[2023], rel=1e-9)


# ------------------------------------------------------------------ intensity

def test_company_intensity_leaves_out_the_month_without_production_and_says_so(figures):
    with figures.read() as s:
        year = reports.intensity_table(s, GM, "2023-01", "2023-12", level="company", by="year")
        month = reports.intensity_table(s, GM, "2023-01", "2023-12", level="company", by="month")
        site = reports.intensity_table(s, GM, "2023-01", "2023-12", level="site", by="year")
    (y,) = year.to_dict("records")
    assert y["year"] == "2023" and y["tco2e"] == pytest.approx(sum(E.values()))
    # production: every site-month but HN02 2023-02 (none recorded)
    with_product = E["HN01", "2023-01"] + E["HN01", "2023-02"] + E["HN02", "2023-01"]
    assert y["product_t"] == pytest.approx(2000.0)
    assert y["tco2e_per_t"] == pytest.approx(with_product / 2000.0)
    assert y["months_without_product"] == "HN02 2023-02"
    # output value: HN01 2023-02 has none either
    assert y["value_10k_cny"] == pytest.approx(600.0)
    assert y["tco2e_per_10k_cny"] == pytest.approx((E["HN01", "2023-01"] + E["HN02", "2023-01"]) / 600.0)
    assert y["months_without_value"] == "HN01 2023-02, HN02 2023-02"
    feb = month[month["period"] == "2023-02"].iloc[0]
    assert feb["tco2e_per_t"] == pytest.approx(E["HN01", "2023-02"] / 800.0)
    assert pd.isna(feb["tco2e_per_10k_cny"]) and pd.isna(feb["value_10k_cny"])  # blank, not a division error
    jan = month[month["period"] == "2023-01"].iloc[0]
    assert jan["tco2e_per_t"] == pytest.approx((E["HN01", "2023-01"] + E["HN02", "2023-01"]) / 1200.0)
    assert jan["months_without_product"] == "" and jan["months_without_value"] == ""
    hn02 = site[site["site"] == "HN02"].iloc[0]
    assert hn02["tco2e_per_t"] == pytest.approx(E["HN02", "2023-01"] / 200.0)
    assert hn02["months_without_product"] == "2023-02"


def test_a_site_bound_user_sees_the_company_of_their_own_sites(figures):
    with figures.read() as s:
        (y,) = reports.intensity_table(s, ACCOUNTANT, "2023-01", "2023-12", by="year").to_dict("records")
    assert y["tco2e"] == pytest.approx(E["HN01", "2023-01"] + E["HN01", "2023-02"])
    assert y["tco2e_per_t"] == pytest.approx(y["tco2e"] / 1800.0)
    with figures.read() as s, pytest.raises(AccessDenied):
        reports.ranking_table(s, ACCOUNTANT2, "2023-01", "2023-12", site="HN01")


def test_intensity_by_hand_frames_missing_value_and_zero_production():
    res = pd.DataFrame({"site": ["A", "A", "B"], "period": ["2024-01", "2024-02", "2024-01"],
                        "category": "process", "material": "m", "tco2e": [30.0, 10.0, 6.0]})
    out = pd.DataFrame({"site": ["A", "A", "B"], "period": ["2024-01", "2024-02", "2024-01"],
                        "product_t": [10.0, 0.0, 3.0], "value_10k_cny": [None, None, None]}).astype({"value_10k_cny": float})
    site = indicators.intensity(res, out, "site", "month")
    assert list(site["tco2e_per_t"].round(6).fillna(-1)) == [3.0, -1, 2.0]  # 0 t produced: no intensity, no error
    assert site["tco2e_per_10k_cny"].isna().all() and site["value_10k_cny"].isna().all()
    company = indicators.intensity(res, out, "company", "year").iloc[0]
    assert company["tco2e_per_t"] == pytest.approx((30 + 10 + 6) / 13.0)  # a recorded 0 t counts as recorded
    assert company["months_without_value"] == "A 2024-01, A 2024-02, B 2024-01"
    with pytest.raises(ValidationFailed):
        indicators.intensity(res, out, "plant", "year")
    with pytest.raises(ValidationFailed):
        indicators.intensity(res, out, "site", "week")


# ------------------------------------------------------------------ year-on-year

def test_year_on_year_by_category_annual_and_monthly(figures):
    with figures.read() as s:
        annual = reports.yoy_table(s, GM, 2023).set_index("category")
        monthly = reports.yoy_table(s, GM, 2023, by="month", site="HN02")
    gas = annual.loc["stationary_combustion"]
    assert gas["previous"] == pytest.approx(30 * GAS) and gas["current"] == pytest.approx(32 * GAS)
    assert gas["change_t"] == pytest.approx(2 * GAS) and gas["change_pct"] == pytest.approx(2 / 30)
    grid = annual.loc["purchased_electricity"]
    assert grid["previous"] == pytest.approx(3000 * GRID[2022]) and grid["current"] == pytest.approx(3000 * GRID[2023])
    assert grid["change_pct"] == pytest.approx((0.5306 - 0.5366) / 0.5366)
    lime = annual.loc["process"]
    assert lime["change_t"] == pytest.approx(-40 * LIME) and lime["change_pct"] == pytest.approx(-40 / 200)
    assert annual.loc["fugitive", "change_t"] == pytest.approx(0.0)  # 4 kg SF6 both years
    assert annual.loc["fugitive", "category_name"] == "无组织（逸散）排放源"  # in the reader's language (zh-CN)
    sf6 = monthly[(monthly["category"] == "fugitive")].set_index("month")
    assert sf6.loc["01", "previous"] == pytest.approx(2 * SF6) and sf6.loc["01", "current"] == pytest.approx(1 * SF6)
    assert sf6.loc["02", "change_pct"] == pytest.approx((3 - 2) / 2)
    assert set(monthly["category"]) == {"fugitive", "purchased_electricity"}  # HN02 only


def test_year_on_year_without_a_previous_year_or_with_a_zero_previous():
    res = pd.DataFrame({"site": ["A", "A", "A"], "period": ["2023-01", "2024-01", "2024-02"],
                        "category": ["process", "fugitive", "process"], "tco2e": [5.0, 7.0, 4.0]})
    t = indicators.year_on_year(res, 2024, "month").set_index(["category", "month"])
    assert t.loc[("fugitive", "01"), "previous"] == 0.0 and pd.isna(t.loc[("fugitive", "01"), "change_pct"])
    assert pd.isna(t.loc[("process", "02"), "previous"])  # February 2023 has no figures at all: not a zero
    assert t.loc[("process", "01"), "change_t"] == pytest.approx(-5.0)
    assert indicators.year_on_year(res, 2030).empty


# ------------------------------------------------------------------ ranking

def test_ranking_by_source_and_by_facility(figures):
    with figures.read() as s:
        by_material = reports.ranking_table(s, GM, "2023-01", "2023-12", by="material")
        by_facility = reports.ranking_table(s, GM, "2023-01", "2023-12", by="facility")
        hn01 = reports.ranking_table(s, GM, "2023-01", "2023-12", by="material", site="HN01")
    expected = {"electricity": 3000 * GRID[2023], "natural_gas": 32 * GAS, "sf6": 4 * SF6,
                "limestone_caco3": 160 * LIME, "diesel": 3 * DIESEL}
    total = sum(expected.values())
    assert list(by_material["material"]) == ["electricity", "natural_gas", "sf6", "limestone_caco3", "diesel"]
    assert list(by_material["rank"]) == [1, 2, 3, 4, 5]
    for r in by_material.to_dict("records"):
        assert r["tco2e"] == pytest.approx(expected[r["material"]])
        assert r["share"] == pytest.approx(expected[r["material"]] / total)
    assert by_material["cumulative_share"].iloc[1] == pytest.approx((3000 * GRID[2023] + 32 * GAS) / total)
    assert list(by_material["material_name"][:2]) == ["电力", "天然气"]
    top = by_facility.iloc[0]
    assert (top["site"], top["facility"]) == ("HN01", "GRID") and top["tco2e"] == pytest.approx(2000 * GRID[2023])
    assert list(by_facility["facility"][-1:]) == ["TRUCKS"]
    assert "sf6" not in set(hn01["material"])
    with figures.read() as s, pytest.raises(ValidationFailed):
        reports.ranking_table(s, GM, "2023-01", "2023-12", by="colour")


def test_material_names_follow_the_reader():
    assert names.material_name("natural_gas", "en") == "Natural gas"
    assert names.material_name("electricity", "en") == "Electricity"
    assert names.material_name("sf6", "en") == "SF6"
    assert names.material_name("company_slag", "zh-CN") == "company_slag"
    assert "未记录" in names.material_name("", "zh-CN")


# ------------------------------------------------------------------ old runs: NULL material, still verified

def _as_stored_before_0017(db, run_id: int) -> None:
    """Rewrite a run's results as a run calculated before results carried the material: summed over materials,
    material NULL (what the 0017 migration leaves for earlier runs)."""
    with db.engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT site, production_unit, facility, category, period, SUM(tco2e), SUM(memo_tco2e) FROM acc_result "
            "WHERE run_id = :r GROUP BY site, production_unit, facility, category, period"), {"r": run_id}).all()
        conn.execute(text("DELETE FROM acc_result WHERE run_id = :r"), {"r": run_id})
        for r in rows:
            conn.execute(text(
                "INSERT INTO acc_result (run_id, site, production_unit, facility, category, material, period, tco2e, "
                "memo_tco2e) VALUES (:run, :s, :pu, :f, :c, NULL, :p, :t, :m)"),
                {"run": run_id, "s": r[0], "pu": r[1], "f": r[2], "c": r[3], "p": r[4], "t": r[5], "m": r[6]})


def test_an_old_run_without_material_still_verifies_and_a_changed_one_does_not(db, plan):
    with db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, csv_bytes(
            [row("HN01", "BOILER1", "natural_gas", "2023-01", 12, "10^4Nm3"),
             row("HN01", "GRID", "electricity", "2023-01", 1100, "MWh")]), "old.csv")
    with db.unit_of_work() as s:
        old = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-01", ["HN01"]).run_id
    _as_stored_before_0017(db, old)
    with db.read() as s:
        assert q.run_results(s, old)["material"].isna().all()
        assert list(integrity.check_runs(s)) == []
        ranked = reports.indicators.ranking(q.run_results(s, old), "material")
    assert list(ranked["material"]) == [""]  # ranked as "not recorded", not dropped
    assert ranked["tco2e"].iloc[0] == pytest.approx(12 * GAS + 1100 * GRID[2023])
    with db.unit_of_work() as s:  # a run with materials beside it: each compared at its own granularity
        acc.calculate(s, ACCOUNTANT, "2023-01", "2023-01", ["HN01"])
    with db.engine.begin() as conn:
        # one tonne moved between facilities: the total still agrees, the old run's rows do not
        conn.execute(text("UPDATE acc_result SET tco2e = tco2e + 1 WHERE run_id = :r AND facility = 'GRID'"), {"r": old})
        conn.execute(text("UPDATE acc_result SET tco2e = tco2e - 1 WHERE run_id = :r AND facility = 'BOILER1'"), {"r": old})
    with db.read() as s:
        found = list(integrity.check_runs(s))
    assert len(found) == 1 and found[0].key == "accounting.deep.run_result"
    assert found[0].params["run_id"] == old and found[0].params["facility"] == "BOILER1"


# ------------------------------------------------------------------ the commands

def test_commands_intensity_yoy_ranking(figures, cli_env, tmp_path):
    from cms_workflows.cli.main import app

    runner = CliRunner()
    gm = cli_env.as_user(GM)
    r = runner.invoke(app, ["accounting", "intensity", "2023-01", "2023-12", "--by", "year"], env=gm)
    assert r.exit_code == 0, r.output
    assert "tCO2e/吨产品" in r.output
    assert "缺产量的月份" in r.output and "HN02 2023-02" in r.output and "只计入" in r.output
    out = tmp_path / "intensity.csv"
    r = runner.invoke(app, ["accounting", "intensity", "2023-01", "2023-12", "--level", "site", "--by", "month",
                            "--out", str(out)], env=gm)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"period": str})
    hn01_feb = table[(table["site"] == "HN01") & (table["period"] == "2023-02")].iloc[0]
    assert hn01_feb["tco2e_per_t"] == pytest.approx(E["HN01", "2023-02"] / 800.0)
    assert pd.isna(hn01_feb["tco2e_per_10k_cny"])

    r = runner.invoke(app, ["accounting", "yoy", "2023", "--site", "HN01"], env=gm)
    assert r.exit_code == 0, r.output
    assert "上年 tCO2e" in r.output and "固定燃烧源" in r.output and f"{2 / 30:+.1%}" in r.output
    xlsx = tmp_path / "yoy.xlsx"
    r = runner.invoke(app, ["accounting", "yoy", "2023", "--by", "month", "--out", str(xlsx)], env=gm)
    assert r.exit_code == 0, r.output
    yoy = pd.read_excel(xlsx, dtype={"month": str})
    row_ = yoy[(yoy["category"] == "stationary_combustion") & (yoy["month"] == "01")].iloc[0]
    assert row_["change_t"] == pytest.approx(2 * GAS)

    r = runner.invoke(app, ["accounting", "ranking", "2023-01", "2023-12"], env=cli_env.as_user(GM) | {"CMS_LOCALE": "en"})
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert lines[0].split()[:2] == ["material", "source"] and "Electricity" in lines[2]
    r = runner.invoke(app, ["accounting", "ranking", "2023-01", "2023-12", "--by", "facility"], env=gm)
    assert r.exit_code == 0 and "SWITCHGEAR" in r.output
    out = tmp_path / "ranking.csv"
    r = runner.invoke(app, ["accounting", "ranking", "2023-01", "2023-12", "--threshold", "0.3", "--out", str(out)], env=gm)
    assert r.exit_code == 0, r.output
    ranked = pd.read_csv(out, encoding="utf-8-sig")
    # the sources are major while the share before them is under the threshold: fewer at 30 % than at 80 %
    assert ranked["major"].sum() == ((ranked["cumulative_share"] - ranked["share"]) < 0.3).sum() >= 1
    r = runner.invoke(app, ["accounting", "ranking", "2023-01", "2023-12", "--threshold", "1.5"], env=gm)
    assert isinstance(r.exception, ValidationFailed)
    r = runner.invoke(app, ["accounting", "ranking", "2023-01", "2023-12", "--by", "colour"], env=gm)
    assert isinstance(r.exception, ValidationFailed)
    r = runner.invoke(app, ["accounting", "yoy", "2023", "--site", "NOWHERE"], env=gm)
    assert r.exception is not None and getattr(r.exception, "key", "") == "access.unknown_site"
