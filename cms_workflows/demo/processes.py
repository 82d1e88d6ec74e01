"""The demo's PDCA year (issue 11): every process end to end, the demo users doing their steps through
the same service commands as the CLI and the web, the automatic part moved on by the daily sweep and
the processes' flows (`demo.year`).

January: the internal audit programme is drafted and approved, opening the year's audits; each month the
data administrators submit the month's data and complete their data-collection tasks; the baseline
deviations of the data year are investigated. February to March: the annual carbon review of the data
year, whose report top management returns once before approving it (the rejection loop). May and June:
the two internal audits, one finding a nonconformity, which is contained, analysed, corrected and closed
after its effectiveness review by someone who owned none of its actions. November: the compliance
evaluation (a non-compliance opens a second nonconformity) and the management review, whose input pack
reads all of it and whose decisions become tasks.

A larger company (`y.plants`, `demo.company.sites`) plays the same year: every plant's monthly data, one
audit per plant (cement plants in May, each finding its forgotten meter, stamping plants in June), every
plant in the carbon review; the compliance evaluation and the management review once for the company.
"""

from __future__ import annotations

from datetime import date

from cms_workflows.demo import profile
from cms_workflows.demo.company import data_admin, holder, kind

LEAD, GM, DEPUTY = "carbon.lead", "gm", "carbon.deputy"
COMPLIANCE, LEGAL = "compliance.lead", "legal.lead"
# home departments: energy_management (HN01), quality_control (HN02); so auditor2 audits the cement plants
# (energy management among their audited departments), auditor1 the stamping plants
AUDITOR1, AUDITOR2 = "auditor1", "auditor2"


def run(y) -> dict:
    """The whole year, day after day (the clock only moves forward); returns the case numbers it made."""
    made: dict = {}
    monthly_data(y, 1)
    made["programme"] = audit_programme(y)
    made["deviations"] = deviations(y)
    calibrations(y)
    monthly_data(y, 2)
    made["carbon_review"] = carbon_review_returned(y)
    monthly_data(y, 3)
    carbon_review_approved(y, made["carbon_review"])
    for month in (4, 5):
        monthly_data(y, month)
    made["audits"] = sorted(y.open_cases("internal_audit"))
    audits = {y.case(number).site: number for number in made["audits"]}
    found = internal_audits_cement(y, {site: n for site, n in audits.items() if kind(site) == "cement"})
    made["nonconformity"], made["nonconformities"] = found["HN01"], found
    corrective_actions_done(y, found)
    monthly_data(y, 6)
    internal_audits_stamping(y, [n for site, n in audits.items() if kind(site) == "stamping"])
    monthly_data(y, 7)
    corrective_actions_closed(y, found)
    procedure_revised(y)
    for month in (8, 9, 10):
        monthly_data(y, month)
    made["compliance"], made["compliance_nc"] = compliance_evaluation(y)
    monthly_data(y, 11)
    made["management_review"] = open_management_review(y)
    monthly_data(y, 12)
    year_to_date(y, last_month=11)
    management_review(y, made["management_review"])
    y.on(12, 31)
    y.sweep()
    return made


def procedure_revised(y) -> None:
    """In July the document control procedure released in January gets its revision B (issue 13: the two
    revisions carry their own dates in the revision history, not the same day)."""
    from cms_workflows.demo import documents

    if y.procedure:
        y.on(7, 20)
        documents.revise_procedure(y.db, y.procedure, y.echo)


# ---------------------------------------------------------------- the recurring data collection

def monthly_data(y, month: int) -> None:
    """On the 5th, the previous month's data (December of the data year was imported with the year):
    the daily sweep, then each plant's data administrator submits and completes the month's tasks."""
    from cms_workflows.demo.accounting import submit_month
    from cms_workflows.tasks import queries as task_queries

    y.on(month, 5)
    y.sweep()
    previous = (y.data_year, 12) if month == 1 else (y.year, month - 1)
    period = f"{previous[0]}-{previous[1]:02d}"
    for site in y.sites:
        admin = data_admin(site)
        evidence = f"accounting.import:{period}" if month == 1 else \
            f"accounting.import:{submit_month(y.db, site, previous[0], previous[1], y.data_year - 1)}"
        mine = y.read(task_queries.tasks_for_user, admin)
        for task in mine:
            if task.key.startswith("monthly_activity_data:") and task.key.endswith(":" + period) and task.site == site:
                y.complete(task.key, admin, "已提交", record=evidence)


