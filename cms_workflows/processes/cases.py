"""What every PDCA case does the same way (issue 11): open, move through its lifecycle, collect texts and
items, give its human steps to people as tasks, and end in its controlled report.

The helpers here run inside a command of a process module (`cmd`: the pipeline's running command), so the
change, its checks and its audit event are one unit of work. Every case event is recorded on the object
`proc_case` with the case number as its id: the case's timeline is the trail itself (`queries.timeline`).

- `open_case` is idempotent by key (what the case is of: "carbon_review:annual:2026"), numbered per
  process and year (CR-2026-01).
- `move` takes a transition of the case's lifecycle (refusing one its state does not allow, naming both
  in the reader's language), records it in the event and runs the process's hook for the new stage.
- Stage tasks are tasks of the tasks module with the key "case:<number>:<name>", created by the system
  agent and idempotent: a stage entered again (a flow run twice) creates no second task.
- The report is a document of the register, drafted by a person of the case from the case's data and
  decided through the document route of its type; the engine follows the route's outcome.
"""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import func, select

from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.audit.commands import Command
from cms_workflows.core.errors import NotFound, ValidationFailed, problem
from cms_workflows.core.text import forbidden_char, shown
from cms_workflows.processes.models import Case, CaseItem, CaseText
from cms_workflows.processes.registry import Process, process

SYSTEM = "system"  # the identity of automatic work (position system_agent)
AUDIT_OBJECT = "proc_case"
TASK_PREFIX = "case:"
MAX_TEXT = 4000


# ---------------------------------------------------------------- loading

def get_case(uow, number: str, *, lock: bool = False) -> Case:
    q = select(Case).where(Case.number == str(number))
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    case = uow.exec(q).first()
    if case is None:
        raise NotFound("processes.unknown_case", number=shown(number))
    return case


def find_case(uow, key: str) -> Case | None:
    return uow.exec(select(Case).where(Case.key == key)).first()


def resource_of(case: Case, *, authors: frozenset[str] = frozenset(), department: str | None = None) -> Resource:
    return Resource(f"case.{case.kind}", site=case.site, id=case.number, authors=authors, department=department,
                    subject=case)


def case_loader(uow, number: str, *_args, **_kwargs) -> Resource:
    """The pipeline's loader of a case command: the case, locked, at its site."""
    return resource_of(get_case(uow, number, lock=True))


def new_case_at(kind: str):
    def loader(uow, *_args, site: str = COMPANY_WIDE, **_kwargs) -> Resource:
        return Resource(f"case.{kind}", site=site)

    return loader


def data_of(case: Case) -> dict:
    return json.loads(case.data or "{}")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def set_data(cmd: Command, case: Case, **changes) -> dict:
    """Change fields of the case's plan (its `data`), recorded in the command's event; the whole data."""
    data = {**data_of(case), **changes}
    case.data = _json(data)
    cmd.uow.add(case)
    cmd.payload.setdefault("data", {}).update(changes)
    return data


def day_text(value: date | str | None, locale: str = "zh-CN") -> str:
    """A day as a report writes it (the reports are Chinese documents); "" for none."""
    from cms_workflows.core.i18n import t

    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return t("processes.date", locale=locale, year=day.year, month=day.month, day=day.day)


def invalid(case_or_number, found: list[dict]) -> ValidationFailed:
    """The refusal of a case command's input: every problem by field, naming the case ("-" before one exists)."""
    return ValidationFailed("processes.invalid_input", number=getattr(case_or_number, "number", case_or_number),
                            problems=found)


def display_name(uow, username: str) -> str:
    """A person as a report names them (their name, not their login)."""
    from cms_workflows.org.models import User

    user = uow.exec(select(User).where(User.username == username)).first()
    return user.display_name if user else username


# ---------------------------------------------------------------- opening and moving

def _next_number(uow, proc: Process, year: int) -> str:
    stem = f"{proc.prefix}-{year}-"
    taken = uow.exec(select(func.count()).select_from(Case).where(Case.number.like(stem + "%"))).one()
    return f"{stem}{taken + 1:02d}"


def open_case(cmd: Command, kind: str, *, key: str, site: str, trigger: str, trigger_ref: str = "",
              year: int | None = None, period: tuple[date, date] | None = None, due: date | None = None,
              parent: Case | None = None, data: dict | None = None) -> Case:
    """A new case of `kind` (the caller checked `find_case(key)` first: one case per key)."""
    proc, uow = process(kind), cmd.uow
    now = uow.clock.now()
    case = Case(number=_next_number(uow, proc, year or uow.clock.today().year), key=key, kind=kind, site=site,
                status=proc.lifecycle.initial.value, trigger=trigger, trigger_ref=trigger_ref[:200],
                parent_id=parent.id if parent else None, year=year,
                period_start=period[0] if period else None, period_end=period[1] if period else None, due=due,
                data=_json(data or {}),
                opened_by=cmd.actor, opened_at=now, stage_since=now, updated_at=now)
    uow.add(case)
    uow.flush()
    cmd.object_id = case.number
    cmd.payload.update({"kind": kind, "key": key, "site": site, "status": case.status, "trigger": trigger,
                        "trigger_ref": case.trigger_ref, "year": year, "parent": parent.number if parent else None,
                        "period": [d.isoformat() for d in period] if period else None,
                        "due": due.isoformat() if due else None, "data": data or {}})
    enter = proc.on_enter.get(case.status)
    if enter is not None:
        enter(cmd, case)
    return case


