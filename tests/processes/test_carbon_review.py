"""Carbon review (R-6.2.3; the guide's Annex E report): plan → data collection by the positions of the data
collection plan → an approved calculation run → analysis → the report drafted from the data → review and
approval by top management; opened initially, every year by its duty and by a planned change."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import yaml
from docx import Document
from sqlmodel import func, select

from cms_workflows.audit.models import AuditEvent
from cms_workflows.bootstrap import configure
from cms_workflows.bootstrap import sweep as daily_sweep
from cms_workflows.core.db import Database
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, ValidationFailed
from cms_workflows.processes import carbon_review as cr
from cms_workflows.processes import cases, engine
from tests.duties.helpers import at, clocked_database
from tests.processes.helpers import case_of, complete_task, decide_report, do, view

Y = date.today().year + 1  # after the day the test company was seeded (its assignments start then)
R, B = Y - 1, Y - 2  # the year reviewed, the base year
LEAD, GM, REVIEWER = "carbon.lead", "gm", "carbon_accountant.hn01"
ACCOUNTANT = {"HN01": "carbon_accountant.hn01", "HN02": "carbon_accountant.hn02"}
DATA_ADMIN = {"HN01": "energy_data_admin.hn01", "HN02": "energy_data_admin.hn02"}
TEAM = [LEAD, "carbon_accountant.hn01", "energy_engineer.hn01"]
PROFILE = "公司下属长沙水泥厂（熟料回转窑、水泥粉磨）和株洲冲压厂（冲压生产线、燃煤蒸汽锅炉），主要产品为通用硅酸盐水泥和冲压件。"
# site, production unit, facility, name, category, material, unit, source, monthly quantity
PLAN = [
    ("HN01", "熟料车间", "KILN1", "1号熟料回转窑", "process", "limestone_caco3", "t", "invoice", 900.0),
    ("HN01", "熟料车间", "BOILER1", "1号余热锅炉（天然气补燃）", "stationary_combustion", "natural_gas", "10^4Nm3", "meter", 38.0),
    ("HN01", "水泥粉磨车间", "GRID", "厂区电网（外购电力）", "purchased_electricity", "electricity", "MWh", "meter", 2300.0),
    ("HN02", "冲压车间", "GRID", "厂区电网（外购电力）", "purchased_electricity", "electricity", "MWh", "meter", 1700.0),
    ("HN02", "动力车间", "BOILER2", "燃煤蒸汽锅炉", "stationary_combustion", "bituminous_coal", "t", "invoice", 600.0),
]
TEXTS = {
    "purpose": "评价碳管理体系的绩效及其适宜性、充分性和有效性。",
    "basis": "GB/T 32150、GB/T 32151.8 水泥生产企业核算要求；公司碳管理手册。",
    "management_status": "碳管理办公室统筹，两厂各设能源数据管理员，月度报送活动数据。",
    "methods": "文件审查、记录审查和人员访谈；活动数据与结算单交叉核对。",
    "principles": "相关性、完整性、一致性、准确性、透明性。",
    "trend_commentary": "熟料产量上升带动过程排放增加，外购电力排放基本持平。",
    "reduction_effect": "粉磨车间变频改造已投运，节电效果经计量确认。",
    "reduction_potential": "余热发电扩容和燃煤锅炉改燃气具有较大减排潜力。",
    "qa_archiving": "活动数据按月导入系统并留存原始凭证，核算结果经批准后锁定，报告按文件控制程序归档。",
    "conclusions": "体系运行有效；建议推进燃煤锅炉改造并完善蒸汽计量。",
}


@pytest.fixture(autouse=True)
def _wired():
    configure()


@pytest.fixture
def clocked(db, company):
    database = clocked_database(db, date(Y, 3, 1))
    yield database
    database.dispose()


# ---------------------------------------------------------------- the company's data

def _csv(rows: list[dict]) -> bytes:
    from cms_workflows.accounting import importing

    lines = [",".join(importing.FIELDS)] + [",".join(str(r[f]) for f in importing.FIELDS) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _import(database: Database, year: int, scale: float = 1.0) -> None:
    from cms_workflows.accounting import service as acc

    for site in ("HN01", "HN02"):
        rows = [{"site": s, "production_unit": pu, "facility": fac, "category": cat, "material": mat,
                 "period": f"{year}-{m:02d}", "quantity": round(q * scale * (1 + 0.02 * (m % 3)), 3), "unit": unit,
                 "data_source": src, "evidence_ref": f"{fac}-{year}{m:02d}"}
                for s, pu, fac, _n, cat, mat, unit, src, q in PLAN if s == site for m in range(1, 13)]
        with database.unit_of_work() as uow:
            acc.import_activity(uow, DATA_ADMIN[site], _csv(rows), f"{site}-{year}.csv")
            for m in range(1, 13):
                acc.record_output(uow, DATA_ADMIN[site], site, f"{year}-{m:02d}", 40000.0 if site == "HN01" else 20000.0,
                                  1200.0 if site == "HN01" else 900.0)


def _calculate(database: Database, year: int) -> None:
    from cms_workflows.accounting import service as acc
    from cms_workflows.accounting.factors import Options

    for site in ("HN01", "HN02"):
        with database.unit_of_work() as uow:
            run = acc.calculate(uow, ACCOUNTANT[site], f"{year}-01", f"{year}-12", sites=[site],
                                options=Options(electricity_kind="market"))
        with database.unit_of_work() as uow:
            acc.approve_run(uow, GM, run.run_id)


def _world(database: Database, objective: bool = True) -> None:
    """The plan with its facilities' names, the base year approved, the reviewed year's data imported (not yet
    calculated), an approved scope, a metering instrument and an objective."""
    from cms_workflows.accounting import service as acc
    from cms_workflows.org import service as org
    from cms_workflows.registers import instruments, objectives, scope

    with database.unit_of_work() as uow:  # the group's carbon accountant reviews company-wide reports
        org.assign(uow, "admin", REVIEWER, "carbon_accountant", "*")
    with database.unit_of_work() as uow:
        for site, pu, fac, name, cat, mat, unit, src, _q in PLAN:
            acc.add_plan_item(uow, ACCOUNTANT[site], site=site, production_unit=pu, facility=fac, facility_name=name,
                              category=cat, material=mat, unit=unit, data_source=src,
                              meter_calibrated=True if src == "meter" else None)
    _import(database, B)
    _calculate(database, B)
    _import(database, R, scale=1.05)
    with database.unit_of_work() as uow:
        scope.draft(uow, LEAD, note="年度边界")
    for code, kind, name, site in (("HN01", "site", "长沙水泥厂", ""), ("HN02", "site", "株洲冲压厂", ""),
                                   ("KILN1", "source", "1号熟料回转窑", "HN01")):
        with database.unit_of_work() as uow:
            scope.add_element(uow, LEAD, code=code, kind=kind, name=name, site=site)
    with database.unit_of_work() as uow:
        scope.submit(uow, LEAD)
    with database.unit_of_work() as uow:
        scope.approve(uow, GM)
    with database.unit_of_work() as uow:
        instruments.add_instrument(uow, "energy_engineer.hn01", code="MI-001", name="1号进线电能表", accuracy_class="0.5S",
                                   site="HN01", measures="外购电力", interval_months=24, last_calibrated=date(R, 6, 12),
                                   certificate="JD-0612")
    if not objective:
        return
    with database.unit_of_work() as uow:
        objectives.add_objective(uow, LEAD, code="OBJ-01", level="company", site="", title="单位产值碳排放较基准年下降 3%",
                                 parameter="", target_value="0.97", unit="倍基准值", base_year=B, base_value="1.00",
                                 deadline=date(Y, 12, 31), evaluation_criteria="年度碳评审核算结果",
                                 owner_position="strategy_manager", owner_user=LEAD)


# ---------------------------------------------------------------- the steps

def _open(database: Database) -> str:
    return do(database, cr.open_review, LEAD, year=R).number


def _plan(database: Database, number: str) -> None:
    do(database, cr.plan, LEAD, number, period_start=date(R, 1, 1), period_end=date(R, 12, 31), base_year=B,
       team=TEAM, company_profile=PROFILE)


def _collect(database: Database, number: str) -> list[str]:
    steps = []
    for site in ("HN01", "HN02"):
        steps = complete_task(database, f"case:{number}:collect:{site}:energy_data_admin", DATA_ADMIN[site], outcome="已报送")
    return steps


def _analyse(database: Database, number: str) -> None:
    with database.read() as uow:
        majors = [f"{r.site}/{r.facility}" for r in cr.major_facilities(uow, case_of(database, number)).itertuples()]
    do(database, cr.record_analysis, LEAD, number, **TEXTS,
       facility_potential={m: "节能改造潜力经能源审计确认" for m in majors})
    do(database, cr.add_benchmark, LEAD, number, name="湖南省水泥行业平均碳排放强度", value=35.5, basis="per_10k_cny",
       source="湖南省建材行业协会 2024 年统计公报", kind="regional")


def _to_reporting(database: Database) -> str:
    _world(database)
    number = _open(database)
    _plan(database, number)
    _collect(database, number)
    _calculate(database, R)
    engine.advance(database, number)
    _analyse(database, number)
    do(database, cr.finish_analysis, LEAD, number)
    return number


def _report(database: Database, number: str) -> Document:
    from cms_workflows.documents import queries as docs

    with database.read() as uow:
        _rev, data = docs.revision_file(uow, GM, case_of(database, number).document_number)
    return Document(io.BytesIO(data))


def _chain(database: Database) -> int:
    with database.read() as uow:
        return uow.exec(select(func.count()).select_from(AuditEvent)).one()


# ---------------------------------------------------------------- tests

def _to_report(database, number: str) -> None:
    """Planned, data collected, the approved calculation found, analysed: the case is in `reporting`."""
    _plan(database, number)
    _collect(database, number)
    _calculate(database, R)
    engine.advance(database, number)
    _analyse(database, number)
    do(database, cr.finish_analysis, LEAD, number)


def test_r623_a_review_runs_from_plan_to_approval_through_every_stage(clocked):
    """R-6.2.3: plan → data collection tasks to the plan's positions → waits for the approved calculation →
    analysis → the Annex E report → reviewed by the carbon accountant, approved by top management."""
    _world(clocked)
    number = _open(clocked)
    assert view(clocked, number).case.status == "planning"
    _plan(clocked, number)
    v = view(clocked, number)
    assert v.case.status == "collecting" and v.data["scope_version"] == 1 and v.data["team"] == TEAM
    collect = sorted((t.key, t.position, t.site) for t in v.tasks if ":collect:" in t.key)
    assert collect == [(f"case:{number}:collect:HN01:energy_data_admin", "energy_data_admin", "HN01"),
                       (f"case:{number}:collect:HN02:energy_data_admin", "energy_data_admin", "HN02")]
    assert _collect(clocked, number) == ["collection_done"]
    assert engine.advance(clocked, number) == []  # the reviewed year is not calculated and approved yet
    assert view(clocked, number).case.status == "calculating"
    _calculate(clocked, R)
    assert engine.advance(clocked, number) == ["calculation_done"]
    v = view(clocked, number)
    assert v.case.status == "analysing"
    assert {t.key.rsplit(":", 1)[1]: (t.status, t.completed_by) for t in v.tasks if ":calculate:" in t.key} == {
        "HN01": ("done", GM), "HN02": ("done", GM)}
    with pytest.raises(ValidationFailed) as refused:
        do(clocked, cr.finish_analysis, LEAD, number)
    assert "conclusions" in {p["field"] for p in refused.value.problems}
    _analyse(clocked, number)
    do(clocked, cr.finish_analysis, LEAD, number)
    document = do(clocked, cr.draft_report, LEAD, number)
    do(clocked, cr.submit_report, LEAD, number)
    assert view(clocked, number).case.status == "in_review"
    assert decide_report(clocked, number, REVIEWER) == ["report_approved"]
    v = view(clocked, number)
    assert (v.case.status, v.case.document_number) == ("approved", document)
    assert all(t.status == "done" for t in v.tasks)
    assert engine.advance(clocked, number) == []  # advancing again, or the sweep, changes nothing
    assert engine.sweep(clocked, clocked.clock.today()).opened == [] and len(view(clocked, number).tasks) == len(v.tasks)


def test_r623_the_report_is_written_from_the_data_and_the_team_texts(clocked):
    """Annex E: numbers in the text are the tables' numbers, facilities by name, no template example prose,
    the plant described from the case's own texts."""
    number = _to_reporting(clocked)
    do(clocked, cr.draft_report, LEAD, number)
    doc = _report(clocked, number)
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = {c.text.strip() for t in doc.tables for row in t.rows for c in row.cells}
    cell_text = "\n".join(cells)
    lines = [p.text for p in doc.paragraphs]
    analysis = "\n".join(lines[lines.index("E.5.2 工业企业碳排放分析") + 1:lines.index("E.5.3 减排效果与减排潜力分析")])
    analysis = analysis.split("\n")  # one sentence a line
    analysis = [line for line in analysis if line != TEXTS["trend_commentary"]]
    assert len(analysis) >= 4
    for number_in_text in re.findall(r"\d+\.\d+", "\n".join(analysis)):
        assert number_in_text in cell_text, number_in_text
    total = next(line for line in lines if line.startswith("碳排放总量")).split("：", 1)[1].split()[0]
    assert total in analysis[0]
    emissions = next(t for t in doc.tables if t.rows[0].cells[0].text == "排放类别")
    assert abs(sum(float(r.cells[2].text) for r in emissions.rows[1:]) - float(total)) < 0.05 * len(emissions.rows)
    assert "长沙水泥厂 1号熟料回转窑" in cells and "KILN1" not in body + cell_text
    assert PROFILE in body and "汽车零部件" not in body + cell_text
    spec = yaml.safe_load(open("document_templates/templates.yaml", encoding="utf-8"))["templates"]
    example = spec["carbon_review_report"]["example"]
    for name, value in example.items():
        if name in ("base_year", "period"):  # dates, which a real report states too
            continue
        for line in ([value] if isinstance(value, str) else [v for row in value for v in row.values()]):
            if len(line) > 8:
                assert line not in body and line not in cells, line
    assert "湖南省建材行业协会 2024 年统计公报" in cells and "尚无获批准的合规性评价。" in body