# ---------------------------------------------------------------- the audit programme

# an audit of a plant of each kind: departments, scope (after the plant's name), first and last day (month, day)
AUDIT_PLAN = {
    "cement": (["energy_management", "production", "carbon_management"],
               "能源计量与数据收集、熟料生产过程的碳排放控制、碳管理办公室的目标与措施管理", (5, 12), (5, 14)),
    "stamping": (["production", "procurement"], "冲压与锅炉运行控制、采购中的能效与碳排放要求", (6, 9), (6, 10)),
}


def audit_programme(y) -> str:
    """Opened by its duty on the first sweep of the year; one audit per plant planned, approved by top management."""
    from cms_workflows.processes import internal_audit as ia

    [number] = y.open_cases("audit_programme")
    y.on(1, 8)
    for site, name, _en in y.plants:
        departments, scope, start, end = AUDIT_PLAN[kind(site)]
        y.do(ia.plan_audit_in_programme, AUDITOR1, number, site=site, departments=departments, scope=f"{name}：{scope}",
             criteria="工业企业碳管理体系实施指南；公司碳管理手册及程序文件；适用的合规义务",
             start=date(y.year, *start), end=date(y.year, *end))
    y.do(ia.finish_programme, AUDITOR1, number)
    document = y.do(ia.draft_programme, AUDITOR1, number)
    y.do(ia.submit_programme, AUDITOR1, number)
    _route(y, document, reviewer=LEAD, comment="审核范围覆盖全部主要排放源，同意")
    y.on(1, 12)
    y.advance(number)  # approved: the year's audits are opened
    return number


def _route(y, document: str, reviewer: str, comment: str = "同意", decision: str = "approve",
           gm_comment: str = "同意") -> None:
    from cms_workflows.documents import approval

    y.do(approval.decide, reviewer, document, "approve", comment, expect="review")
    y.do(approval.decide, GM, document, decision, gm_comment, expect="approve")


def calibrations(y) -> None:
    """A stamping plant's meter falls due on 20 January: its maintenance engineer has it calibrated,
    records the certificate in the instrument register and completes the calibration task with it."""
    from cms_workflows.registers import instruments
    from cms_workflows.tasks import queries as task_queries

    y.on(1, 19)
    for site in (site for site in y.sites if kind(site) == "stamping"):
        engineer, meter, certificate = holder("maintenance_engineer", site), f"MI-{site}-01", f"JL-{y.year}-0119-{site}"
        y.do(instruments.calibrate, engineer, meter, y.today, certificate)
        for task in y.read(task_queries.tasks_for_user, engineer):
            if task.key.startswith("instrument_calibration:") and meter in task.key:
                y.complete(task.key, engineer, "检定合格", file=(f"{certificate}.pdf", f"检定证书 {certificate}".encode()))


# ---------------------------------------------------------------- R-9.1.1.3 baseline deviations

def deviations(y) -> list[str]:
    """The data year's months over the baseline are investigated by each site's carbon accountant: the
    waste-heat boiler's burner retrofit explains them; each investigation is recorded and closed."""
    from cms_workflows.processes import deviation

    y.on(1, 15)
    numbers = y.open_cases("deviation")
    for number in numbers:
        case = y.case(number)
        who = holder("carbon_accountant", case.site) if case.site in y.sites else LEAD
        y.do(deviation.investigate, who, number,
             cause="1号余热锅炉补燃燃烧器改造后天然气补燃量上升，熟料产量同比增加；计量与数据录入经复核无误。",
             response="偏差属运行条件变化，已在基准触发条件中登记；改造效果纳入年度碳评审分析。")
        y.do(deviation.close_investigation, who, number)
    return numbers


# ---------------------------------------------------------------- the annual carbon review

