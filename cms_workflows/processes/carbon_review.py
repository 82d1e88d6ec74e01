"""The carbon review (R-6.2.3; the guide's Annex E report): a case per review.

Opened initially by the carbon management lead (`open_review`), every year by the duty
`annual_carbon_review` (its task "annual_carbon_review:company:<year>" opens "carbon_review:annual:<year>",
`annual_trigger`) and unscheduled by a planned change marked as needing a review (R-6.4;
"carbon_review:change:<code>", `change_trigger`). Stages:
- planning: the lead enters the period, base year, team and company profile; the approved scope version
  of the register is taken (`plan`);
- collecting: one task per (site, responsible position) of the data collection plan to submit the period's
  activity data; the case moves on when they are all done;
- calculating: the case moves on when every month of the period is locked to an approved calculation run
  at every site of the plan (the carbon accountants' task per site says so);
- analysing: the team writes its texts (`record_analysis`) and enters industry or regional values with
  their source (`add_benchmark`); `finish_analysis` refuses while a required text is missing;
- reporting → in_review → approved: the Annex E report drafted from the data (`draft_report`,
  reports_carbon_review) and submitted (`submit_report`); the document route of type report decides.
On approval the annual duty task is settled, or the planned change's review flag cleared.

Public functions for the demo and the flows: open_review, ensure_review, annual_trigger, change_trigger,
plan, record_analysis, add_benchmark, finish_analysis, draft_report, submit_report (engine.advance moves
the case through its automatic steps).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import Conflict, problem
from cms_workflows.core.text import shown
from cms_workflows.processes import cases
from cms_workflows.processes import reports_carbon_review as report
from cms_workflows.processes.reports_carbon_review import (ANALYSIS_TEXTS, MSG, major_facilities, months_of,
                                                           plan_sites, potential_field)
from cms_workflows.processes.registry import AutoStep, Process, register
from cms_workflows.processes.states import CARBON_REVIEW

KIND = "carbon_review"
TRIGGERS = ("initial", "annual", "change")
DUTY = "annual_carbon_review"
STAGE_DAYS = {"plan": 14, "collect": 20, "calculate": 20, "analyse": 20, "report": 14}
BENCHMARK_KINDS = ("industry", "regional")
BENCHMARK_BASES = ("per_10k_cny", "per_t")  # tCO2e per 10,000 CNY output value, per tonne of product

PROCESS = register(Process(KIND, "CR", CARBON_REVIEW, clause="R-6.2.3", owner_position="strategy_manager",
                           report_template="carbon_review_report"))


def _due(cmd: Command, stage: str) -> date:
    return cmd.uow.clock.today() + timedelta(days=STAGE_DAYS[stage])


# ---------------------------------------------------------------- period and plan helpers

def _month_list(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y}-{m:02d}" <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def unlocked_months(uow, case) -> list[tuple[str, str]]:
    """(site, month) of the period not yet locked to an approved calculation run."""
    from cms_workflows.accounting import queries as acc
    from cms_workflows.accounting.models import CalculationRun

    first, last = months_of(case)
    sites = plan_sites(uow)
    locked = acc.locks(uow, first, last, sites)
    approved = {r.id for r in uow.exec(select(CalculationRun).where(CalculationRun.id.in_(set(locked.values()))))
                if r.approved_by} if locked else set()
    return [(s, p) for s in sites for p in _month_list(first, last) if locked.get((s, p)) not in approved]


# ---------------------------------------------------------------- stage hooks and automatic steps

def _enter_planning(cmd: Command, case) -> None:
    cases.stage_task(cmd, case, "plan", title_key="processes.task.cr_plan", due=_due(cmd, "plan"))


def _enter_collecting(cmd: Command, case) -> None:
    from cms_workflows.accounting import queries as acc

    first, last = months_of(case)
    for site, position in sorted({(i.site, i.responsible_position) for i in acc.plan(cmd.uow)}):
        cases.stage_task(cmd, case, f"collect:{site}:{position}", title_key="processes.task.cr_collect",
                         due=_due(cmd, "collect"), position=position, site=site,
                         params={"first": first, "last": last})


def _enter_calculating(cmd: Command, case) -> None:
    first, last = months_of(case)
    for site in plan_sites(cmd.uow):
        cases.stage_task(cmd, case, f"calculate:{site}", title_key="processes.task.cr_calculate",
                         due=_due(cmd, "calculate"), position="carbon_accountant", site=site,
                         params={"first": first, "last": last})


def _enter_analysing(cmd: Command, case) -> None:
    """The approved runs are there: the accountants' tasks are settled in the name of who approved them."""
    from cms_workflows.accounting import queries as acc
    from cms_workflows.accounting.models import CalculationRun
    from cms_workflows.tasks import service as tasks

    first, last = months_of(case)
    for task in cases.stage_tasks(cmd.uow, case, "calculate:"):
        if task.status not in ("open", "claimed"):
            continue
        run_ids = sorted(set(acc.locks(cmd.uow, first, last, [task.site]).values()))
        runs = [cmd.uow.get(CalculationRun, r) for r in run_ids]
        approver = next((r.approved_by for r in reversed(runs) if r and r.approved_by), cases.SYSTEM)
        tasks.resolve(cmd.uow, cases.SYSTEM, task.id, done_by=approver, outcome="calculation_approved",
                      record=",".join(f"run:{r}" for r in run_ids)[:200] or case.number)
    cases.stage_task(cmd, case, "analyse", title_key="processes.task.cr_analyse", due=_due(cmd, "analyse"))


