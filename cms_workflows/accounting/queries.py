"""Reads of the accounting domain: the plan, the factor library as it stands (or stood), activity rows,
run results, the figures of record, intensities, data quality, major facilities, baselines' deviations.

Reads a user asks for check the `read` permission; the helpers the commands share (`library`,
`activity_frame`, `locks`, `differences`…) take no user."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
from sqlalchemy import or_
from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.accounting import calculation, importing
from cms_workflows.accounting import baseline as bl
from cms_workflows.accounting import quality as dq
from cms_workflows.accounting.factors import FactorLibrary, Options, Override
from cms_workflows.accounting.models import (
    Activity,
    Baseline,
    BaselineTrigger,
    CalculationResult,
    CalculationRun,
    FactorOverride,
    ImportBatch,
    PeriodLock,
    PlanItem,
    ProductionOutput,
)
from cms_workflows.audit import events_for
from cms_workflows.core.errors import Conflict, NotFound, ValidationFailed, problem
from cms_workflows.core.limits import limits
from cms_workflows.core.text import shown

RESULT_COLUMNS = ["site", "production_unit", "facility", "category", "material", "period", "tco2e", "memo_tco2e"]
OUTPUT_COLUMNS = ["site", "period", "product_t", "value_10k_cny"]


def stored_import_files(uow) -> set[str]:
    """Hashes of imported activity files, which the file store must hold (`cms verify`, evidence packs)."""
    return set(uow.exec(select(ImportBatch.sha256)))


def is_period(value) -> bool:
    return isinstance(value, str) and len(value) == 7 and value[4] == "-" and value[:4].isdigit() \
        and value[5:].isdigit() and 1 <= int(value[5:]) <= 12


def check_period(value, fld: str) -> str:
    if not is_period(value):
        raise ValidationFailed("accounting.bad_period", problems=[problem(fld, "accounting.problem.period_format",
                                                                          value=shown(value, 20))])
    lim = limits()  # a plausible year: 0000-01 and 9999-12 are typing errors, not periods
    if not lim.min_year <= int(value[:4]) <= lim.max_year:
        raise ValidationFailed("accounting.bad_period", problems=[problem(
            fld, "accounting.problem.period_range", value=value, first=f"{lim.min_year}-01", last=f"{lim.max_year}-12")])
    return value


# ------------------------------------------------------------------ plan and factors

def plan(uow, site: str | None = None) -> list[PlanItem]:
    q = select(PlanItem).order_by(PlanItem.site, PlanItem.facility, PlanItem.material)
    if site:
        q = q.where(PlanItem.site == site)
    return list(uow.exec(q))


def overrides(uow, max_id: int | None = None) -> list[FactorOverride]:
    q = select(FactorOverride).order_by(FactorOverride.id)
    if max_id is None:
        q = q.where(FactorOverride.superseded_by.is_(None))
    else:  # as it stood when override `max_id` was the newest
        q = q.where(FactorOverride.id <= max_id,
                    or_(FactorOverride.superseded_by.is_(None), FactorOverride.superseded_by > max_id))
    return list(uow.exec(q))


def library(uow, options: Options | None = None, max_override_id: int | None = None) -> FactorLibrary:
    rows = overrides(uow, max_override_id)
    return FactorLibrary([Override(material=o.material, parameter=o.parameter, value=o.value, site=o.site,
                                   year_from=o.year_from, year_to=o.year_to, unit=o.unit, evidence=o.evidence,
                                   source=o.source) for o in rows], options)


def template(uow, username: str, periods: list[str], site: str | None = None, fmt: str = "xlsx") -> bytes:
    access.require(uow, username, "read", Resource("activity_data", site=site or "*"))
    for p in periods:
        check_period(p, "period")
    items = [i.model_dump() for i in plan(uow, site)]
    if not items:
        raise NotFound("accounting.no_plan")
    lib = library(uow)
    rows = importing.template_rows(items, periods, importing.purity_materials(lib.materials()))
    if fmt == "csv":
        return importing.write_template(rows, fmt)
    from cms_workflows.accounting import template_workbook  # openpyxl styles: only when a workbook is asked for

    return template_workbook.workbook(uow, rows, periods, lib, live_quantities(uow, sorted({r["site"] for r in rows})))


# ------------------------------------------------------------------ activity rows

def live_quantities(uow, sites: list[str] | None = None) -> pd.DataFrame:
    """The live monthly rows' quantities (site, facility, material, unit, quantity), of `sites` or all."""
    q = select(Activity.site, Activity.facility, Activity.material, Activity.unit, Activity.quantity) \
        .where(Activity.replaced_by_import.is_(None))
    if sites is not None:
        q = q.where(Activity.site.in_(sites))
    return pd.DataFrame(uow.execute(q).all(), columns=["site", "facility", "material", "unit", "quantity"])


