"""Task commands (X-3): create, claim, release, complete, cancel; a recipient's language.

Each goes through the command pipeline (`audit.commands`): the task row is loaded (locked) to know
its site, the user is authorized, the state is checked against `states.TASK`, the change made, its
notifications written to the outbox and the event appended, all in the caller's unit of work; a
refused command writes nothing.

Who may work on a task is decided by the task itself, not by a policy line: a task for a position
at a site may be claimed, released and completed by a holder of that position counting at that site
(a claimed task by its claimer only); a task for a named user by that user only. Creating a task
(the sweep, the carbon management lead) and cancelling one are permissions of `policy.csv`.
"""

from __future__ import annotations

import json
import re
from datetime import date

from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE, Grant, PositionNames, Resource, known_position_codes
from cms_workflows.audit.commands import Command, command
from cms_workflows.core import limits
from cms_workflows.core.errors import AccessDenied, Conflict, ValidationFailed, problem
from cms_workflows.core.i18n import LOCALES, catalog, normalize
from cms_workflows.core.text import forbidden_char, shown, text_problems
from cms_workflows.org.models import User
from cms_workflows.org.queries import site_codes
from cms_workflows.tasks import evidence, outbox, routing
from cms_workflows.tasks.models import RecipientPreference, Task
from cms_workflows.tasks.queries import find_by_key
from cms_workflows.tasks.schedule import require_state, schedule, task_loader
from cms_workflows.tasks.states import EvidenceKind

ASSIGNEE = "assignee"  # the position recorded for the named user of a task
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+\-]{0,199}$")
CLAUSE_RE = re.compile(r"^[RX]-\d+(\.\d+)*$")
MAX_OUTCOME, MAX_COMMENT, MAX_REASON, MAX_PARAMS = 200, 2000, 500, 2000


# ---------------------------------------------------------------- create

def _new_task_at(uow, *_args, site: str = COMPANY_WIDE, **_kwargs) -> Resource:
    return Resource("task", site=site)


def _params_problems(title_key: str, params) -> list[dict]:
    found = []
    if not all(title_key in catalog(loc) for loc in LOCALES):
        found.append(problem("title_key", "tasks.problem.unknown_title_key", value=shown(title_key)))
    if not isinstance(params, dict) or any(not isinstance(k, str) or not isinstance(v, (str, int, float))
                                           for k, v in params.items()):
        found.append(problem("title_params", "tasks.problem.bad_params"))
    elif len(json.dumps(params, ensure_ascii=False)) > MAX_PARAMS:
        found.append(problem("title_params", "tasks.problem.bad_params"))
    return found


def _create_problems(uow, key, title_key, params, clause, site, position, assignee, due, evidence_kind) -> list:
    found = []
    if not isinstance(key, str) or not KEY_RE.match(key):
        found.append(problem("key", "tasks.problem.bad_key", value=shown(key)))
    found += _params_problems(title_key, params)
    if not isinstance(clause, str) or not CLAUSE_RE.match(clause):
        found.append(problem("clause", "tasks.problem.bad_clause", clause=shown(clause)))
    if site != COMPANY_WIDE and site not in site_codes(uow):
        found.append(problem("site", "tasks.problem.unknown_site", site=shown(site)))
    if (position is None) == (assignee is None):
        found.append(problem("position", "tasks.problem.one_assignee"))
    elif position is not None and position not in known_position_codes():
        found.append(problem("position", "tasks.problem.unknown_position", position=shown(position)))
    elif assignee is not None and not uow.exec(
            select(User.id).where(User.username == assignee, User.active == True)).first():  # noqa: E712
        found.append(problem("assignee", "tasks.problem.unknown_user", username=shown(assignee)))
    if not isinstance(due, date):
        found.append(problem("due", "tasks.problem.bad_due"))
    if evidence_kind not in {k.value for k in EvidenceKind}:
        found.append(problem("evidence", "tasks.problem.bad_evidence_kind", kind=shown(evidence_kind),
                             known=", ".join(k.value for k in EvidenceKind)))
    return found


