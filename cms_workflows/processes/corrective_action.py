"""Nonconformity and corrective action (R-10.1, R-10.2): a case per nonconformity.

Source (an audit finding, a compliance verdict, a deviation investigation, a complaint, other) → containment
and correction → cause analysis and the search for similar nonconformities → the action plan, each action
a task of its owner → implementation → the effectiveness review after the set interval, by someone other
than the action owners (ineffective: back to analysis) → the corrective action report → closed. Where the
system itself must change, a document revision is opened and linked.

Other processes open a nonconformity through `raise_nonconformity` / `ensure_nonconformity` (the finding,
the verdict, the investigation is its source and its parent case).

Public steps (the demo and the flows call these): `raise_nonconformity`, `ensure_nonconformity`, `contain`,
`similar` (a query), `analyse`, `plan_actions`, `review_effectiveness`, `draft_report`, `submit_report`,
`write`; the action owners complete their tasks through `tasks.service.complete`, and the engine takes
`implementation_done`, `report_returned` and `report_approved` by itself.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from sqlmodel import select

from cms_workflows.access import Grant, Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import InvalidTransition, ValidationFailed, problem
from cms_workflows.core.i18n import Message, t
from cms_workflows.core.text import shown
from cms_workflows.processes import cases
from cms_workflows.processes.models import Case
from cms_workflows.processes.registry import AutoStep, Process, register
from cms_workflows.processes.states import CORRECTIVE_ACTION

KIND = "corrective_action"
SOURCES = ("audit", "compliance", "deviation", "complaint", "other")
CONTAIN_DAYS = 7  # containment and correction are due within a week of the nonconformity being raised
ANALYSE_DAYS = 14  # the cause analysis and the action plan within two weeks of containment
REPORT_DAYS = 14  # the report within two weeks of the effectiveness review
REVIEW_AFTER_DAYS = 30  # default interval between implementation and the effectiveness review
MAX_REVIEW_AFTER_DAYS = 365
MAX_ACTIONS = 20
MAX_ACTION_TEXT = 300  # an action is a title-sized sentence: it is shown in its owner's task title
REVIEWER_POSITION = "strategy_manager"  # the lead reviews effectiveness (an internal auditor may too)
REPORT_DEPARTMENT = "carbon_management"
WRITABLE = ("description", "containment", "correction", "root_cause", "similar", "effectiveness")
MSG = "processes.corrective_action."

PROCESS = register(Process(KIND, "NC", CORRECTIVE_ACTION, clause="R-10.2", owner_position="strategy_manager",
                           report_template="corrective_action_report"))


# ---------------------------------------------------------------- case data and stage checks

def round_of(case: Case) -> int:
    """Analysis rounds: 1, then one more after each ineffective review."""
    return int(cases.data_of(case).get("round", 1))


def _require_stage(case: Case, stage: str, step: str) -> None:
    """A step that keeps the case in its stage is taken in that stage only (the lifecycle's own message)."""
    if case.status != stage:
        raise InvalidTransition("error.invalid_transition", action=Message(f"{MSG}step.{step}"),
                                state=CORRECTIVE_ACTION.label(case.status))


# ---------------------------------------------------------------- stage hooks and automatic steps

def _contain_task(cmd: Command, case: Case) -> None:
    cases.stage_task(cmd, case, "contain", title_key="processes.task.nc_contain",
                     due=cmd.uow.clock.today() + timedelta(days=CONTAIN_DAYS),
                     position=cases.data_of(case).get("owner_position") or PROCESS.owner_position)


def _analyse_task(cmd: Command, case: Case) -> None:
    # one task per round: an ineffective review sends the case back to a new analysis
    cases.stage_task(cmd, case, f"analyse{round_of(case)}", title_key="processes.task.nc_analyse",
                     due=cmd.uow.clock.today() + timedelta(days=ANALYSE_DAYS), position=PROCESS.owner_position)


def _review_task(cmd: Command, case: Case) -> None:
    """The effectiveness review is due the set interval after the implementation (R-10.1 d)."""
    data = cases.data_of(case)
    due = cmd.uow.clock.today() + timedelta(days=int(data.get("review_after_days", REVIEW_AFTER_DAYS)))
    cases.set_data(cmd, case, review_due=due.isoformat())
    cases.stage_task(cmd, case, f"review{round_of(case)}", title_key="processes.task.nc_review", due=due,
                     position=REVIEWER_POSITION, params={"due": due.isoformat()})


def _report_task(cmd: Command, case: Case) -> None:
    cases.stage_task(cmd, case, "report", title_key="processes.task.nc_report",
                     due=cmd.uow.clock.today() + timedelta(days=REPORT_DAYS), position=PROCESS.owner_position)


def _actions_done(uow, case: Case) -> bool:
    return cases.tasks_done(uow, case, "action")


PROCESS.on_enter["containing"] = _contain_task
PROCESS.on_enter["analysing"] = _analyse_task
PROCESS.on_enter["verifying"] = _review_task
PROCESS.on_enter["reporting"] = _report_task
PROCESS.auto["implementing"] = [AutoStep("implementation_done", _actions_done)]
PROCESS.auto["in_review"] = [AutoStep("report_returned", cases.report_returned),
                             AutoStep("report_approved", cases.report_approved)]


# ---------------------------------------------------------------- opening

@command("processes.corrective_action.open", action="open", resource=cases.new_case_at(KIND),
         audit_object=cases.AUDIT_OBJECT)
def raise_nonconformity(cmd: Command, *, site: str, source: str, description: str, key: str | None = None,
                        source_ref: str = "", parent_number: str | None = None,
                        owner_position: str | None = None, department: str | None = None):
    """Open the case of a nonconformity (R-10.1 a): its source, what was found, the position that owns it.
    `key` makes it idempotent for a source that raises it by itself (a finding raises one case)."""
    from cms_workflows.access import known_position_codes

    found = cases.text_problem("description", description)
    if source not in SOURCES:
        found.append(problem("source", "processes.problem.unknown_choice", value=shown(source),
                             known=", ".join(SOURCES)))
    if owner_position is not None and owner_position not in known_position_codes():
        found.append(problem("owner_position", "processes.problem.unknown_position", value=shown(owner_position)))
    if found:
        raise ValidationFailed("processes.invalid_input", number="-", problems=found)
    parent = cases.get_case(cmd.uow, parent_number) if parent_number else None
    # without a key every call is a nonconformity of its own (two raised in the same instant included)
    key = key or f"{KIND}:{source}:{uuid.uuid4().hex}"
    case = cases.open_case(cmd, KIND, key=key, site=site, trigger=source, trigger_ref=source_ref, parent=parent,
                           year=cmd.uow.clock.today().year,
                           data={"source": source, "owner_position": owner_position or PROCESS.owner_position,
                                 "department": department, "round": 1})
    cases.write_texts(cmd, case, {"description": description}, required=("description",))
    return case


def ensure_nonconformity(uow, actor: str, *, key: str, **fields):
    """The nonconformity case of `key`, raised if there is none yet (a finding raised twice raises one)."""
    existing = cases.find_case(uow, key)
    if existing is not None:
        return existing
    return raise_nonconformity(uow, actor, key=key, **fields)


# ---------------------------------------------------------------- containing

def _owner_or_lead(control, uow, actor: str, action: str, resource: Resource) -> Grant:
    """Containment is done by a holder of the case's owner position at its site, or by the lead."""
    case: Case = resource.subject
    owner = cases.data_of(case).get("owner_position") or PROCESS.owner_position
    if owner in control.positions_held(uow, actor, case.site):
        return Grant(username=actor, position=owner, site=case.site)
    return control.decide(uow, actor, "manage", resource)


@command("processes.corrective_action.contain", action="act", resource=cases.case_loader, authorize=_owner_or_lead,
         audit_object=cases.AUDIT_OBJECT)
def contain(cmd: Command, number: str, containment: str, correction: str) -> Case:
    """R-10.1 a: what was done to control the nonconformity and to correct it (and its consequences)."""
    case = cmd.subject
    cases.check_move(case, "contain")
    cases.write_texts(cmd, case, {"containment": containment, "correction": correction},
                      required=("containment", "correction"))
    cases.settle_task(cmd, case, "contain", outcome="contained")
    cases.move(cmd, case, "contain")
    return case


# ---------------------------------------------------------------- analysing

_LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{2,}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
SHARED_WORDS = 4  # shared words (Chinese: two-character pieces) for a description to count as similar


def _words(text: str) -> set[str]:
    words = {w.lower() for w in _LATIN_WORD.findall(text or "")}
    for run in _CJK_RUN.findall(text or ""):
        words |= {run[i:i + 2] for i in range(len(run) - 1)}
    return words


def similar(uow, case: Case) -> list[dict]:
    """Other nonconformities like this one (R-10.1 b): the same site, source and owner position, or a
    description sharing words with this one's; each with why it was found."""
    data, mine = cases.data_of(case), _words(cases.text(uow, case, "description"))
    others = uow.exec(select(Case).where(Case.kind == KIND, Case.id != case.id, Case.status != "cancelled")
                      .order_by(Case.id)).all()
    found = []
    for other in others:
        odata, reasons = cases.data_of(other), []
        if (other.site, odata.get("source"), odata.get("owner_position")) == (
                case.site, data.get("source"), data.get("owner_position")):
            reasons.append("same_origin")
        description = cases.text(uow, other, "description")
        shared = mine & _words(description)
        if len(shared) >= SHARED_WORDS:
            reasons.append("shared_words")
        if reasons:
            found.append({"number": other.number, "status": other.status, "site": other.site,
                          "source": odata.get("source"), "description": description, "reasons": reasons,
                          "shared_words": sorted(shared)})
    return found


@command("processes.corrective_action.analyse", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def analyse(cmd: Command, number: str, root_cause: str, similar_conclusion: str) -> list[dict]:
    """R-10.1 b: the cause, and the search for similar nonconformities with the analyst's conclusion on
    what it found (recorded with the cases it showed). Returns the similar cases."""
    case = cmd.subject
    _require_stage(case, "analysing", "analyse")
    cases.write_texts(cmd, case, {"root_cause": root_cause, "similar": similar_conclusion},
                      required=("root_cause", "similar"))
    found = similar(cmd.uow, case)
    cases.add_item(cmd, case, "similar_search", {"round": round_of(case), "found": [f["number"] for f in found],
                                                 "conclusion": similar_conclusion.strip()})
    cases.touch(cmd, case)
    return found


def _analysed(uow, case: Case) -> bool:
    return any(cases.item_data(i).get("round") == round_of(case) for i in cases.items(uow, case, "similar_search"))


def _parse_due(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _action_problems(uow, actions, today: date) -> tuple[list[dict], list[dict]]:
    """(problems, clean actions) of an action plan: each problem names its field and row."""
    from cms_workflows.org.models import User

    if not isinstance(actions, list) or not actions:
        return [problem("actions", "processes.problem.required")], []
    if len(actions) > MAX_ACTIONS:
        return [problem("actions", "processes.corrective_action.problem.too_many_actions", limit=MAX_ACTIONS)], []
    found, clean = [], []
    for row, entry in enumerate(actions, start=1):
        entry = entry if isinstance(entry, dict) else {}
        text_found = cases.text_problem("action", entry.get("action"), limit=MAX_ACTION_TEXT)
        found += [{**p, "row": row} for p in text_found]
        owner = entry.get("owner")
        if not isinstance(owner, str) or not uow.exec(
                select(User.id).where(User.username == owner, User.active == True)).first():  # noqa: E712
            found.append(problem("owner", "processes.corrective_action.problem.unknown_user", row=row, value=shown(owner)))
        due = _parse_due(entry.get("due"))
        if due is None:
            found.append(problem("due", "processes.corrective_action.problem.bad_date", row=row, value=shown(entry.get("due"))))
        elif due < today:
            found.append(problem("due", "processes.corrective_action.problem.due_past", row=row, due=due.isoformat()))
        if not text_found and due is not None:
            clean.append({"action": str(entry["action"]).strip(), "owner": owner, "due": due})
    return found, clean


def _document_problem(uow, number) -> list[dict]:
    from cms_workflows.documents.models import Document

    if not isinstance(number, str) or not uow.exec(select(Document.id).where(Document.number == number)).first():
        return [problem("system_change", "processes.corrective_action.problem.unknown_document", value=shown(number))]
    return []


@command("processes.corrective_action.plan_actions", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def plan_actions(cmd: Command, number: str, actions: list[dict], review_after_days: int = REVIEW_AFTER_DAYS,
                 system_change: str | None = None) -> Case:
    """R-10.1 c, e: the action plan, each action a task of its owner (a named user) due its date; the
    effectiveness review's interval; where the system must change, the revision of that document is opened
    (by the acting user, its change reason naming the nonconformity) and linked to the case."""
    from cms_workflows.documents import service as docs

    case, uow = cmd.subject, cmd.uow
    cases.check_move(case, "plan_actions")
    found, clean = _action_problems(uow, actions, uow.clock.today())
    if not _analysed(uow, case):
        found.append(problem("root_cause", "processes.corrective_action.problem.analyse_first"))
    if isinstance(review_after_days, bool) or not isinstance(review_after_days, int) \
            or not 1 <= review_after_days <= MAX_REVIEW_AFTER_DAYS:
        found.append(problem("review_after_days", "processes.corrective_action.problem.review_after_days", limit=MAX_REVIEW_AFTER_DAYS,
                             value=shown(review_after_days)))
    if system_change is not None:
        found += _document_problem(uow, system_change)
    if found:
        raise cases.invalid(case, found)
    current = round_of(case)
    for entry in clean:
        item = cases.add_item(cmd, case, "action", {**entry, "round": current}, status="planned")
        key = cases.task_key(case, f"action{item.seq}")
        cases.stage_task(cmd, case, f"action{item.seq}", title_key="processes.task.nc_action", due=entry["due"],
                         assignee=entry["owner"], params={"action": entry["action"]})
        cases.change_item(cmd, item, task_key=key)
    cases.set_data(cmd, case, review_after_days=review_after_days)
    if system_change is not None:
        reason = t("processes.corrective_action.change_reason", locale="zh-CN", number=case.number,
                   description=_short(cases.text(uow, case, "description")))
        rev = docs.edit(uow, cmd.actor, system_change, change_reason=reason)
        cases.add_item(cmd, case, "document_change", {"document": system_change, "revision": rev.label,
                                                      "change_reason": reason, "round": current})
        cases.set_data(cmd, case, system_change={"document": system_change, "revision": rev.label})
    cases.settle_task(cmd, case, f"analyse{current}", outcome="planned")
    cases.move(cmd, case, "plan_actions")
    return case


def _short(text: str, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------- verifying

def action_owners(uow, case: Case) -> frozenset[str]:
    return frozenset(cases.item_data(i)["owner"] for i in cases.items(uow, case, "action"))


def _review_loader(uow, number: str, *_args, **_kwargs) -> Resource:
    """The case with the action owners as its authors: the action owner never reviews effectiveness
    (`review_effectiveness` is own-work-forbidden in the access vocabulary)."""
    case = cases.get_case(uow, number, lock=True)
    return cases.resource_of(case, authors=action_owners(uow, case))


@command("processes.corrective_action.review_effectiveness", action="review_effectiveness",
         resource=_review_loader, audit_object=cases.AUDIT_OBJECT)
def review_effectiveness(cmd: Command, number: str, effective: bool, evidence: str) -> Case:
    """R-10.1 d: once the set interval after implementation has passed, someone other than the action
    owners reviews whether the actions worked, with the evidence. Ineffective: back to analysis."""
    case, uow = cmd.subject, cmd.uow
    cases.check_move(case, "review_effective")
    found = cases.text_problem("evidence", evidence)
    if not isinstance(effective, bool):
        found.append(problem("effective", "processes.corrective_action.problem.yes_or_no", value=shown(effective)))
    if found:
        raise cases.invalid(case, found)
    due = date.fromisoformat(cases.data_of(case)["review_due"])
    if uow.clock.today() < due:
        raise InvalidTransition("processes.corrective_action.review_too_early", number=case.number, due=due.isoformat())
    current = round_of(case)
    cases.write_texts(cmd, case, {"effectiveness": evidence}, required=("effectiveness",))
    cases.add_item(cmd, case, "review", {"round": current, "effective": effective, "reviewer": cmd.actor,
                                         "position": cmd.grant.position, "reviewed_on": uow.clock.today().isoformat(),
                                         "evidence": evidence.strip()},
                   status="effective" if effective else "ineffective")
    cases.settle_task(cmd, case, f"review{current}", outcome="effective" if effective else "ineffective")
    if effective:
        cases.move(cmd, case, "review_effective")
    else:
        cases.set_data(cmd, case, round=current + 1)
        cases.move(cmd, case, "review_ineffective")
    return case


# ---------------------------------------------------------------- reporting

@command("processes.corrective_action.write", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def write(cmd: Command, number: str, texts: dict[str, str]) -> Case:
    """Correct texts of the case (after the report was returned, say): only the case's own fields."""
    case = cmd.subject
    unknown = sorted(set(texts or {}) - set(WRITABLE))
    if not texts or unknown:
        raise cases.invalid(case, [problem("texts", "processes.problem.unknown_choice", value=shown(", ".join(unknown)),
                                known=", ".join(WRITABLE))])
    cases.touch(cmd, case)
    cases.write_texts(cmd, case, texts)
    return case


@command("processes.corrective_action.draft_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def draft_report(cmd: Command, number: str) -> str:
    """The corrective action report drafted from the case (its author: the acting person)."""
    from cms_workflows.processes import reports_corrective_action as report

    case = cmd.subject
    _require_stage(case, "reporting", "draft_report")
    content = report.content(cmd.uow, case)
    cases.touch(cmd, case)
    return cases.draft_report(cmd, case, title=t("processes.corrective_action.report.title", locale="zh-CN", number=case.number),
                              content=content, owner_department=REPORT_DEPARTMENT)


@command("processes.corrective_action.submit_report", action="manage", resource=cases.case_loader,
         audit_object=cases.AUDIT_OBJECT)
def submit_report(cmd: Command, number: str) -> Case:
    """The drafted report goes along the route of reports; the case waits in review."""
    from cms_workflows.processes import reports_corrective_action as report

    case = cmd.subject
    cases.check_move(case, "submit_report")
    if case.document_number is None:
        raise InvalidTransition("processes.corrective_action.no_report", number=case.number)
    report.content(cmd.uow, case)  # a missing input blocks submission, naming each
    cases.submit_report(cmd, case)
    cases.settle_task(cmd, case, "report", outcome="submitted", record=case.document_number)
    return case
