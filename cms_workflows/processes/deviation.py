"""Baseline deviation investigation (R-9.1.1.3): a significant deviation from an approved baseline is
investigated and the response recorded.

The daily sweep's trigger (`open_from_deviations`) reads accounting's deviation list of every approved
baseline over the closed months after its base period (a month counts once it is locked to an approved
calculation run: open months would show as deviations merely for missing data) and opens one case per
(baseline, scope) whose months go above the threshold — later months join the investigation while it is
open — with the figures of each month as its items and a task to the site's
carbon accountant (company-wide baselines: the carbon management lead). The investigator records the
cause and the response (`investigate`), then closes the investigation (`close_investigation`) or escalates
it to a corrective action (`escalate`: a nonconformity with this case as its source and parent).

Public steps: `open_from_deviations` (a trigger of the sweep), `candidates` (a query), `open_investigation`,
`add_months`,
`investigate`, `close_investigation`, `escalate`.
"""

from __future__ import annotations

import calendar
import json
from datetime import date, timedelta

from sqlmodel import func, select

from cms_workflows.access import COMPANY_WIDE, known_position_codes
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import InvalidTransition, ValidationFailed, problem
from cms_workflows.core.i18n import Message, t
from cms_workflows.core.text import shown
from cms_workflows.processes import cases, corrective_action
from cms_workflows.processes.models import Case
from cms_workflows.processes.registry import Process, register
from cms_workflows.processes.states import DEVIATION

KIND = "deviation"
THRESHOLD = 0.1  # accounting's default: a month more than 10 % off its baseline is investigated
INVESTIGATE_DAYS = 14
LOOKBACK_MONTHS = 24  # closed months further back were the sweeps' business long ago
INVESTIGATOR, COMPANY_INVESTIGATOR = "carbon_accountant", "strategy_manager"
MONTH = "month"  # an item per month over the threshold the investigation covers, with its figures
MONTH_FIELDS = ("period", "actual", "baseline", "deviation", "last_year", "vs_last_year")

PROCESS = register(Process(KIND, "DEV", DEVIATION, clause="R-9.1.1.3", owner_position=INVESTIGATOR))


# ---------------------------------------------------------------- what the figures say

def _percent(value) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def _tonnes(value) -> str:
    return "-" if value is None else f"{value:,.2f}"


def scope_label(uow, level: str, scope: str) -> str:
    """What the baseline covers, named as people know it (a site's name, a facility's name)."""
    from cms_workflows.accounting.models import PlanItem
    from cms_workflows.org.models import Site

    parts = (scope or "").split("/")
    if level == "enterprise":
        return t("processes.deviation.scope.enterprise", locale="zh-CN")
    if level == "category":
        return t("processes.deviation.scope.category", locale="zh-CN", category=scope)
    site = uow.exec(select(Site).where(Site.code == parts[0])).first()
    site_name = site.name_zh if site else parts[0]
    if level == "facility" and len(parts) == 3:
        item = uow.exec(select(PlanItem).where(PlanItem.site == parts[0], PlanItem.facility == parts[2])).first()
        return f"{site_name} {(item.facility_name if item and item.facility_name else parts[2])}"
    if level == "production_unit" and len(parts) >= 2:
        return f"{site_name} {parts[1]}"
    return site_name


def _closed_periods(uow, site: str | None, after: str, day: date) -> list[str]:
    """Months locked to an approved run after `after`, up to `day`'s month (for a company-wide baseline:
    months locked at every site that has locked months)."""
    from cms_workflows.accounting.models import PeriodLock

    earliest = (day.replace(day=1) - timedelta(days=31 * LOOKBACK_MONTHS)).strftime("%Y-%m")
    q = select(PeriodLock.period, func.count()).where(PeriodLock.period > max(after, earliest),
                                                      PeriodLock.period <= day.strftime("%Y-%m"))
    if site:
        q = q.where(PeriodLock.site == site)
        return sorted(p for p, _n in uow.exec(q.group_by(PeriodLock.period)))
    sites = uow.exec(select(func.count(func.distinct(PeriodLock.site)))).one()
    return sorted(p for p, n in uow.exec(q.group_by(PeriodLock.period)) if n == sites)


def candidates(uow, day: date, threshold: float = THRESHOLD) -> list[dict]:
    """Every (approved baseline, month) over the threshold in the closed months: what should be a case."""
    from cms_workflows.accounting import queries as acc
    from cms_workflows.accounting.models import Baseline

    found = []
    for baseline in uow.exec(select(Baseline).where(Baseline.status == "approved").order_by(Baseline.id)):
        site = baseline.scope.split("/")[0] if baseline.scope and baseline.level != "category" else None
        periods = _closed_periods(uow, site, baseline.base_to, day)
        if not periods:
            continue
        _table, over = acc.deviations(uow, cases.SYSTEM, baseline.id, periods[0], periods[-1], threshold)
        for row in over:
            if row["period"] not in periods:
                continue
            found.append({"key": f"{KIND}:{baseline.id}:{baseline.scope or COMPANY_WIDE}:{row['period']}",
                          "site": site or COMPANY_WIDE, "baseline_id": baseline.id, "level": baseline.level,
                          "scope": baseline.scope, "period": row["period"], "actual": row["actual"],
                          "baseline": row["baseline"], "deviation": row["deviation"],
                          "last_year": row["last_year"], "vs_last_year": row["vs_last_year"],
                          "threshold": threshold})
    return found


