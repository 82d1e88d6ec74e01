"""The input pack of a management review (R-9.3; guide 9.3.2), assembled from the system's own data.

One section per input of 9.3.2, each a summary sentence (a message key with its parameters) and the
figures behind it; the parameters ARE the figures, formatted once, so the minutes print exactly the
numbers of the pack. A section with nothing to report says so in words ("本期无内部审核"), never a blank.

The period a pack covers runs from the previous approved review's meeting date (the start of the case's
year for a first review) to the day the pack is assembled; the carbon figures are those of the case's
year, from the closed months of approved calculation runs (the figures of record).

Other processes' items are read defensively (they are written by their own modules): an audit finding
(`finding` item of an internal_audit case) is classified by the first of its fields `type`, `category`,
`classification`, `kind`, `result` that holds one of conformity / nonconformity / observation, otherwise
counted as "other"; a compliance verdict (`evaluation` item of a compliance_evaluation case) is the first
of `verdict`, `result` (data), one of compliant / noncompliant / not_applicable, else "not evaluated".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import select

from cms_workflows.core.i18n import t
from cms_workflows.processes import cases
from cms_workflows.processes.models import Case, CaseItem

DOC_LOCALE = "zh-CN"  # the minutes are a Chinese document
P = "processes.management_review."
FINAL = ("approved", "closed", "cancelled")
SECTIONS = ("previous_actions", "issues_risks", "nonconformities", "monitoring", "audits", "compliance",
            "objectives", "performance")
FINDING_TYPES = ("conformity", "nonconformity", "observation")
FINDING_FIELDS = ("type", "category", "classification", "kind", "result")
VERDICT_FIELDS = ("verdict", "result")
VERDICTS = ("compliant", "noncompliant", "not_applicable")  # reports_compliance.VERDICTS
NC_SOURCES = ("audit", "compliance", "deviation", "complaint", "other")  # corrective_action.SOURCES


@dataclass(frozen=True)
class Window:
    case: Case
    previous: Case | None
    since: date
    until: date

    @property
    def year(self) -> int:
        return self.case.year or self.until.year


def _n(value: float | int) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _pct(value: float) -> str:
    return f"{value * 100:+.1f}%"


def _t(key: str, **params) -> str:
    return t(P + key, DOC_LOCALE, **params)


def _joined(parts: list[str]) -> str:
    return _t("list_sep").join(parts)


def _day(uow, moment: datetime | str | None) -> date | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return uow.clock.local(moment).date()


def _within(uow, moment, w: Window) -> bool:
    day = _day(uow, moment)
    return day is not None and w.since <= day <= w.until


def section(name: str, variant: str = "", **params) -> dict:
    """One section of the pack: its summary's message key and parameters (the figures, as printed)."""
    key = f"{P}summary.{name}" + (f"_{variant}" if variant else "")
    return {"section": name, "key": key, "params": {k: str(v) for k, v in params.items()}}


def summary(entry: dict, locale: str = DOC_LOCALE) -> str:
    return t(entry["key"], locale, **entry["params"])


def title(name: str, locale: str = DOC_LOCALE) -> str:
    return t(f"{P}section.{name}", locale)


# ---------------------------------------------------------------- the window

def previous_review(uow, case: Case) -> Case | None:
    q = (select(Case).where(Case.kind == case.kind, Case.status == "approved", Case.id != case.id)
         .order_by(Case.id.desc()))
    return uow.exec(q).first() if case.id is not None else None


def window(uow, case: Case) -> Window:
    previous = previous_review(uow, case)
    until = uow.clock.today()
    if previous is not None:
        held = cases.data_of(previous).get("meeting_date")
        since = date.fromisoformat(held) if held else _day(uow, previous.closed_at)
    else:
        since = date(case.year or until.year, 1, 1)
    return Window(case, previous, min(since, until), until)


# ---------------------------------------------------------------- the sections

