"""Accounting commands (X-5, R-6.2.3, R-6.3, R-9.1, R-8.6), each through the command pipeline
(`audit.commands`): load what it acts on → authorize → validate → change → one audited event, in the
caller's unit of work. Reads live in `queries`. Bulk rows go through SQLAlchemy Core.

A run, a baseline or an import may span several sites: the user must hold the permission at each
of them (`_at_each_site`), all or nothing, and the event names the grant of the first."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.accounting import CODE_VERSION, activity_import, calculation, importing, integrity, production, units
from cms_workflows.accounting import baseline as bl
from cms_workflows.accounting import quality as dq
from cms_workflows.accounting.factors import PURITY_METHODS, Options, categories, check_options
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
)
from cms_workflows.accounting.queries import (  # noqa: F401  (intensity, official_results: read by demo/documents)
    activity_frame,
    approval_gaps,
    changed_months,
    check_period,
    differences,
    get_baseline,
    get_run,
    input_hash,
    intensity,
    library,
    locked_results,
    locks,
    official_results,
    run_results,
    run_sites,
)
from cms_workflows.accounting.states import BASELINE, RUN, BaselineStatus, run_created_status
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import Conflict, NotFound, ValidationFailed, problem
from cms_workflows.core.i18n import Message
from cms_workflows.core.limits import limits
from cms_workflows.core.text import check_text, shown
from cms_workflows.org.queries import site_codes

PARAMETERS = ("ncv", "carbon_content", "oxidation", "ef", "gwp", "calcination", "cao_fraction", "mgo_fraction")
COMMENT_LIMIT = 2000


# ------------------------------------------------------------------ authorization over several sites

@dataclass
class Sites:
    """What a multi-site command acts on: the sites to authorize at, and what the loader read."""

    sites: list[str]
    loaded: dict = field(default_factory=dict)


def _at_each_site(control, uow, actor: str, action: str, resource: Resource):
    """Authorize at every site the command touches (all or nothing); with none known yet (no data),
    the user must hold the permission at some site, so that they learn what is wrong with their input."""
    sites = resource.subject.sites
    if not sites:
        for site in sorted(site_codes(uow)):
            found = control.check(uow, actor, action, dataclasses.replace(resource, site=site))
            if not isinstance(found, Exception):
                return found
        sites = [COMPANY_WIDE]
    grants = [control.decide(uow, actor, action, dataclasses.replace(resource, site=s)) for s in sites]
    return grants[0]


def _multi(type_: str, sites: list[str], *, authors: frozenset = frozenset(), id=None, **loaded) -> Resource:
    return Resource(type_, site=sites[0] if sites else COMPANY_WIDE, id=id, authors=authors,
                    subject=Sites(list(sites), loaded))


# ------------------------------------------------------------------ plan and factors

def _factor_site(_uow, *_args, site: str = COMPANY_WIDE, **_kwargs) -> Resource:
    return Resource("emission_factor", site=site)


@command("accounting.plan_item.create", action="manage", resource=_factor_site, audit_object="acc_plan_item")
def add_plan_item(cmd: Command, *, site: str, production_unit: str, facility: str, category: str,
                  material: str, unit: str, data_source: str = "meter", facility_name: str = "",
                  responsible_position: str = "energy_data_admin", meter_calibrated: bool | None = None,
                  purity: float | None = None) -> int:
    """A line of the data collection plan (R-6.3.5); the carbon accountant maintains it with the factors.
    `purity`: the default carbonate content / CO2 volume fraction (0-1] of the line's rows that give none."""
    uow = cmd.uow
    problems = []
    if site not in site_codes(uow):
        problems.append(problem("site", "accounting.problem.unknown_site", site=site))
    if category not in categories():
        problems.append(problem("category", "accounting.problem.unknown_category", category=category))
    if material not in library(uow).materials():
        problems.append(problem("material", "accounting.problem.unknown_material", material=material))
    if units.normalize(unit) is None:
        problems.append(problem("unit", "accounting.problem.unknown_unit", unit=unit))
    if data_source not in dq.TIER:
        problems.append(problem("data_source", "accounting.problem.unknown_data_source", data_source=data_source))
    if not facility.strip() or not production_unit.strip():
        problems.append(problem("facility", "accounting.problem.required"))
    problems += _plan_purity_problems(uow, material, purity)
    if problems:
        raise ValidationFailed("accounting.invalid_plan_item", problems=problems)
    exists = uow.exec(select(PlanItem).where(PlanItem.site == site, PlanItem.facility == facility,
                                             PlanItem.material == material)).first()
    if exists:
        raise Conflict("accounting.duplicate_plan_item", site=site, facility=facility, material=material)
    item = PlanItem(site=site, production_unit=production_unit, facility=facility, facility_name=facility_name,
                    category=category, material=material, unit=units.normalize(unit), data_source=data_source,
                    responsible_position=responsible_position, meter_calibrated=meter_calibrated,
                    purity=None if purity is None else float(purity), created_by=cmd.actor, created_at=uow.clock.now())
    uow.add(item)
    uow.flush()
    cmd.object_id, cmd.payload = item.id, item.model_dump(mode="json")
    return item.id