def _enter_reporting(cmd: Command, case) -> None:
    cases.stage_task(cmd, case, "report", title_key="processes.task.cr_report", due=_due(cmd, "report"))


def _enter_approved(cmd: Command, case) -> None:
    """The review asked for is done: the annual duty task settled, the change's review flag cleared."""
    from cms_workflows.registers import changes
    from cms_workflows.tasks import service as tasks
    from cms_workflows.tasks.queries import find_by_key

    data = cases.data_of(case)
    author = data.get("lead") or case.opened_by
    if data.get("duty_task"):
        task = find_by_key(cmd.uow, data["duty_task"])
        if task is not None and task.status in ("open", "claimed"):
            tasks.resolve(cmd.uow, cases.SYSTEM, task.id, done_by=author, outcome="review_approved",
                          record=f"{case.number} {case.document_number or ''}".strip())
    if data.get("change"):
        from cms_workflows.registers.people_models import PlannedChange

        change = cmd.uow.exec(select(PlannedChange).where(PlannedChange.code == data["change"])).first()
        if change is not None and change.review_required:
            changes.review_done(cmd.uow, cases.SYSTEM, change.code, case.number)
    cmd.payload["settled"] = {"duty_task": data.get("duty_task"), "change": data.get("change")}


PROCESS.on_enter.update({"planning": _enter_planning, "collecting": _enter_collecting,
                         "calculating": _enter_calculating, "analysing": _enter_analysing,
                         "reporting": _enter_reporting, "approved": _enter_approved})
PROCESS.auto.update({
    "collecting": [AutoStep("collection_done", lambda uow, case: cases.tasks_done(uow, case, "collect:"))],
    "calculating": [AutoStep("calculation_done", lambda uow, case: bool(plan_sites(uow))
                             and not unlocked_months(uow, case))],
    "in_review": [AutoStep("report_approved", cases.report_approved),
                  AutoStep("report_returned", cases.report_returned)],
})


# ---------------------------------------------------------------- opening

def case_key(trigger: str, year: int, change_code: str | None = None) -> str:
    return f"carbon_review:change:{change_code}" if trigger == "change" else f"carbon_review:{trigger}:{year}"


@command("processes.carbon_review.open", action="open", resource=cases.new_case_at(KIND),
         audit_object=cases.AUDIT_OBJECT)
def open_review(cmd: Command, *, year: int, trigger: str = "initial", trigger_ref: str = "",
                change_code: str | None = None, duty_task: str | None = None, site: str = COMPANY_WIDE):
    """Open the carbon review of `year` (the year it covers): initial (by the lead), annual (the duty's
    task `duty_task`) or unscheduled for the planned change `change_code`. One case per key."""
    found = []
    if trigger not in TRIGGERS:
        found.append(problem("trigger", "processes.problem.unknown_choice", value=shown(trigger),
                             known=", ".join(TRIGGERS)))
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        found.append(problem("year", MSG + "problem.year", value=shown(str(year))))
    if trigger == "change" and not change_code:
        found.append(problem("change_code", "processes.problem.required"))
    if found:
        raise cases.invalid("-", found)
    key = case_key(trigger, year, change_code)
    existing = cases.find_case(cmd.uow, key)
    if existing is not None:
        raise Conflict(MSG + "already_open", key=key, number=existing.number)
    data = {"duty_task": duty_task, "change": change_code}
    return cases.open_case(cmd, KIND, key=key, site=site, trigger=trigger,
                           trigger_ref=trigger_ref or duty_task or change_code or "", year=year,
                           period=(date(year, 1, 1), date(year, 12, 31)),
                           data={k: v for k, v in data.items() if v})