def history(uow) -> pd.DataFrame:
    """Median quantity per facility/material/unit of the live rows: the outlier warnings' yardstick."""
    frame = live_quantities(uow)
    if frame.empty:
        return frame.assign(median=[])
    return frame.groupby(["site", "facility", "material", "unit"])["quantity"].median().rename("median").reset_index()


def activity_frame(uow, first: str, last: str, sites: list[str] | None, max_import_id: int | None = None) -> pd.DataFrame:
    """The rows a run calculates, each with its purity: its own, else its plan line's (else empty, = 1)."""
    cols = [Activity.site, Activity.production_unit, Activity.facility, Activity.category, Activity.material,
            Activity.period, Activity.quantity, Activity.unit, Activity.purity]
    q = select(*cols).where(Activity.period >= first, Activity.period <= last)
    if max_import_id is None:
        q = q.where(Activity.replaced_by_import.is_(None))
    else:  # the rows as they stood after import `max_import_id`
        q = q.where(Activity.import_id <= max_import_id,
                    or_(Activity.replaced_by_import.is_(None), Activity.replaced_by_import > max_import_id))
    if sites:
        q = q.where(Activity.site.in_(sites))
    return with_purity(uow, pd.DataFrame(uow.connection().execute(q).all(), columns=[c.key for c in cols]))


def with_purity(uow, frame: pd.DataFrame) -> pd.DataFrame:
    """Activity rows (with their stored `purity`) with each row's purity as floats: its own, else its plan
    line's (a line's purity is fixed when the line is added), else NaN (= 1)."""
    purity = calculation.PURITY_COLUMN
    lines = pd.DataFrame([(i.site, i.facility, i.material, i.purity) for i in plan(uow)],
                         columns=["site", "facility", "material", purity])
    frame = calculation.with_plan_purity(frame, lines)
    return frame.assign(**{purity: pd.to_numeric(frame[purity]).astype(float)})


def input_hash(frame: pd.DataFrame) -> str:
    """Order-independent hash of the activity rows a run used. A purity column with no value is left out, so
    a run without purities hashes as it did before purities existed (X-5: earlier runs stay reproducible)."""
    purity = calculation.PURITY_COLUMN
    if purity in frame.columns and pd.to_numeric(frame[purity], errors="coerce").isna().all():
        frame = frame.drop(columns=[purity])
    canon = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    return hashlib.sha256(canon.to_csv(index=False, float_format="%.17g").encode()).hexdigest()


# ------------------------------------------------------------------ runs and locked figures

def get_run(uow, run_id: int) -> CalculationRun:
    run = uow.get(CalculationRun, run_id)
    if run is None:
        raise NotFound("accounting.unknown_run", run_id=run_id)
    return run


def run_sites(run: CalculationRun) -> list[str] | None:
    return None if run.sites == "*" else run.sites.split(",")


def locks(uow, first: str, last: str, sites: list[str] | None) -> dict[tuple[str, str], int]:
    q = select(PeriodLock).where(PeriodLock.period >= first, PeriodLock.period <= last)
    if sites:
        q = q.where(PeriodLock.site.in_(sites))
    return {(lk.site, lk.period): lk.run_id for lk in uow.exec(q)}