def _plan_purity_problems(uow, material: str, purity: float | None) -> list[dict]:
    """A plan line's purity is a fraction in (0, 1] (95 % is 0.95), of a material a purity applies to."""
    if purity is None:
        return []
    if isinstance(purity, bool) or not isinstance(purity, (int, float)) or not 0 < purity <= 1:
        return [problem("purity", "accounting.problem.purity_range", value=shown(purity, 40), rows=1)]
    info = library(uow).materials().get(material)
    if info is not None and info["method"] not in PURITY_METHODS:
        return [problem("purity", "accounting.problem.purity_not_applicable", materials=material)]
    return []


@command("accounting.factor_override.create", action="manage", resource=_factor_site,
         audit_object="acc_factor_override")
def add_factor_override(cmd: Command, *, material: str, parameter: str, value: float, evidence: str,
                        site: str = "*", source: str = "", unit: str | None = None, year_from: int | None = None,
                        year_to: int | None = None) -> int:
    """A measured or company-specific factor with its evidence (X-5). Replaces the previous one for the same key."""
    uow = cmd.uow
    problems = []
    if parameter not in PARAMETERS:
        problems.append(problem("parameter", "accounting.problem.one_of", value=parameter, allowed=", ".join(PARAMETERS)))
    if not evidence or not evidence.strip():
        problems.append(problem("evidence", "accounting.problem.evidence_required"))
    try:
        value = float(value)
        if not (0 < value < float("inf")):  # also refuses NaN
            raise ValueError
    except (TypeError, ValueError):
        problems.append(problem("value", "accounting.problem.positive_number"))
    lim = limits()
    for fld, year in (("year_from", year_from), ("year_to", year_to)):
        if year is not None and not lim.min_year <= year <= lim.max_year:
            problems.append(problem(fld, "accounting.problem.year_range", value=year, first=lim.min_year,
                                    last=lim.max_year))
    if unit is not None and str(unit).strip():
        unit, unit_problem = _factor_unit(uow, material, unit)
        if unit_problem:
            problems.append(unit_problem)
    else:
        unit = None
    if problems:
        raise ValidationFailed("accounting.invalid_factor", problems=problems)
    row = FactorOverride(site=site, material=material, parameter=parameter, value=value, unit=unit, year_from=year_from,
                         year_to=year_to, evidence=evidence, source=source, created_by=cmd.actor,
                         created_at=uow.clock.now())
    uow.add(row)
    uow.flush()
    uow.execute(update(FactorOverride).where(
        FactorOverride.material == material, FactorOverride.parameter == parameter, FactorOverride.site == site,
        FactorOverride.year_from.is_(None) if year_from is None else FactorOverride.year_from == year_from,
        FactorOverride.id != row.id, FactorOverride.superseded_by.is_(None)).values(superseded_by=row.id))
    cmd.object_id, cmd.payload = row.id, row.model_dump(mode="json")
    return row.id


