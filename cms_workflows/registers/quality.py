"""R-8.6 The carbon data quality control plan: for each activity-data line of the accounting data
collection plan (R-6.3.5), where its data come from, the metering instrument that measures it (R-9.1),
the QA/QC measures taken on collection, recording, transfer and aggregation, what is done when data are
missing, the responsible position and how often the data are checked.

The plan line is named by its natural key (site, facility, material), as in the accounting plan, not by
a foreign key: this register does not depend on the accounting tables (the layers keep the domains
apart). The instrument, in the same package, must exist in the instrument register at the same site.
"""

from __future__ import annotations

from sqlmodel import select

from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import problem
from cms_workflows.core.text import shown
from cms_workflows.registers import service
from cms_workflows.registers.models import Instrument
from cms_workflows.registers.operations_models import QualityPlanLine
from cms_workflows.registers.tabular import Column, Register

# the data sources of the accounting plan (accounting.quality.TIER), named the same way
DATA_SOURCES = ("meter", "invoice", "estimate")
FREQUENCIES = ("per_reading", "daily", "weekly", "monthly", "quarterly", "yearly")

REGISTER = Register("quality", (
    Column("code", required=True, max_length=32),
    Column("site", required=True, max_length=32),
    Column("facility", required=True, max_length=64),
    Column("material", required=True, max_length=64),
    Column("data_source", "choice", required=True, choices=DATA_SOURCES),
    Column("source_detail", max_length=200),
    Column("instrument", max_length=32),
    Column("qa_qc", "multiline", required=True, max_length=2000),
    Column("missing_data", "multiline", max_length=1000),
    Column("responsible_position", "position", required=True, max_length=64),
    Column("check_frequency", "choice", required=True, choices=FREQUENCIES),
), sheet="quality_plan")


def _check(uow, values: dict, row: int | None) -> list[dict]:
    site = values.get("site")
    found = service.site_problems(uow, REGISTER.field("site"), site, row)
    found += service.position_problems(REGISTER.field("responsible_position"), values.get("responsible_position"), row)
    same = uow.exec(select(QualityPlanLine.code).where(
        QualityPlanLine.site == site, QualityPlanLine.facility == values.get("facility"),
        QualityPlanLine.material == values.get("material"), QualityPlanLine.code != values.get("code"))).first()
    if same:  # one plan per line of the data collection plan
        found.append(problem(REGISTER.field("material"), "registers.problem.plan_line_taken", row=row, value=same))
    code = values.get("instrument")
    if code:
        inst = uow.exec(select(Instrument).where(Instrument.code == code)).first()
        if inst is None:
            found.append(problem(REGISTER.field("instrument"), "registers.problem.unknown_instrument", row=row,
                                 value=shown(code, 40)))
        elif site and inst.site != site:
            found.append(problem(REGISTER.field("instrument"), "registers.problem.instrument_elsewhere", row=row,
                                 value=shown(code, 40), site=inst.site))
    elif values.get("data_source") == "meter":  # a metered line names its meter (R-8.6: monitoring equipment)
        found.append(problem(REGISTER.field("instrument"), "registers.problem.meter_needs_instrument", row=row))
    return found


SPEC = service.Spec(REGISTER, QualityPlanLine, "quality_plan", "DQ", check=_check, site_field="site")


@command("registers.quality_plan.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_quality_plan")
def add_line(cmd: Command, **values) -> QualityPlanLine:
    """Add the quality control of one line of the data collection plan (R-8.6) at its site."""
    return service.create(cmd, SPEC, values)


@command("registers.quality_plan.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_quality_plan")
def change_line(cmd: Command, code: str, **changes) -> QualityPlanLine:
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.quality_plan.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_quality_plan")
def import_lines_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_lines(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_lines_now)
