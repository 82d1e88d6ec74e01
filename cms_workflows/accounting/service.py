"""Accounting commands (X-5, R-6.2.3, R-6.3, R-9.1, R-8.6). Each runs inside the caller's unit of work:
authorize → validate → change → audit. Services never commit. Bulk rows go through SQLAlchemy Core."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cms_workflows import access, audit
from cms_workflows.access import Resource
from cms_workflows.accounting import CODE_VERSION, calculation, importing
from cms_workflows.accounting import baseline as bl
from cms_workflows.accounting import quality as dq
from cms_workflows.accounting.factors import (
    FactorLibrary,
    Options,
    Override,
    categories,
)
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
from cms_workflows.accounting.pareto import pareto as pareto_table
from cms_workflows.core.db import utcnow
from cms_workflows.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from cms_workflows.org.models import Site

PARAMETERS = ("ncv", "carbon_content", "oxidation", "ef", "gwp", "calcination", "cao_fraction", "mgo_fraction")
ACTIVITY_COLUMNS = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit",
                    "data_source", "evidence_ref"]


def _check_period(value: str, fld: str) -> str:
    ok = isinstance(value, str) and len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit() \
        and 1 <= int(value[5:]) <= 12
    if not ok:
        raise ValidationFailed("accounting.bad_period", problems=[{"field": fld, "message": f"{value!r}: YYYY-MM"}])
    return value


# ------------------------------------------------------------------ plan and factors

def add_plan_item(session, username: str, *, site: str, production_unit: str, facility: str, category: str,
                  material: str, unit: str, data_source: str = "meter", facility_name: str = "",
                  responsible_position: str = "energy_data_admin", meter_calibrated: bool | None = None) -> int:
    """A line of the data collection plan (R-6.3.5); the carbon accountant maintains it with the factors."""
    grant = access.require(session, username, "manage", Resource("emission_factor", site=site))
    problems = []
    if session.exec(select(Site).where(Site.code == site)).first() is None:
        problems.append({"field": "site", "message": f"unknown site {site}"})
    if category not in categories():
        problems.append({"field": "category", "message": f"unknown source category {category}"})
    materials = library(session).materials()
    if material not in materials:
        problems.append({"field": "material", "message": f"unknown fuel/material {material}"})
    from cms_workflows.accounting import units
    if units.normalize(unit) is None:
        problems.append({"field": "unit", "message": f"unknown unit {unit}"})
    if data_source not in dq.TIER:
        problems.append({"field": "data_source", "message": "meter / invoice / estimate"})
    if not facility.strip() or not production_unit.strip():
        problems.append({"field": "facility", "message": "required"})
    if problems:
        raise ValidationFailed("accounting.invalid_plan_item", problems=problems)
    exists = session.exec(select(PlanItem).where(PlanItem.site == site, PlanItem.facility == facility,
                                                 PlanItem.material == material)).first()
    if exists:
        raise Conflict("accounting.duplicate_plan_item", site=site, facility=facility, material=material)
    item = PlanItem(site=site, production_unit=production_unit, facility=facility, facility_name=facility_name,
                    category=category, material=material, unit=units.normalize(unit), data_source=data_source,
                    responsible_position=responsible_position, meter_calibrated=meter_calibrated, created_by=username)
    session.add(item)
    session.flush()
    audit.record(session, grant, "accounting.plan.add", "acc_plan_item", item.id, item.model_dump(mode="json"))
    return item.id


def plan(session, site: str | None = None) -> list[PlanItem]:
    q = select(PlanItem).order_by(PlanItem.site, PlanItem.facility, PlanItem.material)
    if site:
        q = q.where(PlanItem.site == site)
    return list(session.exec(q))


def add_factor_override(session, username: str, *, material: str, parameter: str, value: float, evidence: str,
                        site: str = "*", source: str = "", unit: str | None = None, year_from: int | None = None,
                        year_to: int | None = None) -> int:
    """A measured or company-specific factor with its evidence (X-5). Replaces the previous one for the same key."""
    grant = access.require(session, username, "manage", Resource("emission_factor", site=site))
    problems = []
    if parameter not in PARAMETERS:
        problems.append({"field": "parameter", "message": f"one of {', '.join(PARAMETERS)}"})
    if not evidence or not evidence.strip():
        problems.append({"field": "evidence", "message": "required: a company value needs its evidence"})
    try:
        value = float(value)
        if not (0 < value < float("inf")):  # also refuses NaN
            raise ValueError
    except (TypeError, ValueError):
        problems.append({"field": "value", "message": "a positive number"})
    if problems:
        raise ValidationFailed("accounting.invalid_factor", problems=problems)
    row = FactorOverride(site=site, material=material, parameter=parameter, value=value, unit=unit, year_from=year_from,
                         year_to=year_to, evidence=evidence, source=source, created_by=username)
    session.add(row)
    session.flush()
    session.execute(update(FactorOverride).where(
        FactorOverride.material == material, FactorOverride.parameter == parameter, FactorOverride.site == site,
        FactorOverride.year_from.is_(None) if year_from is None else FactorOverride.year_from == year_from,
        FactorOverride.id != row.id, FactorOverride.superseded_by.is_(None)).values(superseded_by=row.id))
    audit.record(session, grant, "accounting.factor.override", "acc_factor_override", row.id, row.model_dump(mode="json"))
    return row.id


def _overrides(session, max_id: int | None = None) -> list[FactorOverride]:
    q = select(FactorOverride).order_by(FactorOverride.id)
    if max_id is None:
        q = q.where(FactorOverride.superseded_by.is_(None))
    else:  # as it stood when override `max_id` was the newest
        q = q.where(FactorOverride.id <= max_id,
                    or_(FactorOverride.superseded_by.is_(None), FactorOverride.superseded_by > max_id))
    return list(session.exec(q))


def library(session, options: Options | None = None, max_override_id: int | None = None) -> FactorLibrary:
    rows = _overrides(session, max_override_id)
    return FactorLibrary([Override(material=o.material, parameter=o.parameter, value=o.value, site=o.site,
                                   year_from=o.year_from, year_to=o.year_to, unit=o.unit, evidence=o.evidence,
                                   source=o.source) for o in rows], options)


# ------------------------------------------------------------------ import

def template(session, username: str, periods: list[str], site: str | None = None, fmt: str = "xlsx") -> bytes:
    access.require(session, username, "read", Resource("activity_data", site=site or "*"))
    for p in periods:
        _check_period(p, "period")
    items = [i.model_dump() for i in plan(session, site)]
    if not items:
        raise NotFound("accounting.no_plan")
    return importing.write_template(importing.template_rows(items, periods), fmt)


@dataclass
class ImportResult:
    import_id: int
    rows: int
    duplicate: bool
    sha256: str
    warnings: list[dict] = field(default_factory=list)


def _history(session) -> pd.DataFrame:
    q = select(Activity.site, Activity.facility, Activity.material, Activity.unit, Activity.quantity) \
        .where(Activity.replaced_by_import.is_(None))
    frame = pd.DataFrame(session.execute(q).all(), columns=["site", "facility", "material", "unit", "quantity"])
    if frame.empty:
        return frame.assign(median=[])
    return frame.groupby(["site", "facility", "material", "unit"])["quantity"].median().rename("median").reset_index()


def import_activity(session, username: str, data: bytes, filename: str, replace: bool = False,
                    outlier_ratio: float = 10.0) -> ImportResult:
    """Atomic (all rows or none) and idempotent (same SHA-256 → the earlier import) activity-data import."""
    sha = hashlib.sha256(data).hexdigest()
    earlier = session.exec(select(ImportBatch).where(ImportBatch.sha256 == sha)).first()
    if earlier is not None:
        first_site = session.exec(select(Activity.site).where(Activity.import_id == earlier.id).limit(1)).first()
        access.require(session, username, "submit", Resource("activity_data", site=first_site or "*"))
        return ImportResult(earlier.id, earlier.rows, True, sha)
    sites = set(session.exec(select(Site.code)))
    items = plan(session)
    ctx = importing.Context(sites=sites, facilities={(i.site, i.facility): i.production_unit for i in items},
                            materials=library(session).materials(), categories=set(categories()),
                            history=_history(session), outlier_ratio=outlier_ratio)
    parsed = importing.parse(data, filename, ctx)
    if parsed.problems:
        raise ValidationFailed("accounting.import_rejected", problems=parsed.problems, filename=filename,
                               count=len(parsed.problems))
    frame = parsed.frame
    grants = {s: access.require(session, username, "submit", Resource("activity_data", site=s))
              for s in sorted(frame["site"].unique())}
    # one value per facility/material/month: an existing one is an error unless this import corrects it
    keys = frame[["site", "facility", "material", "period"]]
    existing = pd.DataFrame(session.execute(
        select(Activity.id, Activity.site, Activity.facility, Activity.material, Activity.period, Activity.import_id)
        .where(Activity.replaced_by_import.is_(None), Activity.period.in_(sorted(keys["period"].unique())),
               Activity.site.in_(sorted(keys["site"].unique())))).all(),
        columns=["id", "site", "facility", "material", "period", "import_id"])
    clash = keys.reset_index().merge(existing, on=["site", "facility", "material", "period"])
    if len(clash) and not replace:
        rows = frame["_row"].to_numpy()
        raise ValidationFailed("accounting.import_rejected", filename=filename, count=len(clash), problems=[
            {"row": int(rows[r.index]), "field": "period",
             "message": f"{r.period} of {r.facility}/{r.material} exists already (import #{r.import_id}); import with replace to correct it"}
            for r in clash.head(importing.MAX_PROBLEMS).itertuples()])
    # the file itself is evidence: stored by its hash, re-checked by `cms verify`, exported in evidence packs
    session.files.put(data)
    batch = ImportBatch(sha256=sha, filename=filename[:300], rows=len(frame), warnings=len(parsed.warnings),
                        replaces=bool(replace and len(clash)), imported_by=username)
    session.add(batch)
    try:
        session.flush()
    except IntegrityError:  # the same file committed meanwhile by someone else (unique SHA-256)
        raise Conflict("accounting.import_in_progress", sha256=sha) from None
    if len(clash):
        ids = [int(i) for i in clash["id"]]
        for start in range(0, len(ids), 10_000):
            session.execute(update(Activity).where(Activity.id.in_(ids[start:start + 10_000]))
                            .values(replaced_by_import=batch.id))
    records = frame[ACTIVITY_COLUMNS].assign(import_id=batch.id, file_row=frame["_row"].astype(int))
    records["quantity"] = records["quantity"].astype(float)
    payload = records.to_dict("records")
    for start in range(0, len(payload), 50_000):
        session.execute(insert(Activity.__table__), payload[start:start + 50_000])
    first_grant = next(iter(grants.values()))
    audit.record(session, first_grant, "accounting.import", "acc_import", batch.id,
                 {"sha256": sha, "filename": filename, "rows": len(frame), "sites": sorted(grants),
                  "replaced": len(clash), "warnings": parsed.warnings[:100]})
    return ImportResult(batch.id, len(frame), False, sha, parsed.warnings)


def record_output(session, username: str, site: str, period: str, product_t: float, value_10k_cny: float) -> None:
    """Annex F denominators for a site and month."""
    grant = access.require(session, username, "submit", Resource("activity_data", site=site))
    _check_period(period, "period")
    if product_t < 0 or value_10k_cny < 0:
        raise ValidationFailed("accounting.invalid_output", problems=[{"field": "product_t", "message": "negative"}])
    row = session.exec(select(ProductionOutput).where(ProductionOutput.site == site, ProductionOutput.period == period)).first()
    if row is None:
        row = ProductionOutput(site=site, period=period, recorded_by=username)
    row.product_t, row.value_10k_cny, row.recorded_by = float(product_t), float(value_10k_cny), username
    session.add(row)
    session.flush()
    audit.record(session, grant, "accounting.output.record", "acc_output", row.id, row.model_dump(mode="json"))


# ------------------------------------------------------------------ calculation

def _activity_frame(session, first: str, last: str, sites: list[str] | None, max_import_id: int | None = None) -> pd.DataFrame:
    cols = [Activity.site, Activity.production_unit, Activity.facility, Activity.category, Activity.material,
            Activity.period, Activity.quantity, Activity.unit]
    q = select(*cols).where(Activity.period >= first, Activity.period <= last)
    if max_import_id is None:
        q = q.where(Activity.replaced_by_import.is_(None))
    else:  # the rows as they stood after import `max_import_id`
        q = q.where(Activity.import_id <= max_import_id,
                    or_(Activity.replaced_by_import.is_(None), Activity.replaced_by_import > max_import_id))
    if sites:
        q = q.where(Activity.site.in_(sites))
    conn = session.connection()
    return pd.DataFrame(conn.execute(q).all(), columns=[c.key for c in cols])


def input_hash(frame: pd.DataFrame) -> str:
    """Order-independent hash of the activity rows a run used."""
    canon = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    return hashlib.sha256(canon.to_csv(index=False, float_format="%.17g").encode()).hexdigest()


@dataclass
class RunOutcome:
    run_id: int
    status: str
    total_tco2e: float
    differences: pd.DataFrame | None = None  # per site/category/facility vs the locked run(s), if a recalculation


def calculate(session, username: str, first: str, last: str, sites: list[str] | None = None,
              options: Options | None = None) -> RunOutcome:
    """Compute a run for a period range. Over closed months it is a recalculation awaiting approval (R-6.3.2.4)."""
    _check_period(first, "first")
    _check_period(last, "last")
    if first > last:
        raise ValidationFailed("accounting.bad_period", problems=[{"field": "last", "message": "before first"}])
    options = options or Options()
    max_import = session.execute(select(func.coalesce(func.max(ImportBatch.id), 0))).scalar_one()
    max_override = session.execute(select(func.coalesce(func.max(FactorOverride.id), 0))).scalar_one()
    frame = _activity_frame(session, first, last, sites)
    if frame.empty:
        raise NotFound("accounting.no_activity", first=first, last=last)
    # a run covers the sites in its data: the user must be allowed to run calculations at each
    grants = [access.require(session, username, "run", Resource("calculation", site=s)) for s in sorted(frame["site"].unique())]
    grant = grants[0]
    lib = library(session, options)
    calc = calculation.calculate(frame, lib)
    locks = _locks(session, first, last, sites)
    recalculation = bool(locks)
    run = CalculationRun(first_period=first, last_period=last, sites=",".join(sorted(sites)) if sites else "*",
                         input_hash=input_hash(frame), factor_version=lib.version(), code_version=CODE_VERSION,
                         options=json.dumps(options.as_dict(), sort_keys=True),
                         factors_used=json.dumps(calc.factors_used, sort_keys=True, ensure_ascii=False, default=str),
                         max_import_id=max_import, max_override_id=max_override, rows=len(frame),
                         total_tco2e=calc.total, status="pending_approval" if recalculation else "draft",
                         is_recalculation=recalculation, created_by=username)
    session.add(run)
    session.flush()
    _store_results(session, run.id, calc.results)
    diff = differences(session, sorted({r for r in locks.values()}), run.id, locks) if recalculation else None
    audit.record(session, grant, "accounting.calculate", "acc_run", run.id,
                 {"first": first, "last": last, "sites": run.sites, "input_hash": run.input_hash,
                  "factor_version": run.factor_version, "code_version": CODE_VERSION, "total_tco2e": run.total_tco2e,
                  "recalculation": recalculation})
    return RunOutcome(run.id, run.status, run.total_tco2e, diff)


def _store_results(session, run_id: int, results: pd.DataFrame) -> None:
    payload = results.assign(run_id=run_id).to_dict("records")
    for start in range(0, len(payload), 50_000):
        session.execute(insert(CalculationResult.__table__), payload[start:start + 50_000])


def _locks(session, first: str, last: str, sites: list[str] | None) -> dict[tuple[str, str], int]:
    q = select(PeriodLock).where(PeriodLock.period >= first, PeriodLock.period <= last)
    if sites:
        q = q.where(PeriodLock.site.in_(sites))
    return {(lk.site, lk.period): lk.run_id for lk in session.exec(q)}


def run_results(session, run_id: int) -> pd.DataFrame:
    cols = [CalculationResult.site, CalculationResult.production_unit, CalculationResult.facility,
            CalculationResult.category, CalculationResult.period, CalculationResult.tco2e, CalculationResult.memo_tco2e]
    rows = session.connection().execute(select(*cols).where(CalculationResult.run_id == run_id)).all()
    return pd.DataFrame(rows, columns=[c.key for c in cols])


def differences(session, old_run_ids: list[int], new_run_id: int, locks: dict | None = None) -> pd.DataFrame:
    """Per site, category and facility: locked figures vs the recalculation (months in the locks only)."""
    new = run_results(session, new_run_id)
    old = pd.concat([run_results(session, r) for r in old_run_ids]) if old_run_ids else new.iloc[0:0]
    if locks is not None:
        keep = pd.MultiIndex.from_frame(old[["site", "period"]]).isin(list(locks)) if len(old) else []
        old = old[keep] if len(old) else old
        locked_keys = pd.MultiIndex.from_frame(new[["site", "period"]]).isin(list(locks))
        new = new[locked_keys]
    keys = ["site", "category", "facility"]
    a = old.groupby(keys)["tco2e"].sum().rename("locked_tco2e")
    b = new.groupby(keys)["tco2e"].sum().rename("recalculated_tco2e")
    out = pd.concat([a, b], axis=1).fillna(0.0).reset_index()
    out["difference"] = out["recalculated_tco2e"] - out["locked_tco2e"]
    return out[out["difference"].abs() > 1e-9].reset_index(drop=True)


def _run(session, run_id: int) -> CalculationRun:
    run = session.get(CalculationRun, run_id)
    if run is None:
        raise NotFound("accounting.unknown_run", run_id=run_id)
    return run


def approve_run(session, username: str, run_id: int) -> pd.DataFrame:
    """Top management approves a run: it becomes official, closes its months (locks them to the run),
    and for a recalculation replaces the locked figures (R-6.3.2.4). Nobody approves their own run (X-2)."""
    run = _run(session, run_id)
    run_sites = sorted(run_results(session, run.id)["site"].unique())
    grants = [access.require(session, username, "approve", Resource("calculation", site=s, id=run_id,
                                                                    authors=frozenset({run.created_by})))
              for s in run_sites]  # every site of the run, not just the first
    grant = grants[0]
    if run.status not in ("draft", "pending_approval"):
        raise InvalidTransition("error.invalid_transition", action="approve", state=run.status)
    sites = None if run.sites == "*" else run.sites.split(",")
    locks = _locks(session, run.first_period, run.last_period, sites)
    diff = differences(session, sorted(set(locks.values())), run.id, locks) if locks else pd.DataFrame()
    months = run_results(session, run.id)[["site", "period"]].drop_duplicates()
    now = utcnow()
    for site, period in months.itertuples(index=False):
        lock = session.get(PeriodLock, (site, period))
        if lock is None:
            session.add(PeriodLock(site=site, period=period, run_id=run.id, closed_by=username, closed_at=now))
        else:
            lock.run_id, lock.closed_by, lock.closed_at = run.id, username, now
            session.add(lock)
    for old_id in set(locks.values()):
        old = session.get(CalculationRun, old_id)
        remaining = session.exec(select(func.count()).select_from(PeriodLock).where(PeriodLock.run_id == old_id)).one()
        if old is not None and old_id != run.id and remaining == 0:
            old.status = "superseded"
            session.add(old)
    run.status, run.approved_by, run.approved_at = "official", username, now
    session.add(run)
    session.flush()
    audit.record(session, grant, "accounting.run.approve", "acc_run", run.id,
                 {"recalculation": run.is_recalculation, "replaced_runs": sorted(set(locks.values())),
                  "differences": diff.to_dict("records")[:200], "total_tco2e": run.total_tco2e})
    return diff


def reproduce(session, run_id: int) -> pd.DataFrame:
    """Recalculate a run from exactly the rows and factors it saw; equal results prove it (X-5)."""
    run = _run(session, run_id)
    sites = None if run.sites == "*" else run.sites.split(",")
    frame = _activity_frame(session, run.first_period, run.last_period, sites, max_import_id=run.max_import_id)
    if input_hash(frame) != run.input_hash:
        raise Conflict("accounting.not_reproducible", run_id=run_id)
    lib = library(session, Options(**json.loads(run.options)), max_override_id=run.max_override_id)
    if lib.version() != run.factor_version:
        raise Conflict("accounting.not_reproducible", run_id=run_id)
    return calculation.calculate(frame, lib).results


def official_results(session, username: str, first: str, last: str, site: str | None = None) -> pd.DataFrame:
    """The figures of record: each closed month from the run it is locked to."""
    access.require(session, username, "read", Resource("calculation", site=site or "*"))
    return _locked_results(session, first, last, site)


def _locked_results(session, first: str, last: str, site: str | None) -> pd.DataFrame:
    locks = _locks(session, first, last, [site] if site else None)
    parts = []
    for run_id in sorted(set(locks.values())):
        r = run_results(session, run_id)
        mine = pd.MultiIndex.from_frame(r[["site", "period"]]).isin([k for k, v in locks.items() if v == run_id])
        parts.append(r[mine])
    cols = ["site", "production_unit", "facility", "category", "period", "tco2e", "memo_tco2e"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def results_for(session, username: str, run_id: int | None, first: str | None = None, last: str | None = None,
                site: str | None = None) -> pd.DataFrame:
    if run_id is not None:
        access.require(session, username, "read", Resource("calculation", site=site or "*"))
        _run(session, run_id)
        r = run_results(session, run_id)
        return r[r["site"] == site] if site else r
    return official_results(session, username, first, last, site)


def intensity(session, username: str, first: str, last: str) -> pd.DataFrame:
    res = official_results(session, username, first, last)
    out = pd.DataFrame(session.connection().execute(
        select(ProductionOutput.site, ProductionOutput.period, ProductionOutput.product_t, ProductionOutput.value_10k_cny)
        .where(ProductionOutput.period >= first, ProductionOutput.period <= last)).all(),
        columns=["site", "period", "product_t", "value_10k_cny"])
    return calculation.intensity(res, out)


# ------------------------------------------------------------------ quality, major facilities

def quality(session, username: str, first: str, last: str, site: str | None = None) -> dict:
    access.require(session, username, "read", Resource("activity_data", site=site or "*"))
    items = plan(session, site)
    p = pd.DataFrame([i.model_dump() for i in items], columns=["site", "facility", "material", "meter_calibrated"])
    q = select(Activity.site, Activity.facility, Activity.material, Activity.period, Activity.unit, Activity.data_source) \
        .where(Activity.replaced_by_import.is_(None), Activity.period >= first, Activity.period <= last)
    if site:
        q = q.where(Activity.site == site)
    act = pd.DataFrame(session.connection().execute(q).all(),
                       columns=["site", "facility", "material", "period", "unit", "data_source"])
    calibration = {i.facility: i.meter_calibrated for i in items if i.meter_calibrated is not None}
    report = dq.assess(p, act, first, last, calibration)
    # consistency also covers factors: a method/factor change inside the period (R-6.3.2.4, R-8.6)
    changed = session.exec(select(FactorOverride).where(FactorOverride.created_at.is_not(None))).all()
    for o in changed:
        if o.year_from is not None and first[:4] <= str(o.year_from) <= last[:4]:
            report["gaps"].append({"kind": "consistency", "site": o.site, "facility": "", "material": o.material,
                                   "period": str(o.year_from), "message": f"factor {o.parameter} changed from {o.year_from}"})
    return report


def major_facilities(session, username: str, first: str, last: str, threshold: float = 0.8) -> pd.DataFrame:
    if not 0 < threshold <= 1:
        raise ValidationFailed("accounting.bad_threshold", problems=[{"field": "threshold", "message": "0 < x ≤ 1"}])
    return pareto_table(official_results(session, username, first, last), threshold)


# ------------------------------------------------------------------ baselines

def set_baseline(session, username: str, level: str, scope: str, base_from: str, base_to: str,
                 method: str = "average") -> int:
    """A baseline per level from the official figures of its base period (R-6.3.2); approved by top management."""
    if level not in calculation.LEVELS:
        raise ValidationFailed("accounting.bad_level", problems=[{"field": "level", "message": ", ".join(calculation.LEVELS)}])
    if method not in bl.METHODS:
        raise ValidationFailed("accounting.bad_method", problems=[{"field": "method", "message": ", ".join(bl.METHODS)}])
    _check_period(base_from, "base_from")
    _check_period(base_to, "base_to")
    site = scope.split("/")[0] if level in ("site", "production_unit", "facility") and scope else None
    res = _locked_results(session, base_from, base_to, site)
    # an enterprise or category baseline spans sites: the user must manage baselines at each of them
    grants = [access.require(session, username, "manage", Resource("baseline", site=s))
              for s in ([site] if site else sorted(res["site"].unique()) or ["*"])]
    grant = grants[0]
    try:
        ref = bl.compute_baseline(res, level, scope, base_from, base_to, method)
    except ValueError as e:
        raise ValidationFailed("accounting.no_base_data", problems=[{"field": "base_from", "message": str(e)}]) from None
    row = Baseline(level=level, scope=scope, base_from=base_from, base_to=base_to, method=method,
                   reference=json.dumps(ref, sort_keys=True), created_by=username)
    session.add(row)
    session.flush()
    audit.record(session, grant, "accounting.baseline.set", "acc_baseline", row.id, row.model_dump(mode="json"))
    return row.id


def approve_baseline(session, username: str, baseline_id: int) -> None:
    row = session.get(Baseline, baseline_id)
    if row is None:
        raise NotFound("accounting.unknown_baseline", baseline_id=baseline_id)
    grant = access.require(session, username, "approve",
                           Resource("baseline", id=baseline_id, authors=frozenset({row.created_by})))
    if row.status != "proposed":
        raise InvalidTransition("error.invalid_transition", action="approve", state=row.status)
    for old in session.exec(select(Baseline).where(Baseline.level == row.level, Baseline.scope == row.scope,
                                                   Baseline.status == "approved")):
        old.status = "superseded"
        session.add(old)
    row.status, row.approved_by, row.approved_at = "approved", username, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, grant, "accounting.baseline.approve", "acc_baseline", row.id, {"level": row.level, "scope": row.scope})


def deviations(session, username: str, baseline_id: int, first: str, last: str, threshold: float = 0.1):
    """Actual vs baseline vs same month last year; the list over `threshold` feeds investigations (R-9.1.1.3)."""
    row = session.get(Baseline, baseline_id)
    if row is None:
        raise NotFound("accounting.unknown_baseline", baseline_id=baseline_id)
    prior = f"{int(first[:4]) - 1}{first[4:]}"
    access.require(session, username, "read", Resource("calculation", site=row.scope.split("/")[0] if row.scope and row.level != "category" else "*"))
    res = _locked_results(session, prior, last, row.scope.split("/")[0] if row.scope and row.level != "category" else None)
    table, over = bl.deviations(res, row.level, row.scope, json.loads(row.reference), first, last, threshold)
    return table, [{**d, "baseline_id": row.id, "level": row.level, "scope": row.scope} for d in over]


def record_trigger(session, username: str, site: str, trigger: str, description: str,
                   baseline_id: int | None = None) -> int:
    """One of the six 6.3.2.4 baseline-review triggers, as an event for the review process."""
    if trigger not in bl.TRIGGERS:
        raise ValidationFailed("accounting.bad_trigger", problems=[{"field": "trigger", "message": ", ".join(bl.TRIGGERS)}])
    if not description.strip():
        raise ValidationFailed("accounting.bad_trigger", problems=[{"field": "description", "message": "required"}])
    grant = access.require(session, username, "manage", Resource("baseline", site=site))
    row = BaselineTrigger(site=site, trigger=trigger, description=description, baseline_id=baseline_id,
                          recorded_by=username)
    session.add(row)
    session.flush()
    audit.record(session, grant, "accounting.baseline.trigger", "acc_baseline_trigger", row.id, row.model_dump(mode="json"))
    return row.id


def triggers(session, site: str | None = None) -> list[BaselineTrigger]:
    q = select(BaselineTrigger).order_by(BaselineTrigger.id)
    if site:
        q = q.where(BaselineTrigger.site == site)
    return list(session.exec(q))
