"""R-6.3.1 Carbon performance parameters (碳绩效参数), seeded with the examples of Annex F table F.1.

A parameter belongs to a level (guide 6.3.1.2–6.3.1.3: company, department or branch plant, production
unit or process, equipment, supply chain and product, project) and, below company level, may belong to a
site. Guide 6.3.1.4 asks for its monitoring method, monitoring period and how an abnormal value is
recognised: here a rule over decimal numbers —

- `above`: abnormal when the value is above `limit_high`; `below`: under `limit_low`;
- `outside`: outside `limit_low`…`limit_high`;
- `deviation`: more than `deviation_pct` % away from `baseline_value` (R-6.3.2 baseline of the parameter);

and how it is then handled (`abnormal_handling`). `is_abnormal` applies the rule to a value.

The seeded rows keep their type, name and unit as message keys (`registers.annex_f.<code>.<column>`), so
they read in the user's language; a column a user rewrites keeps the user's text instead, and writing
the guide's text again (in either language) makes it bilingual again.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources

import yaml

from cms_workflows.audit.commands import Command, command, installer_command
from cms_workflows.core.errors import problem
from cms_workflows.core.i18n import LOCALES, t
from cms_workflows.core.text import shown
from cms_workflows.registers import service
from cms_workflows.registers.performance_models import CarbonParameter
from cms_workflows.registers.tabular import Column, Register

LEVELS = ("company", "department", "unit", "equipment", "product", "project")
PERIODS = ("continuous", "shift", "daily", "weekly", "monthly", "quarterly", "yearly")
RULES = ("none", "above", "below", "outside", "deviation")
TEXTS = ("parameter_type", "name", "unit")  # what a seeded row keeps as message keys

REGISTER = Register("parameters", (
    Column("code", required=True, max_length=32),
    Column("level", "choice", required=True, choices=LEVELS),
    Column("site", max_length=32),
    Column("subject", max_length=200),
    Column("parameter_type", max_length=200),
    Column("name", required=True, max_length=200),
    Column("unit", required=True, max_length=64),
    Column("measurement", "choice", choices=("measured", "calculated")),
    Column("monitoring_method", "multiline", max_length=1000),
    Column("monitoring_period", "choice", choices=PERIODS),
    Column("baseline_value", max_length=40),
    Column("abnormal_rule", "choice", required=True, choices=RULES),
    Column("limit_low", max_length=40),
    Column("limit_high", max_length=40),
    Column("deviation_pct", max_length=40),
    Column("abnormal_handling", "multiline", max_length=1000),
    Column("owner_position", "position", max_length=64),
    Column("source", "choice", choices=("annex_f", "user"), computed=True),
), sheet="parameters")

# what each rule needs filled in
NEEDS = {"above": ("limit_high",), "below": ("limit_low",), "outside": ("limit_low", "limit_high"),
         "deviation": ("deviation_pct", "baseline_value")}


def number(value: str | None) -> Decimal | None:
    """A decimal typed by a user (thousands separators allowed), or None when blank or not a number."""
    if value is None or not str(value).strip():
        return None
    try:
        found = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return found if found.is_finite() else None


def number_problems(register: Register, values: dict, columns, row: int | None) -> list[dict]:
    """Each given column that is not a decimal number (R-6.3.1, R-6.3.3: target, base and limit values)."""
    return [problem(register.field(c), "registers.performance.problem.not_a_number", row=row, value=shown(values[c], 40))
            for c in columns if values.get(c) and number(values[c]) is None]


def site_level_problems(uow, register: Register, values: dict, row: int | None) -> list[dict]:
    """The site exists, and a company-level row names none (it is the whole company's)."""
    found = service.site_problems(uow, register.field("site"), values.get("site"), row)
    if values.get("level") == "company" and values.get("site"):
        found.append(problem(register.field("site"), "registers.performance.problem.company_level_site", row=row))
    return found


def _check(uow, values: dict, row: int | None) -> list[dict]:
    found = site_level_problems(uow, REGISTER, values, row)
    found += number_problems(REGISTER, values, ("baseline_value", "limit_low", "limit_high", "deviation_pct"), row)
    found += service.position_problems(REGISTER.field("owner_position"), values.get("owner_position"), row)
    if found:
        return found
    for column in NEEDS.get(values.get("abnormal_rule"), ()):
        if not values.get(column):
            found.append(problem(REGISTER.field(column), "registers.performance.problem.rule_needs", row=row,
                                 rule=REGISTER.field("abnormal_rule")))
    low, high = number(values.get("limit_low")), number(values.get("limit_high"))
    if low is not None and high is not None and low >= high:
        found.append(problem(REGISTER.field("limit_high"), "registers.performance.problem.not_above", row=row,
                             other=REGISTER.field("limit_low")))
    pct = number(values.get("deviation_pct"))
    if pct is not None and pct <= 0:
        found.append(problem(REGISTER.field("deviation_pct"), "registers.performance.problem.not_positive", row=row))
    if values.get("abnormal_rule") == "deviation" and number(values.get("baseline_value")) == 0:
        found.append(problem(REGISTER.field("baseline_value"), "registers.performance.problem.zero_baseline", row=row))
    return found


def is_abnormal(param: CarbonParameter, value) -> bool:
    """Whether a monitored value breaks the parameter's abnormality rule (R-6.3.1; guide 6.3.1.4)."""
    v = Decimal(str(value))
    low, high = number(param.limit_low), number(param.limit_high)
    rule = param.abnormal_rule
    if rule == "above":
        return v > high
    if rule == "below":
        return v < low
    if rule == "outside":
        return v < low or v > high
    if rule == "deviation":
        base = number(param.baseline_value)
        return abs(v - base) * 100 / abs(base) > number(param.deviation_pct)
    return False


def _shown(obj: CarbonParameter, locale: str | None) -> dict:
    values = service.current_values(SPEC, obj)
    if obj.text_key:
        for column in TEXTS:
            if not values[column]:
                values[column] = t(f"{obj.text_key}.{column}", locale)
    return values


def _same(obj: CarbonParameter, values: dict) -> dict:
    """A seeded text given back in either language is the seeded text: stored as empty (shown by its key)."""
    if not obj.text_key:
        return values
    out = dict(values)
    for column in TEXTS:
        if column in out and out[column] in {t(f"{obj.text_key}.{column}", loc) for loc in LOCALES}:
            out[column] = ""
    return out


SPEC = service.Spec(REGISTER, CarbonParameter, "carbon_parameter", "CP", check=_check, site_field="site",
                    export_values=_shown, same=_same)


@lru_cache(maxsize=1)
def annex_f() -> list[tuple[str, str, str]]:
    """(code, level, message key prefix) of each example of Annex F table F.1, in the table's order."""
    data = yaml.safe_load((resources.files("cms_workflows") / "data" / "registers" / "annex_f.yaml").read_text("utf-8"))
    return [(code, level, "registers.annex_f." + code.lower().replace("-", "_"))
            for level, codes in data.items() for code in codes]


@installer_command("registers.carbon_parameter.seed", audit_object="reg_carbon_parameter")
def seed_annex_f(cmd: Command) -> list[str]:
    """Add the examples of Annex F table F.1 not in the register yet (by code); `cms init` runs it, so a
    release that brings more examples adds them, with their event, and nothing twice."""
    uow = cmd.uow
    added = []
    for code, level, key in annex_f():
        if service.find(uow, SPEC, code) is None:
            uow.add(CarbonParameter(code=code, level=level, text_key=key, source="annex_f", created_by=cmd.actor,
                                    created_at=uow.clock.now()))
            added.append(code)
    if added:
        uow.flush()
        cmd.object_id, cmd.payload = "annex_f", {"codes": added}
    return added


@command("registers.carbon_parameter.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_carbon_parameter")
def add_parameter(cmd: Command, **values) -> CarbonParameter:
    """Add a carbon performance parameter (R-6.3.1) at its level (and site)."""
    return service.create(cmd, SPEC, values)


@command("registers.carbon_parameter.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_carbon_parameter")
def change_parameter(cmd: Command, code: str, **changes) -> CarbonParameter:
    """Set the monitoring method and period, the abnormality rule, the owner … (R-6.3.1)."""
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.carbon_parameter.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_carbon_parameter")
def import_parameters_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_parameters(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_parameters_now)