def approval_gaps(uow, run: CalculationRun, result_sites: list[str]) -> dict:
    """What an approver of `run` must accept explicitly (issue 15, R-8.6): `missing`, each plan line of the
    run's sites with the months of its period that have no value in the rows the run used; `warnings`, the
    plausibility warnings its imports raised on rows the run used (a warning is resolved by a correcting
    import that replaced the row before the run). The sites are those the run names, or those it found
    data at when it names none."""
    sites = run_sites(run) or result_sites
    rows = pd.DataFrame(uow.connection().execute(
        select(Activity.site, Activity.facility, Activity.material, Activity.period, Activity.import_id,
               Activity.file_row)
        .where(Activity.period >= run.first_period, Activity.period <= run.last_period,
               Activity.site.in_(sites), Activity.import_id <= run.max_import_id,
               or_(Activity.replaced_by_import.is_(None), Activity.replaced_by_import > run.max_import_id))).all(),
        columns=["site", "facility", "material", "period", "import_id", "file_row"])
    lines = pd.DataFrame([(i.site, i.facility, i.material) for i in plan(uow) if i.site in sites],
                         columns=["site", "facility", "material"])
    missing = dq.missing_months(lines, rows, run.first_period, run.last_period)
    warnings = []
    flagged = uow.exec(select(ImportBatch.id).where(ImportBatch.warnings > 0,
                                                    ImportBatch.id.in_(sorted(set(rows["import_id"].tolist()))))).all()
    used = rows.set_index(["import_id", "file_row"])
    for import_id in flagged:
        for e in events_for(uow, "acc_import", import_id, event="accounting.import_batch.create"):
            for w in json.loads(e.payload or "{}").get("warnings", []):
                if (import_id, w.get("row")) in used.index:
                    r = used.loc[(import_id, w["row"])]
                    warnings.append({"site": r["site"], "facility": r["facility"], "material": r["material"],
                                     "period": r["period"], "import_id": int(import_id), "row": int(w["row"]),
                                     "key": w["key"], "params": w.get("params", {})})
    return {"missing": missing, "warnings": warnings}


def changed_months(uow, run: CalculationRun) -> list[tuple[str, str]]:
    """The months still locked to `run` whose activity data an import changed after the run (issue 15)."""
    q = select(Activity.site, Activity.period).distinct().join(
        PeriodLock, (PeriodLock.site == Activity.site) & (PeriodLock.period == Activity.period)) \
        .where(PeriodLock.run_id == run.id, Activity.import_id > run.max_import_id)
    return sorted((site, period) for site, period in uow.connection().execute(q).all())


def run_results(uow, run_id: int) -> pd.DataFrame:
    cols = [getattr(CalculationResult, c) for c in RESULT_COLUMNS]
    rows = uow.connection().execute(select(*cols).where(CalculationResult.run_id == run_id)).all()
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def differences(uow, old_run_ids: list[int], new_run_id: int, locked: dict | None = None) -> pd.DataFrame:
    """Per site, category and facility: locked figures vs the recalculation (months in the locks only)."""
    new = run_results(uow, new_run_id)
    old = pd.concat([run_results(uow, r) for r in old_run_ids]) if old_run_ids else new.iloc[0:0]
    if locked is not None:
        keep = pd.MultiIndex.from_frame(old[["site", "period"]]).isin(list(locked)) if len(old) else []
        old = old[keep] if len(old) else old
        new = new[pd.MultiIndex.from_frame(new[["site", "period"]]).isin(list(locked))]
    keys = ["site", "category", "facility"]
    a = old.groupby(keys)["tco2e"].sum().rename("locked_tco2e")
    b = new.groupby(keys)["tco2e"].sum().rename("recalculated_tco2e")
    out = pd.concat([a, b], axis=1).fillna(0.0).reset_index()
    out["difference"] = out["recalculated_tco2e"] - out["locked_tco2e"]
    return out[out["difference"].abs() > 1e-9].reset_index(drop=True)


def reproduce(uow, run_id: int) -> pd.DataFrame:
    """Recalculate a run from exactly the rows and factors it saw; equal results prove it (X-5)."""
    run = get_run(uow, run_id)
    frame = activity_frame(uow, run.first_period, run.last_period, run_sites(run), max_import_id=run.max_import_id)
    if input_hash(frame) != run.input_hash:
        raise Conflict("accounting.not_reproducible", run_id=run_id)
    lib = library(uow, Options(**json.loads(run.options)), max_override_id=run.max_override_id)
    if lib.version() != run.factor_version:
        raise Conflict("accounting.not_reproducible", run_id=run_id)
    return calculation.calculate(frame, lib).results


def locked_results(uow, first: str, last: str, site: str | None) -> pd.DataFrame:
    """Each closed month from the run it is locked to (no permission check: callers check)."""
    locked = locks(uow, first, last, [site] if site else None)
    parts = []
    for run_id in sorted(set(locked.values())):
        r = run_results(uow, run_id)
        mine = pd.MultiIndex.from_frame(r[["site", "period"]]).isin([k for k, v in locked.items() if v == run_id])
        parts.append(r[mine])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RESULT_COLUMNS)


