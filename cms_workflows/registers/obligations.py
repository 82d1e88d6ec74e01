"""R-6.2.2 Compliance obligations: laws, regulations, standards and other requirements, with where they
apply, the external document they come from (its number in the document register, R-7.5), who owns
them and when they are next reviewed (every 12 months by default: the duty reads `queries.obligations_due`).

The source document is named by its number, not by a foreign key, so this register does not depend on
the documents tables; its form is checked, not its presence."""

from __future__ import annotations

import re

from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import problem
from cms_workflows.registers import service
from cms_workflows.registers.models import Obligation
from cms_workflows.registers.tabular import Column, Register

KINDS = ("law", "regulation", "standard", "other")
DOCUMENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,119}$")  # e.g. HN01-EX-003, COMP-EX-012

REGISTER = Register("obligations", (
    Column("code", required=True, max_length=32),
    Column("kind", "choice", required=True, choices=KINDS),
    Column("title", required=True, max_length=300),
    Column("issuer", max_length=200),
    Column("clause", max_length=200),
    Column("applicability", "multiline", max_length=1000),
    Column("source_document", max_length=120),
    Column("owner_position", "position", max_length=64),
    Column("next_review", "date"),
), sheet="obligations")


def _check(_uow, values: dict, row: int | None) -> list[dict]:
    found = service.position_problems(REGISTER.field("owner_position"), values.get("owner_position"), row)
    number = values.get("source_document")
    if number and not DOCUMENT_NUMBER.match(number):
        found.append(problem(REGISTER.field("source_document"), "registers.problem.document_number", row=row,
                             value=number[:40]))
    return found


SPEC = service.Spec(REGISTER, Obligation, "compliance_obligation", "CO", check=_check)


@command("registers.obligation.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_obligation")
def add_obligation(cmd: Command, **values) -> Obligation:
    """Add a compliance obligation (R-6.2.2)."""
    return service.create(cmd, SPEC, values)


@command("registers.obligation.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_obligation")
def change_obligation(cmd: Command, code: str, **changes) -> Obligation:
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.obligation.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_obligation")
def import_obligations_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_obligations(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_obligations_now)
