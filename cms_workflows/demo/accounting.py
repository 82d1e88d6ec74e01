"""The accounting part of `cms demo`: two years of activity data for the two plants, calculated,
approved and compared with a baseline (X-5, R-6.2.3, R-6.3, R-9.1).

The data are generated (seeded, so every run is the same) and go in through the same
import files and services the plants' data administrators use.
"""

from __future__ import annotations

import random
from pathlib import Path

from cms_workflows.core import exports
from cms_workflows.demo.company import data_admin, holder, kind

# per plant kind: production unit, facility, category, material, unit, data source, monthly quantity (base
# year), the facility's name in the data collection plan; a cement plant (like HN01: clinker kiln, waste-heat
# boiler with natural-gas firing, cement mills, diesel trucks), a stamping plant (like HN02: presses on grid
# power, a coal-fired steam boiler, SF6 switchgear)
PLAN_BY_KIND = {
    "cement": [
        ("熟料车间", "BOILER1", "stationary_combustion", "natural_gas", "10^4Nm3", "meter", 38.0, "1号余热锅炉（天然气补燃）"),
        ("熟料车间", "KILN1", "process", "limestone_caco3", "t", "invoice", 900.0, "1号熟料回转窑"),
        ("水泥粉磨车间", "GRID", "purchased_electricity", "electricity", "MWh", "meter", 2300.0, "厂区电网（外购电力）"),
        ("储运车间", "TRUCKS", "mobile_combustion", "diesel", "t", "invoice", 10.0, "厂内运输柴油车辆"),
    ],
    "stamping": [
        ("动力车间", "BOILER2", "stationary_combustion", "bituminous_coal", "t", "invoice", 600.0, "燃煤蒸汽锅炉"),
        ("冲压车间", "GRID", "purchased_electricity", "electricity", "MWh", "meter", 1700.0, "厂区电网（外购电力）"),
        ("动力车间", "SWITCHGEAR", "fugitive", "sf6", "kg", "estimate", 0.4, "110kV GIS 开关柜"),
    ],
}
# monthly production output (t) per plant kind; what changed in the demo year against the base year, per
# (kind, facility): a multiplier
OUTPUT = {"cement": 48_000, "stamping": 21_000}
CHANGES = {("cement", "GRID"): 0.90, ("cement", "BOILER1"): 1.18, ("stamping", "BOILER2"): 0.97}
# the cement plants' waste-heat boilers had their gas burner changed in the demo year: each has its own baseline
RETROFITTED = ("熟料车间", "BOILER1")


def plan(site_codes) -> list[tuple]:
    """The data collection plan of these plants: (site, production unit, facility, category, material, unit,
    data source, monthly quantity)."""
    return [(site, *line[:-1]) for site in site_codes for line in PLAN_BY_KIND[kind(site)]]


def facility_names(site_codes) -> dict[tuple[str, str], str]:
    return {(site, line[1]): line[-1] for site in site_codes for line in PLAN_BY_KIND[kind(site)]}


PLAN = plan(("HN01", "HN02"))  # the demo company's
FACILITY_NAMES = facility_names(("HN01", "HN02"))


def _rows(site: str, year: int, rng: random.Random, base_year: int) -> list[dict]:
    rows = []
    for _s, unit_name, facility, category, material, unit, source, monthly in plan([site]):
        change = CHANGES.get((kind(site), facility), 1.0) if year > base_year else 1.0
        for month in range(1, 13):
            season = 1.0 + 0.08 * (1 if month in (1, 2, 12) else -1 if month in (6, 7, 8) else 0)
            quantity = round(monthly * change * season * rng.uniform(0.95, 1.05), 3)
            rows.append({"site": site, "production_unit": unit_name, "facility": facility, "category": category,
                         "material": material, "period": f"{year}-{month:02d}", "quantity": quantity, "unit": unit,
                         "data_source": source, "evidence_ref": f"{site}-{facility}-{year}{month:02d}"})
    return rows


def _accountant(site: str) -> str:
    return holder("carbon_accountant", site)