TEXTS = {
    "purpose": "评价公司碳管理体系运行的绩效，判定体系的适宜性、充分性和有效性，为下一年度碳目标和措施提供依据。",
    "basis": "GB/T 32150《工业企业温室气体排放核算和报告通则》；GB/T 32151.8《温室气体排放核算与报告要求 第8部分：水泥生产企业》；公司《碳管理手册》及程序文件。",
    "management_status": "碳管理办公室统筹两厂的碳管理工作，两厂各设能源数据管理员按月报送活动数据；年度内部审核和合规性评价按计划实施。",
    "methods": "文件审查、记录审查、现场查看和人员访谈；活动数据与计量台账、燃料结算单交叉核对，排放量按GB/T 32150计算。",
    "principles": "相关性、完整性、一致性、准确性和透明性。",
    "trend_commentary": "长沙水泥厂外购电力排放随粉磨车间节电改造下降，1号余热锅炉天然气补燃量在燃烧器改造后上升；株洲冲压厂燃煤锅炉排放略降。",
    "reduction_effect": "水泥粉磨车间变频改造投运后外购电力排放下降约一成，节电量经计量确认。",
    "reduction_potential": "余热发电扩容、燃煤蒸汽锅炉改用天然气以及提高混合材掺量具有较大减排潜力。",
    "qa_archiving": "活动数据按月导入系统并留存原始凭证，核算结果经总经理批准后锁定，本报告按文件控制程序受控归档。",
    "conclusions": "碳管理体系运行有效，核算数据完整可追溯；建议推进燃煤锅炉改造并完善蒸汽计量。",
}
POTENTIAL = "该设施排放占比高，结合设备改造和运行优化具有减排潜力，纳入下一年度措施计划评估。"


def carbon_review_returned(y) -> str:
    """Opened by its duty on 14 February (the carbon review flow); planned; the data collection tasks done
    by the plants' data administrators; the approved calculation found; analysed; the report drafted and
    returned once by top management."""
    from cms_workflows.processes import carbon_review as cr

    y.on(2, 14)
    y.sweep()
    y.process_flow("carbon-review")
    [number] = y.open_cases("carbon_review")
    y.on(2, 16)
    team = [LEAD, DEPUTY, *(holder("carbon_accountant", site) for site in y.sites), "energy_engineer.hn01"]
    y.do(cr.plan, LEAD, number, period_start=date(y.data_year, 1, 1), period_end=date(y.data_year, 12, 31),
         base_year=y.data_year - 1, team=team,
         company_profile="\n".join(profile.site_profile(site, name) for site, name, _en in y.plants))
    y.on(2, 20)
    for task in y.case_tasks(number, "collect"):
        collector = next(u for u in _holders(y, task.position, task.site))
        y.complete(task.key, collector, "数据已齐全", record=f"accounting.import:{y.data_year}")
    y.on(2, 26)
    majors = y.read(lambda uow: cr.major_facilities(uow, y.case(number)))
    y.do(cr.record_analysis, LEAD, number, facility_potential={f"{r.site}/{r.facility}": POTENTIAL
                                                               for r in majors.itertuples()}, **TEXTS)
    # illustrative values: the demo company is fictitious, and so are the sector figures its team enters
    y.do(cr.add_benchmark, LEAD, number, name="水泥行业平均单位产值碳排放（演示值）", value=2.9, basis="per_10k_cny",
         source="演示数据：虚构的行业统计值，仅示范录入格式", kind="industry")
    y.do(cr.finish_analysis, LEAD, number)
    y.on(3, 2)
    y.do(cr.draft_report, LEAD, number)
    y.do(cr.submit_report, LEAD, number)
    document = y.case(number).document_number
    _route(y, document, reviewer=DEPUTY, comment="核算数据与报告一致", decision="reject",
           gm_comment="请补充燃煤锅炉改造的减排量估算，并说明余热锅炉补燃上升的原因")
    y.advance(number)  # returned: back to the report stage
    return number


def carbon_review_approved(y, number: str) -> None:
    """The team answers top management's return, drafts the report again; reviewed and approved."""
    from cms_workflows.processes import carbon_review as cr

    document = y.case(number).document_number
    y.on(3, 9)
    y.do(cr.record_analysis, LEAD, number,
         reduction_potential=TEXTS["reduction_potential"] + "燃煤蒸汽锅炉改用天然气后，按现有用量估算年减排约三成。",
         trend_commentary=TEXTS["trend_commentary"] + "补燃量上升的原因是燃烧器改造后调试期运行参数偏保守。")
    y.do(cr.draft_report, LEAD, number)
    y.do(cr.submit_report, LEAD, number)
    _route(y, document, reviewer=DEPUTY, comment="已补充", gm_comment="批准")
    y.on(3, 12)
    y.advance(number)


