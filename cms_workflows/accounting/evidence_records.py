"""Accounting's part of an evidence pack (X-1, X-5, R-6.3.2.4): which events a scope's site names,
and for the runs in a pack their inputs and results — the run (options, factors used, input hash),
every activity row it calculated from (exactly the rows it saw: `max_import_id`), its results —
and for imports in a pack the batch and its stored file, so an auditor can recompute a run.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import or_
from sqlmodel import select

from cms_workflows.accounting.models import (
    Activity, BaselineTrigger, CalculationResult, CalculationRun, ImportBatch, PlanItem, ProductionOutput,
)
from cms_workflows.accounting.queries import run_sites


def objects(uow, filter_name: str, value) -> set[tuple[str, str]]:
    if filter_name != "site":
        return set()
    keys = {("acc_run", str(r.id)) for r in uow.exec(select(CalculationRun))
            if run_sites(r) is None or value in run_sites(r)}
    keys |= {("acc_import", str(i)) for i in uow.exec(select(Activity.import_id).where(Activity.site == value).distinct())}
    for model, otype in ((PlanItem, "acc_plan_item"), (ProductionOutput, "acc_output"), (BaselineTrigger, "acc_baseline_trigger")):
        keys |= {(otype, str(i)) for i in uow.exec(select(model.id).where(model.site == value))}
    return keys


def _ids(keys, otype: str) -> list[int]:
    return sorted(int(oid) for t, oid in keys if t == otype and oid.isdigit())


def _csv(rows: list, columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        # repr keeps every float exactly (an auditor recomputes from these values)
        writer.writerow([repr(v) if isinstance(v, float) else ("" if v is None else v) for v in
                         (getattr(row, c) for c in columns)])
    return out.getvalue().encode("utf-8")


def _run_inputs(uow, run: CalculationRun) -> list[Activity]:
    """The activity rows as they stood when the run was calculated (as `queries.activity_frame`)."""
    q = select(Activity).where(Activity.period >= run.first_period, Activity.period <= run.last_period,
                               Activity.import_id <= run.max_import_id,
                               or_(Activity.replaced_by_import.is_(None), Activity.replaced_by_import > run.max_import_id))
    sites = run_sites(run)
    if sites:
        q = q.where(Activity.site.in_(sites))
    return list(uow.exec(q.order_by(Activity.id)))


def records(uow, keys: set[tuple[str, str]]) -> tuple[dict[str, bytes], set[str]]:
    members: dict[str, bytes] = {}
    import_ids = set(_ids(keys, "acc_import"))
    activity_columns = [c.key for c in Activity.__table__.columns]
    result_columns = [c.key for c in CalculationResult.__table__.columns]
    for run_id in _ids(keys, "acc_run"):
        run = uow.get(CalculationRun, run_id)
        if run is None:
            continue
        inputs = _run_inputs(uow, run)
        import_ids |= {a.import_id for a in inputs}
        results = list(uow.exec(select(CalculationResult).where(CalculationResult.run_id == run_id)
                                .order_by(CalculationResult.id)))
        members[f"accounting/run-{run_id}/run.json"] = json.dumps(run.model_dump(mode="json"), ensure_ascii=False,
                                                                   indent=1, sort_keys=True).encode("utf-8")
        members[f"accounting/run-{run_id}/activity.csv"] = _csv(inputs, activity_columns)
        members[f"accounting/run-{run_id}/results.csv"] = _csv(results, result_columns)
    files: set[str] = set()
    for batch in uow.exec(select(ImportBatch).where(ImportBatch.id.in_(sorted(import_ids)))) if import_ids else ():
        files.add(batch.sha256)
        members[f"accounting/import-{batch.id}.json"] = json.dumps(batch.model_dump(mode="json"), ensure_ascii=False,
                                                                    indent=1, sort_keys=True).encode("utf-8")
    return members, files
