"""Management review (R-9.3; guide 9.3.1–9.3.3): a case per review, usually one a year.

preparing — the input pack is assembled from the system's own data, one `input` item per 9.3.2 item
  (`review_inputs`); the carbon management lead may rebuild it while preparing (`refresh_inputs`) and
  confirms it (`confirm_inputs`);
meeting — top management records its decisions, each an output of 9.3.3 with an owner position, a site
  and a due date (`record_decision`), and closes the meeting with chair, attendees and conclusion
  (`close_meeting`; at least one decision);
reporting → in_review — the minutes are drafted from the case (`draft_report`) by someone other than the
  chair (the chair, top management, approves them) and submitted (`submit_report`); the document route
  decides, the engine follows;
approved — each decision becomes a task of its owner position at its site, due on its date; the next
  review's pack reports on those tasks (done / open / overdue).

Opened by the yearly duty `management_review` (policies/duties.yaml) while its task is active, or by
hand (top management or the lead) with the meeting date; one case per year ("management_review:<year>").

Public for the demo and the flows: `open_review`, `refresh_inputs`, `confirm_inputs`, `record_decision`,
`close_meeting`, `revise_minutes`, `draft_report`, `submit_report`, `open_due_reviews` (the trigger),
`OUTPUTS`.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE, known_position_codes
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import Conflict, problem
from cms_workflows.core.i18n import t
from cms_workflows.core.text import shown
from cms_workflows.processes import cases, review_inputs
from cms_workflows.processes import reports_management_review as reports
from cms_workflows.processes.models import Case
from cms_workflows.processes.registry import AutoStep, Process, register
from cms_workflows.processes.states import MANAGEMENT_REVIEW

KIND = "management_review"
P = "processes.management_review."
DUTY = "management_review"  # its task key: "management_review:company:<year>" (duties.generate)
LEAD = "strategy_manager"
TOP = "general_manager"
# guide 9.3.3: the decisions a review takes (a conclusion on suitability, adequacy and effectiveness first)
OUTPUTS = ("conclusion", "improvement", "policy", "parameters_baseline", "objectives", "integration", "resources",
           "competence_communication", "system_change", "other")
OUTPUT_LABELS = {o: f"{P}output.{o}" for o in OUTPUTS}
PREPARE_DAYS = 7  # the pack is confirmed a week before the meeting
MINUTES_DAYS = 14  # the minutes are drafted within two weeks of the meeting
MAX_DECISION = 1000
MAX_ATTENDEES = 50

PROCESS = register(Process(KIND, "MR", MANAGEMENT_REVIEW, clause="R-9.3", owner_position=LEAD,
                           report_template="management_review_minutes"))


def meeting_date(case: Case) -> date:
    return date.fromisoformat(cases.data_of(case)["meeting_date"])


# ---------------------------------------------------------------- stages

def _assemble(cmd: Command, case: Case) -> None:
    """Write the pack: a section's item is changed only when its summary or figures changed."""
    w, sections = review_inputs.assemble(cmd.uow, case)
    existing = {cases.item_data(i).get("section"): i for i in cases.items(cmd.uow, case, "input")}
    for entry in sections:
        item = existing.get(entry["section"])
        if item is None:
            cases.add_item(cmd, case, "input", entry)
        elif cases.item_data(item) != entry:
            cases.change_item(cmd, item, data=entry)
    cases.set_data(cmd, case, since=w.since.isoformat(), until=w.until.isoformat(),
              previous=w.previous.number if w.previous else None)
    cmd.uow.add(case)


def _prepare(cmd: Command, case: Case) -> None:
    _assemble(cmd, case)
    today = cmd.uow.clock.today()
    cases.stage_task(cmd, case, "inputs", title_key="processes.task.mr_inputs", position=LEAD,
                     due=max(today, meeting_date(case) - timedelta(days=PREPARE_DAYS)))