def _holders(y, position: str, site: str) -> list[str]:
    """Who holds the position at the site (a plant's own holders first, then company-wide ones)."""
    from cms_workflows.access import directory

    held = y.read(lambda uow: directory().assignments(uow, uow.clock.today()))
    return [u for _star, u in sorted((s == "*", u) for u, p, s in held if p == position and s in (site, "*"))]


# ---------------------------------------------------------------- the internal audits

def _answer_checklist(y, number: str, auditor: str, results: dict[int, tuple[str, str]]) -> None:
    from cms_workflows.processes import internal_audit as ia

    for seq, item in enumerate(ia.checklist(), start=1):
        result, evidence = results.get(seq, ("conforming", "抽查相关记录，符合要求"))
        y.do(ia.answer_checklist, auditor, number, seq, result=result, evidence=evidence)


def internal_audits_cement(y, audits: dict[str, str]) -> dict[str, str]:
    """Each cement plant's audit by an auditor from another department: one nonconformity (a metering
    instrument past its calibration date), which opens its corrective action; returns {site: that case}."""
    from cms_workflows.processes import internal_audit as ia
    from cms_workflows.processes import queries

    names = dict((code, name) for code, name, _en in y.plants)
    y.on(5, 12)
    for site, number in audits.items():
        _cement_fieldwork(y, site, number)
    y.on(5, 14)
    for site, number in audits.items():
        y.do(ia.finish_fieldwork, AUDITOR2, number)
        y.do(ia.draft_report, AUDITOR2, number, conclusion=f"{names[site]}碳管理体系总体运行有效；1项一般不符合须在30天内完成纠正，"
                                                           "观察项由生产部评估后改进。")
        y.do(ia.submit_report, AUDITOR2, number)
        _route(y, y.case(number).document_number, reviewer=holder("strategy_manager", site), comment="审核发现描述清楚")
    y.on(5, 18)
    found = {}
    for site, number in audits.items():
        y.advance(number)
        [found[site]] = [c for c in y.read(queries.show, GM, number).children]
    return found


def _cement_fieldwork(y, site: str, number: str) -> None:
    from cms_workflows.processes import internal_audit as ia

    meter = f"MI-{site}-01"
    y.do(ia.plan, AUDITOR2, number, lead_auditor=AUDITOR2)
    _answer_checklist(y, number, AUDITOR2, {
        2: ("nonconforming", f"进线电能表 {meter} 检定有效期至上年12月28日，现场仍在使用"),
        6: ("observation", "熟料车间运行准则未明确余热锅炉补燃的碳排放控制要求")})
    y.do(ia.record_finding, AUDITOR2, number, category="conformity", clause="R-6.3.5", department="carbon_management",
         description="数据收集计划覆盖全部排放设施，月度活动数据按时报送并留存凭证。", evidence="抽查1—4月导入记录及原始凭证")
    y.do(ia.record_finding, AUDITOR2, number, category="nonconformity", clause="R-9.1", department="energy_management",
         description=f"用于外购电力核算的进线电能表 {meter} 已超过检定有效期（上年12月28日到期），仍用于计量。",
         evidence=f"计量器具台账、现场铭牌及检定证书 JL-{y.data_year - 1}1228-{site}")
    y.do(ia.record_finding, AUDITOR2, number, category="observation", clause="R-8.1", department="production",
         description="熟料车间运行准则未规定余热锅炉天然气补燃的控制要求，建议补充。", evidence="熟料车间运行记录")


def internal_audits_stamping(y, numbers: list[str]) -> None:
    """Each stamping plant's audit: conforming, with one observation."""
    from cms_workflows.processes import internal_audit as ia

    y.on(6, 9)
    for number in numbers:
        y.do(ia.plan, AUDITOR1, number, lead_auditor=AUDITOR1)
        _answer_checklist(y, number, AUDITOR1, {7: ("observation", "设备采购技术要求中尚无能效和碳排放条款")})
        y.do(ia.record_finding, AUDITOR1, number, category="conformity", clause="R-6.3.5", department="production",
             description="动力车间燃煤锅炉入炉煤按结算单逐批登记，月度数据完整。", evidence="1—5月燃煤结算单及导入记录")
        y.do(ia.record_finding, AUDITOR1, number, category="observation", clause="R-8.3", department="procurement",
             description="设备采购技术要求尚未包含能效和碳排放要求，建议在下次修订时补充。", evidence="采购技术要求文本")
    names = dict((code, name) for code, name, _en in y.plants)
    y.on(6, 10)
    for number in numbers:
        site = y.case(number).site
        y.do(ia.finish_fieldwork, AUDITOR1, number)
        y.do(ia.draft_report, AUDITOR1, number, conclusion=f"{names[site]}碳管理体系运行有效，未发现不符合；观察项由采购部跟进。")
        y.do(ia.submit_report, AUDITOR1, number)
        _route(y, y.case(number).document_number, reviewer=holder("strategy_manager", site))
    y.on(6, 15)
    for number in numbers:
        y.advance(number)