def test_r623_a_missing_input_is_named_and_blocks_the_report(clocked):
    """A report missing an input says which and blocks submission; nothing changes."""
    _world(clocked, objective=False)
    number = _open(clocked)
    _plan(clocked, number)
    _collect(clocked, number)
    _calculate(clocked, R)
    engine.advance(clocked, number)
    with clocked.read() as uow:
        majors = [f"{r.site}/{r.facility}" for r in cr.major_facilities(uow, case_of(clocked, number)).itertuples()]
    do(clocked, cr.record_analysis, LEAD, number, **TEXTS,
       facility_potential={m: "节能改造潜力" for m in majors})
    do(clocked, cr.finish_analysis, LEAD, number)
    before = _chain(clocked)
    with pytest.raises(ValidationFailed) as refused:
        do(clocked, cr.draft_report, LEAD, number)
    assert {p["field"] for p in refused.value.problems} == {"benchmarks", "objectives"}
    with pytest.raises(ValidationFailed) as refused:
        do(clocked, cr.submit_report, LEAD, number)
    assert [p["field"] for p in refused.value.problems] == ["report"]
    assert _chain(clocked) == before and case_of(clocked, number).document_number is None


def test_r623_rejection_loop_the_gm_returns_the_report_and_the_corrected_one_is_approved(clocked):
    number = _to_reporting(clocked)
    document = do(clocked, cr.draft_report, LEAD, number)
    do(clocked, cr.submit_report, LEAD, number)
    assert decide_report(clocked, number, REVIEWER, decision="reject", comment="结论应写明改造投资") == ["report_returned"]
    assert view(clocked, number).case.status == "reporting"
    do(clocked, cr.record_analysis, LEAD, number, conclusions="体系运行有效；燃煤锅炉改燃气投资约 1200 万元，建议列入下年度预算。")
    assert do(clocked, cr.draft_report, LEAD, number) == document
    do(clocked, cr.submit_report, LEAD, number)
    assert decide_report(clocked, number, REVIEWER) == ["report_approved"]
    assert "投资约 1200 万元" in "\n".join(p.text for p in _report(clocked, number).paragraphs)


