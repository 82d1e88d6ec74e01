"""R-4.2 Interested parties: who they are, their needs and expectations, whether these become compliance
obligations (R-6.2.2), and the communication plan with each (what, when, how, who)."""

from __future__ import annotations

from cms_workflows.audit.commands import Command, command
from cms_workflows.registers import service
from cms_workflows.registers.models import InterestedParty
from cms_workflows.registers.tabular import Column, Register

# guide 4.2.2 (external) and 4.2.3 (internal)
CATEGORIES = ("regulator", "investor", "supplier", "customer", "contractor", "service_provider", "ngo", "community",
              "staff", "function", "shareholder", "other")

REGISTER = Register("parties", (
    Column("code", required=True, max_length=32),
    Column("name", required=True, max_length=200),
    Column("side", "choice", required=True, choices=("internal", "external")),
    Column("category", "choice", required=True, choices=CATEGORIES),
    Column("needs", "multiline", max_length=1000),
    Column("expectations", "multiline", max_length=1000),
    Column("compliance_obligation", "bool"),
    Column("comm_what", "multiline", max_length=500),
    Column("comm_when", max_length=200),
    Column("comm_how", max_length=200),
    Column("comm_who", "position", max_length=64),
), sheet="parties")


def _check(_uow, values: dict, row: int | None) -> list[dict]:
    return service.position_problems(REGISTER.field("comm_who"), values.get("comm_who"), row)


SPEC = service.Spec(REGISTER, InterestedParty, "interested_party", "IP", check=_check)


@command("registers.interested_party.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_interested_party")
def add_party(cmd: Command, **values) -> InterestedParty:
    """Add an interested party (R-4.2)."""
    return service.create(cmd, SPEC, values)


@command("registers.interested_party.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_interested_party")
def change_party(cmd: Command, code: str, **changes) -> InterestedParty:
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.interested_party.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_interested_party")
def import_parties_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_parties(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_parties_now)
