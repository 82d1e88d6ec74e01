"""R-6.3.4 Action plans for the objectives and targets (碳目标和指标实现的措施计划), and their progress.

Guide 6.3.4.1 lists what a plan holds: a) resources, b) responsibility (owner position, optionally a
named user), c) the objective it serves (by code, R-6.3.3), d) method, e) expected effect, f) schedule
(start and end), g) how the result is verified. `approach` classifies it by guide 6.3.4.2 a)–f).

`record_progress` reports progress (date, percent, note, evidence reference): each report is kept
(`ActionProgress`, never changed), the plan shows the latest. Reports go forward in time (not before the
latest one, not in the future); 100 % needs an evidence reference (the verification of g). A plan is
behind schedule on a day when it is not complete and its reported percent is below the share of its
scheduled time that has passed (see `performance_queries.behind_schedule`).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.text import forbidden_char, shown
from cms_workflows.registers import service
from cms_workflows.registers.performance_models import ActionPlan, ActionProgress, CarbonObjective
from cms_workflows.registers.tabular import Column, FieldName, Register

APPROACHES = ("design", "supply_chain", "process", "facilities", "clean_energy", "awareness", "other")

REGISTER = Register("actions", (
    Column("code", required=True, max_length=32),
    Column("objective", required=True, max_length=32),
    Column("title", "multiline", required=True, max_length=300),
    Column("approach", "choice", choices=APPROACHES),
    Column("site", max_length=32),
    Column("resources", "multiline", max_length=1000),
    Column("owner_position", "position", required=True, max_length=64),
    Column("owner_user", max_length=64),
    Column("method", "multiline", max_length=1000),
    Column("expected_effect", "multiline", max_length=1000),
    Column("starts_on", "date", required=True),
    Column("ends_on", "date", required=True),
    Column("verification", "multiline", max_length=1000),
    Column("progress", "int", computed=True),
    Column("progress_on", "date", computed=True),
), sheet="action plans")
EVIDENCE = FieldName("evidence", "registers.performance.field.evidence")
NOTE = FieldName("note", "registers.performance.field.note")


def _check(uow, values: dict, row: int | None) -> list[dict]:
    found = service.site_problems(uow, REGISTER.field("site"), values.get("site"), row)
    code = values.get("objective")
    if code and uow.exec(select(CarbonObjective.id).where(CarbonObjective.code == code)).first() is None:
        found.append(problem(REGISTER.field("objective"), "registers.performance.problem.unknown_objective", row=row,
                             value=shown(code, 40)))
    start, end = values.get("starts_on"), values.get("ends_on")
    if start and end and end < start:
        found.append(problem(REGISTER.field("ends_on"), "registers.performance.problem.not_before", row=row,
                             other=REGISTER.field("starts_on")))
    found += service.position_problems(REGISTER.field("owner_position"), values.get("owner_position"), row)
    found += service.user_problems(uow, REGISTER.field("owner_user"), values.get("owner_user"), row)
    return found


SPEC = service.Spec(REGISTER, ActionPlan, "action_plan", "AP", check=_check, site_field="site")


@command("registers.action_plan.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_action_plan")
def add_plan(cmd: Command, **values) -> ActionPlan:
    """Add an action plan for an objective or target (R-6.3.4)."""
    return service.create(cmd, SPEC, values)


@command("registers.action_plan.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_action_plan")
def change_plan(cmd: Command, code: str, **changes) -> ActionPlan:
    """Change a plan: resources, owner, method, schedule … (R-6.3.4; old and new values recorded)."""
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.action_plan.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_action_plan")
def import_plans_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_plans(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_plans_now)


def _plan(uow, code: str, *_args, **_kwargs) -> Resource:
    obj = service.get(uow, SPEC, code)
    return Resource("action_plan", site=obj.site or COMPANY_WIDE, id=obj.id, subject=obj)


def latest(uow, plan: ActionPlan) -> ActionProgress | None:
    q = select(ActionProgress).where(ActionProgress.plan_id == plan.id)
    return uow.exec(q.order_by(ActionProgress.reported_on.desc(), ActionProgress.id.desc())).first()


def _progress_problems(uow, plan: ActionPlan, on: date, percent, note: str, evidence: str) -> list[dict]:
    found = []
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        found.append(problem(REGISTER.field("progress"), "registers.problem.out_of_range", value=shown(percent, 20),
                             low=0, high=100))
    elif percent == 100 and not evidence:
        found.append(problem(EVIDENCE, "registers.performance.problem.evidence_for_done"))
    if on > uow.clock.today():
        found.append(problem(REGISTER.field("progress_on"), "registers.problem.in_future"))
    last = latest(uow, plan)
    if last is not None and on < last.reported_on:
        found.append(problem(REGISTER.field("progress_on"), "registers.performance.problem.before_last_report",
                             last=last.reported_on.isoformat()))
    if len(evidence) > 200 or forbidden_char(evidence):
        found.append(problem(EVIDENCE, "registers.performance.problem.bad_evidence", value=shown(evidence, 40)))
    char = forbidden_char(note, multiline=True)
    if char:
        found.append(problem(NOTE, "registers.problem.forbidden_char", char=char))
    elif len(note) > 2000:
        found.append(problem(NOTE, "registers.problem.too_long", length=f"{len(note):,}", limit="2,000"))
    return found


@command("registers.action_progress.record", action="record_progress", resource=_plan, audit_object="reg_action_plan")
def record_progress(cmd: Command, code: str, on: date, percent: int, note: str = "", evidence: str = "") -> ActionProgress:
    """Report a plan's progress (R-6.3.4): kept as history; the plan shows the latest report."""
    uow, plan = cmd.uow, cmd.subject
    note, evidence = note or "", (evidence or "").strip()
    problems = _progress_problems(uow, plan, on, percent, note, evidence)
    if problems:
        raise ValidationFailed("registers.performance.invalid_progress", problems=problems, code=plan.code)
    report = ActionProgress(plan_id=plan.id, reported_on=on, percent=percent, note=note, evidence=evidence,
                            recorded_by=cmd.actor, recorded_at=uow.clock.now())
    uow.add(report)
    plan.progress, plan.progress_on, plan.changed_at = percent, on, uow.clock.now()
    uow.add(plan)
    uow.flush()
    cmd.object_id = plan.id
    cmd.payload = {"code": plan.code, "progress_id": report.id, "reported_on": on.isoformat(), "percent": percent,
                   "note": note, "evidence": evidence}
    return report