def _factor_unit(uow, material: str, unit: str) -> tuple[str, dict | None]:
    """The canonical code of a factor's unit, or the problem with it (issue 15). A factor is applied per its
    material's base unit, so a material that has one (a default, or a company material's earlier factor)
    takes only that unit; a new company material takes a unit of the dimension its plan lines measure in,
    or any known unit when it has none yet."""
    code = units.normalize(unit)
    if code is None:
        return unit, problem("unit", "accounting.problem.unknown_unit_allowed", unit=shown(unit, 20),
                             allowed=", ".join(units.UNITS))
    info = library(uow).materials().get(material)
    if info is not None and info["base_unit"] in units.UNITS:
        allowed = [info["base_unit"]]
    else:
        dims = {units.dimension(i.unit) for i in uow.exec(select(PlanItem).where(PlanItem.material == material))
                if i.unit in units.UNITS}
        allowed = [u for d in sorted(dims) for u in units.of_dimension(d)] or list(units.UNITS)
    if code not in allowed:
        return code, problem("unit", "accounting.problem.factor_unit_not_allowed", unit=code, material=material,
                             allowed=", ".join(allowed))
    return code, None


# ------------------------------------------------------------------ import

@dataclass
class ImportResult:
    import_id: int
    rows: int
    duplicate: bool
    sha256: str
    warnings: list[dict] = field(default_factory=list)
    # approved runs whose locked months this import changed: [{run_id, months, status}] (issue 15)
    recalculation: list[dict] = field(default_factory=list)
    outputs: int = 0  # site-months of production and output value recorded from the production sheet
    skipped: int = 0  # template rows left empty


def import_activity(uow, username: str, data: bytes, filename: str, replace: bool = False,
                    outlier_ratio: float = 10.0, accept_outliers: list[int] | None = None,
                    reason: str = "") -> ImportResult:
    """Atomic (all rows or none) and idempotent (same SHA-256 → the earlier import) activity-data import.
    The same file again changes nothing, so it is answered here, not by a command (no event).
    `accept_outliers`: file row numbers whose implausible figures (importing.REFUSE_RATIO× off their history
    or neighbours, or outside the physical range) the user confirms, with `reason` (issue 15)."""
    sha = hashlib.sha256(data).hexdigest()
    earlier = uow.exec(select(ImportBatch).where(ImportBatch.sha256 == sha)).first()
    if earlier is not None:
        first_site = uow.exec(select(Activity.site).where(Activity.import_id == earlier.id).limit(1)).first()
        # a file of production figures only has no rows to name a site: the user must submit at some site
        _at_each_site(access.get_access(), uow, username, "submit", _multi("activity_data", [first_site] if first_site else []))
        return ImportResult(earlier.id, earlier.rows, True, sha)
    return create_import_batch(uow, username, data, filename, replace=replace, outlier_ratio=outlier_ratio,
                               accept_outliers=accept_outliers, reason=reason)


def _import_sites(uow, data: bytes, filename: str, replace: bool = False, outlier_ratio: float = 10.0,
                  accept_outliers: list[int] | None = None, reason: str = "") -> Resource:
    """Read the file to learn its sites (a file that cannot be read at all is refused here)."""
    sites = site_codes(uow)
    parsed, accepted = activity_import.read(uow, sites, data, filename, outlier_ratio, accept_outliers, reason)
    return _multi("activity_data", activity_import.sites_named(parsed, sites), parsed=parsed, accepted=accepted)


@command("accounting.import_batch.create", action="submit", resource=_import_sites, authorize=_at_each_site,
         audit_object="acc_import", emits=("accounting.run.reopen", activity_import.OUTPUT_EVENT))