def previous_actions(uow, w: Window) -> dict:
    """a) the status of the actions decided by the previous review (its decision tasks)."""
    from cms_workflows.tasks.models import Task

    if w.previous is None:
        return section("previous_actions", "none")
    decisions = cases.items(uow, w.previous, "decision")
    keys = [d.task_key for d in decisions if d.task_key]
    tasks = list(uow.exec(select(Task).where(Task.key.in_(keys)))) if keys else []
    done = sum(1 for x in tasks if x.status == "done")
    cancelled = sum(1 for x in tasks if x.status == "cancelled")
    overdue = sum(1 for x in tasks if x.status in ("open", "claimed") and x.due < w.until)
    still_open = sum(1 for x in tasks if x.status in ("open", "claimed")) - overdue
    return section("previous_actions", previous=w.previous.number, total=_n(len(decisions)), done=_n(done),
                   open=_n(still_open), overdue=_n(overdue), cancelled=_n(cancelled))


def issues_risks(uow, w: Window) -> dict:
    """b) changes in internal and external issues, and in risks and opportunities, since the last review."""
    from cms_workflows.registers.models import Risk, SwotIssue

    issues, risks = list(uow.exec(select(SwotIssue))), list(uow.exec(select(Risk)))
    if not issues and not risks:
        return section("issues_risks", "none")
    new_issues = [i for i in issues if _within(uow, i.created_at, w)]
    changed_issues = [i for i in issues if i not in new_issues and _within(uow, i.changed_at, w)]
    new_risks = [r for r in risks if _within(uow, r.created_at, w)]
    changed_risks = [r for r in risks if r not in new_risks and _within(uow, r.changed_at, w)]
    return section("issues_risks", since=cases.day_text(w.since),
                   issues=_n(len(issues)), new_issues=_n(len(new_issues)), changed_issues=_n(len(changed_issues)),
                   external=_n(sum(1 for i in new_issues + changed_issues if i.context == "external")),
                   internal=_n(sum(1 for i in new_issues + changed_issues if i.context == "internal")),
                   risks=_n(len(risks)), new_risks=_n(len(new_risks)), changed_risks=_n(len(changed_risks)),
                   high=_n(sum(1 for r in risks if r.level == "high")))


def _cases_of(uow, kind: str) -> list[Case]:
    return list(uow.exec(select(Case).where(Case.kind == kind, Case.status != "cancelled").order_by(Case.id)))


def _effectiveness(uow, w: Window, numbers: list[str]) -> tuple[int, int]:
    """Effectiveness reviews of corrective actions in the window, read from the cases' trail (the
    framework records every transition taken), so this holds whatever the process module stores."""
    from cms_workflows.audit.models import AuditEvent

    if not numbers:
        return 0, 0
    effective = ineffective = 0
    q = select(AuditEvent).where(AuditEvent.object_type == cases.AUDIT_OBJECT, AuditEvent.object_id.in_(numbers))
    for event in uow.exec(q):
        transition = json.loads(event.payload or "{}").get("transition")
        if transition in ("review_effective", "review_ineffective") and _within(uow, event.occurred_at, w):
            effective += transition == "review_effective"
            ineffective += transition == "review_ineffective"
    return effective, ineffective


def nonconformities(uow, w: Window) -> dict:
    """c) nonconformities and corrective actions: opened, closed, still open, effectiveness results."""
    found = _cases_of(uow, "corrective_action")
    opened = [c for c in found if _within(uow, c.opened_at, w)]
    closed = [c for c in found if c.status == "closed" and _within(uow, c.closed_at, w)]
    still_open = [c for c in found if c.status not in FINAL]
    if not opened and not closed and not still_open:
        return section("nonconformities", "none")
    effective, ineffective = _effectiveness(uow, w, [c.number for c in found])
    sources = {}
    for c in opened:
        source = c.trigger if c.trigger in NC_SOURCES else "other"
        sources[source] = sources.get(source, 0) + 1
    by_source = _joined([_t("part.source", source=t(f"{P}source.{s}", DOC_LOCALE), count=_n(n))
                         for s, n in sorted(sources.items())]) or _t("part.nothing")
    return section("nonconformities", opened=_n(len(opened)), closed=_n(len(closed)), open=_n(len(still_open)),
                   effective=_n(effective), ineffective=_n(ineffective), by_source=by_source)