def check_move(case: Case, command: str) -> str:
    """The state `command` leads to from the case's state, or a clear InvalidTransition."""
    return process(case.kind).lifecycle.target(case.status, command)


def move(cmd: Command, case: Case, command: str) -> str:
    """Take the transition, record it in the command's event and run the new stage's hook."""
    proc, uow = process(case.kind), cmd.uow
    before, target = case.status, check_move(case, command)
    now = uow.clock.now()
    case.status, case.updated_at = target, now
    if target != before:
        case.stage_since = now
    if target in ("approved", "closed", "cancelled"):
        case.closed_at = now
    uow.add(case)
    uow.flush()
    cmd.object_id = case.number
    cmd.payload.update({"transition": command, "from": before, "to": target})
    enter = proc.on_enter.get(target) if target != before else None
    if enter is not None:
        enter(cmd, case)
    return target


def touch(cmd: Command, case: Case) -> None:
    """A write that leaves the stage as it is (a text, an item): allowed in an open stage only."""
    check_move(case, "write")
    case.updated_at = cmd.uow.clock.now()
    cmd.uow.add(case)
    cmd.object_id = case.number


# ---------------------------------------------------------------- texts and items

def text_problem(field: str, text: str | None, *, required: bool = True, limit: int = MAX_TEXT) -> list[dict]:
    text = (text or "").strip()
    if not text:
        return [problem(field, "processes.problem.required")] if required else []
    char = forbidden_char(text, multiline=True)
    if char:
        return [problem(field, "core.problem.forbidden_char", char=char)]
    if len(text) > limit:
        return [problem(field, "processes.problem.too_long", length=f"{len(text):,}", limit=f"{limit:,}")]
    return []


def write_texts(cmd: Command, case: Case, texts: dict[str, str | None], *, required: tuple[str, ...] = ()) -> dict:
    """Write the given texts (None: not given) into the case; `required` must be given and not blank.
    Every problem is reported at once, by field; nothing is written if there is one."""
    found = []
    for name, value in texts.items():
        if value is not None or name in required:
            found += text_problem(name, value, required=name in required)
    if found:
        raise invalid(case, found)
    written = {}
    for name, value in texts.items():
        if value is None:
            continue
        cmd.uow.add(CaseText(case_id=case.id, field=name, text=value.strip(), written_by=cmd.actor,
                             written_at=cmd.uow.clock.now()))
        written[name] = value.strip()
    cmd.payload.setdefault("texts", {}).update(written)
    return written


def texts(uow, case: Case) -> dict[str, CaseText]:
    """The latest writing of each field of the case."""
    rows = uow.exec(select(CaseText).where(CaseText.case_id == case.id).order_by(CaseText.id)).all()
    return {row.field: row for row in rows}


def text(uow, case: Case, field: str) -> str:
    row = texts(uow, case).get(field)
    return row.text if row else ""


def add_item(cmd: Command, case: Case, kind: str, data: dict, *, status: str = "", task_key: str | None = None) -> CaseItem:
    seq = cmd.uow.exec(select(func.count()).select_from(CaseItem)
                       .where(CaseItem.case_id == case.id, CaseItem.kind == kind)).one() + 1
    item = CaseItem(case_id=case.id, kind=kind, seq=seq, status=status, task_key=task_key, created_by=cmd.actor,
                    created_at=cmd.uow.clock.now(), data=_json(data))
    cmd.uow.add(item)
    cmd.uow.flush()
    cmd.payload.setdefault("items", []).append({"kind": kind, "seq": seq, "status": status, "data": data})
    return item


def change_item(cmd: Command, item: CaseItem, *, data: dict | None = None, status: str | None = None,
                linked_case: Case | None = None, task_key: str | None = None) -> CaseItem:
    changed: dict = {"kind": item.kind, "seq": item.seq}
    if data is not None:
        merged = {**item_data(item), **data}
        item.data = _json(merged)
        changed["data"] = data
    if status is not None:
        item.status = changed["status"] = status
    if linked_case is not None:
        item.linked_case_id, changed["linked_case"] = linked_case.id, linked_case.number
    if task_key is not None:
        item.task_key = changed["task_key"] = task_key
    item.changed_by, item.changed_at = cmd.actor, cmd.uow.clock.now()
    cmd.uow.add(item)
    cmd.payload.setdefault("changed_items", []).append(changed)
    return item


