"""Compliance evaluation (R-6.2.2, R-9.1.3): every obligation of the register evaluated with evidence and a
verdict, the compliance evaluation record approved by top management, a nonconformity for each failure.

How a case opens (`PROCESS.triggers`, run by the engine's sweep, each idempotent by the case's key):
- every 12 months: while the task of the duty `compliance_evaluation` ("compliance_evaluation:company:<year>")
  is active, the case "compliance_evaluation:annual:<year>" is opened; the task is settled when the case
  is approved;
- an obligation added or changed (its `registers.obligation.*` events) after the register was read by the
  last approved company-wide evaluation: a case "compliance_evaluation:obligation:<seq of the latest
  change>", only while no company-wide evaluation is open (the open one reads the register when it starts,
  or its approval is followed by this trigger again) and only once a first evaluation was approved (the
  first one is the scheduled one or one opened by hand);
- by hand (`open_evaluation`): the compliance officer names the trigger (an external or internal change…)
  and the reason.

Stages: planning (the compliance officer's plan: period and evaluators, `start`) → evaluating (one item
"evaluation" per obligation, each a task of the obligation's owner position, settled by its verdict; an
evaluator gives the verdict with its evidence, `evaluate`, again if need be while the stage lasts; the
stage ends by itself when every item has a verdict) → reporting (`draft_report`, `submit_report`) →
in_review (the route of doc type `report`: review, then approval by the general manager) → approved.

Public functions the demo and the flows use: `open_evaluation`, `start`, `evaluate`, `draft_report`,
`submit_report`, `latest_approved`, `open_scheduled`, `open_for_obligations` (the two triggers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import func, select

from cms_workflows.access import COMPANY_WIDE, Resource, can
from cms_workflows.audit.commands import Command, command
from cms_workflows.core import limits
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed, problem
from cms_workflows.core.i18n import Message, t
from cms_workflows.core.text import forbidden_char, shown
from cms_workflows.processes import cases, corrective_action, reports_compliance
from cms_workflows.processes.models import Case
from cms_workflows.processes.registry import AutoStep, Process, register
from cms_workflows.processes.reports_compliance import ITEM, LOCALE, VERDICTS
from cms_workflows.processes.states import COMPLIANCE_EVALUATION, FINAL

KIND = "compliance_evaluation"
DUTY = "compliance_evaluation"  # policies/duties.yaml: its task key is "compliance_evaluation:company:<year>"
TRIGGERS = ("external", "internal", "obligation", "scheduled")
OFFICER = "compliance_officer"
DEPARTMENT = "environmental_protection"  # the compliance officer's department owns the record
PLAN_DAYS, EVALUATE_DAYS, REPORT_DAYS, CASE_DAYS = 14, 30, 14, 60
MAX_REASON, MAX_EVIDENCE, MAX_EVALUATORS = 1000, 2000, 20
OBLIGATION_EVENTS = "registers.obligation.%"
ACTIVE_TASK = ("open", "claimed")
P = "processes.compliance."

PROCESS = register(Process(KIND, "CE", COMPLIANCE_EVALUATION, clause="R-9.1.3", owner_position=OFFICER,
                           report_template="record_form", report_doc_type="report"))


def _case_loader(uow, number: str, *_args, **_kwargs) -> Resource:
    return cases.case_loader(uow, number)


def _new_case(_uow, site: str = COMPANY_WIDE, *_args, **_kwargs) -> Resource:
    return Resource(f"case.{KIND}", site=site if isinstance(site, str) else COMPANY_WIDE)


# ---------------------------------------------------------------- stages

def _plan_task(cmd: Command, case: Case) -> None:
    cases.stage_task(cmd, case, "plan", title_key="processes.task.ce_plan", position=OFFICER,
                     due=cmd.uow.clock.today() + timedelta(days=PLAN_DAYS))


def obligations_in_scope(uow, case: Case) -> list:
    """The obligations the case evaluates: the register's (it has no site column: every obligation applies
    company-wide and at each site)."""
    from cms_workflows.registers.models import Obligation

    return list(uow.exec(select(Obligation).order_by(Obligation.code)))


def _seed_items(cmd: Command, case: Case) -> None:
    """One item per obligation, each a task of the obligation's owner (the compliance officer if none)."""
    due = cmd.uow.clock.today() + timedelta(days=EVALUATE_DAYS)
    for ob in obligations_in_scope(cmd.uow, case):
        owner = ob.owner_position or OFFICER
        item = cases.add_item(cmd, case, ITEM, {
            "obligation": ob.code, "title": ob.title, "kind": ob.kind, "issuer": ob.issuer, "clause": ob.clause,
            "applicability": ob.applicability, "owner_position": owner}, status="open")
        task = cases.stage_task(cmd, case, f"evaluate-{item.seq}", title_key="processes.task.ce_evaluate",
                                position=owner, due=due, params={"obligation": ob.code, "title": ob.title[:100]})
        cases.change_item(cmd, item, task_key=task.key)


