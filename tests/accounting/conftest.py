"""Accounting fixtures: the demo company with a data collection plan, and file builders."""

from __future__ import annotations

import io

import pytest

from cms_workflows.accounting import importing
from cms_workflows.accounting import service as acc

ACCOUNTANT = "carbon_accountant.hn01"
ACCOUNTANT2 = "carbon_accountant.hn02"
DATA_ADMIN = "energy_data_admin.hn01"
DATA_ADMIN2 = "energy_data_admin.hn02"
GM = "gm"

PLAN = [
    # site, production unit, facility, category, material, unit, data source
    ("HN01", "U1", "BOILER1", "stationary_combustion", "natural_gas", "10^4Nm3", "meter"),
    ("HN01", "U1", "KILN1", "process", "limestone_caco3", "t", "invoice"),
    ("HN01", "U1", "GRID", "purchased_electricity", "electricity", "MWh", "meter"),
    ("HN01", "U2", "TRUCKS", "mobile_combustion", "diesel", "t", "invoice"),
    ("HN02", "V1", "GRID", "purchased_electricity", "electricity", "MWh", "meter"),
    ("HN02", "V1", "SWITCHGEAR", "fugitive", "sf6", "kg", "estimate"),
]


@pytest.fixture
def plan(db, company):
    with db.unit_of_work() as session:
        for site, pu, fac, cat, mat, unit, ds in PLAN:
            acc.add_plan_item(session, ACCOUNTANT if site == "HN01" else ACCOUNTANT2, site=site, production_unit=pu,
                              facility=fac, category=cat, material=mat, unit=unit, data_source=ds,
                              meter_calibrated=True if ds == "meter" else None)
    return PLAN


def csv_bytes(rows: list[dict], encoding: str = "utf-8-sig", header=None) -> bytes:
    buf = io.StringIO()
    header = header or importing.FIELDS
    buf.write(",".join(header) + "\n")
    for r in rows:
        buf.write(",".join(str(r.get(f, "")) for f in importing.FIELDS) + "\n")
    return buf.getvalue().encode(encoding)


def row(site, facility, material, period, quantity, unit, category=None, pu=None, ds="meter", evidence="") -> dict:
    item = next(p for p in PLAN if p[0] == site and p[2] == facility and p[4] == material)
    return {"site": site, "production_unit": pu or item[1], "facility": facility, "category": category or item[3],
            "material": material, "period": period, "quantity": quantity, "unit": unit, "data_source": ds,
            "evidence_ref": evidence}


def year_rows(year: int, site: str = "HN01", scale: float = 1.0) -> list[dict]:
    """Twelve months of every plan item of a site, with a gentle seasonal pattern."""
    out = []
    for m in range(1, 13):
        for p in PLAN:
            if p[0] != site:
                continue
            base = {"natural_gas": 10.0, "limestone_caco3": 100.0, "electricity": 1000.0, "diesel": 2.0, "sf6": 1.0}[p[4]]
            out.append(row(site, p[2], p[4], f"{year}-{m:02d}", round(base * scale * (1 + 0.05 * (m % 3)), 6), p[5]))
    return out
