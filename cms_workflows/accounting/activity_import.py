"""The import command's reading and writing (R-6.3.5, R-8.6; issue 15): the file read against the plan,
the factors and the history before authorization (its sites decide who may import it), the live rows it
would duplicate, the rows written with SQLAlchemy Core, the closed months it reopens, and the production
sheet's outputs recorded as `record_output` records one. The command itself is `service.create_import_batch`;
everything here runs inside its unit of work."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import insert, update
from sqlmodel import select

from cms_workflows.accounting import importing, plausibility
from cms_workflows.accounting.factors import categories
from cms_workflows.accounting.models import Activity, CalculationRun, ProductionOutput
from cms_workflows.accounting.queries import history, library, locks, plan
from cms_workflows.accounting.states import RUN
from cms_workflows.audit import recording

ACTIVITY_COLUMNS = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit",
                    "data_source", "evidence_ref", "purity"]
OUTPUT_EVENT = "accounting.production_output.record"


def read(uow, sites: list[str], data: bytes, filename: str, outlier_ratio: float, accept_outliers: list[int] | None,
         reason: str) -> tuple[importing.Parsed, tuple[frozenset[int], str]]:
    """The file parsed and validated (a file that cannot be read at all is refused here), and the
    implausible rows the user confirms with why."""
    listed, why = plausibility.outlier_rows(accept_outliers, reason)
    items = plan(uow)
    ctx = importing.Context(sites=set(sites), facilities={(i.site, i.facility): i.production_unit for i in items},
                            materials=library(uow).materials(), categories=set(categories()),
                            history=history(uow), outlier_ratio=outlier_ratio,
                            plan_lines={(i.site, i.facility, i.material): (i.category, i.unit) for i in items},
                            plausibility=True, accept_outliers=listed, accept_reason=why)
    return importing.parse(data, filename, ctx), (listed, why)


def sites_named(parsed: importing.Parsed, known: list[str]) -> list[str]:
    """The known sites the file's activity and production rows name: the import is authorized at each."""
    named = set(parsed.frame["site"].astype(str).unique()) if len(parsed.frame) else set()
    if parsed.production is not None and len(parsed.production):
        named |= set(parsed.production["site"].astype(str))
    return sorted(named & set(known))


def clashes(uow, frame: pd.DataFrame) -> pd.DataFrame:
    """One value per facility/material/month: the live rows this file would duplicate."""
    keys = frame[["site", "facility", "material", "period"]]
    existing = pd.DataFrame(uow.execute(
        select(Activity.id, Activity.site, Activity.facility, Activity.material, Activity.period, Activity.import_id)
        .where(Activity.replaced_by_import.is_(None), Activity.period.in_(sorted(keys["period"].unique())),
               Activity.site.in_(sorted(keys["site"].unique())))).all(),
        columns=["id", "site", "facility", "material", "period", "import_id"])
    return keys.reset_index().merge(existing, on=["site", "facility", "material", "period"])


def write_rows(uow, import_id: int, frame: pd.DataFrame, replaced_ids: list[int]) -> None:
    for start in range(0, len(replaced_ids), 10_000):
        uow.execute(update(Activity).where(Activity.id.in_(replaced_ids[start:start + 10_000]))
                    .values(replaced_by_import=import_id))
    records = frame.reindex(columns=ACTIVITY_COLUMNS).assign(import_id=import_id, file_row=frame["_row"].astype(int))
    records["quantity"] = records["quantity"].astype(float)
    purity = records["purity"].to_numpy(dtype=np.float64)  # no column or an empty cell: NULL (the plan line's, else 1)
    records["purity"] = np.where(np.isnan(purity), None, purity).astype(object)
    payload = records.to_dict("records")
    for start in range(0, len(payload), 50_000):
        uow.execute(insert(Activity.__table__), payload[start:start + 50_000])


def save_output(uow, actor: str, site: str, period: str, product_t: float,
                value_10k_cny: float | None) -> ProductionOutput:
    """A site's month of production and output value, created or updated (the one place both the
    command and the import write it). `value_10k_cny` None: no output value reported for the month."""
    row = uow.exec(select(ProductionOutput).where(ProductionOutput.site == site,
                                                  ProductionOutput.period == period)).first()
    if row is None:
        row = ProductionOutput(site=site, period=period, recorded_by=actor)
    row.product_t = float(product_t)
    row.value_10k_cny = None if value_10k_cny is None else float(value_10k_cny)
    row.recorded_by, row.recorded_at = actor, uow.clock.now()
    uow.add(row)
    uow.flush()
    return row


def write_outputs(cmd, import_id: int, outputs: pd.DataFrame | None) -> list[dict]:
    """The production sheet's rows, each saved as `record_output` saves one and with the same event on the
    output (its history reads the same however it was entered), naming the import and the file row."""
    if outputs is None or not len(outputs):
        return []
    delegate = getattr(cmd.actor, "delegate", None)
    done = []
    for r in outputs.to_dict("records"):
        value = None if r["value_10k_cny"] is None or pd.isna(r["value_10k_cny"]) else float(r["value_10k_cny"])
        row = save_output(cmd.uow, cmd.actor, r["site"], r["period"], r["product_t"], value)
        payload = {**row.model_dump(mode="json"), "import_id": import_id, "file_row": int(r["_row"])}
        recording.record(cmd.uow, cmd.grant, OUTPUT_EVENT, "acc_output", row.id,
                         {**payload, "delegate": delegate} if delegate else payload)
        done.append({"site": row.site, "period": row.period, "product_t": row.product_t,
                     "value_10k_cny": row.value_10k_cny, "row": int(r["_row"])})
    return done


def reopen_runs(cmd, import_id: int, frame: pd.DataFrame) -> list[dict]:
    """Months of this import that are closed: their figures of record stay those of the approved run they
    are locked to, but no longer match the data, so the run is reopened (official → reopened) with an
    event on the run, and the import says that a recalculation is needed (issue 15, R-6.3.2.4)."""
    uow = cmd.uow
    touched = set(map(tuple, frame[["site", "period"]].drop_duplicates().astype(str).itertuples(index=False)))
    closed = locks(uow, min(p for _s, p in touched), max(p for _s, p in touched),
                   sorted({s for s, _p in touched})) if touched else {}
    by_run: dict[int, list[str]] = {}
    for (site, period), run_id in sorted(closed.items()):
        if (site, period) in touched:
            by_run.setdefault(run_id, []).append(f"{site} {period}")
    out = []
    for run_id, months in sorted(by_run.items()):
        run = uow.get(CalculationRun, run_id)
        if RUN.allows(run.status, "reopen_run"):
            before, run.status = run.status, RUN.target(run.status, "reopen_run")
            uow.add(run)
            uow.flush()
            payload = {"import_id": import_id, "months": months, "from": before, "to": run.status}
            delegate = getattr(cmd.actor, "delegate", None)
            # recorded on the run, so that its history says why it was reopened (the import's own event
            # lists it too)
            recording.record(uow, cmd.grant, "accounting.run.reopen", "acc_run", run_id,
                             {**payload, "delegate": delegate} if delegate else payload)
        out.append({"run_id": run_id, "months": months, "status": run.status})
    return out