def items(uow, case: Case, kind: str) -> list[CaseItem]:
    return list(uow.exec(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == kind)
                         .order_by(CaseItem.seq)))


def get_item(uow, case: Case, kind: str, seq: int) -> CaseItem:
    item = uow.exec(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == kind,
                                           CaseItem.seq == seq)).first()
    if item is None:
        raise NotFound("processes.unknown_item", number=case.number, kind=kind, seq=seq)
    return item


def item_data(item: CaseItem) -> dict:
    return json.loads(item.data or "{}")


# ---------------------------------------------------------------- stage tasks

def task_key(case: Case, name: str) -> str:
    return f"{TASK_PREFIX}{case.number}:{name}"


def stage_task(cmd: Command, case: Case, name: str, *, title_key: str, due: date, position: str | None = None,
               assignee: str | None = None, site: str | None = None, params: dict | None = None,
               evidence: str = "none", clause: str | None = None):
    """The task of a human step of the case (created once, by the system agent)."""
    from cms_workflows.tasks import service as tasks

    proc = process(case.kind)
    if position is None and assignee is None:
        position = proc.owner_position
    return tasks.ensure_task(cmd.uow, SYSTEM, key=task_key(case, name), title_key=title_key,
                             title_params={"case": case.number, **(params or {})}, clause=clause or proc.clause,
                             site=site or case.site, due=due, position=position, assignee=assignee, evidence=evidence)


def stage_tasks(uow, case: Case, name_prefix: str = "") -> list:
    from cms_workflows.tasks.models import Task

    like = task_key(case, name_prefix) + "%"
    return list(uow.exec(select(Task).where(Task.key.like(like)).order_by(Task.id)))


def tasks_done(uow, case: Case, name_prefix: str) -> bool:
    """Every task of the stage is done or cancelled (and there is at least one)."""
    found = stage_tasks(uow, case, name_prefix)
    return bool(found) and all(t.status in ("done", "cancelled") for t in found)


def settle_task(cmd: Command, case: Case, name: str, *, outcome: str, record: str | None = None) -> None:
    """The step a task asked for was done through the case itself (a plan entered, a verdict given): its
    task is marked done in the same unit of work, by the person who did it."""
    from cms_workflows.tasks import service as tasks
    from cms_workflows.tasks.queries import find_by_key

    task = find_by_key(cmd.uow, task_key(case, name))
    if task is not None and task.status in ("open", "claimed"):
        tasks.resolve(cmd.uow, SYSTEM, task.id, done_by=cmd.actor, outcome=outcome,
                      record=record or f"{case.number}")


# ---------------------------------------------------------------- the report

def draft_report(cmd: Command, case: Case, *, title: str, content: dict, owner_department: str) -> str:
    """Create the case's report in the document register, or put the new content into its draft (after the
    route returned it); as the acting person, who is then its author. Returns the document number."""
    from cms_workflows.documents import service as docs

    proc = process(case.kind)
    if case.document_number is None:
        rev = docs.create(cmd.uow, cmd.actor, doc_type=proc.report_doc_type, site=case.site, title=title,
                          owner_department=owner_department, template=proc.report_template, content=content)
        from cms_workflows.documents.queries import document_number

        case.document_number = document_number(cmd.uow, rev.document_id)
        cmd.uow.add(case)
    else:
        docs.edit(cmd.uow, cmd.actor, case.document_number, content=content)
    cmd.payload["document"] = case.document_number
    return case.document_number


def submit_report(cmd: Command, case: Case) -> None:
    from cms_workflows.documents import service as docs

    docs.submit(cmd.uow, cmd.actor, case.document_number)
    move(cmd, case, "submit_report")


def route_outcome(uow, case: Case) -> str | None:
    """Where the report's route stands: "approved", "returned" (the draft is back with its author) or None
    (still deciding, or no report)."""
    from cms_workflows.documents.models import Document, Revision

    if not case.document_number:
        return None
    doc = uow.exec(select(Document).where(Document.number == case.document_number)).first()
    latest = uow.exec(select(Revision).where(Revision.document_id == doc.id).order_by(Revision.seq.desc())).first()
    if latest.status in ("approved", "effective", "superseded"):
        return "approved"
    if latest.status == "draft" and latest.round > 0:
        return "returned"
    return None


def report_returned(uow, case: Case) -> bool:
    return route_outcome(uow, case) == "returned"


def report_approved(uow, case: Case) -> bool:
    return route_outcome(uow, case) == "approved"


def missing_inputs(required: dict[str, object]) -> list[str]:
    """The names of the report's inputs that are empty (a report never prints a blank: it says which)."""
    return [name for name, value in required.items() if value in (None, "", [], {})]


def require_inputs(case: Case, required: dict[str, object]) -> None:
    missing = missing_inputs(required)
    if missing:
        raise ValidationFailed("processes.report_inputs_missing", number=case.number,
                               problems=[problem(name, "processes.problem.input_missing") for name in missing])