def create_import_batch(cmd: Command, data: bytes, filename: str, replace: bool = False,
                        outlier_ratio: float = 10.0, accept_outliers: list[int] | None = None,
                        reason: str = "") -> ImportResult:
    uow = cmd.uow
    parsed = cmd.subject.loaded["parsed"]
    if parsed.problems:
        raise ValidationFailed("accounting.import_rejected", problems=parsed.problems, filename=filename,
                               count=len(parsed.problems))
    frame = parsed.frame
    clash = activity_import.clashes(uow, frame)
    if len(clash) and not replace:
        rows = frame["_row"].to_numpy()
        raise ValidationFailed("accounting.import_rejected", filename=filename, count=len(clash), problems=[
            problem("period", "accounting.problem.period_exists", row=int(rows[r.index]), period=r.period,
                    facility=r.facility, material=r.material, import_id=int(r.import_id))
            for r in clash.head(importing.MAX_PROBLEMS).itertuples()])
    sha = hashlib.sha256(data).hexdigest()
    # the file itself is evidence: stored by its hash, re-checked by `cms verify`, exported in evidence packs
    uow.files.put(data)
    batch = ImportBatch(sha256=sha, filename=filename[:300], rows=len(frame), warnings=len(parsed.warnings),
                        replaces=bool(replace and len(clash)), imported_by=cmd.actor, imported_at=uow.clock.now())
    uow.add(batch)
    try:
        uow.flush()
    except IntegrityError:  # the same file committed meanwhile by someone else (unique SHA-256)
        raise Conflict("accounting.import_in_progress", sha256=sha) from None
    activity_import.write_rows(uow, batch.id, frame, [int(i) for i in clash["id"]])
    cmd.object_id = batch.id
    recalculation = activity_import.reopen_runs(cmd, batch.id, frame)
    outputs = activity_import.write_outputs(cmd, batch.id, parsed.production)  # the production sheet, if filled
    cmd.payload = {"sha256": sha, "filename": filename, "rows": len(frame), "sites": cmd.subject.sites,
                   "outputs": outputs[:500], "skipped_rows": parsed.skipped,
                   "replaced": len(clash), "warnings": parsed.warnings[:100],
                   # the rows as stored, so `cms verify --deep` can tell an edited row (issue 14)
                   "rows_sha256": integrity.stored_rows_digest(uow, batch.id),
                   "recalculation_needed": recalculation}
    accepted = [w for w in parsed.warnings if w["key"] == "accounting.problem.outlier_accepted"]
    if accepted:  # who confirmed which implausible rows, and why (issue 15); the event's actor is who
        listed, why = cmd.subject.loaded["accepted"]  # as checked when the file was read
        cmd.payload["accepted_outliers"] = {"rows": sorted(listed), "by": str(cmd.actor), "reason": why,
                                            "findings": accepted[:100]}
    return ImportResult(batch.id, len(frame), False, sha, parsed.warnings, recalculation, len(outputs), parsed.skipped)


def _output_site(_uow, site: str, *_args, **_kwargs) -> Resource:
    return Resource("activity_data", site=site)


@command("accounting.production_output.record", action="submit", resource=_output_site, audit_object="acc_output")
def record_output(cmd: Command, site: str, period: str, product_t: float, value_10k_cny: float | None = None) -> None:
    """Annex F denominators for a site and month; the output value is optional (issue 15)."""
    uow = cmd.uow
    check_period(period, "period")
    values, problems = production.check_output(product_t, value_10k_cny)
    if problems:
        raise ValidationFailed("accounting.invalid_output", problems=problems)
    row = activity_import.save_output(uow, cmd.actor, site, period, values["product_t"], values["value_10k_cny"])
    cmd.object_id, cmd.payload = row.id, row.model_dump(mode="json")


# ------------------------------------------------------------------ calculation

@dataclass
class RunOutcome:
    run_id: int
    status: str
    total_tco2e: float
    differences: pd.DataFrame | None = None  # per site/category/facility vs the locked run(s), if a recalculation


