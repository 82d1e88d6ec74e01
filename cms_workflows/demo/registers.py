"""The demo's registers (issue 10): the context, the compliance obligations, the carbon objective, the
metering instruments and the scope the year runs on (the daily sweep turning the guide's duties into
tasks runs through the year: `demo.processes`).

Who does what follows the demo company (`demo.company`): the carbon management lead keeps the
context and drafts the scope, top management approves it, the compliance lead keeps the obligations,
each plant's energy engineer its instruments, each plant's energy data administrator submits data.
"""

from __future__ import annotations

from datetime import date

from cms_workflows.demo import company
from cms_workflows.demo.company import holder, kind

LEAD, COMPLIANCE, GM = "carbon.lead", "compliance.lead", "gm"

SCOPE = [  # what the system covers, matching the data collection plan (demo.accounting)
    dict(code="HN01", kind="site", name="长沙水泥厂", site="HN01"),
    dict(code="HN02", kind="site", name="株洲冲压厂", site="HN02"),
    dict(code="SRC-KILN", kind="source", name="1号熟料回转窑（石灰石分解）", site="HN01"),
    dict(code="SRC-GAS", kind="source", name="1号余热锅炉（天然气补燃）", site="HN01"),
    dict(code="SRC-TRUCKS", kind="source", name="厂内运输柴油车辆", site="HN01"),
    dict(code="SRC-COAL", kind="source", name="燃煤蒸汽锅炉", site="HN02"),
    dict(code="SRC-SF6", kind="source", name="110kV GIS 开关柜（SF6 逸散）", site="HN02"),
    dict(code="SRC-POWER", kind="source", name="外购电力"),
    dict(code="PRD-CEMENT", kind="product", name="通用硅酸盐水泥", site="HN01"),
    dict(code="PRD-PARTS", kind="product", name="汽车车身冲压件", site="HN02"),
]
# a further plant's part of the scope, per kind: (code, kind, name); its code gets the plant's code
SCOPE_BY_KIND = {
    "cement": [("SRC-KILN", "source", "1号熟料回转窑（石灰石分解）"), ("SRC-GAS", "source", "1号余热锅炉（天然气补燃）"),
               ("SRC-TRUCKS", "source", "厂内运输柴油车辆"), ("PRD-CEMENT", "product", "通用硅酸盐水泥")],
    "stamping": [("SRC-COAL", "source", "燃煤蒸汽锅炉"), ("SRC-SF6", "source", "110kV GIS 开关柜（SF6 逸散）"),
                 ("PRD-PARTS", "product", "汽车车身冲压件")],
}


def scope_elements(plants) -> list[dict]:
    """The demo company's scope, then each further plant (code, name, _en) with its sources and product."""
    elements = list(SCOPE)
    for site, name, _en in plants[2:]:
        elements.append(dict(code=site, kind="site", name=name, site=site))
        elements += [dict(code=f"{code}-{site}", kind=element, name=text, site=site)
                     for code, element, text in SCOPE_BY_KIND[kind(site)]]
    return elements


def run(db, year: int, echo=print, *, plants=None) -> dict:
    """The registers the year runs on; returns counts for the summary."""
    from cms_workflows.core.i18n import t
    from cms_workflows.registers import instruments, objectives, obligations, parties, scope, swot

    with db.unit_of_work() as uow:
        swot.add_issue(uow, LEAD, code="S-01", context="internal", kind="strength",
                       description="熟料线余热回收技术成熟", source="能源审计",
                       analysed_on=date(year, 1, 10), next_analysis=date(year + 1, 1, 10))
        parties.add_party(uow, LEAD, code="IP-01", name="湖南省生态环境厅",
                          side="external", category="regulator", needs="按时报送排放报告",
                          expectations="数据真实准确", compliance_obligation=True,
                          comm_what="年度排放报告", comm_when="每年 3 月",
                          comm_how="全国碳市场管理平台", comm_who="carbon_accountant")
    with db.unit_of_work() as uow:
        obligations.add_obligation(uow, COMPLIANCE, code="CO-01", kind="regulation",
                                   title="碳排放权交易管理暂行条例", issuer="国务院", clause="第十一条",
                                   applicability="重点排放单位", owner_position="compliance_officer",
                                   next_review=date(year, 12, 20))
        obligations.add_obligation(uow, COMPLIANCE, code="CO-02", kind="standard",
                                   title="GB 17167 用能单位能源计量器具配备和管理通则", issuer="国家标准化管理委员会",
                                   clause="4.3 能源计量器具配备要求", applicability="两厂主要用能设备的能源计量",
                                   owner_position="compliance_officer", next_review=date(year, 12, 20))
        obligations.add_obligation(uow, COMPLIANCE, code="CO-03", kind="standard",
                                   title="GB/T 32150 工业企业温室气体排放核算和报告通则", issuer="国家标准化管理委员会",
                                   clause="全文", applicability="全公司温室气体排放核算与报告",
                                   owner_position="compliance_officer", next_review=date(year, 12, 20))
    with db.unit_of_work() as uow:
        # the company's carbon objective for the data year, read by the carbon review
        objectives.add_objective(uow, LEAD, code="OBJ-01", level="company", site="",
                                 title=f"{year} 年单位产值碳排放较 {year - 1} 年下降 3%", parameter="F1-01",
                                 target_value="-3", unit="%", base_year=year - 1, base_value="0",
                                 deadline=date(year, 12, 31), evaluation_criteria="年度碳评审核算结果",
                                 owner_position="strategy_manager", owner_user=LEAD)
    # a cement plant's meter fell due at the end of the data year and is forgotten (the internal audit
    # finds it); a stamping plant's falls due in January and is calibrated on time
    plants = plants or company.SITES
    calibrated = {"cement": date(year - 1, 12, 28), "stamping": date(year, 1, 20)}
    for site, _name, _en in plants:
        last = calibrated[kind(site)]
        with db.unit_of_work() as uow:
            instruments.add_instrument(uow, holder("energy_engineer", site), code=f"MI-{site}-01", name="进线电能表",
                                       accuracy_class="0.5S", site=site, location="总配电室",
                                       measures="电力（外购）", interval_months=12,
                                       last_calibrated=last, certificate=f"JL-{last:%Y%m%d}-{site}")
    elements = scope_elements(plants)
    with db.unit_of_work() as uow:
        scope.draft(uow, LEAD, note=f"{year} 年度边界")
    with db.unit_of_work() as uow:
        for element in elements:
            scope.add_element(uow, LEAD, **element)
    with db.unit_of_work() as uow:
        scope.submit(uow, LEAD)
    with db.unit_of_work() as uow:
        version = scope.approve(uow, GM)
    echo(t("demo.registers_done", version=version.version, elements=len(elements), instruments=len(plants)))

    return {"scope_version": version.version}

