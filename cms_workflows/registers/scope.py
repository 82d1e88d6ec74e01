"""R-4.3 Scope and boundary of the carbon management system, versioned.

The carbon management team drafts a scope (sites, production units, activities, products, emission
sources and sinks — each an element with a code), starting from the version in force, and submits
it; top management approves it, which numbers and dates it and supersedes the earlier version. Nobody
approves a draft they drafted or submitted (segregation of duties: `approve` is refused on one's own
work by access). Approved and superseded versions are never changed: only the one open draft is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed, problem
from cms_workflows.core.text import check_text, shown
from cms_workflows.org.queries import site_codes
from cms_workflows.registers import service, tabular
from cms_workflows.registers.models import ScopeElement, ScopeVersion
from cms_workflows.registers.states import SCOPE, ScopeStatus
from cms_workflows.registers.tabular import Column, Register

KINDS = ("site", "production_unit", "activity", "product", "source", "sink")

ELEMENTS = Register("scope", (
    Column("code", required=True, max_length=64),
    Column("kind", "choice", required=True, choices=KINDS),
    Column("name", required=True, max_length=200),
    Column("site", max_length=32),
    Column("note", "multiline", max_length=500),
), sheet="scope")
FIELDS = tuple(c.name for c in ELEMENTS.columns)
ELEMENTS_LABEL = service.Spec(ELEMENTS, ScopeElement, "scope", "SC").label()


def open_draft(uow) -> ScopeVersion | None:
    """The one version being drafted or awaiting approval, if any."""
    return uow.exec(select(ScopeVersion).where(ScopeVersion.status.in_([ScopeStatus.DRAFT, ScopeStatus.SUBMITTED]))).first()


def current(uow) -> ScopeVersion | None:
    return uow.exec(select(ScopeVersion).where(ScopeVersion.status == ScopeStatus.APPROVED)).first()


def elements(uow, scope_id: int) -> list[ScopeElement]:
    return list(uow.exec(select(ScopeElement).where(ScopeElement.scope_id == scope_id).order_by(ScopeElement.kind,
                                                                                               ScopeElement.code)))


def _element_problems(uow, values: dict, row: int | None) -> list[dict]:
    found = service.site_problems(uow, ELEMENTS.field("site"), values.get("site"), row)
    if values.get("kind") == "site" and values.get("code") not in site_codes(uow):
        found.append(problem(ELEMENTS.field("code"), "registers.problem.unknown_site", row=row,
                             value=shown(values.get("code"), 40)))
    return found


# ------------------------------------------------------------------ loaders


def _scope_type(_uow, *_args, **_kwargs) -> Resource:
    return Resource("scope", site=COMPANY_WIDE)


def _the_draft(uow, *_args, **_kwargs) -> Resource:
    """The open draft, editable only in the draft state."""
    draft = open_draft(uow)
    if draft is None:
        raise NotFound("registers.scope_no_draft")
    return Resource("scope", site=COMPANY_WIDE, id=draft.id, subject=draft)


def _submitted(uow, *_args, **_kwargs) -> Resource:
    draft = open_draft(uow)
    if draft is None:
        raise NotFound("registers.scope_no_draft")
    authors = frozenset(a for a in (draft.drafted_by, draft.submitted_by) if a)
    return Resource("scope", site=COMPANY_WIDE, id=draft.id, authors=authors, subject=draft)


# ------------------------------------------------------------------ commands


@command("registers.scope.draft", action="draft", resource=_scope_type, audit_object="reg_scope_version")
def draft(cmd: Command, note: str = "") -> ScopeVersion:
    """Open a new draft, starting from the version in force (R-4.3). One draft at a time."""
    uow = cmd.uow
    check_text("registers.bad_text", multiline=True, note=note)
    if len(note or "") > 1000:
        raise ValidationFailed("registers.invalid_row", register=ELEMENTS_LABEL, problems=[
            problem("note", "registers.problem.too_long", length=f"{len(note):,}", limit="1,000")])
    existing = open_draft(uow)
    if existing is not None:
        raise Conflict("registers.scope_draft_exists", drafted_by=existing.drafted_by)
    base = current(uow)
    version = ScopeVersion(status=SCOPE.initial, note=note or "", drafted_by=cmd.actor, drafted_at=uow.clock.now())
    uow.add(version)
    uow.flush()
    for e in elements(uow, base.id) if base else []:
        uow.add(ScopeElement(scope_id=version.id, **{f: getattr(e, f) for f in FIELDS}))
    uow.flush()
    cmd.object_id = version.id
    cmd.payload = {"from_version": base.version if base else None}
    return version


@command("registers.scope_element.add", action="draft", resource=_the_draft, audit_object="reg_scope_version")
def add_element(cmd: Command, **values) -> ScopeElement:
    """Add an element to the draft, or change the one with the same code."""
    uow, draft_ = cmd.uow, cmd.subject
    SCOPE.target(draft_.status, "edit_scope")
    clean, problems = tabular.validate_values(ELEMENTS, values)
    problems += _element_problems(uow, clean, None) if not problems else []
    if problems:
        raise ValidationFailed("registers.invalid_row", problems=problems, register=ELEMENTS_LABEL)
    row = uow.exec(select(ScopeElement).where(ScopeElement.scope_id == draft_.id,
                                              ScopeElement.code == clean["code"])).first()
    row = row or ScopeElement(scope_id=draft_.id, code=clean["code"], kind=clean["kind"], name=clean["name"])
    for f in FIELDS:
        setattr(row, f, clean[f])
    uow.add(row)
    uow.flush()
    cmd.object_id = draft_.id
    cmd.payload = {"element": service.jsonable(clean)}
    return row


@command("registers.scope_element.remove", action="draft", resource=_the_draft, audit_object="reg_scope_version")
def remove_element(cmd: Command, code: str) -> None:
    uow, draft_ = cmd.uow, cmd.subject
    SCOPE.target(draft_.status, "edit_scope")
    row = uow.exec(select(ScopeElement).where(ScopeElement.scope_id == draft_.id, ScopeElement.code == code)).first()
    if row is None:
        raise NotFound("registers.scope_unknown_element", code=shown(code, 40))
    uow.delete(row)
    uow.flush()
    cmd.object_id = draft_.id
    cmd.payload = {"removed": code}


@dataclass
class ScopePlan:
    filename: str
    adds: list[dict] = field(default_factory=list)
    changes: list[tuple[ScopeElement, dict]] = field(default_factory=list)
    removes: list[ScopeElement] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.adds or self.changes or self.removes)


def plan_import(uow, draft_: ScopeVersion, data: bytes, filename: str) -> ScopePlan:
    """The draft's elements become the file's: what would be added, changed and removed."""
    rows = tabular.read(ELEMENTS, data, filename)
    problems = [p for number, values in rows for p in _element_problems(uow, values, number)]
    if problems:
        raise ValidationFailed("registers.import_rejected", problems=problems[:tabular.MAX_PROBLEMS],
                               filename=shown(filename), count=len(problems))
    have = {e.code: e for e in elements(uow, draft_.id)}
    plan = ScopePlan(filename)
    for _number, values in rows:
        row = have.pop(values["code"], None)
        if row is None:
            plan.adds.append(values)
        elif any(getattr(row, f) != values[f] for f in FIELDS):
            plan.changes.append((row, values))
    plan.removes = list(have.values())
    return plan


def _import_draft(uow, data: bytes, filename: str, plan: ScopePlan | None = None) -> Resource:
    resource = _the_draft(uow)
    SCOPE.target(resource.subject.status, "edit_scope")
    plan = plan if plan is not None else plan_import(uow, resource.subject, data, filename)
    return Resource("scope", site=COMPANY_WIDE, id=resource.id, subject=(resource.subject, plan))


@command("registers.scope.import", action="draft", resource=_import_draft, audit_object="reg_scope_version")
def import_draft_now(cmd: Command, data: bytes, filename: str, plan: ScopePlan | None = None) -> ScopePlan:
    uow = cmd.uow
    draft_, plan = cmd.subject
    for row in plan.removes:
        uow.delete(row)
    uow.flush()  # removed codes first: a file may give a code to another element
    for row, values in plan.changes:
        for f in FIELDS:
            setattr(row, f, values[f])
        uow.add(row)
    for values in plan.adds:
        uow.add(ScopeElement(scope_id=draft_.id, **values))
    uow.flush()
    cmd.object_id = draft_.id
    cmd.payload = {"filename": filename, "added": [v["code"] for v in plan.adds],
                   "changed": [r.code for r, _v in plan.changes], "removed": [r.code for r in plan.removes]}
    return plan


def import_draft(uow, actor: str, data: bytes, filename: str) -> ScopePlan:
    """Replace the draft's elements by a file's (all or nothing); a file that changes nothing writes nothing."""
    resource = _the_draft(uow)
    access.require(uow, actor, "draft", resource)
    SCOPE.target(resource.subject.status, "edit_scope")
    plan = plan_import(uow, resource.subject, data, filename)
    if plan.empty():
        return plan
    return import_draft_now(uow, actor, data, filename, plan=plan)


@command("registers.scope.submit", action="draft", resource=_the_draft, audit_object="reg_scope_version")
def submit(cmd: Command) -> ScopeVersion:
    """Submit the draft for approval by top management."""
    uow, draft_ = cmd.uow, cmd.subject
    target = SCOPE.target(draft_.status, "submit_scope")
    if not elements(uow, draft_.id):
        raise ValidationFailed("registers.scope_empty")
    draft_.status, draft_.submitted_by, draft_.submitted_at = target, cmd.actor, uow.clock.now()
    uow.add(draft_)
    cmd.object_id = draft_.id
    cmd.payload = {"elements": len(elements(uow, draft_.id))}
    return draft_


@command("registers.scope.approve", action="approve", resource=_submitted, audit_object="reg_scope_version")
def approve(cmd: Command) -> ScopeVersion:
    """Approve the submitted draft (top management): it becomes the next version, dated today; the version in
    force until now is superseded, unchanged."""
    uow, draft_ = cmd.uow, cmd.subject
    target = SCOPE.target(draft_.status, "approve_scope")
    before = current(uow)
    if before is not None:
        before.status = SCOPE.target(before.status, "supersede_scope")
        uow.add(before)
        uow.flush()
    number = (uow.exec(select(func.max(ScopeVersion.version))).one() or 0) + 1
    draft_.status, draft_.version = target, number
    draft_.approved_by, draft_.approved_at, draft_.approved_on = cmd.actor, uow.clock.now(), uow.clock.today()
    uow.add(draft_)
    uow.flush()
    cmd.object_id = draft_.id
    cmd.payload = {"version": number, "approved_on": draft_.approved_on.isoformat(),
                   "supersedes": before.version if before else None}
    return draft_


def may_read(uow, actor: str) -> None:
    """Who may read the scope (R-4.3: available to interested parties): readers at company level or any site."""
    refusal = None
    for site in [COMPANY_WIDE, *sorted(site_codes(uow))]:
        found = access.get_access().check(uow, actor, "read", Resource("scope", site=site))
        if not isinstance(found, AccessDenied):
            return
        refusal = refusal or found
    raise refusal
