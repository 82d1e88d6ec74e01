"""R-6.4 Planned changes of the carbon management system: their purpose and potential consequences
(6.4 a), the integrity of the system (b), the resources (c) and who is responsible (d), the planned
date, the kind of change and where it stands.

A change to emitting facilities, a main process, the products or the scope is what R-6.2.3 names as
the trigger of an unscheduled carbon review: `raise_review` marks the change as needing one and leaves
the event `registers.change.raise_review`, which the processes issue starts the review case from;
`people_queries.changes_awaiting_review` lists the changes so marked."""

from __future__ import annotations

from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import Conflict, ValidationFailed, problem
from cms_workflows.core.text import forbidden_char
from cms_workflows.registers import service
from cms_workflows.registers.people_models import PlannedChange
from cms_workflows.registers.tabular import Column, Register

# organisation, scale, main process, products, technology or emitting facilities change
KINDS = ("new_facility", "process", "product", "scope", "organisation", "other")
STATUSES = ("planned", "in_progress", "done", "cancelled")

REGISTER = Register("changes", (
    Column("code", required=True, max_length=32),
    Column("title", required=True, max_length=200),
    Column("kind", "choice", required=True, choices=KINDS),
    Column("purpose", "multiline", required=True, max_length=1000),
    Column("consequences", "multiline", max_length=1000),
    Column("integrity", "multiline", max_length=1000),
    Column("resources", "multiline", max_length=1000),
    Column("responsible_position", "position", max_length=64),
    Column("planned_on", "date"),
    Column("status", "choice", required=True, choices=STATUSES),
    Column("review_required", "bool", computed=True),
), sheet="changes")


def _check(_uow, values: dict, row: int | None) -> list[dict]:
    return service.position_problems(REGISTER.field("responsible_position"), values.get("responsible_position"), row)


SPEC = service.Spec(REGISTER, PlannedChange, "planned_change", "CHG", check=_check)


@command("registers.change.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_planned_change")
def add_change(cmd: Command, **values) -> PlannedChange:
    """Add a planned change (R-6.4)."""
    return service.create(cmd, SPEC, {"status": "planned", **values})


@command("registers.change.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_planned_change")
def change_change(cmd: Command, code: str, **changes) -> PlannedChange:
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.change.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_planned_change")
def import_changes_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_changes(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_changes_now)


@command("registers.change.raise_review", action="raise_review", resource=service.row_resource(SPEC),
         audit_object="reg_planned_change")
def raise_review(cmd: Command, code: str, reason: str) -> PlannedChange:
    """Mark a planned change as needing an unscheduled carbon review (R-6.2.3, R-6.4): once per change,
    with the reason; a cancelled change raises none."""
    change, uow = cmd.subject, cmd.uow
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("registers.invalid_row", register=SPEC.label(),
                               problems=[problem("reason", "registers.problem.required")])
    char = forbidden_char(reason, multiline=True)
    if len(reason) > 1000 or char:
        found = (problem("reason", "registers.problem.forbidden_char", char=char) if char else
                 problem("reason", "registers.problem.too_long", length=f"{len(reason):,}", limit="1,000"))
        raise ValidationFailed("registers.invalid_row", register=SPEC.label(), problems=[found])
    if change.review_required:
        raise Conflict("registers.changes.review_already_raised", code=change.code,
                       by=change.review_raised_by or "-")
    if change.status == "cancelled":
        raise Conflict("registers.changes.cancelled", code=change.code)
    change.review_required, change.review_reason = True, reason
    change.review_raised_by, change.review_raised_at = cmd.actor, uow.clock.now()
    change.changed_at = uow.clock.now()
    uow.add(change)
    uow.flush()
    cmd.object_id = change.id
    cmd.payload = {"code": change.code, "kind": change.kind, "title": change.title, "reason": reason,
                   "planned_on": change.planned_on.isoformat() if change.planned_on else None}
    return change


@command("registers.change.review_done", action="raise_review", resource=service.row_resource(SPEC),
         audit_object="reg_planned_change")
def review_done(cmd: Command, code: str, case_number: str) -> PlannedChange:
    """The unscheduled carbon review a change asked for was approved (R-6.2.3): the flag is cleared and
    the event names the review's case; the reason it was raised stays on the row as its history."""
    change = cmd.subject
    if not change.review_required:
        raise Conflict("registers.changes.no_review_raised", code=change.code)
    change.review_required, change.changed_at = False, cmd.uow.clock.now()
    cmd.uow.add(change)
    cmd.uow.flush()
    cmd.object_id = change.id
    cmd.payload = {"code": change.code, "case": case_number, "reason": change.review_reason}
    return change