def _report_task(cmd: Command, case: Case) -> None:
    """Drafting the record (again, after the route returned it: a task per round)."""
    done = len(cases.stage_tasks(cmd.uow, case, "report-"))
    cases.stage_task(cmd, case, f"report-{done + 1}", title_key="processes.task.ce_report", position=OFFICER,
                     due=cmd.uow.clock.today() + timedelta(days=REPORT_DAYS))


def _settle_duty(cmd: Command, case: Case) -> None:
    """An approved scheduled evaluation is the work its duty's task asked for."""
    from cms_workflows.tasks import service as tasks
    from cms_workflows.tasks.queries import find_by_key

    if case.trigger != "scheduled" or not case.trigger_ref:
        return
    task = find_by_key(cmd.uow, case.trigger_ref)
    if task is not None and task.status in ACTIVE_TASK:
        done_by = cases.data_of(case).get("drafted_by") or case.opened_by
        tasks.resolve(cmd.uow, cases.SYSTEM, task.id, done_by=done_by, outcome="approved",
                      record=case.document_number or case.number)


PROCESS.on_enter["planning"] = _plan_task
PROCESS.on_enter["evaluating"] = _seed_items
PROCESS.on_enter["reporting"] = _report_task
PROCESS.on_enter["approved"] = _settle_duty


def missing_verdicts(uow, case: Case) -> list[str]:
    """The obligations of the case still without a verdict (their codes)."""
    return [cases.item_data(i)["obligation"] for i in cases.items(uow, case, ITEM) if i.status != "evaluated"]


def _all_evaluated(uow, case: Case) -> bool:
    return bool(cases.items(uow, case, ITEM)) and not missing_verdicts(uow, case)


PROCESS.auto["evaluating"] = [AutoStep("evaluation_done", _all_evaluated)]
PROCESS.auto["in_review"] = [AutoStep("report_returned", cases.report_returned),
                             AutoStep("report_approved", cases.report_approved)]


# ---------------------------------------------------------------- opening

@command("processes.compliance_evaluation.open", action="open", resource=_new_case, audit_object=cases.AUDIT_OBJECT)
def open_evaluation(cmd: Command, site: str = COMPANY_WIDE, trigger: str = "", reason: str = "", *,
                    key: str | None = None, trigger_ref: str = "", year: int | None = None,
                    due: date | None = None) -> Case:
    """Open an evaluation at a site (or company-wide, "*") with what triggered it and why (R-9.1.3: an
    external or internal change, an obligation added or changed, the planned interval). `key` makes it
    idempotent for a trigger that opens it by itself."""
    from cms_workflows.org.queries import site_codes

    uow = cmd.uow
    found = cases.text_problem("reason", reason, limit=MAX_REASON)
    if trigger not in TRIGGERS:
        found.append(problem("trigger", "processes.problem.unknown_choice", value=shown(trigger),
                             known=", ".join(TRIGGERS)))
    if site != COMPANY_WIDE and site not in site_codes(uow):
        found.append(problem("site", P + "problem.unknown_site", value=shown(site)))
    if found:
        raise cases.invalid("-", found)
    today = uow.clock.today()
    key = key or f"{KIND}:{trigger}:{site}:{uow.clock.now().isoformat()}:{cmd.actor}"
    case = cases.open_case(cmd, KIND, key=key, site=site, trigger=trigger, trigger_ref=trigger_ref,
                           year=year or today.year, due=due or today + timedelta(days=CASE_DAYS))
    cases.write_texts(cmd, case, {"reason": reason}, required=("reason",))
    return case


def ensure_evaluation(uow, actor: str, *, key: str, **fields) -> Case:
    existing = cases.find_case(uow, key)
    return existing if existing is not None else open_evaluation(uow, actor, key=key, **fields)