@command("tasks.task.create", action="create", resource=_new_task_at, audit_object="task_task")
def create(cmd: Command, *, key: str, title_key: str, clause: str, site: str, due: date,
           title_params: dict | None = None, position: str | None = None, assignee: str | None = None,
           reminder_days=routing.DEFAULT_REMINDERS, escalation=routing.DEFAULT_ESCALATION,
           evidence: str = EvidenceKind.NONE) -> Task:
    """A new task, assigned to a position at a site or to a named user; its assignees are notified."""
    uow, params = cmd.uow, title_params or {}
    reminder_days, escalation = list(reminder_days), [dict(s) for s in escalation]
    found = _create_problems(uow, key, title_key, params, clause, site, position, assignee, due, evidence)
    found += routing.reminder_problems(reminder_days) + routing.chain_problems(escalation)
    if found:
        raise ValidationFailed("tasks.invalid_task", problems=found)
    if find_by_key(uow, key) is not None:
        raise Conflict("tasks.duplicate_key", task_key=key)
    task = Task(key=key, title_key=title_key, title_params=json.dumps(params, ensure_ascii=False, sort_keys=True),
                clause=clause, site=site, position=position, assignee=assignee, due=due,
                reminder_days=json.dumps(sorted(reminder_days, reverse=True)), escalation=json.dumps(escalation),
                evidence_kind=evidence, created_by=cmd.actor, created_at=uow.clock.now(), updated_at=uow.clock.now())
    schedule(uow, task)
    uow.add(task)
    uow.flush()
    recipients = routing.assignees(uow, task)
    outbox.enqueue(uow, task, "assigned", recipients)
    cmd.object_id = task.id
    cmd.payload = {"key": key, "title_key": title_key, "title_params": params, "clause": clause, "site": site,
                   "position": position, "assignee": assignee, "due": due, "reminder_days": reminder_days,
                   "escalation": escalation, "evidence": evidence, "notified": recipients}
    return task


def ensure_task(uow, actor: str, *, key: str, **fields) -> Task:
    """The task with this key, created (audited) if there is none yet: a generator that runs twice
    creates nothing new. An existing task is returned as it is."""
    existing = find_by_key(uow, key)
    if existing is not None:
        return existing
    return create(uow, actor, key=key, **fields)


# ---------------------------------------------------------------- working on a task

def _authorize_worker(control, uow, actor: str, action: str, resource: Resource) -> Grant:
    """A task's named user, or a holder of its position counting at its site (see the module's docstring)."""
    task: Task = resource.subject
    if task.assignee:
        if actor != task.assignee:
            raise AccessDenied("tasks.not_assignee", username=actor, task=task.id, assignee=task.assignee)
        return Grant(username=actor, position=ASSIGNEE, site=task.site)
    if task.position not in control.positions_held(uow, actor, task.site):
        raise AccessDenied("tasks.not_holder", username=actor, task=task.id,
                           positions=PositionNames([task.position]), site=task.site)
    return Grant(username=actor, position=task.position, site=task.site)


def _changed(cmd: Command, task: Task, payload: dict) -> None:
    task.sequence += 1
    task.updated_at = cmd.uow.clock.now()
    schedule(cmd.uow, task)
    cmd.uow.add(task)
    cmd.object_id = task.id
    cmd.payload = {"key": task.key, "status": task.status, **payload}


def _require_claimer(cmd: Command, task: Task) -> None:
    if task.claimed_by and task.claimed_by != cmd.actor:
        raise AccessDenied("tasks.claimed_by_other", username=cmd.actor, task=task.id, claimed_by=task.claimed_by)


@command("tasks.task.claim", action="claim", resource=task_loader, authorize=_authorize_worker,
         audit_object="task_task")
def claim(cmd: Command, task_ref: int | str) -> Task:
    """A holder of the task's position takes it: the others no longer see it as theirs."""
    task: Task = cmd.subject
    if task.assignee:
        raise Conflict("tasks.not_claimable", task=task.id, assignee=task.assignee)
    task.status = require_state(task, "claim_task")
    task.claimed_by, task.claimed_at = cmd.actor, cmd.uow.clock.now()
    _changed(cmd, task, {"claimed_by": cmd.actor})
    return task


@command("tasks.task.release", action="claim", resource=task_loader, authorize=_authorize_worker,
         audit_object="task_task")
def release(cmd: Command, task_ref: int | str) -> Task:
    """The claimer gives the task back to every holder of its position."""
    task: Task = cmd.subject
    task.status = require_state(task, "release_task")
    _require_claimer(cmd, task)
    task.claimed_by, task.claimed_at = None, None
    _changed(cmd, task, {"released_by": cmd.actor})
    return task


def _evidence_given(file, document, record) -> list[str]:
    return [k for k, v in ((EvidenceKind.FILE, file), (EvidenceKind.DOCUMENT, document), (EvidenceKind.RECORD, record))
            if v is not None]


def _store_evidence(cmd: Command, task: Task, file, document, record) -> tuple[str | None, str | None]:
    """(evidence_ref, file name) of the evidence given, checked against the kind the task requires."""
    given = _evidence_given(file, document, record)
    if len(given) > 1:
        raise ValidationFailed("tasks.invalid_completion", problems=[problem("evidence", "tasks.problem.one_evidence")])
    if task.evidence_kind != EvidenceKind.NONE and given != [task.evidence_kind]:
        raise ValidationFailed("tasks.evidence_required", task=task.id,
                               kind=evidence.kind_label(task.evidence_kind))
    if not given:
        return None, None
    if given[0] == EvidenceKind.FILE:
        name, data = file
        limits.check("max_upload_bytes", len(data))
        if not data or not name or forbidden_char(name) or len(name) > 300:
            raise ValidationFailed("tasks.invalid_completion", problems=[problem("file", "tasks.problem.bad_file")])
        return f"file:{cmd.uow.files.put(data).sha256}", name
    if given[0] == EvidenceKind.DOCUMENT:
        return f"document:{evidence.document_revision(cmd.uow, cmd.actor, document)}", None
    record = (record or "").strip()
    if not record or len(record) > 200 or forbidden_char(record):
        raise ValidationFailed("tasks.invalid_completion", problems=[problem("record", "tasks.problem.bad_record")])
    return f"record:{record}", None