def covered_months(uow) -> dict[tuple[int, str], set[str]]:
    """(baseline id, scope) -> the months some investigation already covers."""
    found: dict[tuple[int, str], set[str]] = {}
    for case in uow.exec(select(Case).where(Case.kind == KIND)):
        data = cases.data_of(case)
        months = {cases.item_data(i)["period"] for i in cases.items(uow, case, MONTH)} or {data.get("period")}
        found.setdefault((data.get("baseline_id"), data.get("scope")), set()).update(months)
    return found


def open_case_of(uow, baseline_id: int, scope: str) -> Case | None:
    """The investigation of this baseline and scope still open, if any."""
    for case in uow.exec(select(Case).where(Case.kind == KIND, Case.status == "investigating").order_by(Case.id)):
        data = cases.data_of(case)
        if (data.get("baseline_id"), data.get("scope")) == (baseline_id, scope):
            return case
    return None


def open_from_deviations(db, day: date, threshold: float = THRESHOLD) -> list[str]:
    """The sweep's trigger. The months over the threshold that no investigation covers yet go to the open
    investigation of their baseline and scope, or open one for all of them: a deviation that persists month
    after month is one investigation, not one per month. One unit of work per baseline and scope (one that
    fails leaves the others done); running it twice changes nothing."""
    with db.read() as uow:
        covered = covered_months(uow)
        fresh = [c for c in candidates(uow, day, threshold)
                 if c["period"] not in covered.get((c["baseline_id"], c["scope"]), set())]
    groups: dict[tuple[int, str], list[dict]] = {}
    for figures in fresh:
        groups.setdefault((figures["baseline_id"], figures["scope"]), []).append(figures)
    opened = []
    for (baseline_id, scope), months in groups.items():
        with db.unit_of_work() as uow:
            now_covered = covered_months(uow).get((baseline_id, scope), set())  # another sweep meanwhile
            months = [m for m in months if m["period"] not in now_covered]
            if not months:
                continue
            case = open_case_of(uow, baseline_id, scope)
            if case is not None:
                add_months(uow, cases.SYSTEM, case.number, months)
            else:
                first, *more = months
                opened.append(open_investigation(uow, cases.SYSTEM, **first, more=more).number)
    return opened


PROCESS.triggers.append(open_from_deviations)


# ---------------------------------------------------------------- the case

def _investigate_task(cmd: Command, case: Case) -> None:
    data = cases.data_of(case)
    position = INVESTIGATOR if case.site != COMPANY_WIDE else COMPANY_INVESTIGATOR
    cases.stage_task(cmd, case, "investigate", title_key="processes.task.dev_investigate",
                     due=cmd.uow.clock.today() + timedelta(days=INVESTIGATE_DAYS), position=position,
                     params={"what": data.get("what", ""), "period": data.get("period", ""),
                             "deviation": _percent(data.get("deviation"))})


PROCESS.on_enter["investigating"] = _investigate_task


@command("processes.deviation.open", action="open", resource=cases.new_case_at(KIND), audit_object=cases.AUDIT_OBJECT)
def open_investigation(cmd: Command, *, key: str, site: str, baseline_id: int, level: str, scope: str, period: str,
                       actual: float, baseline: float, deviation: float | None, last_year: float | None = None,
                       vs_last_year: float | None = None, threshold: float = THRESHOLD,
                       more: list[dict] = ()) -> Case:
    """The investigation of a deviation from a baseline: its first month's figures, and `more` months (each
    a dict of MONTH_FIELDS) found over the threshold at the same time."""
    from cms_workflows.accounting.queries import get_baseline, is_period

    if not is_period(period):
        raise ValidationFailed("processes.invalid_input", number="-",
                               problems=[problem("period", "processes.deviation.problem.bad_period", value=shown(period))])
    get_baseline(cmd.uow, baseline_id)
    year, month = int(period[:4]), int(period[5:7])
    first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    data = {"baseline_id": baseline_id, "level": level, "scope": scope, "period": period, "actual": actual,
            "baseline": baseline, "deviation": deviation, "last_year": last_year, "vs_last_year": vs_last_year,
            "threshold": threshold, "what": scope_label(cmd.uow, level, scope)}
    case = cases.open_case(cmd, KIND, key=key, site=site, trigger="event", trigger_ref=f"baseline:{baseline_id}",
                           year=year, period=(first, last), data=data)
    for month in ({"period": period, "actual": actual, "baseline": baseline, "deviation": deviation,
                   "last_year": last_year, "vs_last_year": vs_last_year}, *more):
        _add_month(cmd, case, month)
    return case


