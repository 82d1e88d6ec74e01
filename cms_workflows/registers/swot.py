"""R-4.1 SWOT register: internal and external issues of the organisation's context, with when they were
analysed and when they are analysed next (guide 4.1.2 external, 4.1.3 internal environment)."""

from __future__ import annotations

from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import problem
from cms_workflows.core.i18n import Message
from cms_workflows.registers import service
from cms_workflows.registers.models import SwotIssue
from cms_workflows.registers.tabular import Column, Register

REGISTER = Register("swot", (
    Column("code", required=True, max_length=32),
    Column("context", "choice", required=True, choices=("internal", "external")),
    Column("kind", "choice", required=True, choices=("strength", "weakness", "opportunity", "threat")),
    Column("description", "multiline", required=True, max_length=1000),
    Column("source", max_length=200),
    Column("analysed_on", "date"),
    Column("next_analysis", "date"),
), sheet="SWOT")

# strengths and weaknesses are the organisation's own (internal); opportunities and threats come from outside
CONTEXT_OF = {"strength": "internal", "weakness": "internal", "opportunity": "external", "threat": "external"}


def _check(_uow, values: dict, row: int | None) -> list[dict]:
    found = []
    if CONTEXT_OF.get(values.get("kind")) not in (None, values.get("context")):
        found.append(problem(REGISTER.field("kind"), "registers.problem.swot_context", row=row,
                             kind=_label("kind", values["kind"]),
                             context=_label("context", CONTEXT_OF[values["kind"]])))
    first, then = values.get("analysed_on"), values.get("next_analysis")
    if first and then and then <= first:
        found.append(problem(REGISTER.field("next_analysis"), "registers.problem.not_after", row=row,
                             other=REGISTER.field("analysed_on")))
    return found


def _label(column: str, value: str) -> Message:
    return Message(REGISTER.choice_key(column, value))


SPEC = service.Spec(REGISTER, SwotIssue, "swot_issue", "SWOT", check=_check)


@command("registers.swot_issue.create", action="manage", resource=service.new_resource(SPEC), audit_object="reg_swot_issue")
def add_issue(cmd: Command, **values) -> SwotIssue:
    """Add an issue (R-4.1); `code` is given when left out."""
    return service.create(cmd, SPEC, values)


@command("registers.swot_issue.change", action="manage", resource=service.row_resource(SPEC), audit_object="reg_swot_issue")
def change_issue(cmd: Command, code: str, **changes) -> SwotIssue:
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.swot_issue.import", action="manage", resource=service.plan_resource(SPEC), audit_object="reg_swot_issue")
def import_issues_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_issues(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    """Import a SWOT file, all or nothing; the same file again changes nothing."""
    return service.import_file(uow, actor, SPEC, data, filename, import_issues_now)