def _run_scope(uow, first: str, last: str, sites: list[str] | None = None, options: Options | None = None) -> Resource:
    """A run covers the sites in its data: the user must be allowed to run calculations at each."""
    frame = activity_frame(uow, first, last, sites)
    named = sorted(frame["site"].unique()) if len(frame) else sorted(sites or [])
    return _multi("calculation", named, frame=frame)


@command("accounting.run.calculate", action="run", resource=_run_scope, authorize=_at_each_site, audit_object="acc_run")
def calculate(cmd: Command, first: str, last: str, sites: list[str] | None = None,
              options: Options | None = None) -> RunOutcome:
    """Compute a run for a period range. Over closed months it is a recalculation awaiting approval (R-6.3.2.4)."""
    uow = cmd.uow
    check_period(first, "first")
    check_period(last, "last")
    if first > last:
        raise ValidationFailed("accounting.bad_period", problems=[problem("last", "accounting.problem.before_first")])
    options = check_options(options or Options())
    frame = cmd.subject.loaded["frame"]
    if frame.empty:
        raise NotFound("accounting.no_activity", first=first, last=last)
    max_import = uow.execute(select(func.coalesce(func.max(ImportBatch.id), 0))).scalar_one()
    max_override = uow.execute(select(func.coalesce(func.max(FactorOverride.id), 0))).scalar_one()
    lib = library(uow, options)
    calc = calculation.calculate(frame, lib)
    locked = locks(uow, first, last, sites)
    recalculation = bool(locked)
    run = CalculationRun(first_period=first, last_period=last, sites=",".join(sorted(sites)) if sites else "*",
                         input_hash=input_hash(frame), factor_version=lib.version(), code_version=CODE_VERSION,
                         options=json.dumps(options.as_dict(), sort_keys=True),
                         factors_used=json.dumps(calc.factors_used, sort_keys=True, ensure_ascii=False, default=str),
                         max_import_id=max_import, max_override_id=max_override, rows=len(frame),
                         total_tco2e=calc.total, status=run_created_status(recalculation),
                         is_recalculation=recalculation, created_by=cmd.actor, created_at=uow.clock.now())
    uow.add(run)
    uow.flush()
    payload = calc.results.assign(run_id=run.id).to_dict("records")
    for start in range(0, len(payload), 50_000):
        uow.execute(insert(CalculationResult.__table__), payload[start:start + 50_000])
    diff = differences(uow, sorted(set(locked.values())), run.id, locked) if recalculation else None
    cmd.object_id = run.id
    cmd.payload = {"first": first, "last": last, "sites": run.sites, "input_hash": run.input_hash,
                   "factor_version": run.factor_version, "code_version": CODE_VERSION,
                   "total_tco2e": run.total_tco2e, "recalculation": recalculation}
    return RunOutcome(run.id, run.status, run.total_tco2e, diff)


def _run_to_approve(uow, run_id: int, *_args, **_kwargs) -> Resource:
    """Every site of the run, not just the first; its author may not approve it (X-2)."""
    run = get_run(uow, run_id)
    results = run_results(uow, run.id)
    return _multi("calculation", sorted(results["site"].unique()), id=run_id,
                  authors=frozenset({run.created_by}), run=run, results=results)


@command("accounting.run.approve", action="approve", resource=_run_to_approve, authorize=_at_each_site,
         audit_object="acc_run")
