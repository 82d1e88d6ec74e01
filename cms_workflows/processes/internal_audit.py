"""Internal audit (R-9.2): the annual audit programme and the audits it plans, as two kinds of case.

- The programme (`audit_programme`, AP-…) of a year is opened by the task of the duty
  `internal_audit_programme` (policies/duties.yaml) in the daily sweep, or by hand by an internal auditor.
  The auditors plan its audits (site, departments, scope, criteria, dates; 9.2.2.2) and draft it, a
  controlled plan approved by top management through the route of `plan`. Its approval opens one audit
  case per planned audit (once, by key) and settles the duty's task.
- An audit (`internal_audit`, IA-…) is planned with its team: internal auditors only, none auditing a
  department whose position they hold (objectivity, 9.2.2.2: access decides `audit` on a resource of that
  department). Planning seeds the checklist of 9.2.2.3 (data/audit_checklist.yaml) and gives each auditor
  their fieldwork task. The team answers the checklist and records findings with evidence; a nonconformity
  opens its corrective action (R-10.1). The lead auditor closes the fieldwork once the checklist is
  answered, writes the conclusion and drafts the report (`reports_internal_audit`).
- `audit_results(uow, year)`: what the management review reads of the year's audits (R-9.3.2 c).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

import yaml
from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE, get_access
from cms_workflows.access.roles import load_roles
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, problem
from cms_workflows.core.i18n import Message
from cms_workflows.core.text import shown
from cms_workflows.processes import cases, corrective_action
from cms_workflows.processes import reports_internal_audit as reports
from cms_workflows.processes.models import Case
from cms_workflows.processes.registry import AutoStep, Process, process, register
from cms_workflows.processes.reports_internal_audit import audit_results, audits_of  # noqa: F401  (reads, kept here)
from cms_workflows.processes.states import AUDIT_PROGRAMME, INTERNAL_AUDIT

KIND, PROGRAMME_KIND = "internal_audit", "audit_programme"
AUDITOR = "internal_auditor"
DUTY = "internal_audit_programme"  # the duty whose task opens the programme of its year
RESULTS = ("conforming", "nonconforming", "observation", "not_audited")
CATEGORIES = ("conformity", "nonconformity", "observation")
PROGRAMME_DAYS = 30  # a programme opened by hand is due a month later
REPORT_DAYS = 14  # the report is due two weeks after the fieldwork (or the programme) is finished
OWN_DEPARTMENT = "internal_audit"  # the register's owner department of the programme and the reports
CLAUSE_ID = re.compile(r"^R-\d+(\.\d+)*$")

PROGRAMME = register(Process(PROGRAMME_KIND, "AP", AUDIT_PROGRAMME, clause="R-9.2", owner_position=AUDITOR,
                             report_template="record_form", report_doc_type="plan"))
PROCESS = register(Process(KIND, "IA", INTERNAL_AUDIT, clause="R-9.2", owner_position=AUDITOR,
                           report_template="internal_audit_report"))


# ---------------------------------------------------------------- reference data

@lru_cache(maxsize=1)
def checklist() -> list[dict]:
    """The focus points of 9.2.2.3, in the guide's order."""
    text = (resources.files("cms_workflows") / "data" / "audit_checklist.yaml").read_text(encoding="utf-8")
    return [dict(item) for item in yaml.safe_load(text)["items"]]


@lru_cache(maxsize=1)
def clause_ids() -> frozenset[str]:
    text = (resources.files("cms_workflows") / "data" / "clauses.yaml").read_text(encoding="utf-8")
    return frozenset(yaml.safe_load(text))


def department_codes() -> tuple[str, ...]:
    return tuple(d["code"] for d in load_roles()["departments"])


def normal_clause(value) -> str | None:
    """A finding's clause as a requirement id ("7.5" → "R-7.5"), known itself or by its parent clause."""
    text = str(value or "").strip()
    text = text if text.startswith("R-") else f"R-{text}"
    if not CLAUSE_ID.match(text):
        return None
    parts = text[2:].split(".")
    return text if any("R-" + ".".join(parts[:n]) in clause_ids() for n in range(len(parts), 0, -1)) else None