# ---------------------------------------------------------------- R-10 the audit's nonconformity

def corrective_actions_done(y, found: dict[str, str]) -> None:
    """Each contained by the owner, analysed and planned by the plant's carbon management, the actions done
    by their owners (the calibration recorded in the instrument register)."""
    from cms_workflows.processes import corrective_action as ca
    from cms_workflows.registers import instruments

    y.on(5, 19)
    for site, number in found.items():
        owner, planner, meter = holder("energy_engineer", site), holder("strategy_manager", site), f"MI-{site}-01"
        y.do(ca.contain, owner, number, containment=f"停用 {meter} 的读数，改用供电公司结算电量核对当月外购电力。",
             correction="联系计量检定机构安排送检。")
        y.do(ca.analyse, planner, number, root_cause="计量器具台账未设置检定到期提醒；人员调整时检定计划未交接。",
             similar_conclusion="株洲冲压厂的进线电能表检定有效，未发现同类问题。")
        y.do(ca.plan_actions, planner, number, review_after_days=30, actions=[
            {"action": f"将进线电能表 {meter} 送检，并在计量器具台账中登记检定结果",
             "owner": holder("maintenance_engineer", site), "due": date(y.year, 5, 30)},
            {"action": "为全部计量器具设置检定到期前30天提醒，并指定责任人", "owner": holder("energy_data_admin", site),
             "due": date(y.year, 6, 5)}])
    y.on(5, 27)
    for site, number in found.items():
        engineer = holder("maintenance_engineer", site)
        certificate = f"JL-{y.year}-0526" if site == "HN01" else f"JL-{y.year}-0526-{site}"
        y.do(instruments.calibrate, engineer, f"MI-{site}-01", date(y.year, 5, 26), certificate)
        y.complete(_action_task(y, number, engineer), engineer, "已送检合格", record=certificate)
    y.on(6, 3)
    for site, number in found.items():
        admin = holder("energy_data_admin", site)
        y.complete(_action_task(y, number, admin), admin, "提醒已设置", record="计量器具台账提醒设置")


def corrective_actions_closed(y, found: dict[str, str]) -> None:
    """After the 30 days, each reviewed by the carbon management lead, who owned no action; reported and closed."""
    from cms_workflows.processes import corrective_action as ca

    y.on(7, 6)
    for site, number in found.items():
        planner = holder("strategy_manager", site)
        y.do(ca.review_effectiveness, "carbon.lead", number, effective=True,
             evidence="抽查两厂计量器具台账，全部器具在检定有效期内，到期提醒运行正常。")
        y.do(ca.draft_report, planner, number)
        y.do(ca.submit_report, planner, number)
        _route(y, y.case(number).document_number, reviewer=holder("carbon_accountant", site))
    y.on(7, 10)
    for number in found.values():
        y.advance(number)


def _action_task(y, number: str, owner: str) -> str:
    return next(t.key for t in y.case_tasks(number) if t.assignee == owner and t.status in ("open", "claimed"))


# ---------------------------------------------------------------- compliance evaluation

VERDICTS = {
    "CO-01": ("compliant", "上年度排放报告已于3月在全国碳市场管理平台按时报送，核查无异议。"),
    "CO-02": ("noncompliant", "株洲冲压厂燃煤锅炉入炉煤未配备计量器具，仅以结算单计量，不符合GB 17167的配备要求。"),
    "CO-03": ("compliant", "排放核算方法、活动数据和排放因子来源符合GB/T 32150要求。"),
}