def _meeting(cmd: Command, case: Case) -> None:
    cases.stage_task(cmd, case, "meeting", title_key="processes.task.mr_meeting", position=TOP,
                     due=max(cmd.uow.clock.today(), meeting_date(case)))


def _minutes(cmd: Command, case: Case) -> None:
    cases.stage_task(cmd, case, "minutes", title_key="processes.task.mr_minutes", position=LEAD,
                     due=cmd.uow.clock.today() + timedelta(days=MINUTES_DAYS))


def _decisions_to_tasks(cmd: Command, case: Case) -> None:
    """Approved: each decision becomes a task of its owner position at its site (once: the task's key is
    the decision's), and the year's duty to hold the review is done."""
    for item in cases.items(cmd.uow, case, "decision"):
        d = cases.item_data(item)
        task = cases.stage_task(cmd, case, f"decision:{item.seq}", title_key="processes.task.mr_decision",
                                due=date.fromisoformat(d["due"]), position=d["owner_position"], site=d["site"],
                                params={"seq": item.seq, "decision": shown(d["decision"], 60)})
        if item.task_key != task.key:
            cases.change_item(cmd, item, task_key=task.key, status="assigned")
    _settle_duty(cmd, case)


def _settle_duty(cmd: Command, case: Case) -> None:
    from cms_workflows.tasks import service as tasks
    from cms_workflows.tasks.queries import find_by_key

    duty = find_by_key(cmd.uow, f"{DUTY}:company:{case.year}")
    if duty is not None and duty.status in ("open", "claimed"):
        tasks.resolve(cmd.uow, cases.SYSTEM, duty.id, done_by=cases.data_of(case).get("chair") or cmd.actor,
                      outcome=t(P + "duty_done", "zh-CN", number=case.number), record=case.number)


def _meeting_closed(uow, case: Case) -> bool:
    return (cases.tasks_done(uow, case, "meeting") and bool(cases.data_of(case).get("chair"))
            and bool(cases.items(uow, case, "decision")))


PROCESS.on_enter.update({"preparing": _prepare, "meeting": _meeting, "reporting": _minutes,
                         "approved": _decisions_to_tasks})
PROCESS.auto.update({
    "preparing": [AutoStep("inputs_done", lambda uow, case: cases.tasks_done(uow, case, "inputs"))],
    "meeting": [AutoStep("meeting_done", _meeting_closed)],
    "in_review": [AutoStep("report_returned", cases.report_returned),
                  AutoStep("report_approved", cases.report_approved)],
})


# ---------------------------------------------------------------- opening

@command("processes.management_review.open", action="open", resource=cases.new_case_at(KIND),
         audit_object=cases.AUDIT_OBJECT)
def open_review(cmd: Command, *, meeting_date: date, trigger: str = "manual", trigger_ref: str = "") -> Case:
    """Open the year's review for its planned meeting date; its input pack is assembled at once."""
    if not isinstance(meeting_date, date):
        raise cases.invalid("-", [problem("meeting_date", P + "problem.bad_date")])
    year = meeting_date.year
    existing = cases.find_case(cmd.uow, f"{KIND}:{year}")
    if existing is not None:
        raise Conflict(P + "exists", year=year, number=existing.number)
    return cases.open_case(cmd, KIND, key=f"{KIND}:{year}", site=COMPANY_WIDE, trigger=trigger,
                           trigger_ref=trigger_ref, year=year, period=(date(year, 1, 1), date(year, 12, 31)),
                           due=meeting_date + timedelta(days=MINUTES_DAYS + 14),
                           data={"meeting_date": meeting_date.isoformat()})