def programme_key(year: int) -> str:
    return f"{PROGRAMME_KIND}:{year}"


def audit_key(programme: Case, seq: int) -> str:
    return f"{KIND}:{programme.number}:{seq}"


# ---------------------------------------------------------------- checks shared by the commands

def _day(value) -> date | None:
    if isinstance(value, date):
        return value if type(value) is date else value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _departments_problems(departments) -> list[dict]:
    if isinstance(departments, str) or not departments:
        return [problem("departments", "processes.problem.required")]
    known = department_codes()
    return [problem("departments", "processes.problem.unknown_choice", value=shown(d), known=", ".join(known))
            for d in departments if d not in known]


def plan_problems(uow, *, site, departments, scope, criteria, start, end, year: int | None) -> tuple[list, dict]:
    """The problems of an audit's plan (all at once, by field) and the plan as it is stored."""
    from cms_workflows.org.queries import site_codes

    found = []
    if site != COMPANY_WIDE and site not in site_codes(uow):
        found.append(problem("site", "processes.internal_audit.problem.unknown_site", value=shown(site)))
    found += _departments_problems(departments)
    found += cases.text_problem("scope", scope) + cases.text_problem("criteria", criteria)
    first, last = _day(start), _day(end)
    for name, given, day in (("start", start, first), ("end", end, last)):
        if day is None:
            found.append(problem(name, "processes.internal_audit.problem.bad_date", value=shown(given)))
    if first and last:
        if first > last:
            found.append(problem("end", "processes.internal_audit.problem.end_before_start"))
        elif year is not None and (first.year != year or last.year != year):
            found.append(problem("end", "processes.internal_audit.problem.outside_year", year=year))
    if found:
        return found, {}
    return [], {"site": site, "departments": list(dict.fromkeys(departments)), "scope": scope.strip(),
                "criteria": criteria.strip(), "start": first.isoformat(), "end": last.isoformat()}


def _require_kind(case: Case, kind: str) -> None:
    if case.kind != kind:
        raise NotFound("processes.internal_audit.wrong_kind", number=case.number, kind=Message(f"processes.kind.{kind}"))


def _require_stage(case: Case, *states: str) -> None:
    if case.status not in states:
        lifecycle = process(case.kind).lifecycle
        raise InvalidTransition("processes.internal_audit.wrong_stage", number=case.number,
                                state=lifecycle.label(case.status), expected=lifecycle.label(states[0]))


def _team(case: Case) -> list[str]:
    return list(cases.data_of(case).get("auditors") or [])


def _require_team(cmd: Command, case: Case) -> None:
    """Only the audit's own auditors record its results."""
    if str(cmd.actor) not in _team(case):
        raise AccessDenied("processes.internal_audit.not_on_team", username=str(cmd.actor), number=case.number)


def _require_lead(cmd: Command, case: Case) -> None:
    if str(cmd.actor) != cases.data_of(case).get("lead_auditor"):
        raise AccessDenied("processes.internal_audit.lead_only", username=str(cmd.actor), number=case.number)


# ---------------------------------------------------------------- stage hooks and automatic steps

def _report_task(cmd: Command, case: Case) -> None:
    """The report's task, again after each return of the draft (a new task when the last one is done)."""
    earlier = cases.stage_tasks(cmd.uow, case, "report")
    if any(t.status in ("open", "claimed") for t in earlier):
        return
    name = "report" if not earlier else f"report-{len(earlier) + 1}"
    lead = cases.data_of(case).get("lead_auditor")
    cases.stage_task(cmd, case, name, title_key=f"processes.task.ia_{case.kind}_report",
                     due=cmd.uow.clock.today() + timedelta(days=REPORT_DAYS),
                     assignee=lead, position=None if lead else AUDITOR)


