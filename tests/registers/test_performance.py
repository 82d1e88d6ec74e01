"""Carbon performance registers: R-6.3.1 parameters (seeded with Annex F table F.1 in both languages, abnormality
rules), R-6.3.3 objectives and targets (linked to a parameter, evaluation criteria), R-6.3.4 action plans (their
progress history and the plans behind schedule). Create, change, export/import round trip, a bad file writes nothing
and names every problem, access per Annex A position."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from cms_workflows.core.errors import AccessDenied, CmsError, ValidationFailed
from cms_workflows.core.i18n import t
from cms_workflows.registers import actions, objectives, parameters, performance_queries, queries, tabular

from .conftest import events

LEAD = "carbon.lead"  # strategy manager, company-wide
ROWS = {
    "parameters": dict(code="CP-101", level="equipment", site="HN01", subject="2# 空压机", parameter_type="能源转换设备",
                       name="空压机排气压力", unit="MPa", measurement="measured", monitoring_method="在线压力表读数",
                       monitoring_period="daily", baseline_value="0.70", abnormal_rule="outside", limit_low="0.60",
                       limit_high="0.80", deviation_pct="", abnormal_handling="通知设备维修工程师检查",
                       owner_position="energy_engineer"),
    "objectives": dict(code="OBJ-01", level="company", site="", title="2027 年单位产值碳排放量较 2024 年下降 8%",
                       parameter="F1-01", target_value="0.92", unit="tCO2e/万元", base_year=2024, base_value="1.00",
                       deadline=date(2027, 12, 31), evaluation_criteria="年度碳评审核算结果，偏差超过 2% 需说明原因",
                       owner_position="strategy_manager", owner_user="carbon.lead"),
    "actions": dict(code="AP-01", objective="OBJ-01", title="1# 窑余热发电改造", approach="process", site="HN01",
                    resources="投资 800 万元，技术部 3 人", owner_position="project_manager", owner_user="",
                    method="新增余热锅炉和汽轮机组", expected_effect="年减排 6000 tCO2e", starts_on=date(2025, 1, 1),
                    ends_on=date(2025, 12, 31), verification="第三方能效测试报告"),
}
KEEPER = {"parameters": LEAD, "objectives": LEAD, "actions": LEAD}
ADD = {"parameters": parameters.add_parameter, "objectives": objectives.add_objective, "actions": actions.add_plan}
CHANGE = {"parameters": parameters.change_parameter, "objectives": objectives.change_objective,
          "actions": actions.change_plan}
IMPORT = {"parameters": parameters.import_parameters, "objectives": objectives.import_objectives,
          "actions": actions.import_plans}
CHANGES = {"parameters": ("limit_high", "0.85"), "objectives": ("target_value", "0.90"),
           "actions": ("ends_on", date(2026, 3, 31))}
NAMES = ("parameters", "objectives", "actions")


def _add(db, name, actor=None, **overrides):
    with db.unit_of_work() as uow:
        return ADD[name](uow, actor or KEEPER[name], **{**ROWS[name], **overrides})


def _all(db):
    """One row of each register (the plan needs its objective, the objective its parameter: F1-01 is seeded)."""
    return [_add(db, name) for name in NAMES]


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


@pytest.mark.parametrize("name", NAMES)
def test_create_and_change_R_6_3_1_R_6_3_3_R_6_3_4(db, company, name):
    _all(db)
    column, value = CHANGES[name]
    with db.unit_of_work() as uow:
        changed = CHANGE[name](uow, KEEPER[name], ROWS[name]["code"], **{column: value})
    assert getattr(changed, column) == value and changed.changed_at is not None
    last = events(db, "registers.")[-1]
    assert last.action.endswith(".change") and column in last.payload
    with db.read() as uow:
        assert ROWS[name]["code"] in [o.code for o in queries.rows(uow, "verifier", name)]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_round_trip_changes_nothing_R_6_3(db, company, fmt):
    """R-7.5: each register (seeded parameters included) exported in either language imports as itself."""
    _all(db)
    for name in NAMES:
        for locale in ("zh-CN", "en"):
            with db.read() as uow:
                data = queries.export(uow, LEAD, name, fmt, locale)
            before = len(events(db, "registers."))
            with db.unit_of_work() as uow:
                result = IMPORT[name](uow, LEAD, data, f"{name}.{fmt}")
            assert (result.created, result.updated) == ([], []) and result.unchanged >= 1, (name, locale)
            assert len(events(db, "registers.")) == before


def test_import_into_an_empty_register_then_the_same_file_again_creates_nothing(db, company):
    from sqlalchemy import delete

    from cms_workflows.registers.performance_models import ActionPlan, CarbonObjective

    _all(db)
    with db.read() as uow:
        files = {n: queries.export(uow, LEAD, n, "csv", "en") for n in ("objectives", "actions")}
    with db.engine.begin() as conn:  # a test fixture, not a user: the rows removed straight from the tables
        conn.execute(delete(ActionPlan))
        conn.execute(delete(CarbonObjective))
    for name in ("objectives", "actions"):
        with db.unit_of_work() as uow:
            assert IMPORT[name](uow, LEAD, files[name], "r.csv").created == [ROWS[name]["code"]]
        with db.read() as uow:
            row = queries.shown_rows(uow, LEAD, name)[-1]
        assert all(row[c] == v for c, v in ROWS[name].items()), name
        with db.unit_of_work() as uow:
            again = IMPORT[name](uow, LEAD, files[name], "r.csv")
        assert (again.created, again.updated) == ([], [])


def test_a_bad_file_writes_nothing_and_names_every_problem_in_zh_and_en_R_6_3_3(db, company):
    header = tabular.header(objectives.REGISTER, "zh-CN")
    good = [ROWS["objectives"].get(c.name) for c in objectives.REGISTER.inputs()]
    bad = dict(ROWS["objectives"], code="OBJ-02", parameter="CP-404", target_value="约一成", base_year="",
               evaluation_criteria="", site="HN01")
    rows = [header, good, [bad.get(c.name) for c in objectives.REGISTER.inputs()]]
    before = len(events(db, "registers."))
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        objectives.import_objectives(uow, LEAD, _csv(rows), "objectives.csv")
    found = {(p["row"], str(p["field"])) for p in raised.value.problems}
    assert found == {(3, "evaluation_criteria")}  # the required column first: rules across columns wait for it
    bad["evaluation_criteria"] = "按年度核算"
    rows[2] = [bad.get(c.name) for c in objectives.REGISTER.inputs()]
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        objectives.import_objectives(uow, LEAD, _csv(rows), "objectives.csv")
    found = {(p["row"], str(p["field"]), p["key"].rsplit(".", 1)[1]) for p in raised.value.problems}
    assert found == {(3, "parameter", "unknown_parameter"), (3, "target_value", "not_a_number"),
                     (3, "base_year", "base_year_needed"), (3, "site", "company_level_site")}
    zh, en = raised.value.message("zh-CN"), raised.value.message("en")
    assert "第 3 行 字段 目标值" in zh and "没有碳绩效参数 CP-404" in zh and "“约一成”不是数值" in zh
    assert "row 3 field Target value" in en and "no carbon performance parameter CP-404" in en
    with db.read() as uow:
        assert queries.rows(uow, LEAD, "objectives") == []
    assert len(events(db, "registers.")) == before


def test_abnormality_rules_are_checked_and_applied_R_6_3_1(db, company):
    """Guide 6.3.1.4: the rule needs its limits (or baseline and percentage); a value breaks it or not."""
    cases = [(dict(abnormal_rule="above", limit_high=""), "limit_high", "rule_needs"),
             (dict(limit_low="0.9", limit_high="0.8"), "limit_high", "not_above"),
             (dict(abnormal_rule="deviation", deviation_pct="-5"), "deviation_pct", "not_positive"),
             (dict(abnormal_rule="deviation", deviation_pct="5", baseline_value="0"), "baseline_value", "zero_baseline"),
             (dict(limit_low="low"), "limit_low", "not_a_number"),
             (dict(level="company"), "site", "company_level_site")]
    for overrides, field, key in cases:
        with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
            parameters.add_parameter(uow, LEAD, **{**ROWS["parameters"], **overrides})
        assert [(str(p["field"]), p["key"].rsplit(".", 1)[1]) for p in raised.value.problems] == [(field, key)], overrides
    outside = _add(db, "parameters")
    deviation = _add(db, "parameters", code="CP-102", abnormal_rule="deviation", deviation_pct="5", baseline_value="1,000",
                     limit_low="", limit_high="")
    above = _add(db, "parameters", code="CP-103", abnormal_rule="above", limit_low="", limit_high="95")
    assert [parameters.is_abnormal(outside, v) for v in ("0.59", "0.6", "0.8", "0.81")] == [True, False, False, True]
    assert [parameters.is_abnormal(deviation, v) for v in (1050, 949.9, 1050.1)] == [False, True, True]
    assert [parameters.is_abnormal(above, v) for v in (95, "95.01")] == [False, True]
    assert not parameters.is_abnormal(parameters.CarbonParameter(code="x", level="company", abnormal_rule="none", created_by="x"), 1e9)


def test_annex_f_table_f1_is_seeded_in_both_languages_R_6_3_1(db, company):
    with db.read() as uow:
        seeded = [r for r in queries.rows(uow, "verifier", "parameters") if r.source == "annex_f"]
        zh = {r["code"]: r for r in queries.shown_rows(uow, "verifier", "parameters", "zh-CN")}
        en = {r["code"]: r for r in queries.shown_rows(uow, "verifier", "parameters", "en")}
    assert len(seeded) == len(parameters.annex_f()) == 10
    assert [r.level for r in seeded] == ["company"] * 2 + ["department"] * 2 + ["unit"] * 2 + ["equipment"] * 4
    assert all(r.name == r.parameter_type == r.unit == "" and r.text_key for r in seeded)  # nothing in one language
    assert (zh["F1-01"]["name"], zh["F1-01"]["unit"]) == ("企业单位产值碳排放量", "tCO2e/万元")
    assert (en["F1-01"]["name"], en["F1-01"]["unit"]) == ("Company emissions per unit of output value", "tCO2e/10k CNY")
    assert zh["F1-09"]["name"] == "天然气锅炉效率" and en["F1-09"]["name"] == "Natural gas boiler efficiency"
    for _code, _level, key in parameters.annex_f():
        for column in ("parameter_type", "name"):
            assert t(f"{key}.{column}", "zh-CN") != t(f"{key}.{column}", "en") != f"{key}.{column}"
    seeds = [e for e in events(db, "registers.carbon_parameter.seed")]
    assert len(seeds) == 1 and seeds[0].actor == "system"
    with db.unit_of_work() as uow:
        assert parameters.seed_annex_f(uow) == []  # seeding again adds nothing


def test_a_seeded_parameter_keeps_its_languages_until_a_user_rewrites_it_R_6_3_1(db, company):
    with db.unit_of_work() as uow:
        p = parameters.change_parameter(uow, LEAD, "F1-09", name="Natural gas boiler efficiency", monitoring_period="monthly",
                                        abnormal_rule="below", limit_low="88")
    assert (p.name, p.monitoring_period, p.text_key) == ("", "monthly", "registers.annex_f.f1_09")
    with db.unit_of_work() as uow:
        p = parameters.change_parameter(uow, LEAD, "F1-09", name="2# 天然气锅炉热效率")
    with db.read() as uow:
        en = {r["code"]: r for r in queries.shown_rows(uow, "verifier", "parameters", "en")}["F1-09"]
    assert (en["name"], en["unit"], en["parameter_type"][:6]) == ("2# 天然气锅炉热效率", "%", "Energy")
    with db.unit_of_work() as uow:  # the guide's text again: bilingual again
        p = parameters.change_parameter(uow, LEAD, "F1-09", name="天然气锅炉效率")
    assert p.name == ""


# register -> (may add, may not add); a site holder keeps the rows of their site only
KEEPERS = {
    "parameters": ([(LEAD, ""), ("carbon_accountant.hn01", "HN01"), ("energy_engineer.hn01", "HN01")],
                   [("energy_engineer.hn01", "HN02"), ("gm", "HN01"), ("verifier", "HN01"), ("purchaser.hn01", "HN01"),
                    ("project_manager.hn01", "HN01")]),
    "objectives": ([(LEAD, "HN01")], [("gm", "HN01"), ("verifier", "HN01"), ("energy_engineer.hn01", "HN01"),
                                       ("project_manager.hn01", "HN01"), ("compliance.lead", "HN01")]),
    "actions": ([(LEAD, ""), ("project_manager.hn01", "HN01")],
                [("project_manager.hn01", ""), ("gm", "HN01"), ("verifier", "HN01"), ("energy_engineer.hn01", "HN01")]),
}
READERS = {
    "parameters": (["gm", "verifier", "auditor1", "energy_data_admin.hn01", "emission_monitor.hn02", "system"],
                   ["purchaser.hn01", "legal.lead"]),
    "objectives": (["gm", "verifier", "auditor1", "compliance.lead", "project_manager.hn01", "system"],
                   ["purchaser.hn01", "energy_data_admin.hn01"]),
    "actions": (["gm", "verifier", "auditor1", "maintenance_engineer.hn01", "system"], ["purchaser.hn01", "legal.lead"]),
}


@pytest.mark.parametrize("name", NAMES)
def test_who_keeps_and_who_reads_each_register_per_annex_a_R_6_3(db, company, name):
    _all(db)
    allowed, denied = KEEPERS[name]
    level = {"parameters": "equipment", "objectives": "department", "actions": None}[name]
    extra = {"level": level} if level else {}
    for n, (user, site) in enumerate(allowed):
        _add(db, name, actor=user, code=f"K-{n}", site=site, **extra)
    for user, site in denied:
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            ADD[name](uow, user, **{**ROWS[name], **extra, "code": "D-1", "site": site})
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            CHANGE[name](uow, user, "K-0", **{"subject" if name == "parameters" else "title": "x"})
    good_file = tabular.export(queries.spec(name).register, [{**ROWS[name], **extra, "code": "D-2", "site": "HN01"}], "csv")
    for user in ("gm", "verifier"):
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            IMPORT[name](uow, user, good_file, "x.csv")
    readers, strangers = READERS[name]
    for user in readers:
        with db.read() as uow:
            queries.export(uow, user, name, "csv")
    for user in strangers:
        with pytest.raises(AccessDenied), db.read() as uow:
            queries.rows(uow, user, name)


def _plan(db, **overrides):
    _add(db, "parameters")
    _add(db, "objectives")
    return _add(db, "actions", **overrides)


def test_progress_is_kept_as_history_and_the_plan_shows_the_latest_R_6_3_4(db, company):
    _plan(db)
    reports = [("project_manager.hn01", date(2025, 3, 31), 20, "完成设计", ""),
               ("energy_engineer.hn01", date(2025, 6, 30), 55, "设备到货安装", "HN01-RF-017"),
               ("project_manager.hn01", date(2025, 6, 30), 50, "更正：安装完成一半", "HN01-RF-018")]
    for user, on, percent, note, evidence in reports:
        with db.unit_of_work() as uow:
            actions.record_progress(uow, user, "AP-01", on, percent, note=note, evidence=evidence)
    with db.read() as uow:
        history = performance_queries.progress_history(uow, "verifier", "AP-01")
        plan = [p for p in queries.rows(uow, "gm", "actions") if p.code == "AP-01"][0]
    assert [(h.reported_on, h.percent, h.recorded_by) for h in history] == [(r[1], r[2], r[0]) for r in reports]
    assert (plan.progress, plan.progress_on) == (50, date(2025, 6, 30))
    recorded = events(db, "registers.action_progress.record")
    assert len(recorded) == 3 and '"evidence":"HN01-RF-018"' in recorded[-1].payload.replace(" ", "")
    before = len(events(db, "registers."))
    refused = [(date(2025, 6, 1), 60, "", "before_last_report"), (date(2999, 1, 1), 60, "", "in_future"),
               (date(2025, 7, 1), 101, "", "out_of_range"), (date(2025, 7, 1), 100, "", "evidence_for_done")]
    for on, percent, evidence, key in refused:
        with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
            actions.record_progress(uow, "project_manager.hn01", "AP-01", on, percent, evidence=evidence)
        assert raised.value.problems[0]["key"].endswith(key)
        assert raised.value.message("zh-CN") != raised.value.message("en")
    for user in ("energy_engineer.hn02", "gm", "verifier", "purchaser.hn01"):  # another site's, or not their duty
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            actions.record_progress(uow, user, "AP-01", date(2025, 7, 1), 60)
    assert len(events(db, "registers.")) == before
    with db.unit_of_work() as uow:
        actions.record_progress(uow, "maintenance_engineer.hn01", "AP-01", date(2025, 9, 30), 100, evidence="检测报告 NX-2025-88")
    with pytest.raises(AccessDenied), db.read() as uow:
        performance_queries.progress_history(uow, "purchaser.hn01", "AP-01")


def test_plans_behind_schedule_R_6_3_4(db, company):
    _plan(db)  # 2025-01-01 … 2025-12-31
    _add(db, "actions", code="AP-02", starts_on=date(2025, 7, 1), ends_on=date(2025, 9, 30))
    _add(db, "actions", code="AP-03", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30))  # not started
    _add(db, "actions", code="AP-04", site="HN02", starts_on=date(2025, 1, 1), ends_on=date(2025, 3, 31))
    with db.unit_of_work() as uow:
        actions.record_progress(uow, LEAD, "AP-01", date(2025, 6, 1), 60, evidence="")
        actions.record_progress(uow, LEAD, "AP-02", date(2025, 8, 1), 100, evidence="验收单 YS-7")

    def behind(user, on):
        with db.read() as uow:
            return [(b.plan.code, b.expected, b.reported) for b in performance_queries.behind_schedule(uow, user, on)]

    assert behind("gm", date(2025, 7, 2)) == [("AP-04", 100, 0)]  # AP-01: 60 % at 50 % of its time; AP-02 done
    assert behind("gm", date(2025, 10, 1)) == [("AP-04", 100, 0), ("AP-01", 75, 60)]  # by end date
    assert behind("maintenance_engineer.hn01", date(2025, 10, 1)) == [("AP-01", 75, 60)]  # their site only
    assert "AP-03" not in [code for code, _e, _r in behind("gm", date(2026, 1, 2))]  # just started: nothing expected yet
    assert performance_queries.expected_percent(actions.ActionPlan(code="x", objective="x", title="x", owner_position="x",
                                                                   starts_on=date(2025, 1, 1), ends_on=date(2025, 1, 11),
                                                                   created_by="x"), date(2025, 1, 6)) == 50


def test_the_registers_through_the_cli_R_6_3(db, company, cli_env, tmp_path):
    from tests.test_cli import cms

    r = cms(cli_env, "registers", "parameters", "add", "level=equipment", "site=HN01", "name=空压机排气压力", "单位=MPa",
            "abnormal_rule=高于上限", "limit_high=0.8", user=LEAD)
    assert r.returncode == 0 and "CP-001" in r.stdout, r.stderr
    r = cms(cli_env, "registers", "objectives", "add", "level=company", "title=单位产值碳排放下降 8%", "parameter=F1-01",
            "target_value=0.92", "deadline=2027-12-31", "evaluation_criteria=年度碳评审", "owner_position=strategy_manager",
            user=LEAD)
    assert r.returncode == 0 and "OBJ-001" in r.stdout, r.stderr
    r = cms(cli_env, "registers", "actions", "add", "objective=OBJ-001", "title=余热发电", "site=HN01",
            "owner_position=project_manager", "starts_on=2025-01-01", "ends_on=2025-12-31", user=LEAD)
    assert r.returncode == 0 and "AP-001" in r.stdout, r.stderr
    r = cms(cli_env, "registers", "actions", "progress", "AP-001", "--date", "2025-03-31", "--percent", "10",
            "--note", "完成设计", user="project_manager.hn01", locale="en")
    assert r.returncode == 0 and "10%" in r.stdout, r.stderr
    r = cms(cli_env, "registers", "actions", "progress", "AP-001", "--date", "2025-04-30", "--percent", "100",
            user="project_manager.hn01")
    assert r.returncode == 2 and "100%" in r.stderr and "Traceback" not in r.stderr
    shown = cms(cli_env, "registers", "actions", "history", "AP-001", user="verifier", locale="en")
    assert "2025-03-31" in shown.stdout and "完成设计" in shown.stdout and "project_manager.hn01" in shown.stdout
    late = cms(cli_env, "registers", "actions", "behind", "--date", "2025-10-01", user="gm", locale="en")
    assert "AP-001" in late.stdout and "75%" in late.stdout, late.stderr
    listed = cms(cli_env, "registers", "parameters", "list", user="verifier", locale="en")
    assert "Natural gas boiler efficiency" in listed.stdout and "above the upper limit" in listed.stdout
    out = tmp_path / "p.xlsx"
    assert cms(cli_env, "registers", "parameters", "export", str(out), user=LEAD).returncode == 0
    again = cms(cli_env, "registers", "parameters", "import", str(out), user=LEAD)
    assert again.returncode == 0 and "未写入任何内容" in again.stdout, again.stderr
