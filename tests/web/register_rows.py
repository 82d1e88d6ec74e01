"""One row of every register, made through the registers' own commands: at HN01 and HN02 for a register kept
at its sites, once for a company-level one (the authorization matrix's samples of `{row_id}`)."""

from __future__ import annotations

from datetime import date

from cms_workflows.registers import (actions, assets, changes, communication, competence, instruments, objectives,
                                     obligations, parameters, parties, quality, risks, swot)

COMPANY = {
    "swot": (swot.add_issue, "carbon.lead", dict(context="internal", kind="strength", description="能源计量完善")),
    "parties": (parties.add_party, "carbon.lead", dict(name="生态环境厅", side="external", category="regulator")),
    "risks": (risks.add_risk, "carbon.lead", dict(nature="risk", category="policy", description="配额收紧")),
    "obligations": (obligations.add_obligation, "compliance.lead", dict(kind="law", title="碳排放权交易管理暂行条例")),
    "assets": (assets.add_holding, "carbon.trader", dict(kind="allowance", vintage=2024, registry_account="HN-001")),
    "changes": (changes.add_change, "carbon.lead", dict(title="新增余热发电", kind="process", purpose="节能",
                                                         status="planned")),
    "communication": (communication.add_item, "carbon.lead", dict(direction="internal", what="碳方针", timing="每年",
                                                                   audience="全体员工", channel="公告栏",
                                                                   responsible_position="strategy_manager")),
    "disclosures": (communication.add_disclosure, "carbon.lead", dict(disclosed_on=date(2025, 1, 10), audience="公众",
                                                                       channel="官网", mode="voluntary", approved_by="gm")),
}


def _per_site(site: str) -> dict:
    low = site.lower()
    return {
        "instruments": (instruments.add_instrument, f"energy_engineer.{low}", dict(
            name="电能表", accuracy_class="0.5S", site=site, measures="电力", interval_months=12)),
        "parameters": (parameters.add_parameter, "carbon.lead", dict(level="unit", site=site, name="熟料产量", unit="t",
                                                                      abnormal_rule="none")),
        "objectives": (objectives.add_objective, "carbon.lead", dict(
            code=f"OBJ-{site}", level="unit", site=site, title="降低单位熟料排放", target_value="0.8",
            deadline=date(2027, 12, 31), evaluation_criteria="年度核算", owner_position="strategy_manager")),
        "actions": (actions.add_plan, "carbon.lead", dict(
            objective=f"OBJ-{site}", title="余热发电改造", site=site, owner_position="project_manager",
            starts_on=date(2025, 1, 1), ends_on=date(2026, 12, 31))),
        "quality": (quality.add_line, f"energy_data_admin.{low}", dict(
            site=site, facility="回转窑", material="原煤", data_source="invoice", qa_qc="每月核对",
            responsible_position="energy_data_admin", check_frequency="monthly")),
        "competence": (competence.add_competence, f"training_specialist.{low}", dict(
            position="energy_data_admin", site=site, competence="能源计量知识", acquired_by="training")),
        "training": (competence.add_course, f"training_specialist.{low}", dict(course="碳核算培训", topic="accounting",
                                                                               site=site)),
    }


def make_rows(db, sites=("HN01", "HN02")) -> dict[tuple[str, str], str]:
    """{(register, site): code} of one row each."""
    made = {}
    with db.unit_of_work() as uow:
        for name, (fn, who, values) in COMPANY.items():
            code = fn(uow, who, **values).code
            made.update({(name, site): code for site in sites})
    for site in sites:
        with db.unit_of_work() as uow:
            for name, (fn, who, values) in _per_site(site).items():
                made[(name, site)] = fn(uow, who, **values).code
    return made