def _settle_report_tasks(cmd: Command, case: Case) -> None:
    prefix = cases.task_key(case, "")
    for task in cases.stage_tasks(cmd.uow, case, "report"):
        cases.settle_task(cmd, case, task.key[len(prefix):], outcome="submitted", record=case.document_number)


def _programme_task(cmd: Command, case: Case) -> None:
    due = case.due or cmd.uow.clock.today() + timedelta(days=PROGRAMME_DAYS)
    cases.stage_task(cmd, case, "programme", title_key="processes.task.ia_programme", due=due, position=AUDITOR,
                     params={"year": case.year})


def _programme_approved(cmd: Command, case: Case) -> None:
    """One audit case per planned audit (once: by key), then the duty's task is settled."""
    for item in cases.items(cmd.uow, case, "audit"):
        if cases.find_case(cmd.uow, audit_key(case, item.seq)) is None:
            child = open_audit(cmd.uow, cmd.actor, site=cases.item_data(item)["site"], programme=case.number,
                               seq=item.seq)
            cases.change_item(cmd, item, status="opened", linked_case=child)
    _settle_duty(cmd, case)


def _settle_duty(cmd: Command, case: Case) -> None:
    from cms_workflows.tasks import service as tasks
    from cms_workflows.tasks.queries import find_by_key

    if case.trigger != "scheduled" or not case.trigger_ref:
        return
    task = find_by_key(cmd.uow, case.trigger_ref)
    if task is not None and task.status in ("open", "claimed"):
        author = reports.report_author(cmd.uow, case) or str(cmd.actor)
        tasks.resolve(cmd.uow, cases.SYSTEM, task.id, done_by=author, outcome="approved",
                      record=f"{case.number} {case.document_number}")


def _plan_task(cmd: Command, case: Case) -> None:
    start = case.period_start or cmd.uow.clock.today()
    cases.stage_task(cmd, case, "plan", title_key="processes.task.ia_plan", due=max(start, cmd.uow.clock.today()),
                     position=AUDITOR)


REPORT_STEPS = [AutoStep("report_returned", cases.report_returned), AutoStep("report_approved", cases.report_approved)]
PROGRAMME.on_enter.update({"drafting": _programme_task, "reporting": _report_task, "approved": _programme_approved})
PROGRAMME.auto["in_review"] = REPORT_STEPS
PROCESS.on_enter.update({"planning": _plan_task, "reporting": _report_task})
PROCESS.auto["in_review"] = REPORT_STEPS


# ---------------------------------------------------------------- the programme

@command("processes.audit_programme.open", action="open", resource=cases.new_case_at(PROGRAMME_KIND),
         audit_object=cases.AUDIT_OBJECT)
def open_programme(cmd: Command, *, year: int, site: str = COMPANY_WIDE, trigger: str = "manual",
                   trigger_ref: str = "", due: date | None = None) -> Case:
    """The audit programme of `year` (one per year)."""
    from cms_workflows.org.queries import site_codes

    today = cmd.uow.clock.today()
    found = []
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= today.year + 1:
        found.append(problem("year", "processes.internal_audit.problem.year", last=today.year + 1))
    if site != COMPANY_WIDE and site not in site_codes(cmd.uow):
        found.append(problem("site", "processes.internal_audit.problem.unknown_site", value=shown(site)))
    if found:
        raise cases.invalid("-", found)
    existing = cases.find_case(cmd.uow, programme_key(year))
    if existing is not None:
        raise Conflict("processes.internal_audit.programme_exists", year=year, number=existing.number)
    return cases.open_case(cmd, PROGRAMME_KIND, key=programme_key(year), site=site, trigger=trigger,
                           trigger_ref=trigger_ref, year=year, period=(date(year, 1, 1), date(year, 12, 31)),
                           due=due or today + timedelta(days=PROGRAMME_DAYS))


def ensure_programme(uow, actor: str, *, year: int, **fields) -> Case:
    """The programme of `year`, opened if there is none yet."""
    return cases.find_case(uow, programme_key(year)) or open_programme(uow, actor, year=year, **fields)