def open_due_reviews(db, day: date) -> list[str]:
    """The trigger: a review for each active task of the duty whose year has no case yet (the duty's
    period is its year; the task's due date is the planned meeting date)."""
    from cms_workflows.tasks.models import Task

    with db.read() as uow:
        duties = uow.exec(select(Task.key, Task.due).where(Task.key.like(f"{DUTY}:%"),
                                                            Task.status.in_(("open", "claimed")))).all()
        years = [(key, due, int(key.rsplit(":", 1)[-1])) for key, due in duties if key.rsplit(":", 1)[-1].isdigit()]
        wanted = [(key, due, year) for key, due, year in years if cases.find_case(uow, f"{KIND}:{year}") is None]
    opened = []
    for key, due, year in wanted:
        with db.unit_of_work() as uow:
            if cases.find_case(uow, f"{KIND}:{year}") is not None:  # opened in between
                continue
            planned = due if due.year == year else date(year, 12, 31)
            opened.append(open_review(uow, cases.SYSTEM, meeting_date=planned, trigger="scheduled",
                                      trigger_ref=key).number)
    return opened


PROCESS.triggers.append(open_due_reviews)


# ---------------------------------------------------------------- preparing

def _in_stage(case: Case, state: str, command_name: str) -> None:
    """Refuse a step outside its stage with the lifecycle's clear error (naming both states)."""
    if case.status != state:
        cases.check_move(case, command_name)