@command("tasks.task.complete", action="complete", resource=task_loader, authorize=_authorize_worker,
         audit_object="task_task")
def complete(cmd: Command, task_ref: int | str, *, outcome: str, comment: str = "",
             file: tuple[str, bytes] | None = None, document: str | None = None, record: str | None = None) -> Task:
    """The task is done, with its outcome, a comment and the evidence its kind requires."""
    task: Task = cmd.subject
    target = require_state(task, "complete_task")
    _require_claimer(cmd, task)
    outcome, comment = (outcome or "").strip(), (comment or "").strip()
    found = [] if outcome and len(outcome) <= MAX_OUTCOME else [
        problem("outcome", "tasks.problem.outcome", max=MAX_OUTCOME)]
    if len(comment) > MAX_COMMENT:
        found.append(problem("comment", "tasks.problem.comment", max=MAX_COMMENT))
    found += text_problems({"outcome": outcome}) + text_problems({"comment": comment}, multiline=True)
    if found:
        raise ValidationFailed("tasks.invalid_completion", problems=found)
    task.evidence_ref, task.evidence_name = _store_evidence(cmd, task, file, document, record)
    task.status, task.outcome, task.comment = target, outcome, comment
    task.claimed_by = task.claimed_by or (None if task.assignee else cmd.actor)
    task.completed_by, task.completed_at = cmd.actor, cmd.uow.clock.now()
    _changed(cmd, task, {"outcome": outcome, "comment": comment, "evidence": task.evidence_ref,
                         "evidence_name": task.evidence_name})
    return task


@command("tasks.task.resolve", action="resolve", resource=task_loader, audit_object="task_task")
def resolve(cmd: Command, task_ref: int | str, *, done_by: str, outcome: str, record: str) -> Task:
    """The system agent marks a task done whose work was recorded elsewhere (a case step entered, a
    report approved through its route): `done_by` is the person who did it, `record` where it is."""
    task: Task = cmd.subject
    target = require_state(task, "complete_task")
    task.status, task.outcome = target, (outcome or "")[:MAX_OUTCOME]
    task.evidence_ref = f"record:{record}"[:300]
    task.claimed_by = task.claimed_by or (None if task.assignee else done_by)
    task.completed_by, task.completed_at = done_by, cmd.uow.clock.now()
    _changed(cmd, task, {"outcome": task.outcome, "done_by": done_by, "evidence": task.evidence_ref})
    return task


@command("tasks.task.cancel", action="cancel", resource=task_loader, audit_object="task_task")
def cancel(cmd: Command, task_ref: int | str, reason: str) -> Task:
    """The carbon management lead cancels a task that is no longer needed, with the reason."""
    task: Task = cmd.subject
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON or forbidden_char(reason, multiline=True):
        raise ValidationFailed("tasks.invalid_cancel", problems=[problem("reason", "tasks.problem.reason",
                                                                         max=MAX_REASON)])
    task.status = require_state(task, "cancel_task")
    task.cancelled_by, task.cancel_reason = cmd.actor, reason
    _changed(cmd, task, {"reason": reason})
    return task


# ---------------------------------------------------------------- a recipient's language

def _own_preference(uow, username: str, *_args, **_kwargs) -> Resource:
    return Resource("notification", id=username)


def _authorize_self(control, uow, actor: str, action: str, resource: Resource) -> Grant:
    if actor != resource.id:
        raise AccessDenied("tasks.own_preference_only", username=actor, other=resource.id)
    return Grant(username=actor, position="self", site=COMPANY_WIDE)


@command("tasks.preference.set", action="read", resource=_own_preference, authorize=_authorize_self,
         audit_object="task_recipient_pref")
def set_locale(cmd: Command, username: str, locale: str) -> RecipientPreference:
    """The language a user's own notifications are written in."""
    if not isinstance(locale, str) or locale.lower() not in {loc.lower() for loc in LOCALES}:
        raise ValidationFailed("tasks.bad_locale", language=shown(locale), known=", ".join(LOCALES))
    pref = cmd.uow.get(RecipientPreference, username) or RecipientPreference(username=username, locale="")
    pref.locale = normalize(locale)
    cmd.uow.add(pref)
    cmd.object_id = username
    cmd.payload = {"username": username, "locale": pref.locale}
    return pref