def _duty_tasks(uow) -> list:
    from cms_workflows.tasks.models import Task

    return list(uow.exec(select(Task).where(Task.key.like(f"{DUTY}:%"), Task.status.in_(ACTIVE_TASK))
                         .order_by(Task.id)))


def open_scheduled(db, day: date) -> list[str]:
    """Trigger: the active task of the 12-monthly duty opens the year's company-wide evaluation."""
    with db.read() as uow:
        due = [(t.key, t.due) for t in _duty_tasks(uow)
               if t.key.split(":")[-1].isdigit() and cases.find_case(uow, _annual_key(t.key)) is None]
    opened = []
    for task_key, task_due in due:
        year = int(task_key.split(":")[-1])
        with db.unit_of_work() as uow:
            reason = t(P + "reason.scheduled", locale=LOCALE, year=year, task=task_key,
                       due=task_due.isoformat())
            case = ensure_evaluation(uow, cases.SYSTEM, key=_annual_key(task_key), site=COMPANY_WIDE,
                                     trigger="scheduled", reason=reason, trigger_ref=task_key, year=year,
                                     due=task_due)
            opened.append(case.number)
    return opened


def _annual_key(task_key: str) -> str:
    return f"{KIND}:annual:{task_key.split(':')[-1]}"


def obligation_changes(uow, after_seq: int) -> list[tuple[int, str]]:
    """(seq, obligation code or "") of the obligation register's events after `after_seq`."""
    from cms_workflows.audit.models import AuditEvent

    rows = uow.exec(select(AuditEvent.seq, AuditEvent.payload).where(AuditEvent.action.like(OBLIGATION_EVENTS),
                                                                    AuditEvent.seq > after_seq)
                    .order_by(AuditEvent.seq)).all()
    out = []
    for seq, payload in rows:
        data = json.loads(payload) if isinstance(payload, str) else (payload or {})
        codes = [data["code"]] if data.get("code") else [*data.get("created", []), *data.get("updated", [])]
        out += [(seq, str(c)) for c in codes] or [(seq, "")]
    return out


def _latest_obligation_seq(uow) -> int:
    from cms_workflows.audit.models import AuditEvent

    return uow.exec(select(func.max(AuditEvent.seq)).where(AuditEvent.action.like(OBLIGATION_EVENTS))).one() or 0


def _last_approved(uow, site: str | None) -> Case | None:
    q = select(Case).where(Case.kind == KIND, Case.status == "approved")
    if site is not None:
        q = q.where(Case.site.in_((site, COMPANY_WIDE)) if site != COMPANY_WIDE else Case.site == COMPANY_WIDE)
    return uow.exec(q.order_by(Case.closed_at.desc(), Case.id.desc())).first()


def open_for_obligations(db, day: date) -> list[str]:
    """Trigger: obligations added or changed after the last approved company-wide evaluation read the
    register open one evaluation (keyed by the latest change), unless one is open already."""
    with db.read() as uow:
        last = _last_approved(uow, COMPANY_WIDE)
        if last is None:
            return []
        open_now = uow.exec(select(Case.id).where(Case.kind == KIND, Case.site == COMPANY_WIDE,
                                                  Case.status.not_in(FINAL))).first()
        changes = obligation_changes(uow, int(cases.data_of(last).get("obligations_seq", 0)))
        if open_now is not None or not changes:
            return []
    latest = changes[-1][0]
    codes = sorted({code for _seq, code in changes if code})
    with db.unit_of_work() as uow:
        reason = t(P + "reason.obligation", locale=LOCALE, codes="、".join(codes) or "-",
                   count=len(codes), last=last.number)
        case = ensure_evaluation(uow, cases.SYSTEM, key=f"{KIND}:obligation:{latest}", site=COMPANY_WIDE,
                                 trigger="obligation", reason=reason, trigger_ref=f"audit:{latest}")
        return [case.number]


PROCESS.triggers += [open_scheduled, open_for_obligations]


# ---------------------------------------------------------------- planning

def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


@command("processes.compliance_evaluation.start", action="manage", resource=_case_loader,
         audit_object=cases.AUDIT_OBJECT)