@command("processes.management_review.refresh_inputs", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def refresh_inputs(cmd: Command, number: str) -> Case:
    """Rebuild the pack from today's data (the lead, while preparing)."""
    case = cmd.subject
    _in_stage(case, "preparing", "inputs_done")
    cases.touch(cmd, case)
    _assemble(cmd, case)
    return case


@command("processes.management_review.confirm_inputs", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def confirm_inputs(cmd: Command, number: str) -> Case:
    case = cmd.subject
    cases.check_move(case, "inputs_done")
    cases.settle_task(cmd, case, "inputs", outcome=t(P + "inputs_confirmed", "zh-CN"))
    cases.move(cmd, case, "inputs_done")
    return case


# ---------------------------------------------------------------- the meeting

def _site_problems(uow, site) -> list[dict]:
    from cms_workflows.org.queries import site_codes

    if site != COMPANY_WIDE and site not in site_codes(uow):
        return [problem("site", P + "problem.unknown_site", value=shown(site))]
    return []


@command("processes.management_review.record_decision", action="decide", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def record_decision(cmd: Command, number: str, *, output: str, decision: str, owner_position: str,
                    site: str, due: date):
    """One decision of the meeting (guide 9.3.3), its owner position at a site and its due date."""
    case = cmd.subject
    _in_stage(case, "meeting", "meeting_done")
    found = []
    if output not in OUTPUTS:
        found.append(problem("output", "processes.problem.unknown_choice", value=shown(output),
                             known=", ".join(OUTPUTS)))
    found += cases.text_problem("decision", decision, limit=MAX_DECISION)
    if owner_position not in known_position_codes():
        found.append(problem("owner_position", "processes.problem.unknown_position", value=shown(owner_position)))
    found += _site_problems(cmd.uow, site)
    if not isinstance(due, date):
        found.append(problem("due", P + "problem.bad_date"))
    elif due < cmd.uow.clock.today():
        found.append(problem("due", P + "problem.due_past", due=due.isoformat()))
    if found:
        raise cases.invalid(case.number, found)
    cases.touch(cmd, case)
    return cases.add_item(cmd, case, "decision", {"output": output, "decision": decision.strip(),
                                                  "owner_position": owner_position, "site": site,
                                                  "due": due.isoformat()}, status="recorded")


def _users_problems(uow, field: str, usernames) -> list[dict]:
    from cms_workflows.org.models import User

    active = set(uow.exec(select(User.username).where(User.active == True)))  # noqa: E712
    unknown = [u for u in usernames if u not in active]
    if unknown:
        return [problem(field, P + "problem.unknown_users", users=shown("、".join(map(str, unknown))))]
    return []


@command("processes.management_review.close_meeting", action="decide", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def close_meeting(cmd: Command, number: str, *, chair: str, attendees: list[str], conclusion: str,
                  meeting_date: date) -> Case:
    """The meeting was held: who chaired and attended, on which day, and its conclusion on the system's
    suitability, adequacy and effectiveness (guide 9.3.1). It needs at least one decision."""
    case = cmd.subject
    cases.check_move(case, "meeting_done")
    attendees = [a for a in (attendees or []) if isinstance(a, str)]
    found = _users_problems(cmd.uow, "chair", [chair])
    if not attendees:
        found.append(problem("attendees", "processes.problem.required"))
    elif len(attendees) > MAX_ATTENDEES:
        found.append(problem("attendees", P + "problem.too_many", count=len(attendees), limit=MAX_ATTENDEES))
    else:
        found += _users_problems(cmd.uow, "attendees", attendees)
    found += cases.text_problem("conclusion", conclusion)
    if not isinstance(meeting_date, date):
        found.append(problem("meeting_date", P + "problem.bad_date"))
    elif meeting_date > cmd.uow.clock.today():
        found.append(problem("meeting_date", P + "problem.not_held", day=meeting_date.isoformat()))
    if not cases.items(cmd.uow, case, "decision"):
        found.append(problem("decisions", P + "problem.no_decision"))
    if found:
        raise cases.invalid(case.number, found)
    cases.write_texts(cmd, case, {"conclusion": conclusion}, required=("conclusion",))
    cases.set_data(cmd, case, chair=chair, attendees=list(dict.fromkeys(attendees)), meeting_date=meeting_date.isoformat())
    cmd.payload.update({"chair": chair, "attendees": list(dict.fromkeys(attendees)),
                        "meeting_date": meeting_date.isoformat()})
    cases.settle_task(cmd, case, "meeting", outcome=t(P + "meeting_closed", "zh-CN"))
    cases.move(cmd, case, "meeting_done")
    return case


# ---------------------------------------------------------------- the minutes

@command("processes.management_review.revise_minutes", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def revise_minutes(cmd: Command, number: str, *, conclusion: str | None = None,
                   attendees: list[str] | None = None) -> Case:
    """Correct the minutes' texts before drafting again (after top management returned them)."""
    case = cmd.subject
    _in_stage(case, "reporting", "submit_report")
    found = _users_problems(cmd.uow, "attendees", attendees) if attendees is not None else []
    if attendees is not None and not attendees:
        found.append(problem("attendees", "processes.problem.required"))
    found += cases.text_problem("conclusion", conclusion, required=False) if conclusion is not None else []
    if conclusion is None and attendees is None:
        found.append(problem("conclusion", "processes.problem.required"))
    if found:
        raise cases.invalid(case.number, found)
    cases.touch(cmd, case)
    if conclusion is not None:
        cases.write_texts(cmd, case, {"conclusion": conclusion})
    if attendees is not None:
        cases.set_data(cmd, case, attendees=list(dict.fromkeys(attendees)))
        cmd.payload["attendees"] = list(dict.fromkeys(attendees))
    return case


@command("processes.management_review.draft_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def draft_report(cmd: Command, number: str) -> str:
    """Draft the minutes from the case (by someone other than the chair, who approves them)."""
    case = cmd.subject
    _in_stage(case, "reporting", "submit_report")
    if cmd.actor == cases.data_of(case).get("chair"):
        raise cases.invalid(case.number, [problem("author", P + "problem.chair_drafts", chair=cmd.actor)])
    content = reports.content(cmd.uow, case)
    cases.touch(cmd, case)
    return cases.draft_report(cmd, case, title=t(P + "report_title", "zh-CN", year=case.year),
                              content=content, owner_department="carbon_management")


@command("processes.management_review.submit_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def submit_report(cmd: Command, number: str) -> Case:
    case = cmd.subject
    cases.check_move(case, "submit_report")
    if not case.document_number:
        raise cases.invalid(case.number, [problem("report", P + "problem.not_drafted")])
    cases.submit_report(cmd, case)
    cases.settle_task(cmd, case, "minutes", outcome=t(P + "minutes_submitted", "zh-CN"))
    return case
