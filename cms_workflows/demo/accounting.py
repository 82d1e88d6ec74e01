"""The accounting part of `cms demo`: two years of activity data for the two plants, calculated,
approved and compared with a baseline (X-5, R-6.2.3, R-6.3, R-9.1).

The data are generated (seeded, so every run is the same) and go in through the same
import files and services the plants' data administrators use.
"""

from __future__ import annotations

import random
from pathlib import Path

from cms_workflows.core import exports

# site, production unit, facility, category, material, unit, data source, monthly quantity (base year)
PLAN = [
    ("HN01", "熟料车间", "BOILER1", "stationary_combustion", "natural_gas", "10^4Nm3", "meter", 38.0),
    ("HN01", "熟料车间", "KILN1", "process", "limestone_caco3", "t", "invoice", 900.0),
    ("HN01", "熟料车间", "GRID", "purchased_electricity", "electricity", "MWh", "meter", 2300.0),
    ("HN01", "物流", "TRUCKS", "mobile_combustion", "diesel", "t", "invoice", 10.0),
    ("HN02", "装配车间", "BOILER2", "stationary_combustion", "bituminous_coal", "t", "invoice", 600.0),
    ("HN02", "装配车间", "GRID", "purchased_electricity", "electricity", "MWh", "meter", 1700.0),
    ("HN02", "配电", "SWITCHGEAR", "fugitive", "sf6", "kg", "estimate", 0.4),
]
ACCOUNTANT = {"HN01": "carbon_accountant.hn01", "HN02": "carbon_accountant.hn02"}
# HN02's first data administrator left on 30 June of the demo year (see demo.py): the successor submits
DATA_ADMIN = {"HN01": "energy_data_admin.hn01", "HN02": "energy_data_admin2.hn02"}
# what changed in the demo year against the base year, per (site, facility): a multiplier
CHANGES = {("HN01", "GRID"): 0.90, ("HN01", "BOILER1"): 1.18, ("HN02", "BOILER2"): 0.97}


def _rows(site: str, year: int, rng: random.Random, base_year: int) -> list[dict]:
    rows = []
    for s, unit_name, facility, category, material, unit, source, monthly in PLAN:
        if s != site:
            continue
        change = CHANGES.get((site, facility), 1.0) if year > base_year else 1.0
        for month in range(1, 13):
            season = 1.0 + 0.08 * (1 if month in (1, 2, 12) else -1 if month in (6, 7, 8) else 0)
            quantity = round(monthly * change * season * rng.uniform(0.95, 1.05), 3)
            rows.append({"site": site, "production_unit": unit_name, "facility": facility, "category": category,
                         "material": material, "period": f"{year}-{month:02d}", "quantity": quantity, "unit": unit,
                         "data_source": source, "evidence_ref": f"{site}-{facility}-{year}{month:02d}"})
    return rows


def _csv(rows: list[dict]) -> bytes:
    from cms_workflows.accounting import importing

    lines = [",".join(importing.FIELDS)]
    lines += [",".join(str(r[f]) for f in importing.FIELDS) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def run(db, year: int, out_dir: Path, echo) -> dict:
    from cms_workflows.accounting import charts
    from cms_workflows.accounting import queries
    from cms_workflows.accounting import service as acc
    from cms_workflows.accounting.factors import Options
    from cms_workflows.core.i18n import t

    base_year = year - 1
    rng = random.Random(2025)
    out_dir.mkdir(parents=True, exist_ok=True)
    # carbon-market reporting factors: the statistical electricity factors are published only up to 2023
    options = Options(electricity_kind="market")

    with db.unit_of_work() as session:
        for site, unit_name, facility, category, material, unit, source, _q in PLAN:
            acc.add_plan_item(session, ACCOUNTANT[site], site=site, production_unit=unit_name, facility=facility,
                              category=category, material=material, unit=unit, data_source=source,
                              meter_calibrated=True if source == "meter" else None)
    echo(t("demo.acc_plan", items=len(PLAN)))

    imported = 0
    for y in (base_year, year):
        for site in ("HN01", "HN02"):
            data = _csv(_rows(site, y, rng, base_year))
            (out_dir / f"activity-{site}-{y}.csv").write_bytes(data)
            with db.unit_of_work() as session:
                imported += acc.import_activity(session, DATA_ADMIN[site], data, f"activity-{site}-{y}.csv").rows
                for month in range(1, 13):
                    product = (48_000 if site == "HN01" else 21_000) * rng.uniform(0.95, 1.05)
                    acc.record_output(session, DATA_ADMIN[site], site, f"{y}-{month:02d}", round(product, 1), round(product * 0.031, 1))
    echo(t("demo.acc_import", rows=imported, files=4))

    totals = {}
    for y in (base_year, year):
        for site in ("HN01", "HN02"):
            with db.unit_of_work() as session:
                outcome = acc.calculate(session, ACCOUNTANT[site], f"{y}-01", f"{y}-12", [site], options)
            with db.unit_of_work() as session:
                acc.approve_run(session, "gm", outcome.run_id)
            totals[(site, y)] = outcome.total_tco2e
    echo(t("demo.acc_calc", base_year=base_year, year=year,
           base=round(sum(v for (s, y), v in totals.items() if y == base_year), 1),
           current=round(sum(v for (s, y), v in totals.items() if y == year), 1)))

    deviations = []
    with db.unit_of_work() as session:
        # site baselines, and one for the boiler whose burner was changed in the demo year
        for site, level, scope in (("HN01", "site", "HN01"), ("HN02", "site", "HN02"), ("HN01", "facility", "HN01/熟料车间/BOILER1")):
            baseline_id = acc.set_baseline(session, ACCOUNTANT[site], level, scope, f"{base_year}-01", f"{base_year}-12")
            acc.approve_baseline(session, "gm", baseline_id)
            _table, over = queries.deviations(session, ACCOUNTANT[site], baseline_id, f"{year}-01", f"{year}-12", 0.1)
            deviations.extend(over)
        acc.record_trigger(session, ACCOUNTANT["HN01"], "HN01", "equipment",
                           "1号锅炉燃烧器改造，天然气用量上升 / boiler 1 burner retrofit raised gas use")
    echo(t("demo.acc_baseline", count=len(deviations)))

    with db.read() as session:
        quality = queries.quality(session, ACCOUNTANT["HN01"], f"{year}-01", f"{year}-12", "HN01")
        results = queries.official_results(session, "gm", f"{year}-01", f"{year}-12")
        pareto = queries.major_facilities(session, "gm", f"{year}-01", f"{year}-12")
    exports.write_csv(results, out_dir / f"emissions-{year}.csv")  # text that could run as a formula is neutralised
    exports.write_frame_xlsx(results, out_dir / f"emissions-{year}.xlsx")
    (out_dir / f"trend-{year}.png").write_bytes(charts.monthly_trend(results))
    (out_dir / f"categories-{year}.png").write_bytes(charts.category_breakdown(results))
    (out_dir / f"pareto-{year}.png").write_bytes(charts.pareto_chart(pareto))
    echo(t("demo.acc_outputs", path=str(out_dir), score=quality.get("score"), majors=int(pareto["major"].sum()) if "major" in pareto else len(pareto)))
    return {"totals": totals, "deviations": deviations, "quality": quality}