def start(cmd: Command, number: str, period_start, period_end, evaluators: list[str]) -> Case:
    """The plan (R-9.1.3): the period evaluated and the evaluators (each someone who may evaluate at the
    case's site); every obligation of the register becomes an item to evaluate."""
    case, uow = cmd.subject, cmd.uow
    cases.check_move(case, "start_evaluation")
    first, last = _as_date(period_start), _as_date(period_end)
    found = []
    if first is None:
        found.append(problem("period_start", P + "problem.bad_date", value=shown(str(period_start))))
    if last is None:
        found.append(problem("period_end", P + "problem.bad_date", value=shown(str(period_end))))
    elif first is not None and last < first:
        found.append(problem("period_end", P + "problem.period_order", start=first.isoformat(),
                             end=last.isoformat()))
    given = evaluators if isinstance(evaluators, (list, tuple)) else []
    names = [str(e).strip() for e in given if str(e).strip()]
    if not names or len(names) > MAX_EVALUATORS:
        found.append(problem("evaluators", P + "problem.evaluators", limit=MAX_EVALUATORS))
    for name in names:
        if not can(uow, name, "evaluate", cases.resource_of(case)):
            found.append(problem("evaluators", P + "problem.not_an_evaluator", value=shown(name, 40)))
    if not obligations_in_scope(uow, case):
        found.append(problem("obligations", P + "problem.no_obligations"))
    if found:
        raise cases.invalid(case.number, found)
    case.period_start, case.period_end = first, last
    cases.set_data(cmd, case, evaluators=sorted(set(names)), obligations_seq=_latest_obligation_seq(uow), started_by=cmd.actor)
    uow.add(case)
    cmd.payload.update({"period": [first.isoformat(), last.isoformat()], "evaluators": sorted(set(names))})
    cases.settle_task(cmd, case, "plan", outcome="planned")
    cases.move(cmd, case, "start_evaluation")
    return case


# ---------------------------------------------------------------- evaluating

def _evaluation_problems(verdict, evidence, comment, evidence_file) -> list[dict]:
    found = []
    if verdict not in VERDICTS:
        found.append(problem("verdict", "processes.problem.unknown_choice", value=shown(str(verdict)),
                             known=", ".join(VERDICTS)))
    found += cases.text_problem("evidence", evidence, limit=MAX_EVIDENCE)
    found += cases.text_problem("comment", comment, required=False, limit=MAX_EVIDENCE)
    if evidence_file is not None:
        name, data = evidence_file if isinstance(evidence_file, tuple) and len(evidence_file) == 2 else ("", b"")
        if not isinstance(data, bytes) or not data or not isinstance(name, str) or not name.strip() \
                or forbidden_char(name) or len(name) > 300:
            found.append(problem("evidence_file", P + "problem.bad_file"))
    return found


@command("processes.compliance_evaluation.evaluate", action="evaluate", resource=_case_loader,
         audit_object=cases.AUDIT_OBJECT)
def evaluate(cmd: Command, number: str, seq: int, verdict: str, evidence: str, *,
             evidence_file: tuple[str, bytes] | None = None, comment: str | None = None):
    """The verdict on one obligation with its evidence (a text; a file too if given). Given again while the
    stage lasts, the latest counts (each one stays in the trail). A non-compliance opens a nonconformity
    case (R-10.1), once per item."""
    case, uow = cmd.subject, cmd.uow
    if case.status != "evaluating":
        raise InvalidTransition("error.invalid_transition", action=Message(P + "action.evaluate"),
                                state=PROCESS.lifecycle.label(case.status))
    if cmd.actor not in cases.data_of(case).get("evaluators", []):
        raise AccessDenied(P + "not_evaluator", username=cmd.actor, number=case.number)
    found = _evaluation_problems(verdict, evidence, comment, evidence_file)
    if isinstance(seq, str) and seq.strip().isdigit():  # as typed on the command line
        seq = int(seq)
    if not isinstance(seq, int) or isinstance(seq, bool):
        found.insert(0, problem("seq", P + "problem.bad_seq", value=shown(str(seq))))
    if found:
        raise cases.invalid(case.number, found)
    item = cases.get_item(uow, case, ITEM, seq)
    stored = None
    if evidence_file is not None:
        limits.check("max_upload_bytes", len(evidence_file[1]))
        stored = {"name": evidence_file[0].strip(), "sha256": uow.files.put(evidence_file[1]).sha256}
    before = cases.item_data(item)
    cases.change_item(cmd, item, status="evaluated", data={
        "verdict": verdict, "evidence": evidence.strip(), "evidence_file": stored,
        "comment": (comment or "").strip(), "evaluated_by": cmd.actor, "evaluated_on": uow.clock.today().isoformat()})
    cmd.payload.update({"seq": item.seq, "obligation": before["obligation"], "verdict": verdict,
                        "previous_verdict": before.get("verdict")})
    if verdict == "noncompliant":
        nc = corrective_action.ensure_nonconformity(
            uow, cases.SYSTEM, key=f"nc:compliance:{case.number}:{item.seq}", site=case.site, source="compliance",
            description=t(P + "nc_description", locale=LOCALE, obligation=before["obligation"],
                          title=before["title"], evidence=evidence.strip()),
            source_ref=f"{case.number}:{item.seq}", parent_number=case.number,
            owner_position=before.get("owner_position") or OFFICER)
        if item.linked_case_id is None:
            cases.change_item(cmd, item, linked_case=nc)
        cmd.payload["nonconformity"] = nc.number
    cases.settle_task(cmd, case, f"evaluate-{item.seq}", outcome=verdict, record=f"{case.number}#{item.seq}")
    cases.touch(cmd, case)
    return item