def _year_results(uow, year: int):
    from cms_workflows.accounting.queries import locked_results

    return locked_results(uow, f"{year}-01", f"{year}-12", None)


def _outputs(uow, year: int):
    from cms_workflows.accounting.models import ProductionOutput

    rows = uow.exec(select(ProductionOutput).where(ProductionOutput.period >= f"{year}-01",
                                                   ProductionOutput.period <= f"{year}-12")).all()
    return sum(r.product_t for r in rows), _value_total(rows)


def _value_total(rows) -> float:
    """The output value of the months recorded; 0 (no value intensity) when a month lacks its value, since a
    partial sum would overstate the intensity. The value is optional (issue 15)."""
    return 0.0 if any(r.value_10k_cny is None for r in rows) else sum(r.value_10k_cny for r in rows)


def monitoring(uow, w: Window) -> dict:
    """c) monitoring and measurement results: the year's approved totals and intensity, the trend against
    the year before, the baseline deviations investigated."""
    results = _year_results(uow, w.year)
    deviations = _cases_of(uow, "deviation")
    dev_opened = [c for c in deviations if _within(uow, c.opened_at, w)]
    dev_open = [c for c in deviations if c.status not in FINAL]
    deviation_text = _t("part.deviations", opened=_n(len(dev_opened)), open=_n(len(dev_open)))
    if results.empty:
        return section("monitoring", "none", year=w.year, deviations=deviation_text)
    total = float(results["tco2e"].sum())
    months = results["period"].nunique()
    before = _year_results(uow, w.year - 1)
    trend = _t("part.no_trend", previous=w.year - 1)
    if not before.empty and float(before["tco2e"].sum()) > 0:
        earlier = before[before["period"].str[5:7].isin(set(results["period"].str[5:7]))]
        if not earlier.empty and float(earlier["tco2e"].sum()) > 0:
            trend = _t("part.trend", previous=w.year - 1, change=_pct(total / float(earlier["tco2e"].sum()) - 1))
    product_t, value = _outputs(uow, w.year)
    parts = []
    if product_t > 0:
        parts.append(_t("part.per_t", value=f"{total / product_t:,.4f}"))
    if value > 0:
        parts.append(_t("part.per_value", value=f"{total / value:,.4f}"))
    intensity = _joined(parts) if parts else _t("part.no_intensity")
    return section("monitoring", year=w.year, months=_n(int(months)), total=_n(total), trend=trend,
                   intensity=intensity, deviations=deviation_text)


def _first_of(data: dict, fields: tuple[str, ...], allowed: tuple[str, ...] | None = None) -> str | None:
    for name in fields:
        value = data.get(name)
        if isinstance(value, str) and (allowed is None or value in allowed):
            return value
    return None


def audits(uow, w: Window) -> dict:
    """c) audit results: the internal audits of the year or the period and their findings by type."""
    found = [c for c in _cases_of(uow, "internal_audit") if c.year == w.year or _within(uow, c.opened_at, w)]
    if not found:
        return section("audits", "none")
    counts = dict.fromkeys((*FINDING_TYPES, "other"), 0)
    raised = 0
    for audit in found:
        for item in cases.items(uow, audit, "finding"):
            data = cases.item_data(item)
            counts[_first_of(data, FINDING_FIELDS, FINDING_TYPES) or "other"] += 1
            raised += item.linked_case_id is not None
    return section("audits", audits=_n(len(found)), reported=_n(sum(1 for c in found if c.status == "approved")),
                   findings=_n(sum(counts.values())), nonconformity=_n(counts["nonconformity"]),
                   observation=_n(counts["observation"]), conformity=_n(counts["conformity"]),
                   other=_n(counts["other"]), raised=_n(raised))