def test_x2_nobody_approves_own_work_and_only_the_lead_runs_the_review(clocked):
    """X-2: the report's author cannot review it; a plant engineer cannot plan the review; the data
    administrator of another site cannot complete a site's collection task."""
    from cms_workflows.documents import approval

    number = _to_reporting(clocked)
    with pytest.raises(AccessDenied):
        do(clocked, cr.plan, "energy_engineer.hn01", number, period_start=date(R, 1, 1), period_end=date(R, 12, 31),
           base_year=B, team=TEAM, company_profile=PROFILE)
    document = do(clocked, cr.draft_report, LEAD, number)
    do(clocked, cr.submit_report, LEAD, number)
    with pytest.raises(AccessDenied):
        do(clocked, approval.decide, LEAD, document, "approve", "自审", expect="review")
    with pytest.raises((AccessDenied, InvalidTransition, Conflict)):
        do(clocked, approval.decide, GM, document, "approve", "越级批准", expect="review")
    assert view(clocked, number).case.status == "in_review"


def test_bad_plan_is_refused_by_field_and_nothing_is_written(clocked):
    _world(clocked)
    number = _open(clocked)
    before = _chain(clocked)
    with pytest.raises(ValidationFailed) as refused:
        do(clocked, cr.plan, LEAD, number, period_start=date(R, 1, 15), period_end=date(R, 12, 30), base_year=R + 5,
           team=["nobody"], company_profile="  ")
    assert {p["field"] for p in refused.value.problems} == {"period_start", "period_end", "base_year", "team",
                                                           "company_profile"}
    with pytest.raises(ValidationFailed) as refused:
        do(clocked, cr.add_benchmark, LEAD, number, name="x", value=-1, basis="per_year", source=" ")
    assert {p["field"] for p in refused.value.problems} == {"value", "basis", "source"}
    assert _chain(clocked) == before and view(clocked, number).case.status == "planning"
    with pytest.raises(InvalidTransition):
        do(clocked, cr.finish_analysis, LEAD, number)


