"""Planned changes and people registers (R-6.4, R-6.2.3, R-7.2, R-7.3, R-7.4): create, change, export/import
round trip, a bad row, access per Annex A position, the unscheduled-review event of a planned change, and the
competence gaps (holders without the training their position requires)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import delete

from cms_workflows.core.errors import AccessDenied, Conflict, ValidationFailed
from cms_workflows.registers import changes, communication, competence, people_queries, queries, tabular

from .conftest import events

ROWS = {
    "training": dict(code="TRN-01", course="碳排放核算与报告", topic="accounting",
                     target_positions="carbon_accountant, energy_data_admin", site="HN01", planned_on=date(2025, 3, 15),
                     trainer="外聘讲师 李老师"),
    "competence": dict(code="CMP-01", position="carbon_accountant", site="HN01", competence="掌握 GB/T 32150 核算方法",
                       acquired_by="training", evaluated_by="笔试", required_course="TRN-01"),
    "changes": dict(code="CHG-01", title="新增 2# 窑余热发电", kind="new_facility", purpose="利用窑尾余热发电，减少外购电",
                    consequences="新增设施，排放边界变化", integrity="同步修订范围与数据收集计划", resources="投资 3000 万元",
                    responsible_position="project_manager", planned_on=date(2025, 9, 1), status="planned"),
    "communication": dict(code="COM-01", direction="external", what="年度碳排放报告", timing="每年 3 月",
                          audience="湖南省生态环境厅", channel="全国碳市场管理平台", responsible_position="carbon_accountant"),
    "disclosures": dict(code="DIS-01", disclosed_on=date(2025, 4, 30), audience="社会公众", channel="公司网站",
                        mode="voluntary", content="2024 年碳排放量与强度", document_number="COMP-RP-2024-01",
                        approved_by="gm", plan_item="COM-01"),
}
KEEPER = {"training": "training_specialist.hn01", "competence": "training_specialist.hn01", "changes": "carbon.lead",
          "communication": "carbon.lead", "disclosures": "carbon.lead"}
ADD = {"training": competence.add_course, "competence": competence.add_competence, "changes": changes.add_change,
       "communication": communication.add_item, "disclosures": communication.add_disclosure}
CHANGE = {"training": competence.change_course, "competence": competence.change_competence,
          "changes": changes.change_change, "communication": communication.change_item,
          "disclosures": communication.change_disclosure}
IMPORT = {"training": competence.import_courses, "competence": competence.import_competence,
          "changes": changes.import_changes, "communication": communication.import_items,
          "disclosures": communication.import_disclosures}
CHANGES = {"training": ("trainer", "内部讲师 王工"), "competence": ("evaluated_by", "笔试与现场考核"),
           "changes": ("status", "in_progress"), "communication": ("channel", "书面报告"), "disclosures": ("channel", "年度报告")}
NEEDS = {"competence": "training", "disclosures": "communication"}  # a row refers to a row of another register
NAMES = list(ROWS)


def add(db, name: str, actor: str | None = None, **overrides):
    if name in NEEDS and not overrides.pop("alone", False):
        add(db, NEEDS[name])
    with db.unit_of_work() as uow:
        return ADD[name](uow, actor or KEEPER[name], **{**ROWS[name], **overrides})


@pytest.mark.parametrize("name", NAMES)
def test_create_and_change_R_6_4_R_7_2_R_7_4(db, company, name):
    obj = add(db, name)
    column, value = CHANGES[name]
    with db.unit_of_work() as uow:
        changed = CHANGE[name](uow, KEEPER[name], obj.code, **{column: value})
    assert getattr(changed, column) == value and changed.changed_at is not None
    created, change = events(db, "registers.")[-2:]
    assert created.action.endswith(".create") and change.action.endswith(".change") and column in change.payload
    with db.read() as uow:
        assert [o.code for o in queries.rows(uow, KEEPER[name], name)][-1] == obj.code


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("name", NAMES)
def test_export_import_round_trip_R_7_5(db, company, name, fmt):
    """Exported in either language and imported again: nothing new; into an emptied register: the same rows;
    the same file twice: one import event."""
    add(db, name)
    for locale in ("zh-CN", "en"):
        with db.read() as uow:
            data = queries.export(uow, KEEPER[name], name, fmt, locale)
        with db.unit_of_work() as uow:
            again = IMPORT[name](uow, KEEPER[name], data, f"x.{fmt}")
        assert (again.created, again.updated) == ([], []) and again.unchanged == 1
    with db.engine.begin() as conn:  # a test fixture, not a user: empty the register
        if name == "training":
            conn.execute(delete(competence.COMPETENCE_SPEC.model))
        if name == "communication":
            conn.execute(delete(communication.DISCLOSURE_SPEC.model))
        conn.execute(delete(queries.spec(name).model))
    for _ in range(2):
        with db.unit_of_work() as uow:
            IMPORT[name](uow, KEEPER[name], data, f"x.{fmt}")
    with db.read() as uow:
        row = queries.shown_rows(uow, KEEPER[name], name)
    assert len(row) == 1 and {k: row[0][k] for k in ROWS[name]} == ROWS[name]
    assert len([e for e in events(db, "registers.") if e.action.endswith(".import")]) == 1


def test_a_file_with_a_bad_row_writes_nothing_and_names_every_problem_R_7_2(db, company):
    add(db, "training")
    reg = competence.COMPETENCE
    header = tabular.header(reg, "zh-CN")
    good = ["CMP-01", "carbon_accountant", "HN01", "核算方法", "培训", "笔试", "TRN-01"]
    bad = ["CMP-02", "chief_dreamer", "HN77", "x", "自学", "", "TRN-99"]
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        competence.import_competence(uow, "training_specialist.hn01", _csv([header, good, bad]), "c.csv")
    found = {(p["row"], str(p["field"])) for p in raised.value.problems}
    assert found == {(3, "acquired_by")}  # a value of the wrong type is reported before references are looked up
    bad[4] = "training"
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        competence.import_competence(uow, "training_specialist.hn01", _csv([header, good, bad]), "c.csv")
    found = {(p["row"], str(p["field"]), p["key"]) for p in raised.value.problems}
    assert found == {(3, "position", "registers.problem.unknown_position"), (3, "site", "registers.problem.unknown_site"),
                     (3, "required_course", "registers.problem.unknown_course")}
    assert "第 3 行 字段 须完成的培训课程" in raised.value.message("zh-CN") and "TRN-99" in raised.value.message("zh-CN")
    assert "row 3 field Required course" in raised.value.message("en")
    with db.read() as uow:
        assert queries.rows(uow, "training_specialist.hn01", "competence") == []


# register -> (may add, may not add); readers -> (may read, may not read)
KEEPERS = {
    "changes": (["carbon.lead"], ["training_specialist.hn01", "gm", "verifier", "strategy_manager.hn01"]),
    "competence": (["training_specialist.hn01"], ["training_specialist.hn02", "carbon.lead", "gm", "verifier"]),
    "training": (["training_specialist.hn01"], ["training_specialist.hn02", "carbon.lead", "gm", "verifier"]),
    "communication": (["carbon.lead"], ["training_specialist.hn01", "compliance.lead", "gm", "verifier"]),
    "disclosures": (["carbon.lead"], ["compliance.lead", "gm", "verifier", "training_specialist.hn01"]),
}
READERS = (["gm", "verifier", "auditor1"], ["purchaser.hn01", "lca_engineer.hn02"])


@pytest.mark.parametrize("name", NAMES)
def test_access_per_position_R_5_3_X_2(db, company, name):
    """Annex A: the training specialist keeps competence and training at their plant, the strategy manager the
    changes and communication; the external verifier, top management and internal auditors read."""
    allowed, denied = KEEPERS[name]
    obj = add(db, name, actor=allowed[0])
    column, value = CHANGES[name]
    good_file = tabular.export(queries.spec(name).register, [{**ROWS[name], "code": "D-1"}], "csv")
    for user in denied:
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            ADD[name](uow, user, **{**ROWS[name], "code": "D-1"})
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            CHANGE[name](uow, user, obj.code, **{column: value})
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            IMPORT[name](uow, user, good_file, "x.csv")
    may, may_not = READERS
    for user in may:
        with db.read() as uow:
            assert [o.code for o in queries.rows(uow, user, name)] == [obj.code]
    for user in may_not:
        with pytest.raises(AccessDenied), db.read() as uow:
            queries.rows(uow, user, name)


def test_a_plant_training_specialist_keeps_only_their_plant_R_7_2(db, company):
    """A site holder adds nothing at company level and cannot move a row to another plant."""
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:
        competence.add_course(uow, "training_specialist.hn01", **{**ROWS["training"], "site": ""})
    add(db, "training")
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:
        competence.change_course(uow, "training_specialist.hn01", "TRN-01", site="HN02")
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:  # records belong to the course's plant
        competence.record(uow, "training_specialist.hn02", "TRN-01", "carbon_accountant.hn01", date(2025, 3, 15),
                          "passed", evidence="QD-1")


def test_raise_review_marks_the_change_and_leaves_the_event_once_R_6_4_R_6_2_3(db, company):
    add(db, "changes")
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:
        changes.raise_review(uow, "verifier", "CHG-01", "新设施投产")
    with db.read() as uow:
        assert people_queries.changes_awaiting_review(uow) == []
    with db.unit_of_work() as uow:
        changes.raise_review(uow, "carbon.lead", "CHG-01", "新增排放设施，属 6.2.3 重大变化")
    event = events(db, "registers.change.raise_review")[-1]
    assert event.actor == "carbon.lead" and "CHG-01" in event.payload and "new_facility" in event.payload
    with db.read() as uow:
        waiting = people_queries.changes_awaiting_review(uow)
    assert [c.code for c in waiting] == ["CHG-01"] and waiting[0].review_raised_by == "carbon.lead"
    before = len(events(db, "registers."))
    with pytest.raises(Conflict) as raised, db.unit_of_work() as uow:  # a second time: refused, nothing written
        changes.raise_review(uow, "gm", "CHG-01", "再次提出")
    assert "carbon.lead" in raised.value.message("zh-CN")
    with pytest.raises(ValidationFailed), db.unit_of_work() as uow:
        changes.raise_review(uow, "gm", "CHG-01", "  ")
    assert len(events(db, "registers.")) == before
    add(db, "changes", code="CHG-02", status="cancelled")
    with pytest.raises(Conflict), db.unit_of_work() as uow:
        changes.raise_review(uow, "gm", "CHG-02", "已取消的变更")
    # the export shows the flag; importing it back neither clears nor sets it
    with db.read() as uow:
        data = queries.export(uow, "carbon.lead", "changes", "csv", "en")
    assert "Needs an unscheduled carbon review" in data.decode("utf-8-sig")
    with db.unit_of_work() as uow:
        assert changes.import_changes(uow, "carbon.lead", data, "c.csv").unchanged == 2


def test_competence_gaps_until_a_passed_record_with_evidence_R_7_2(db, company):
    add(db, "competence")
    with db.read() as uow:
        gaps = people_queries.competence_gaps(uow, "verifier")
        assert people_queries.positions_lacking_training(uow, "gm") == ["carbon_accountant"]
    # the requirement is HN01's: only the HN01 holder lacks it
    assert [(g.position, g.site, g.username, g.course) for g in gaps] == [
        ("carbon_accountant", "HN01", "carbon_accountant.hn01", "TRN-01")]
    day = date(2025, 3, 15)
    for kwargs, key in (({"evidence": ""}, "registers.problem.evidence_required"),
                        ({"evidence": "QD-1", "username": "nobody"}, "registers.problem.unknown_user"),
                        ({"evidence": "QD-1", "on": date.today() + timedelta(days=2)}, "registers.problem.in_future")):
        with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
            competence.record(uow, "training_specialist.hn01", "TRN-01", kwargs.get("username", "carbon_accountant.hn01"),
                              kwargs.get("on", day), "passed", evidence=kwargs["evidence"])
        assert raised.value.problems[0]["key"] == key
    with db.unit_of_work() as uow:  # a failed attempt is a record, but not evidence of competence
        competence.record(uow, "training_specialist.hn01", "TRN-01", "carbon_accountant.hn01", day, "failed",
                          evidence="QD-1")
    with db.read() as uow:
        assert len(people_queries.competence_gaps(uow, "gm")) == 1
    with db.unit_of_work() as uow:
        competence.record(uow, "env_specialist.hn01", "TRN-01", "carbon_accountant.hn01", day + timedelta(days=30),
                          "passed", file=b"%PDF-1.4 sign-in sheet", filename="签到表.pdf")
    with pytest.raises(Conflict), db.unit_of_work() as uow:
        competence.record(uow, "training_specialist.hn01", "TRN-01", "carbon_accountant.hn01",
                          day + timedelta(days=30), "passed", evidence="QD-2")
    with db.read() as uow:
        assert people_queries.competence_gaps(uow, "gm") == []
        records = people_queries.training_records(uow, "verifier", "TRN-01")
        assert [r.result for r in records] == ["passed", "failed"] and records[0].evidence_sha256
        assert records[0].evidence_sha256 in people_queries.stored_evidence_files(uow)
        assert people_queries.competence_gaps(uow, "gm", on=day) != []  # on the earlier day the gap was open
    assert len(events(db, "registers.training.record")) == 2
    with pytest.raises(AccessDenied), db.read() as uow:
        people_queries.competence_gaps(uow, "purchaser.hn01")


def test_a_disclosure_is_approved_by_someone_else_R_7_4_3_X_2(db, company):
    add(db, "communication")
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        communication.add_disclosure(uow, "carbon.lead", **{**ROWS["disclosures"], "approved_by": "carbon.lead"})
    assert raised.value.problems[0]["key"] == "registers.problem.own_approval"
    header = [c.name for c in communication.DISCLOSURES.inputs()]
    row = {**ROWS["disclosures"], "approved_by": "carbon.lead"}
    with pytest.raises(ValidationFailed), db.unit_of_work() as uow:
        communication.import_disclosures(uow, "carbon.lead", _csv([header, [row[c] for c in header]]), "d.csv")
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        communication.add_disclosure(uow, "carbon.lead", **{**ROWS["disclosures"], "plan_item": "COM-99",
                                                            "document_number": "=cmd|x"})
    assert {str(p["field"]) for p in raised.value.problems} == {"plan_item", "document_number"}
    with db.read() as uow:
        assert queries.rows(uow, "gm", "disclosures") == []


def test_people_registers_through_the_cli(db, company, cli_env, tmp_path):
    from tests.test_cli import cms

    add(db, "competence")
    add(db, "changes")
    r = cms(cli_env, "registers", "changes", "raise-review", "CHG-01", "--reason", "新增排放设施", user="carbon.lead")
    assert r.returncode == 0 and "CHG-01" in r.stdout, r.stderr
    shown = cms(cli_env, "registers", "changes", "awaiting-review", user="verifier", locale="en")
    assert "CHG-01" in shown.stdout and "new emitting facility" in shown.stdout, shown.stderr
    gaps = cms(cli_env, "registers", "competence", "gaps", user="gm")
    assert "carbon_accountant.hn01" in gaps.stdout, gaps.stderr
    sheet = tmp_path / "sign-in.pdf"
    sheet.write_bytes(b"%PDF-1.4 sign-in")
    r = cms(cli_env, "registers", "training", "record", "TRN-01", "--user", "carbon_accountant.hn01", "--date",
            "2025-03-15", "--result", "passed", "--file", str(sheet), user="training_specialist.hn01")
    assert r.returncode == 0 and "合格" in r.stdout, r.stderr
    assert "carbon_accountant.hn01" in cms(cli_env, "registers", "training", "records", "TRN-01", user="verifier").stdout
    assert "已完成" in cms(cli_env, "registers", "competence", "gaps", user="gm").stdout
    refused = cms(cli_env, "registers", "training", "record", "TRN-01", "--user", "carbon_accountant.hn01", "--date",
                  "2025-03-16", "--result", "passed", user="training_specialist.hn01", locale="en")
    assert refused.returncode == 2 and "sign-in sheet" in refused.stderr and "Traceback" not in refused.stderr
    assert cms(cli_env, "verify").returncode == 0


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")