def ensure_review(uow, actor: str, *, year: int, trigger: str = "initial", change_code: str | None = None, **kw):
    """The case of this review, opened if there is none yet (a trigger run twice opens one)."""
    existing = cases.find_case(uow, case_key(trigger, year, change_code))
    if existing is not None:
        return existing
    return open_review(uow, actor, year=year, trigger=trigger, change_code=change_code, **kw)


def annual_trigger(db, day: date) -> list[str]:
    """An active task of the duty `annual_carbon_review` opens the annual review of the year it names."""
    from cms_workflows.tasks.models import Task

    opened = []
    with db.read() as uow:
        duty_tasks = [(t.key, t.key.rsplit(":", 1)[-1]) for t in uow.exec(
            select(Task).where(Task.key.like(f"{DUTY}:%"), Task.status.in_(("open", "claimed"))).order_by(Task.id))]
    for key, year in duty_tasks:
        if not year.isdigit():
            continue
        with db.unit_of_work() as uow:
            if cases.find_case(uow, case_key("annual", int(year))) is not None:
                continue
            opened.append(open_review(uow, cases.SYSTEM, year=int(year), trigger="annual", duty_task=key).number)
    return opened


def change_trigger(db, day: date) -> list[str]:
    """A planned change marked as needing an unscheduled review opens one (R-6.2.3, R-6.4)."""
    from cms_workflows.registers.people_queries import changes_awaiting_review

    opened = []
    with db.read() as uow:
        codes = [c.code for c in changes_awaiting_review(uow) if c.status != "cancelled"]
    for code in codes:
        with db.unit_of_work() as uow:
            if cases.find_case(uow, case_key("change", 0, code)) is not None:
                continue
            opened.append(open_review(uow, cases.SYSTEM, year=day.year, trigger="change", change_code=code).number)
    return opened


PROCESS.triggers.extend([annual_trigger, change_trigger])


# ---------------------------------------------------------------- planning

def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


@command("processes.carbon_review.plan", action="manage", resource=cases.case_loader, audit_object=cases.AUDIT_OBJECT)
def plan(cmd: Command, number: str, *, period_start: date, period_end: date, base_year: int, team: list[str],
         company_profile: str):
    """The review's plan (R-6.2.3): the period (whole months), the base year, the team (active users), the
    company profile (Annex E.1); the approved scope version of the register is the review's scope."""
    from cms_workflows.accounting import queries as acc
    from cms_workflows.org.models import User
    from cms_workflows.registers import scope

    case, uow = cmd.subject, cmd.uow
    cases.check_move(case, "plan_review")
    found = cases.text_problem("company_profile", company_profile)
    if not isinstance(period_start, date) or period_start.day != 1:
        found.append(problem("period_start", MSG + "problem.month_start"))
    if not isinstance(period_end, date) or not _is_month_end(period_end):
        found.append(problem("period_end", MSG + "problem.month_end"))
    elif isinstance(period_start, date) and period_end < period_start:
        found.append(problem("period_end", MSG + "problem.period_order"))
    if not isinstance(base_year, int) or not 1990 <= base_year <= 2100 or (
            isinstance(period_start, date) and base_year > period_start.year):
        found.append(problem("base_year", MSG + "problem.base_year", value=shown(str(base_year))))
    team = [u.strip() for u in (team or []) if isinstance(u, str) and u.strip()]
    if not team:
        found.append(problem("team", "processes.problem.required"))
    else:
        active = set(uow.exec(select(User.username).where(User.username.in_(team), User.active == True)))  # noqa: E712
        unknown = [u for u in team if u not in active]
        if unknown:
            found.append(problem("team", MSG + "problem.team", users=", ".join(shown(u) for u in unknown)))
    version = scope.current(uow)
    if version is None:
        found.append(problem("scope_version", MSG + "problem.no_scope"))
    if not acc.plan(uow):
        found.append(problem("plan", MSG + "problem.no_collection_plan"))
    if found:
        raise cases.invalid(case.number, found)
    case.period_start, case.period_end, case.year = period_start, period_end, period_end.year
    data = {**cases.data_of(case), "base_year": base_year, "scope_version": version.version,
            "team": list(dict.fromkeys(team)), "lead": cmd.actor, "planned_on": uow.clock.today().isoformat()}
    case.data = _dumps(data)
    cases.write_texts(cmd, case, {"company_profile": company_profile}, required=("company_profile",))
    cmd.payload["plan"] = {k: data[k] for k in ("base_year", "scope_version", "team", "lead")} | {
        "period": [period_start.isoformat(), period_end.isoformat()]}
    cases.settle_task(cmd, case, "plan", outcome="planned")
    cases.move(cmd, case, "plan_review")
    return case


def _dumps(data: dict) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