def test_r623_the_annual_duty_opens_the_review_once_and_is_settled_on_approval(clocked):
    """The duty annual_carbon_review's task opens the annual case of its year (twice: once); approving the
    review settles the duty's task."""
    from cms_workflows.tasks import service as tasks
    from cms_workflows.tasks.queries import find_by_key

    key = f"annual_carbon_review:company:{R}"
    with clocked.unit_of_work() as uow:
        tasks.ensure_task(uow, cases.SYSTEM, key=key, title_key="duties.title.annual_carbon_review",
                          title_params={"period": str(R)}, clause="R-6.2.3", site="*", due=date(Y, 3, 31),
                          position="strategy_manager")
    _world(clocked)
    [number] = cr.annual_trigger(clocked, clocked.clock.today())
    assert cr.annual_trigger(clocked, clocked.clock.today()) == []
    assert case_of(clocked, number).key == f"carbon_review:annual:{R}"
    _to_report(clocked, number)
    do(clocked, cr.draft_report, LEAD, number)
    do(clocked, cr.submit_report, LEAD, number)
    assert decide_report(clocked, number, REVIEWER) == ["report_approved"]
    with clocked.read() as uow:
        duty = find_by_key(uow, key)
        assert (duty.status, duty.completed_by) == ("done", LEAD) and number in duty.evidence_ref