def official_results(uow, username: str, first: str, last: str, site: str | None = None) -> pd.DataFrame:
    """The figures of record: each closed month from the run it is locked to."""
    access.require(uow, username, "read", Resource("calculation", site=site or "*"))
    return locked_results(uow, first, last, site)


def results_for(uow, username: str, run_id: int | None, first: str | None = None, last: str | None = None,
                site: str | None = None) -> pd.DataFrame:
    if run_id is not None:
        access.require(uow, username, "read", Resource("calculation", site=site or "*"))
        get_run(uow, run_id)
        r = run_results(uow, run_id)
        return r[r["site"] == site] if site else r
    return official_results(uow, username, first, last, site)


def output_frame(uow, first: str, last: str, sites: list[str] | None = None) -> pd.DataFrame:
    """Production and output value per site-month (Annex F denominators); a value not given is NaN."""
    q = select(*[getattr(ProductionOutput, c) for c in OUTPUT_COLUMNS]) \
        .where(ProductionOutput.period >= first, ProductionOutput.period <= last)
    if sites is not None:
        q = q.where(ProductionOutput.site.in_(sites))
    frame = pd.DataFrame(uow.connection().execute(q).all(), columns=OUTPUT_COLUMNS)
    return frame.astype({"product_t": float, "value_10k_cny": float})


def intensity(uow, username: str, first: str, last: str) -> pd.DataFrame:
    res = official_results(uow, username, first, last)
    return calculation.intensity(res, output_frame(uow, first, last))


def readable_sites(uow, username: str, object_type: str = "calculation") -> list[str] | None:
    """The sites whose `object_type` the user may read: None when company-wide (every site)."""
    from cms_workflows.org import queries as org_queries

    if access.can(uow, username, "read", Resource(object_type, site="*")):
        return None
    return [s.code for s in org_queries.list_sites(uow) if access.can(uow, username, "read", Resource(object_type, site=s.code))]