# ---------------------------------------------------------------- analysis

def missing_analysis(uow, case) -> list[str]:
    """The texts the analysis still needs: the team's texts and each major facility's reduction potential."""
    written = {k: v.text for k, v in cases.texts(uow, case).items()}
    needed = list(ANALYSIS_TEXTS) + [potential_field(r.site, r.facility) for r in major_facilities(uow, case).itertuples()]
    return [name for name in needed if not written.get(name)]


@command("processes.carbon_review.record_analysis", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def record_analysis(cmd: Command, number: str, *, facility_potential: dict[str, str] | None = None,
                    **texts: str | None) -> dict:
    """The team's texts (any of ANALYSIS_TEXTS; a text given again replaces the earlier one), and the
    reduction potential of major facilities by "<site>/<facility>". Allowed while the case is open (the
    texts are corrected when the report is returned)."""
    case = cmd.subject
    found = [problem(name, MSG + "problem.unknown_text", known=", ".join(ANALYSIS_TEXTS))
             for name in texts if name not in ANALYSIS_TEXTS]
    majors = {f"{r.site}/{r.facility}" for r in major_facilities(cmd.uow, case).itertuples()} \
        if case.status not in ("planning", "collecting", "calculating") else set()
    potentials = {}
    for ref, value in (facility_potential or {}).items():
        if ref not in majors:
            found.append(problem(f"facility_potential.{ref}", MSG + "problem.not_major", facility=shown(ref),
                                 known=", ".join(sorted(majors)) or "-"))
        else:
            potentials[potential_field(*ref.split("/", 1))] = value
    if found:
        raise cases.invalid(case.number, found)
    cases.touch(cmd, case)
    return cases.write_texts(cmd, case, {**texts, **potentials})


@command("processes.carbon_review.add_benchmark", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def add_benchmark(cmd: Command, number: str, *, name: str, value: float, basis: str, source: str,
                  kind: str = "industry"):
    """An industry or regional intensity value the team compares with (R-6.2.3 c), with its source."""
    case = cmd.subject
    found = cases.text_problem("name", name, limit=200) + cases.text_problem("source", source, limit=500)
    if kind not in BENCHMARK_KINDS:
        found.append(problem("kind", "processes.problem.unknown_choice", value=shown(kind),
                             known=", ".join(BENCHMARK_KINDS)))
    if basis not in BENCHMARK_BASES:
        found.append(problem("basis", "processes.problem.unknown_choice", value=shown(basis),
                             known=", ".join(BENCHMARK_BASES)))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
        found.append(problem("value", MSG + "problem.benchmark_value", value=shown(str(value))))
    if found:
        raise cases.invalid(case.number, found)
    cases.touch(cmd, case)
    return cases.add_item(cmd, case, "benchmark", {"name": name.strip(), "value": float(value), "basis": basis,
                                                   "source": source.strip(), "kind": kind})


@command("processes.carbon_review.finish_analysis", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def finish_analysis(cmd: Command, number: str):
    """The analysis is complete: every required text is written (each missing one named)."""
    case = cmd.subject
    cases.check_move(case, "analysis_done")
    missing = missing_analysis(cmd.uow, case)
    if missing:
        raise cases.invalid(case.number, [problem(name, "processes.problem.input_missing") for name in missing])
    cases.settle_task(cmd, case, "analyse", outcome="analysed")
    cases.move(cmd, case, "analysis_done")
    return case


# ---------------------------------------------------------------- the report

@command("processes.carbon_review.draft_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def draft_report(cmd: Command, number: str) -> str:
    """Build the Annex E report from the case's data (its author is the acting person); refused, naming
    each, while an input is missing. Drafting again after a return puts the new content into the draft."""
    from cms_workflows.core.i18n import t

    case = cmd.subject
    cases.check_move(case, "submit_report")  # a report is drafted in the reporting stage only
    content = report.content(cmd.uow, case, cmd.actor)
    cases.touch(cmd, case)
    return cases.draft_report(cmd, case, title=t(MSG + "report_title", year=case.year), content=content,
                              owner_department="carbon_management")


@command("processes.carbon_review.submit_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def submit_report(cmd: Command, number: str):
    """Submit the drafted report to its route (review, then top management's approval); the inputs are
    checked again so that a report never goes out with one missing."""

    case = cmd.subject
    cases.check_move(case, "submit_report")
    if not case.document_number:
        raise cases.invalid(case.number, [problem("report", MSG + "problem.not_drafted")])
    report.content(cmd.uow, case, cmd.actor)
    cases.settle_task(cmd, case, "report", outcome="submitted", record=case.document_number)
    cases.submit_report(cmd, case)
    return case