def test_r623_r64_a_planned_change_opens_an_unscheduled_review_whose_approval_clears_the_flag(clocked):
    from cms_workflows.registers import changes
    from cms_workflows.registers.people_queries import changes_awaiting_review

    _world(clocked)
    with clocked.unit_of_work() as uow:
        change = changes.add_change(uow, LEAD, title="2号熟料线新建", kind="new_facility", purpose="扩大熟料产能",
                                    planned_on=date(R, 9, 1))
    do(clocked, changes.raise_review, LEAD, change.code, "新增主要排放设施")
    [number] = cr.change_trigger(clocked, clocked.clock.today())
    assert cr.change_trigger(clocked, clocked.clock.today()) == [] and engine.sweep(clocked, clocked.clock.today()).opened == []
    assert case_of(clocked, number).key == f"carbon_review:change:{change.code}"
    _to_report(clocked, number)
    do(clocked, cr.draft_report, LEAD, number)
    assert "2号熟料线新建" in "\n".join(p.text for p in _report(clocked, number).paragraphs)
    do(clocked, cr.submit_report, LEAD, number)
    assert decide_report(clocked, number, REVIEWER) == ["report_approved"]
    with clocked.read() as uow:
        assert changes_awaiting_review(uow) == []
        done = uow.exec(select(AuditEvent).where(AuditEvent.action == "registers.change.review_done")).all()
    assert len(done) == 1 and number in done[0].payload
    with pytest.raises(Conflict):
        do(clocked, changes.review_done, LEAD, change.code, number)


def test_x3_an_overdue_plan_task_is_escalated_by_the_daily_sweep(clocked):
    from cms_workflows.tasks.models import TaskNotice
    from cms_workflows.tasks.queries import find_by_key

    number = _open(clocked)
    with clocked.read() as uow:
        task = find_by_key(uow, f"case:{number}:plan")
    day = date.fromordinal(task.due.toordinal() + 2)
    at(clocked, day)
    daily_sweep(clocked, day)
    with clocked.read() as uow:
        kinds = {n.kind for n in uow.exec(select(TaskNotice).where(TaskNotice.task_id == task.id))}
    assert "escalation" in kinds
    with pytest.raises(Conflict):
        do(clocked, cr.open_review, LEAD, year=R)