def compliance(uow, w: Window) -> dict:
    """c) compliance evaluation results: the latest approved evaluation and its verdicts."""
    q = (select(Case).where(Case.kind == "compliance_evaluation", Case.status == "approved")
         .order_by(Case.closed_at.desc(), Case.id.desc()))
    latest = uow.exec(q).first()
    if latest is None:
        return section("compliance", "none")
    verdicts = dict.fromkeys((*VERDICTS, "other"), 0)
    raised = 0
    items: list[CaseItem] = cases.items(uow, latest, "evaluation")
    for item in items:
        verdicts[_first_of(cases.item_data(item), VERDICT_FIELDS, VERDICTS) or "other"] += 1
        raised += item.linked_case_id is not None
    approved = _day(uow, latest.closed_at)
    return section("compliance", number=latest.number,
                   approved=cases.day_text(approved),
                   evaluated=_n(len(items)), compliant=_n(verdicts["compliant"]),
                   noncompliant=_n(verdicts["noncompliant"]), not_applicable=_n(verdicts["not_applicable"]),
                   other=_n(verdicts["other"]), raised=_n(raised))


def objectives(uow, w: Window) -> dict:
    """9.3.2.2 a, c) objectives and targets, and the action plans with their progress."""
    from cms_workflows.registers.performance_models import ActionPlan, CarbonObjective

    objs, plans = list(uow.exec(select(CarbonObjective))), list(uow.exec(select(ActionPlan)))
    if not objs and not plans:
        return section("objectives", "none")
    due = [o for o in objs if o.deadline <= w.until]
    finished = [p for p in plans if (p.progress or 0) >= 100]
    behind = [p for p in plans if p.starts_on <= w.until and (p.progress or 0) < 100 and (
        (p.progress or 0) < _expected(p, w.until) or w.until > p.ends_on)]
    average = sum(p.progress or 0 for p in plans) / len(plans) if plans else 0.0
    return section("objectives", objectives=_n(len(objs)), due=_n(len(due)), plans=_n(len(plans)),
                   finished=_n(len(finished)), behind=_n(len(behind)), average=f"{average:.0f}%")


def _expected(plan, on: date) -> int:
    from cms_workflows.registers.performance_queries import expected_percent

    return expected_percent(plan, on)


def performance(uow, w: Window) -> dict:
    """9.3.2.1 f) carbon performance per level: the company, each site, each production unit."""
    from cms_workflows.org.models import Site

    results = _year_results(uow, w.year)
    if results.empty:
        return section("performance", "none", year=w.year)
    names = {s.code: s.name_zh for s in uow.exec(select(Site))}
    by_site = results.groupby("site")["tco2e"].sum()
    by_unit = results.groupby(["site", "production_unit"])["tco2e"].sum()
    sites = _joined([_t("part.level_total", name=names.get(s, s), total=_n(float(v))) for s, v in by_site.items()])
    units = _joined([_t("part.level_total", name=_t("part.unit_name", site=names.get(s, s), unit=u),
                        total=_n(float(v))) for (s, u), v in by_unit.items()])
    return section("performance", year=w.year, total=_n(float(results["tco2e"].sum())), sites=sites, units=units)


BUILDERS = {"previous_actions": previous_actions, "issues_risks": issues_risks, "nonconformities": nonconformities,
            "monitoring": monitoring, "audits": audits, "compliance": compliance, "objectives": objectives,
            "performance": performance}


def assemble(uow, case: Case) -> tuple[Window, list[dict]]:
    """The pack's sections, in the order of 9.3.2."""
    w = window(uow, case)
    return w, [BUILDERS[name](uow, w) for name in SECTIONS]