def _csv(rows: list[dict]) -> bytes:
    from cms_workflows.accounting import importing

    lines = [",".join(importing.FIELDS)]
    lines += [",".join(str(r[f]) for f in importing.FIELDS) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def run(db, year: int, out_dir: Path, echo, *, site_codes=("HN01", "HN02")) -> dict:
    from cms_workflows.accounting import charts, results_workbook
    from cms_workflows.accounting import queries
    from cms_workflows.accounting import service as acc
    from cms_workflows.accounting.factors import Options
    from cms_workflows.core.i18n import current_locale, t

    base_year = year - 1
    rng = random.Random(2025)
    out_dir.mkdir(parents=True, exist_ok=True)
    # carbon-market reporting factors: the statistical electricity factors are published only up to 2023
    options = Options(electricity_kind="market")

    with db.unit_of_work() as session:
        names = facility_names(site_codes)
        for site, unit_name, facility, category, material, unit, source, _q in plan(site_codes):
            acc.add_plan_item(session, _accountant(site), site=site, production_unit=unit_name, facility=facility,
                              facility_name=names[(site, facility)], category=category, material=material,
                              unit=unit, data_source=source,
                              meter_calibrated=True if source == "meter" else None)
    echo(t("demo.acc_plan", items=len(plan(site_codes))))

    imported = 0
    for y in (base_year, year):
        for site in site_codes:
            data = _csv(_rows(site, y, rng, base_year))
            (out_dir / f"activity-{site}-{y}.csv").write_bytes(data)
            with db.unit_of_work() as session:
                imported += acc.import_activity(session, data_admin(site), data, f"activity-{site}-{y}.csv").rows
                for month in range(1, 13):
                    product = OUTPUT[kind(site)] * rng.uniform(0.95, 1.05)
                    acc.record_output(session, data_admin(site), site, f"{y}-{month:02d}", round(product, 1), round(product * 0.031, 1))
    echo(t("demo.acc_import", rows=imported, files=2 * len(site_codes)))

    totals = {}
    for y in (base_year, year):
        for site in site_codes:
            with db.unit_of_work() as session:
                outcome = acc.calculate(session, _accountant(site), f"{y}-01", f"{y}-12", [site], options)
            with db.unit_of_work() as session:
                acc.approve_run(session, "gm", outcome.run_id)
            totals[(site, y)] = outcome.total_tco2e
    echo(t("demo.acc_calc", base_year=base_year, year=year,
           base=round(sum(v for (s, y), v in totals.items() if y == base_year), 1),
           current=round(sum(v for (s, y), v in totals.items() if y == year), 1)))

    deviations = []
    with db.unit_of_work() as session:
        # site baselines, and one for the waste-heat boiler whose gas burner was changed in the demo year
        cement = [site for site in site_codes if kind(site) == "cement"]
        for site, level, scope in [*((site, "site", site) for site in site_codes),
                                   *((site, "facility", "/".join((site, *RETROFITTED))) for site in cement)]:
            baseline_id = acc.set_baseline(session, _accountant(site), level, scope, f"{base_year}-01", f"{base_year}-12")
            acc.approve_baseline(session, "gm", baseline_id)
            _table, over = queries.deviations(session, _accountant(site), baseline_id, f"{year}-01", f"{year}-12", 0.1)
            deviations.extend(over)
        for site in cement:
            acc.record_trigger(session, _accountant(site), site, "equipment",
                               "1号余热锅炉补燃燃烧器改造，天然气用量上升 / waste-heat boiler 1: supplementary burner retrofit raised gas use")
    echo(t("demo.acc_baseline", count=len(deviations)))

    with db.read() as session:
        quality = queries.quality(session, _accountant("HN01"), f"{year}-01", f"{year}-12", "HN01")
        results = queries.official_results(session, "gm", f"{year}-01", f"{year}-12")
        pareto = queries.major_facilities(session, "gm", f"{year}-01", f"{year}-12")
        # the manager's workbook: named sheets by site, category, month, facility and source, in the user's language
        workbook = results_workbook.for_request(session, "gm", first=f"{year}-01", last=f"{year}-12",
                                                locale=current_locale())
    exports.write_csv(results, out_dir / f"emissions-{year}.csv")  # text that could run as a formula is neutralised
    (out_dir / f"emissions-{year}.xlsx").write_bytes(workbook)
    (out_dir / f"trend-{year}.png").write_bytes(charts.monthly_trend(results, locale=current_locale()))
    (out_dir / f"categories-{year}.png").write_bytes(charts.category_breakdown(results, locale=current_locale()))
    (out_dir / f"sources-{year}.png").write_bytes(charts.source_breakdown(results, locale=current_locale()))
    (out_dir / f"pareto-{year}.png").write_bytes(charts.pareto_chart(pareto, locale=current_locale()))
    echo(t("demo.acc_outputs", path=str(out_dir), score=quality.get("score"), majors=int(pareto["major"].sum()) if "major" in pareto else len(pareto)))
    return {"totals": totals, "deviations": deviations, "quality": quality}


def submit_month(db, site: str, year: int, month: int, base_year: int) -> int:
    """A plant's data administrator submits one month of the process year (the monthly duty, R-6.3.5):
    the activity data file and the month's production output; returns the import's id."""
    from cms_workflows.accounting import service as acc

    rng = random.Random(f"{site}-{year}-{month}")  # the same figures on every run
    rows = [r for r in _rows(site, year, rng, base_year) if r["period"] == f"{year}-{month:02d}"]
    product = OUTPUT[kind(site)] * rng.uniform(0.95, 1.05)
    with db.unit_of_work() as session:
        batch = acc.import_activity(session, data_admin(site), _csv(rows), f"activity-{site}-{year}-{month:02d}.csv")
        acc.record_output(session, data_admin(site), site, f"{year}-{month:02d}", round(product, 1),
                          round(product * 0.031, 1))
    return batch.import_id