def compliance_evaluation(y) -> tuple[str, str]:
    """Opened by its duty at the end of October (the compliance flow); each obligation evaluated with its
    evidence; the non-compliance opens a nonconformity, contained at once; the record approved."""
    from cms_workflows.processes import compliance, queries
    from cms_workflows.processes import corrective_action as ca

    y.on(10, 31)
    y.sweep()
    y.process_flow("compliance-evaluation")
    [number] = y.open_cases("compliance_evaluation")
    y.on(11, 2)
    y.do(compliance.start, COMPLIANCE, number, date(y.year, 1, 1), date(y.year, 10, 31), [COMPLIANCE, LEGAL])
    view = y.read(queries.show, GM, number)
    for item, data in view.items["evaluation"]:
        code = data.get("code") or data.get("obligation")
        verdict, evidence = VERDICTS.get(code, ("compliant", "已核对相关记录"))
        y.do(compliance.evaluate, LEGAL if verdict == "compliant" else COMPLIANCE, number, item.seq, verdict, evidence)
    y.advance(number)
    nc = y.read(queries.show, GM, number).children[0]
    y.do(ca.contain, COMPLIANCE, nc, containment="株洲冲压厂燃煤入炉量暂以结算单与皮带秤读数双重核对。",
         correction="设备能源部编制入炉煤计量器具配置方案。")
    y.on(11, 3)
    y.do(compliance.draft_report, COMPLIANCE, number,
         "公司总体遵守适用的碳排放相关法律法规和标准；1项不符合已立项纠正。")
    y.do(compliance.submit_report, COMPLIANCE, number)
    _route(y, y.case(number).document_number, reviewer=LEAD, comment="评价证据充分")
    y.on(11, 4)
    y.advance(number)
    return number, nc


# ---------------------------------------------------------------- management review

def year_to_date(y, last_month: int) -> None:
    """Before the review, each plant's carbon accountant calculates the year so far and the general manager
    approves it, so the review reads this year's monitoring results (R-9.1)."""
    from cms_workflows.accounting import service as acc
    from cms_workflows.accounting.factors import Options

    y.on(12, 8)
    for site in y.sites:
        accountant = holder("carbon_accountant", site)
        outcome = y.do(acc.calculate, accountant, f"{y.year}-01", f"{y.year}-{last_month:02d}", [site],
                       Options(electricity_kind="market"))
        y.do(acc.approve_run, GM, outcome.run_id)


def open_management_review(y) -> str:
    """Opened by its duty (the management review flow), its input pack assembled from the data."""
    y.on(11, 20)
    y.sweep()
    y.process_flow("management-review")
    [number] = y.open_cases("management_review")
    return number


def management_review(y, number: str) -> None:
    """The pack refreshed with the year so far and confirmed; the meeting's decisions; the minutes drafted
    by the carbon management lead and approved by the general manager, who chaired."""
    from cms_workflows.processes import management_review as mr

    y.on(12, 10)
    y.do(mr.refresh_inputs, LEAD, number)
    y.do(mr.confirm_inputs, LEAD, number)
    y.on(12, 20)
    nxt = y.year + 1
    for output, decision, owner, site, due in (
            ("conclusion", "碳管理体系适宜、充分、有效，碳方针继续适用。", "strategy_manager", "*", date(nxt, 1, 31)),
            ("objectives", "下一年度单位产值碳排放目标较本年度再下降3%，分解至两厂并纳入考核。", "strategy_manager", "*",
             date(nxt, 1, 31)),
            ("resources", "批准株洲冲压厂燃煤锅炉入炉煤计量器具配置预算。", "energy_engineer", "HN02", date(nxt, 3, 31)),
            ("improvement", "启动燃煤蒸汽锅炉改用天然气的可行性研究。", "project_manager", "HN02", date(nxt, 6, 30))):
        y.do(mr.record_decision, GM, number, output=output, decision=decision, owner_position=owner, site=site, due=due)
    y.do(mr.close_meeting, GM, number, chair=GM, attendees=[LEAD, DEPUTY, COMPLIANCE, AUDITOR1, AUDITOR2,
                                                            *(holder("strategy_manager", site) for site in y.sites)],
         conclusion="公司碳管理体系运行适宜、充分、有效；上年度单位产值碳排放目标未实现，主要因余热锅炉补燃增加，"
                    "须加快燃煤锅炉和余热锅炉改造。会议决定的措施由碳管理办公室跟踪落实。",
         meeting_date=date(y.year, 12, 20))
    y.on(12, 22)
    y.do(mr.draft_report, LEAD, number)
    y.do(mr.submit_report, LEAD, number)
    _route(y, y.case(number).document_number, reviewer=DEPUTY, comment="纪要与会议记录一致")
    y.on(12, 28)
    y.advance(number)
