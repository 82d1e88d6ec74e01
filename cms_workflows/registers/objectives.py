"""R-6.3.3 Carbon objectives and targets (碳目标和指标) per level, with their evaluation criteria.

Guide 6.3.3.2: objectives at company level (medium and long term, annual reduction, annual emissions,
annual intensity), targets below it (department, production unit, equipment, supply chain and product).
Each is quantified (6.3.3.1 d): a target value in a unit, against a base year and base value where there
is one, by a deadline, measured by a carbon performance parameter of the register (R-6.3.1, by code).
Guide 6.3.3.3 requires evaluation criteria and assessment requirements with each (`evaluation_criteria`,
required) and an owner (a position, optionally a named user).
"""

from __future__ import annotations

from sqlmodel import select

from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import problem
from cms_workflows.core.text import shown
from cms_workflows.registers import service
from cms_workflows.registers.parameters import LEVELS, number_problems, site_level_problems
from cms_workflows.registers.performance_models import CarbonObjective, CarbonParameter
from cms_workflows.registers.tabular import Column, Register

REGISTER = Register("objectives", (
    Column("code", required=True, max_length=32),
    Column("level", "choice", required=True, choices=LEVELS),
    Column("site", max_length=32),
    Column("title", "multiline", required=True, max_length=300),
    Column("parameter", max_length=32),
    Column("target_value", required=True, max_length=40),
    Column("unit", max_length=64),
    Column("base_year", "int", low=1990, high=2100),
    Column("base_value", max_length=40),
    Column("deadline", "date", required=True),
    Column("evaluation_criteria", "multiline", required=True, max_length=1000),
    Column("owner_position", "position", required=True, max_length=64),
    Column("owner_user", max_length=64),
), sheet="objectives")


def _check(uow, values: dict, row: int | None) -> list[dict]:
    found = site_level_problems(uow, REGISTER, values, row)
    found += number_problems(REGISTER, values, ("target_value", "base_value"), row)
    code = values.get("parameter")
    if code and uow.exec(select(CarbonParameter.id).where(CarbonParameter.code == code)).first() is None:
        found.append(problem(REGISTER.field("parameter"), "registers.performance.problem.unknown_parameter", row=row,
                             value=shown(code, 40)))
    if values.get("base_value") and values.get("base_year") is None:
        found.append(problem(REGISTER.field("base_year"), "registers.performance.problem.base_year_needed", row=row))
    deadline, base_year = values.get("deadline"), values.get("base_year")
    if deadline and base_year and deadline.year <= base_year:
        found.append(problem(REGISTER.field("deadline"), "registers.problem.not_after", row=row,
                             other=REGISTER.field("base_year")))
    found += service.position_problems(REGISTER.field("owner_position"), values.get("owner_position"), row)
    found += service.user_problems(uow, REGISTER.field("owner_user"), values.get("owner_user"), row)
    return found


SPEC = service.Spec(REGISTER, CarbonObjective, "carbon_objective", "OBJ", check=_check, site_field="site")


@command("registers.carbon_objective.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_carbon_objective")
def add_objective(cmd: Command, **values) -> CarbonObjective:
    """Add a carbon objective or target (R-6.3.3) at its level (and site)."""
    return service.create(cmd, SPEC, values)


@command("registers.carbon_objective.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_carbon_objective")
def change_objective(cmd: Command, code: str, **changes) -> CarbonObjective:
    """Adjust an objective or target (guide 6.3.3.3: adjusted when necessary; old and new values recorded)."""
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.carbon_objective.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_carbon_objective")
def import_objectives_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_objectives(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_objectives_now)