def approve_run(cmd: Command, run_id: int, comment: str = "", accept_gaps: bool = False) -> pd.DataFrame:
    """Top management approves a run: it becomes official, closes its months (locks them to the run),
    and for a recalculation replaces the locked figures (R-6.3.2.4). The approver's comment (why) is
    part of the event: the approval is evidence (R-9.1, X-2).
    A run with planned lines missing months, or with import warnings on the rows it used, is refused
    with the list of them unless the approver accepts them (`accept_gaps`, with a comment saying why);
    the event then records which gaps were accepted (issue 15, R-8.6)."""
    uow = cmd.uow
    comment = approval_comment(comment)
    run: CalculationRun = cmd.subject.loaded["run"]
    official = RUN.target(run.status, "approve_run")
    gaps = approval_gaps(uow, run, sorted(cmd.subject.loaded["results"]["site"].unique()))
    has_gaps = bool(gaps["missing"] or gaps["warnings"])
    if has_gaps and not accept_gaps:
        raise ValidationFailed("accounting.approval_gaps", run_id=run.id, problems=_gap_problems(gaps))
    if has_gaps and not comment:
        raise ValidationFailed("accounting.approval_gaps_comment", run_id=run.id, problems=[
            problem("comment", "accounting.problem.accept_gaps_comment")])
    locked = locks(uow, run.first_period, run.last_period, run_sites(run))
    diff = differences(uow, sorted(set(locked.values())), run.id, locked) if locked else pd.DataFrame()
    now = uow.clock.now()
    months = cmd.subject.loaded["results"][["site", "period"]].drop_duplicates()
    for site, period in months.itertuples(index=False):
        lock = uow.get(PeriodLock, (site, period))
        if lock is None:
            uow.add(PeriodLock(site=site, period=period, run_id=run.id, closed_by=cmd.actor, closed_at=now))
        else:
            lock.run_id, lock.closed_by, lock.closed_at = run.id, cmd.actor, now
            uow.add(lock)
    uow.flush()
    for old_id in set(locked.values()) - {run.id}:
        old = uow.get(CalculationRun, old_id)
        remaining = uow.exec(select(func.count()).select_from(PeriodLock).where(PeriodLock.run_id == old_id)).one()
        if old is not None and remaining == 0 and RUN.allows(old.status, "supersede_run"):
            old.status = RUN.target(old.status, "supersede_run")
            uow.add(old)
        elif old is not None and RUN.allows(old.status, "restore_run") and not changed_months(uow, old):
            old.status = RUN.target(old.status, "restore_run")  # its changed months are this run's now
            uow.add(old)
    run.status, run.approved_by, run.approved_at = official, cmd.actor, now
    uow.add(run)
    uow.flush()
    cmd.payload = {"recalculation": run.is_recalculation, "replaced_runs": sorted(set(locked.values())),
                   "differences": diff.to_dict("records")[:200], "total_tco2e": run.total_tco2e,
                   "comment": comment, "accept_gaps": has_gaps,
                   "gaps": {"missing": gaps["missing"][:500], "warnings": gaps["warnings"][:500]}}
    return diff


def _gap_problems(gaps: dict) -> list[dict]:
    """The gaps of a run as problems of the `accept_gaps` field, in the reader's language when shown."""
    out = [problem("accept_gaps", "accounting.problem.gap_months", site=g["site"], facility=g["facility"],
                   material=g["material"], count=len(g["months"]), months=dq.month_ranges(g["months"]))
           for g in gaps["missing"]]
    out += [problem("accept_gaps", "accounting.problem.gap_warning", site=w["site"], facility=w["facility"],
                    material=w["material"], period=w["period"], import_id=w["import_id"], file_row=w["row"],
                    warning=Message(w["key"], **w["params"]))
            for w in gaps["warnings"]]
    return out


def approval_comment(comment: str | None) -> str:
    """An approver's comment: multi-line text without control characters, at most `COMMENT_LIMIT` characters."""
    text = (comment or "").strip()
    check_text("accounting.invalid_comment", multiline=True, comment=text)
    if len(text) > COMMENT_LIMIT:
        raise ValidationFailed("accounting.invalid_comment", problems=[
            problem("comment", "accounting.problem.too_long", length=len(text), limit=COMMENT_LIMIT)])
    return text


# ------------------------------------------------------------------ baselines

def _baseline_scope(uow, level: str, scope: str, base_from: str, base_to: str, method: str = "average") -> Resource:
    """An enterprise or category baseline spans sites: the user must manage baselines at each of them."""
    site = scope.split("/")[0] if level in ("site", "production_unit", "facility") and scope else None
    res = locked_results(uow, base_from, base_to, site) if isinstance(base_from, str) and isinstance(base_to, str) \
        else pd.DataFrame(columns=["site"])
    return _multi("baseline", [site] if site else sorted(res["site"].unique()) or [COMPANY_WIDE],
                  results=res)


