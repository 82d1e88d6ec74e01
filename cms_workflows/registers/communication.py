"""R-7.4 Communication: the plan (7.4.1 internal, 7.4.2 external — what, when, with whom, how, and the
position who communicates) and the carbon information disclosures made (7.4.3: when, to whom, by what
channel, voluntary or on request, which document, approved by whom).

A disclosure names its document by number (as the obligations do) and its approver by user name; the
approver must be someone else than the person recording it (X-2: nobody approves their own work)."""

from __future__ import annotations

from sqlmodel import select

from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.text import shown
from cms_workflows.registers import service
from cms_workflows.registers.obligations import DOCUMENT_NUMBER
from cms_workflows.registers.people_models import CommunicationItem, Disclosure
from cms_workflows.registers.tabular import Column, Register

DIRECTIONS = ("internal", "external")
MODES = ("voluntary", "on_request")  # 7.4.3 b: 主动披露 / 应询披露

PLAN = Register("communication", (
    Column("code", required=True, max_length=32),
    Column("direction", "choice", required=True, choices=DIRECTIONS),
    Column("what", "multiline", required=True, max_length=1000),
    Column("timing", required=True, max_length=200),
    Column("audience", required=True, max_length=200),
    Column("channel", required=True, max_length=200),
    Column("responsible_position", "position", required=True, max_length=64),
), sheet="communication")

DISCLOSURES = Register("disclosures", (
    Column("code", required=True, max_length=32),
    Column("disclosed_on", "date", required=True),
    Column("audience", required=True, max_length=200),
    Column("channel", required=True, max_length=200),
    Column("mode", "choice", required=True, choices=MODES),
    Column("content", "multiline", max_length=1000),
    Column("document_number", max_length=120),
    Column("approved_by", required=True, max_length=64),
    Column("plan_item", max_length=32),
), sheet="disclosures")


def _plan_check(_uow, values: dict, row: int | None) -> list[dict]:
    return service.position_problems(PLAN.field("responsible_position"), values.get("responsible_position"), row)


def _disclosure_check(uow, values: dict, row: int | None) -> list[dict]:
    found = service.user_problems(uow, DISCLOSURES.field("approved_by"), values.get("approved_by"), row)
    number = values.get("document_number")
    if number and not DOCUMENT_NUMBER.match(number):
        found.append(problem(DISCLOSURES.field("document_number"), "registers.problem.document_number", row=row,
                             value=number[:40]))
    item = values.get("plan_item")
    if item and uow.exec(select(CommunicationItem.id).where(CommunicationItem.code == item)).first() is None:
        found.append(problem(DISCLOSURES.field("plan_item"), "registers.problem.unknown_plan_item", row=row,
                             value=shown(item, 40)))
    day = values.get("disclosed_on")
    if day and day > uow.clock.today():
        found.append(problem(DISCLOSURES.field("disclosed_on"), "registers.problem.in_future", row=row))
    return found


PLAN_SPEC = service.Spec(PLAN, CommunicationItem, "communication", "COM", check=_plan_check)
DISCLOSURE_SPEC = service.Spec(DISCLOSURES, Disclosure, "disclosure", "DIS", check=_disclosure_check)


def _not_own_approval(cmd: Command, values: dict) -> None:
    if values.get("approved_by") and values["approved_by"] == cmd.actor:
        raise ValidationFailed("registers.invalid_row", register=DISCLOSURE_SPEC.label(), problems=[
            problem(DISCLOSURES.field("approved_by"), "registers.problem.own_approval")])


@command("registers.communication.create", action="manage", resource=service.new_resource(PLAN_SPEC),
         audit_object="reg_communication")
def add_item(cmd: Command, **values) -> CommunicationItem:
    """Add a line of the communication plan (R-7.4.1, R-7.4.2)."""
    return service.create(cmd, PLAN_SPEC, values)


@command("registers.communication.change", action="manage", resource=service.row_resource(PLAN_SPEC),
         audit_object="reg_communication")
def change_item(cmd: Command, code: str, **changes) -> CommunicationItem:
    return service.change(cmd, PLAN_SPEC, cmd.subject, changes)


@command("registers.communication.import", action="manage", resource=service.plan_resource(PLAN_SPEC),
         audit_object="reg_communication")
def import_items_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, PLAN_SPEC)


def import_items(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, PLAN_SPEC, data, filename, import_items_now)


@command("registers.disclosure.create", action="manage", resource=service.new_resource(DISCLOSURE_SPEC),
         audit_object="reg_disclosure")
def add_disclosure(cmd: Command, **values) -> Disclosure:
    """Record a carbon information disclosure (R-7.4.3), approved by someone else."""
    _not_own_approval(cmd, values)
    return service.create(cmd, DISCLOSURE_SPEC, values)


@command("registers.disclosure.change", action="manage", resource=service.row_resource(DISCLOSURE_SPEC),
         audit_object="reg_disclosure")
def change_disclosure(cmd: Command, code: str, **changes) -> Disclosure:
    _not_own_approval(cmd, changes)
    return service.change(cmd, DISCLOSURE_SPEC, cmd.subject, changes)


@command("registers.disclosure.import", action="manage", resource=service.plan_resource(DISCLOSURE_SPEC),
         audit_object="reg_disclosure")
def import_disclosures_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    plan = cmd.subject
    for values in [*plan.creates, *(changes for _obj, changes in plan.updates)]:
        _not_own_approval(cmd, values)
    return service.apply_import(cmd, DISCLOSURE_SPEC)


def import_disclosures(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, DISCLOSURE_SPEC, data, filename, import_disclosures_now)
