"""The demo's registers and recurring duties (issue 10): the context, the scope and the metering
instruments the year runs on, then the daily sweep turning the guide's duties into tasks, and one
task done with its evidence.

Who does what follows the demo company (`demo.company`): the carbon management lead keeps the
context and drafts the scope, top management approves it, the compliance lead keeps the obligations,
each plant's energy engineer its instruments, each plant's energy data administrator submits data.
"""

from __future__ import annotations

from datetime import date

LEAD, COMPLIANCE, GM = "carbon.lead", "compliance.lead", "gm"

SCOPE = [  # what the system covers
    dict(code="HN01", kind="site", name="长沙工厂", site="HN01"),
    dict(code="HN02", kind="site", name="株洲工厂", site="HN02"),
    dict(code="SRC-GAS", kind="source", name="天然气锅炉", site="HN01"),
    dict(code="SRC-POWER", kind="source", name="外购电力"),
    dict(code="PRD-PARTS", kind="product", name="汽车零部件"),
]


def run(db, year: int, echo=print) -> dict:
    """Registers kept during the demo year, then the sweep of 1 December; returns counts for the summary."""
    from cms_workflows.bootstrap import sweep
    from cms_workflows.core.i18n import t
    from cms_workflows.registers import instruments, obligations, parties, scope, swot
    from cms_workflows.tasks import queries as task_queries

    with db.unit_of_work() as uow:
        swot.add_issue(uow, LEAD, code="S-01", context="internal", kind="strength",
                       description="余热回收技术成熟", source="能源审计",
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
    for site, engineer in (("HN01", "energy_engineer.hn01"), ("HN02", "energy_engineer.hn02")):
        with db.unit_of_work() as uow:
            instruments.add_instrument(uow, engineer, code=f"MI-{site}-01", name="进线电能表",
                                       accuracy_class="0.5S", site=site, location="总配电室",
                                       measures="电力（外购）", interval_months=12,
                                       last_calibrated=date(year - 1, 12, 28), certificate=f"JL-{year - 1}-{site}")
    with db.unit_of_work() as uow:
        scope.draft(uow, LEAD, note=f"{year} 年度边界")
    with db.unit_of_work() as uow:
        for element in SCOPE:
            scope.add_element(uow, LEAD, **element)
    with db.unit_of_work() as uow:
        scope.submit(uow, LEAD)
    with db.unit_of_work() as uow:
        version = scope.approve(uow, GM)
    echo(t("demo.registers_done", version=version.version, elements=len(SCOPE), instruments=2))

    day = date(year, 12, 1)
    report = sweep(db, day)
    with db.read() as uow:
        created = len(task_queries.list_tasks(uow, GM))
    done = _complete_one(db, year)
    echo(t("demo.sweep_done", day=day, tasks=created, done=done or "-"))
    return {"scope_version": version.version, "sweep_ok": report.ok, "tasks": created, "done": done}


def _complete_one(db, year: int) -> str | None:
    """The HN01 data administrator claims and completes one monthly data task, naming the import as evidence."""
    from cms_workflows.tasks import queries as task_queries
    from cms_workflows.tasks import service as tasks

    user = "energy_data_admin.hn01"
    with db.read() as uow:
        mine = [t for t in task_queries.tasks_for_user(uow, user) if t.key.startswith("monthly_activity_data:")]
    if not mine:
        return None
    task = mine[0]
    with db.unit_of_work() as uow:
        tasks.claim(uow, user, task.id)
    with db.unit_of_work() as uow:
        done = tasks.complete(uow, user, task.id, outcome="已提交", comment=f"{year} 年 11 月数据",
                              record=f"accounting.import_batch:{year}-11")
    return done.key