# ---------------------------------------------------------------- the record

def _require_verdicts(uow, case: Case) -> None:
    missing = missing_verdicts(uow, case)
    if missing:
        raise ValidationFailed("processes.report_inputs_missing", number=case.number,
                               problems=[problem(f"{ITEM}:{code}", P + "problem.no_verdict", obligation=code)
                                         for code in missing])


@command("processes.compliance_evaluation.draft_report", action="manage", resource=_case_loader,
         audit_object=cases.AUDIT_OBJECT)
def draft_report(cmd: Command, number: str, conclusion: str | None = None) -> str:
    """Draft the compliance evaluation record from the case (again after the route returned it, with the
    corrected conclusion); the drafter is its author and can never approve it."""
    case, uow = cmd.subject, cmd.uow
    cases.check_move(case, "submit_report")
    if conclusion is not None or not cases.text(uow, case, "conclusion"):
        cases.write_texts(cmd, case, {"conclusion": conclusion}, required=("conclusion",))
        uow.flush()
    _require_verdicts(uow, case)
    content = reports_compliance.content(uow, case)
    title = t(P + "record_title", locale=LOCALE, year=case.year, number=case.number)
    document = cases.draft_report(cmd, case, title=title, content=content, owner_department=DEPARTMENT)
    cases.set_data(cmd, case, drafted_by=cmd.actor)
    uow.add(case)
    cases.touch(cmd, case)
    return document


@command("processes.compliance_evaluation.submit_report", action="manage", resource=_case_loader,
         audit_object=cases.AUDIT_OBJECT)
def submit_report(cmd: Command, number: str) -> Case:
    """Send the drafted record along the route of reports (review, then top management's approval)."""
    case, uow = cmd.subject, cmd.uow
    cases.check_move(case, "submit_report")
    _require_verdicts(uow, case)
    if not case.document_number:
        raise ValidationFailed("processes.report_inputs_missing", number=case.number,
                               problems=[problem("record", P + "problem.not_drafted")])
    cases.submit_report(cmd, case)
    for task in cases.stage_tasks(uow, case, "report-"):
        if task.status in ACTIVE_TASK:
            cases.settle_task(cmd, case, task.key.rsplit(":", 1)[-1], outcome="submitted",
                              record=case.document_number)
    return case


# ---------------------------------------------------------------- what others read

@dataclass(frozen=True)
class EvaluationSummary:
    """The last approved evaluation, as the carbon review and the management review read it."""

    number: str
    site: str
    approved_on: date | None
    period: tuple[date | None, date | None]
    counts: dict[str, int] = field(default_factory=dict)  # verdict -> items
    nonconformities: list[str] = field(default_factory=list)  # NC case numbers opened by its verdicts
    document_number: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def summary_of(uow, case: Case) -> EvaluationSummary:
    counts = dict.fromkeys(VERDICTS, 0)
    ncs = []
    for item in cases.items(uow, case, ITEM):
        verdict = cases.item_data(item).get("verdict")
        if verdict in counts:
            counts[verdict] += 1
        if item.linked_case_id:
            ncs.append(uow.get(Case, item.linked_case_id).number)
    approved = case.closed_at.date() if case.closed_at and case.status == "approved" else None
    return EvaluationSummary(case.number, case.site, approved, (case.period_start, case.period_end), counts, ncs,
                             case.document_number)


def latest_approved(uow, site: str | None = None) -> EvaluationSummary | None:
    """The last approved evaluation (of any site when `site` is None; else of that site or company-wide)."""
    last = _last_approved(uow, site)
    return summary_of(uow, last) if last is not None else None