@command("accounting.baseline.create", action="manage", resource=_baseline_scope, authorize=_at_each_site,
         audit_object="acc_baseline")
def set_baseline(cmd: Command, level: str, scope: str, base_from: str, base_to: str, method: str = "average") -> int:
    """A baseline per level from the official figures of its base period (R-6.3.2); approved by top management."""
    uow = cmd.uow
    if level not in calculation.LEVELS:
        raise ValidationFailed("accounting.bad_level", problems=[
            problem("level", "accounting.problem.one_of", value=level, allowed=", ".join(calculation.LEVELS))])
    if method not in bl.METHODS:
        raise ValidationFailed("accounting.bad_method", problems=[
            problem("method", "accounting.problem.one_of", value=method, allowed=", ".join(bl.METHODS))])
    check_period(base_from, "base_from")
    check_period(base_to, "base_to")
    ref = bl.compute_baseline(cmd.subject.loaded["results"], level, scope, base_from, base_to, method)
    row = Baseline(level=level, scope=scope, base_from=base_from, base_to=base_to, method=method,
                   reference=json.dumps(ref, sort_keys=True), status=BASELINE.initial, created_by=cmd.actor,
                   created_at=uow.clock.now())
    uow.add(row)
    uow.flush()
    cmd.object_id, cmd.payload = row.id, row.model_dump(mode="json")
    return row.id


def _baseline(uow, baseline_id: int, *_args, **_kwargs) -> Resource:
    row = get_baseline(uow, baseline_id)
    return Resource("baseline", id=baseline_id, authors=frozenset({row.created_by}), subject=row)


@command("accounting.baseline.approve", action="approve", resource=_baseline, audit_object="acc_baseline")
def approve_baseline(cmd: Command, baseline_id: int, comment: str = "") -> None:
    """Top management approves a proposed baseline, with its comment in the event (R-9.1.1.3)."""
    uow = cmd.uow
    comment = approval_comment(comment)
    row: Baseline = cmd.subject
    approved = BASELINE.target(row.status, "approve_baseline")
    for old in uow.exec(select(Baseline).where(Baseline.level == row.level, Baseline.scope == row.scope,
                                               Baseline.status == BaselineStatus.APPROVED)):
        old.status = BASELINE.target(old.status, "supersede_baseline")
        uow.add(old)
    row.status, row.approved_by, row.approved_at = approved, cmd.actor, uow.clock.now()
    uow.add(row)
    uow.flush()
    cmd.payload = {"level": row.level, "scope": row.scope, "comment": comment}


def _trigger_site(_uow, site: str, *_args, **_kwargs) -> Resource:
    return Resource("baseline", site=site)


@command("accounting.baseline_trigger.record", action="manage", resource=_trigger_site,
         audit_object="acc_baseline_trigger")
def record_trigger(cmd: Command, site: str, trigger: str, description: str, baseline_id: int | None = None) -> int:
    """One of the six 6.3.2.4 baseline-review triggers, as an event for the review process."""
    uow = cmd.uow
    if trigger not in bl.TRIGGERS:
        raise ValidationFailed("accounting.bad_trigger", problems=[
            problem("trigger", "accounting.problem.one_of", value=trigger, allowed=", ".join(bl.TRIGGERS))])
    if not description.strip():
        raise ValidationFailed("accounting.bad_trigger", problems=[problem("description", "accounting.problem.required")])
    row = BaselineTrigger(site=site, trigger=trigger, description=description, baseline_id=baseline_id,
                          recorded_by=cmd.actor, recorded_at=uow.clock.now())
    uow.add(row)
    uow.flush()
    cmd.object_id, cmd.payload = row.id, row.model_dump(mode="json")
    return row.id