def _duty_year(key: str) -> int | None:
    period = key.rsplit(":", 1)[-1]
    return int(period) if period.isdigit() else None


def open_due_programmes(db, day: date) -> list[str]:
    """The trigger: a programme for each open task of the duty that has none yet (each in its own unit of work)."""
    from cms_workflows.tasks.models import Task

    with db.read() as uow:
        rows = uow.exec(select(Task.key, Task.due).where(Task.key.like(f"{DUTY}:%"),
                                                         Task.status.in_(("open", "claimed")))).all()
        wanted = [(key, due, _duty_year(key)) for key, due in rows if _duty_year(key)]
        wanted = [w for w in wanted if cases.find_case(uow, programme_key(w[2])) is None]
    opened = []
    for key, due, year in wanted:
        with db.unit_of_work() as uow:
            if cases.find_case(uow, programme_key(year)) is not None:
                continue
            opened.append(open_programme(uow, cases.SYSTEM, year=year, trigger="scheduled", trigger_ref=key,
                                         due=due).number)
    return opened


PROGRAMME.triggers.append(open_due_programmes)


@command("processes.audit_programme.plan_audit", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def plan_audit_in_programme(cmd: Command, number: str, *, site: str, departments: list[str], scope: str,
                            criteria: str, start, end, seq: int | None = None):
    """Add an audit to the programme (or change audit `seq`, e.g. after the draft came back)."""
    case = cmd.subject
    _require_kind(case, PROGRAMME_KIND)
    _require_stage(case, "drafting", "reporting")
    found, data = plan_problems(cmd.uow, site=site, departments=departments, scope=scope, criteria=criteria,
                                start=start, end=end, year=case.year)
    item = cases.get_item(cmd.uow, case, "audit", seq) if seq is not None else None
    if found:
        raise cases.invalid(case, found)
    cases.touch(cmd, case)
    if item is not None:
        return cases.change_item(cmd, item, data=data)
    return cases.add_item(cmd, case, "audit", data, status="planned")


@command("processes.audit_programme.finish", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def finish_programme(cmd: Command, number: str) -> str:
    """The audits are planned: the programme is to be drafted (it needs at least one audit)."""
    case = cmd.subject
    _require_kind(case, PROGRAMME_KIND)
    cases.check_move(case, "programme_done")
    if not cases.items(cmd.uow, case, "audit"):
        raise cases.invalid(case, [problem("audits", "processes.internal_audit.problem.no_audits")])
    cases.settle_task(cmd, case, "programme", outcome="planned")
    return cases.move(cmd, case, "programme_done")


@command("processes.audit_programme.draft_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def draft_programme(cmd: Command, number: str) -> str:
    """The programme document (a controlled plan), drafted from the planned audits; its drafter is its author."""
    case = cmd.subject
    _require_kind(case, PROGRAMME_KIND)
    _require_stage(case, "reporting")
    content = reports.programme_content(cmd.uow, case)
    return cases.draft_report(cmd, case, title=reports.programme_title(case), content=content,
                              owner_department=OWN_DEPARTMENT)


def _submit(cmd: Command, case: Case) -> None:
    """Submit the drafted report to its route; the report's task is done."""
    _require_stage(case, "reporting")
    if not case.document_number:
        raise cases.invalid(case, [problem("report", "processes.internal_audit.problem.no_draft")])
    cases.submit_report(cmd, case)
    _settle_report_tasks(cmd, case)


@command("processes.audit_programme.submit_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def submit_programme(cmd: Command, number: str) -> None:
    case = cmd.subject
    _require_kind(case, PROGRAMME_KIND)
    _submit(cmd, case)


# ---------------------------------------------------------------- one audit

@command("processes.internal_audit.open", action="open", resource=cases.new_case_at(KIND),
         audit_object=cases.AUDIT_OBJECT)
def open_audit(cmd: Command, *, site: str, programme: str | None = None, seq: int | None = None,
               departments: list[str] | None = None, scope: str | None = None, criteria: str | None = None,
               start=None, end=None) -> Case:
    """An audit: audit `seq` of an approved programme (once), or an audit outside the programme."""
    uow = cmd.uow
    if programme is not None:
        parent = cases.get_case(uow, programme)
        _require_kind(parent, PROGRAMME_KIND)
        _require_stage(parent, "approved")
        data = cases.item_data(cases.get_item(uow, parent, "audit", seq))
        if site != data["site"]:
            raise cases.invalid(parent, [problem("site", "processes.internal_audit.problem.site_differs",
                                            value=shown(site), planned=data["site"])])
        key, trigger, ref, year = audit_key(parent, seq), "programme", f"{parent.number}:{seq}", parent.year
        existing = cases.find_case(uow, key)
        if existing is not None:
            raise Conflict("processes.internal_audit.audit_exists", number=existing.number)
    else:
        found, data = plan_problems(uow, site=site, departments=departments, scope=scope, criteria=criteria,
                                    start=start, end=end, year=None)
        if found:
            raise cases.invalid("-", found)
        parent, trigger, ref = None, "manual", ""
        key, year = f"{KIND}:unplanned:{uow.clock.now().isoformat()}:{cmd.actor}", _day(data["start"]).year
    first, last = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    return cases.open_case(cmd, KIND, key=key, site=data["site"], trigger=trigger, trigger_ref=ref, year=year,
                           period=(first, last), due=last, parent=parent, data=data)


def _team_problems(uow, case: Case, lead_auditor, auditors) -> list[dict]:
    """Every member must hold the internal auditor's position where the audit is."""
    control, found = get_access(), []
    if isinstance(auditors, str):
        return [problem("auditors", "processes.internal_audit.problem.auditor_list")]
    for name, usernames in (("lead_auditor", [lead_auditor]), ("auditors", list(auditors))):
        for username in usernames:
            if not isinstance(username, str) or AUDITOR not in control.positions_held(uow, username, case.site):
                found.append(problem(name, "processes.internal_audit.problem.not_an_auditor", username=shown(username)))
    return found


class Clashes:
    """Auditors paired with a department of their own (for the objectivity refusal), in the reader's language."""

    def __init__(self, pairs: list[tuple[str, str, str]]) -> None:
        self.pairs = pairs

    def localized(self, locale: str | None) -> str:
        return "; ".join(f"{name} ({username}) — {reports.department_name(dept, locale)} ({dept})"
                         for username, name, dept in self.pairs)

    def __format__(self, spec: str) -> str:
        return self.localized(None)


def require_objectivity(uow, case: Case, team: list[str], departments: list[str]) -> None:
    """9.2.2.2: no auditor audits a department whose position they hold (access decides `audit` on a resource of
    that department; segregation of duties refuses one's own)."""
    control, pairs = get_access(), []
    names = reports.user_names(uow, team)
    for username in team:
        for dept in departments:
            decision = control.check(uow, username, "audit", cases.resource_of(case, department=dept))
            if isinstance(decision, AccessDenied):
                pairs.append((username, names[username], dept))
    if pairs:
        raise AccessDenied("processes.internal_audit.not_objective", number=case.number, clashes=Clashes(pairs))


@command("processes.internal_audit.plan", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def plan(cmd: Command, number: str, *, lead_auditor: str, auditors: list[str] = (),
         audited_departments: list[str] | None = None, start=None, end=None, scope: str | None = None,
         criteria: str | None = None) -> str:
    """The audit's plan and team (what is not given stays as the programme planned it); seeds the checklist of
    9.2.2.3 and gives each auditor their fieldwork task."""
    case = cmd.subject
    _require_kind(case, KIND)
    cases.check_move(case, "plan_audit")
    planned = cases.data_of(case)
    found, data = plan_problems(cmd.uow, site=case.site, departments=audited_departments or planned["departments"],
                                scope=scope or planned["scope"], criteria=criteria or planned["criteria"],
                                start=start or planned["start"], end=end or planned["end"], year=case.year)
    found += _team_problems(cmd.uow, case, lead_auditor, auditors)
    if found:
        raise cases.invalid(case, found)
    team = list(dict.fromkeys([lead_auditor, *auditors]))
    require_objectivity(cmd.uow, case, team, data["departments"])
    cases.set_data(cmd, case, **{**data, "lead_auditor": lead_auditor, "auditors": team})
    case.period_start, case.period_end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    case.due = case.period_end
    if not cases.items(cmd.uow, case, "checklist"):
        for point in checklist():
            cases.add_item(cmd, case, "checklist", point, status="open")
    for username in team:
        cases.stage_task(cmd, case, f"fieldwork:{username}", title_key="processes.task.ia_fieldwork",
                         due=case.period_end, assignee=username)
    cases.settle_task(cmd, case, "plan", outcome="planned")
    return cases.move(cmd, case, "plan_audit")


@command("processes.internal_audit.answer_checklist", action="audit", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def answer_checklist(cmd: Command, number: str, seq: int, *, result: str, evidence: str):
    """An auditor of the team answers a focus point of the checklist, with the evidence seen."""
    case = cmd.subject
    _require_kind(case, KIND)
    _require_stage(case, "auditing")
    _require_team(cmd, case)
    item = cases.get_item(cmd.uow, case, "checklist", seq)
    found = cases.text_problem("evidence", evidence)
    if result not in RESULTS:
        found.append(problem("result", "processes.problem.unknown_choice", value=shown(result), known=", ".join(RESULTS)))
    if found:
        raise cases.invalid(case, found)
    cases.touch(cmd, case)
    _mark_fieldwork_started(cmd, case)
    return cases.change_item(cmd, item, data={"result": result, "evidence": evidence.strip(),
                                              "answered_by": str(cmd.actor)}, status=result)


def _finding_loader(uow, number: str, *_args, department=None, **_kwargs):
    """The audit, as a resource of the finding's department: access refuses an auditor's own department."""
    case = cases.get_case(uow, number, lock=True)
    known = isinstance(department, str) and department in department_codes()
    return cases.resource_of(case, department=department if known else None)


def _finding_problems(case: Case, category, clause, department, description, evidence, site, owner_position, sites):
    from cms_workflows.access import known_position_codes

    found = cases.text_problem("description", description) + cases.text_problem("evidence", evidence)
    if category not in CATEGORIES:
        found.append(problem("category", "processes.problem.unknown_choice", value=shown(category),
                             known=", ".join(CATEGORIES)))
    if normal_clause(clause) is None:
        found.append(problem("clause", "processes.internal_audit.problem.unknown_clause", value=shown(clause)))
    audited = cases.data_of(case).get("departments") or []
    if department not in audited:
        found.append(problem("department", "processes.problem.unknown_choice", value=shown(department),
                             known=", ".join(audited)))
    if site is not None and site not in sites:
        found.append(problem("site", "processes.internal_audit.problem.unknown_site", value=shown(site)))
    elif category == "nonconformity" and (site or case.site) == COMPANY_WIDE:
        found.append(problem("site", "processes.internal_audit.problem.site_of_nonconformity"))
    if owner_position is not None and owner_position not in known_position_codes():
        found.append(problem("owner_position", "processes.problem.unknown_position", value=shown(owner_position)))
    return found


@command("processes.internal_audit.record_finding", action="audit", resource=_finding_loader,
         audit_object=cases.AUDIT_OBJECT)
def record_finding(cmd: Command, number: str, *, category: str, clause: str, department: str, description: str,
                   evidence: str, site: str | None = None, owner_position: str | None = None):
    """A finding of the team with its evidence; a nonconformity opens its corrective action (R-10.1), owned by
    the lead position of the department (data/department_leads.yaml) unless the lead auditor names another."""
    from cms_workflows.tasks.routing import department_leads

    case = cmd.subject
    _require_kind(case, KIND)
    _require_stage(case, "auditing")
    _require_team(cmd, case)
    from cms_workflows.org.queries import site_codes

    found = _finding_problems(case, category, clause, department, description, evidence, site, owner_position,
                              site_codes(cmd.uow))
    if found:
        raise cases.invalid(case, found)
    cases.touch(cmd, case)
    _mark_fieldwork_started(cmd, case)
    item = cases.add_item(cmd, case, "finding", {
        "category": category, "clause": normal_clause(clause), "department": department,
        "description": description.strip(), "evidence": evidence.strip(), "site": site or case.site,
        "recorded_by": str(cmd.actor)}, status="recorded")
    if category == "nonconformity":
        owner = owner_position or department_leads().get(department) or corrective_action.PROCESS.owner_position
        nc = corrective_action.ensure_nonconformity(
            cmd.uow, cmd.actor, key=f"nc:audit:{case.number}:{item.seq}", site=site or case.site, source="audit",
            description=description.strip(), source_ref=f"{case.number}:{item.seq}", parent_number=case.number,
            owner_position=owner, department=department)
        cases.change_item(cmd, item, status="nc_raised", linked_case=nc)
    return item


@command("processes.internal_audit.finish_fieldwork", action="audit", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def finish_fieldwork(cmd: Command, number: str) -> str:
    """The lead auditor closes the fieldwork: every checklist item must be answered first."""
    case = cmd.subject
    _require_kind(case, KIND)
    cases.check_move(case, "fieldwork_done")
    _require_lead(cmd, case)
    open_items = [i for i in cases.items(cmd.uow, case, "checklist") if i.status == "open"]
    if open_items:
        raise cases.invalid(case, [problem(f"checklist[{i.seq}]", "processes.internal_audit.problem.unanswered",
                                      id=cases.item_data(i).get("id", i.seq)) for i in open_items])
    _settle_fieldwork(cmd, case)
    cases.set_data(cmd, case, fieldwork_end=cmd.uow.clock.today().isoformat())
    return cases.move(cmd, case, "fieldwork_done")


def _settle_fieldwork(cmd: Command, case: Case) -> None:
    """Each auditor's fieldwork task is done, by that auditor (their answers and findings are in the case)."""
    from cms_workflows.tasks import service as tasks

    for task in cases.stage_tasks(cmd.uow, case, "fieldwork:"):
        if task.status in ("open", "claimed"):
            tasks.resolve(cmd.uow, cases.SYSTEM, task.id, done_by=task.assignee or str(cmd.actor),
                          outcome="fieldwork_done", record=case.number)


def _mark_fieldwork_started(cmd: Command, case: Case) -> None:
    """The fieldwork's first day is the day of its first answer or finding (the report gives the dates it
    really took place, not only the planned ones)."""
    if not cases.data_of(case).get("fieldwork_start"):
        cases.set_data(cmd, case, fieldwork_start=cmd.uow.clock.today().isoformat())


@command("processes.internal_audit.draft_report", action="audit", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def draft_report(cmd: Command, number: str, *, conclusion: str | None = None) -> str:
    """The lead auditor writes the conclusion (when given) and drafts the audit report from the case."""
    case = cmd.subject
    _require_kind(case, KIND)
    _require_stage(case, "reporting")
    _require_lead(cmd, case)
    if conclusion is not None:
        cases.write_texts(cmd, case, {"conclusion": conclusion}, required=("conclusion",))
    content = reports.audit_content(cmd.uow, case)
    return cases.draft_report(cmd, case, title=reports.audit_title(case), content=content,
                              owner_department=OWN_DEPARTMENT)


@command("processes.internal_audit.submit_report", action="audit", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def submit_report(cmd: Command, number: str) -> None:
    case = cmd.subject
    _require_kind(case, KIND)
    _require_lead(cmd, case)
    _submit(cmd, case)