def _add_month(cmd: Command, case: Case, figures: dict) -> None:
    from cms_workflows.accounting.queries import is_period

    if not is_period(figures.get("period")):
        raise ValidationFailed("processes.invalid_input", number=case.number, problems=[
            problem("period", "processes.deviation.problem.bad_period", value=shown(figures.get("period")))])
    cases.add_item(cmd, case, MONTH, {k: figures.get(k) for k in MONTH_FIELDS})
    year, month = int(figures["period"][:4]), int(figures["period"][5:7])
    last = date(year, month, calendar.monthrange(year, month)[1])
    if case.period_end is None or last > case.period_end:
        case.period_end = last
        cmd.uow.add(case)


@command("processes.deviation.add_months", action="open", resource=cases.case_loader, audit_object=cases.AUDIT_OBJECT)
def add_months(cmd: Command, number: str, months: list[dict]) -> Case:
    """Further months over the threshold, added to the open investigation of the same baseline and scope."""
    case = cmd.subject
    _require_investigating(case)
    for figures in months:
        _add_month(cmd, case, figures)
    cases.touch(cmd, case)
    return case


def _require_investigating(case: Case) -> None:
    if case.status != "investigating":
        raise InvalidTransition("error.invalid_transition", action=Message("processes.deviation.step.investigate"),
                                state=DEVIATION.label(case.status))


@command("processes.deviation.investigate", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def investigate(cmd: Command, number: str, cause: str, response: str) -> Case:
    """The cause of the deviation and the response to it (R-9.1.1.3), as found by the investigator."""
    case = cmd.subject
    _require_investigating(case)
    cases.write_texts(cmd, case, {"cause": cause, "response": response}, required=("cause", "response"))
    cases.touch(cmd, case)
    cases.settle_task(cmd, case, "investigate", outcome="investigated")
    return case


def _require_investigated(uow, case: Case, extra: list[dict] | None = None) -> None:
    written = cases.texts(uow, case)
    found = [problem(name, "processes.deviation.problem.investigate_first") for name in ("cause", "response") if name not in written]
    found += extra or []
    if found:
        raise ValidationFailed("processes.invalid_input", number=case.number, problems=found)


@command("processes.deviation.close_investigation", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def close_investigation(cmd: Command, number: str) -> Case:
    """The deviation is explained and answered: no corrective action needed."""
    case = cmd.subject
    cases.check_move(case, "close_investigation")
    _require_investigated(cmd.uow, case)
    cases.move(cmd, case, "close_investigation")
    return case


def nc_description(uow, case: Case) -> str:
    """What the nonconformity raised from the investigation says: each month's figures and the cause."""
    data = cases.data_of(case)
    months = [cases.item_data(i) for i in cases.items(uow, case, MONTH)] or [data]
    lines = [t("processes.deviation.nc_month", locale="zh-CN", period=m.get("period", ""),
               actual=_tonnes(m.get("actual")), baseline=_tonnes(m.get("baseline")),
               deviation=_percent(m.get("deviation"))) for m in months]
    return t("processes.deviation.nc_description", locale="zh-CN", what=data.get("what", ""),
             months="；".join(lines), cause=cases.text(uow, case, "cause"))


@command("processes.deviation.escalate", action="escalate", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def escalate(cmd: Command, number: str, owner_position: str) -> Case:
    """The deviation needs a corrective action: a nonconformity is raised (source "deviation", this case
    its parent) with the position that owns it; this investigation closes, linked to it."""
    case, uow = cmd.subject, cmd.uow
    cases.check_move(case, "escalate")
    bad = [] if owner_position in known_position_codes() else [
        problem("owner_position", "processes.problem.unknown_position", value=shown(owner_position))]
    _require_investigated(uow, case, bad)
    nc = corrective_action.ensure_nonconformity(
        uow, cmd.actor, key=f"{corrective_action.KIND}:{KIND}:{case.number}", site=case.site, source=KIND,
        description=nc_description(uow, case), source_ref=case.number, parent_number=case.number,
        owner_position=owner_position)
    item = cases.add_item(cmd, case, "escalation", {"nonconformity": nc.number, "owner_position": owner_position})
    cases.change_item(cmd, item, linked_case=nc)
    data = {**cases.data_of(case), "nonconformity": nc.number}
    case.data = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    cmd.object_id = case.number
    cases.settle_task(cmd, case, "investigate", outcome="escalated", record=nc.number)
    cases.move(cmd, case, "escalate")
    return case