def indicator_inputs(uow, username: str, first: str, last: str, site: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The figures of record and the production output over a period, at `site` or at every site the user may
    read (a site-bound user's company figures are those of their sites; issue 15, R-9.1)."""
    if site:
        return official_results(uow, username, first, last, site), output_frame(uow, first, last, [site])
    sites = readable_sites(uow, username)
    if sites is None:
        return official_results(uow, username, first, last), output_frame(uow, first, last)
    if not sites:
        access.require(uow, username, "read", Resource("calculation", site="*"))  # refused, naming the positions
    parts = [locked_results(uow, first, last, s) for s in sites]
    return pd.concat(parts, ignore_index=True), output_frame(uow, first, last, sites)


# ------------------------------------------------------------------ quality, major facilities

def quality(uow, username: str, first: str, last: str, site: str | None = None) -> dict:
    """Data quality of the live activity rows; each gap names a message key and its parameters."""
    access.require(uow, username, "read", Resource("activity_data", site=site or "*"))
    items = plan(uow, site)
    p = pd.DataFrame([i.model_dump() for i in items], columns=["site", "facility", "material", "meter_calibrated"])
    q = select(Activity.site, Activity.facility, Activity.material, Activity.period, Activity.unit, Activity.data_source) \
        .where(Activity.replaced_by_import.is_(None), Activity.period >= first, Activity.period <= last)
    if site:
        q = q.where(Activity.site == site)
    act = pd.DataFrame(uow.connection().execute(q).all(),
                       columns=["site", "facility", "material", "period", "unit", "data_source"])
    calibration = {i.facility: i.meter_calibrated for i in items if i.meter_calibrated is not None}
    report = dq.assess(p, act, first, last, calibration)
    # consistency also covers factors: a method/factor change inside the period (R-6.3.2.4, R-8.6)
    for o in uow.exec(select(FactorOverride).where(FactorOverride.created_at.is_not(None))).all():
        if o.year_from is not None and first[:4] <= str(o.year_from) <= last[:4]:
            report["gaps"].append(dq.gap("consistency", o.site, "", o.material, str(o.year_from),
                                         "accounting.gap.factor_changed", parameter=o.parameter, year=o.year_from))
    return report


def major_facilities(uow, username: str, first: str, last: str, threshold: float = 0.8,
                     site: str | None = None) -> pd.DataFrame:
    if not 0 < threshold <= 1:
        raise ValidationFailed("accounting.bad_threshold",
                               problems=[problem("threshold", "accounting.problem.threshold_range")])
    from cms_workflows.accounting.pareto import pareto

    return pareto(official_results(uow, username, first, last, site), threshold)


# ------------------------------------------------------------------ baselines

def get_baseline(uow, baseline_id: int) -> Baseline:
    row = uow.get(Baseline, baseline_id)
    if row is None:
        raise NotFound("accounting.unknown_baseline", baseline_id=baseline_id)
    return row


def deviations(uow, username: str, baseline_id: int, first: str, last: str, threshold: float = 0.1):
    """Actual vs baseline vs same month last year; the list over `threshold` feeds investigations (R-9.1.1.3)."""
    row = get_baseline(uow, baseline_id)
    prior = f"{int(first[:4]) - 1}{first[4:]}"
    site = row.scope.split("/")[0] if row.scope and row.level != "category" else None
    access.require(uow, username, "read", Resource("calculation", site=site or "*"))
    res = locked_results(uow, prior, last, site)
    table, over = bl.deviations(res, row.level, row.scope, json.loads(row.reference), first, last, threshold)
    return table, [{**d, "baseline_id": row.id, "level": row.level, "scope": row.scope} for d in over]


def triggers(uow, site: str | None = None) -> list[BaselineTrigger]:
    q = select(BaselineTrigger).order_by(BaselineTrigger.id)
    if site:
        q = q.where(BaselineTrigger.site == site)
    return list(uow.exec(q))


# ------------------------------------------------------------------ run lists (web)

def run_site_map(uow) -> dict[int, list[str]]:
    """Each run's sites as found in its results (a run over "*" covers the sites that had data)."""
    rows = uow.connection().execute(
        select(CalculationResult.run_id, CalculationResult.site).distinct()).all()
    out: dict[int, list[str]] = {}
    for run_id, site in rows:
        out.setdefault(run_id, []).append(site)
    return {k: sorted(v) for k, v in out.items()}


def list_runs(uow, username: str, site: str | None = None) -> list[tuple[CalculationRun, list[str]]]:
    """Runs, newest first, with their sites; only those at `site` when given."""
    access.require(uow, username, "read", Resource("calculation", site=site or "*"))
    sites = run_site_map(uow)
    runs = uow.exec(select(CalculationRun).order_by(CalculationRun.id.desc()))
    return [(r, sites.get(r.id, [])) for r in runs if not site or site in sites.get(r.id, [])]


# ------------------------------------------------------------------ approvals as recorded (web)

APPROVAL_EVENTS = {"acc_run": ("calculation", "accounting.run.approve"),
                   "acc_baseline": ("baseline", "accounting.baseline.approve")}


def approvals(uow, username: str, audit_object: str, object_id: int | None = None,
              site: str | None = None) -> dict[int, dict]:
    """Runs' or baselines' approvals as the audit trail holds them: id → {by, at, comment}. Whoever may
    read the run or baseline may read why it was approved (the approval is evidence, R-9.1, X-2)."""
    object_type, event = APPROVAL_EVENTS[audit_object]
    access.require(uow, username, "read", Resource(object_type, site=site or "*"))
    out = {}
    for e in events_for(uow, audit_object, object_id, event=event):
        payload = json.loads(e.payload or "{}")
        out[int(e.object_id)] = {"by": e.actor, "at": e.occurred_at, "comment": payload.get("comment", "")}
    return out


def list_baselines(uow, username: str, site: str | None = None) -> list[Baseline]:
    """Every baseline, newest first (proposed, approved and superseded); the caller keeps a site's."""
    access.require(uow, username, "read", Resource("baseline", site=site or "*"))
    return list(uow.exec(select(Baseline).order_by(Baseline.id.desc())))


def outputs(uow, username: str, site: str | None = None) -> list[ProductionOutput]:
    """The production output recorded (Annex F denominators), newest month first."""
    access.require(uow, username, "read", Resource("activity_data", site=site or "*"))
    q = select(ProductionOutput).order_by(ProductionOutput.period.desc(), ProductionOutput.site)
    if site:
        q = q.where(ProductionOutput.site == site)
    return list(uow.exec(q))
