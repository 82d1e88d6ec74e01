"""Each register (R-4.1 SWOT, R-4.2 interested parties, R-6.2.1 risks, R-6.2.2 obligations, R-9.1 instruments):
create, change, export/import round trip in Excel and CSV, all-or-nothing imports reporting every problem with
row and column in Chinese and English, the same file twice creating nothing, bounded files, formula-safe exports."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from cms_workflows.core.errors import CmsError, Conflict, NotFound, ValidationFailed
from cms_workflows.registers import queries, tabular

from .conftest import ADD, CHANGE, CHANGES, IMPORT, KEEPER, ROWS, add, events


def test_create_and_change_each_register_R_4_R_6_2_R_9_1(db, company, register):
    obj = add(db, register)
    assert obj.code == ROWS[register]["code"]
    column, value = CHANGES[register]
    with db.unit_of_work() as uow:
        changed = CHANGE[register](uow, KEEPER[register], obj.code, **{column: value})
    assert getattr(changed, column) == value and changed.changed_at is not None
    created, changes = events(db, f"registers.")[-2:]
    assert created.action.endswith(".create") and changes.action.endswith(".change")
    assert column in changes.payload
    with db.read() as uow:
        assert [o.code for o in queries.rows(uow, KEEPER[register], register)][-1] == obj.code


def test_adding_without_a_code_gives_the_next_one_and_a_code_is_never_reused(db, company):
    first = add(db, "swot", code=None)
    second = add(db, "swot", code="", description="另一条")
    assert (first.code, second.code) == ("SWOT-001", "SWOT-002")
    with pytest.raises(Conflict), db.unit_of_work() as uow:
        ADD["swot"](uow, "carbon.lead", **{**ROWS["swot"], "code": "SWOT-001"})


def test_a_bad_change_names_the_column_and_writes_nothing(db, company):
    add(db, "risks")
    before = len(events(db, "registers."))
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        CHANGE["risks"](uow, "compliance.lead", "RO-101", likelihood=9)
    assert "可能性（1–5）" in raised.value.message("zh-CN") and "Likelihood (1–5)" in raised.value.message("en")
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        CHANGE["risks"](uow, "compliance.lead", "RO-101", impact=4)
    assert raised.value.key == "registers.no_change"
    with pytest.raises(NotFound), db.unit_of_work() as uow:
        CHANGE["risks"](uow, "compliance.lead", "RO-999", impact=4)
    assert len(events(db, "registers.")) == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_round_trip_changes_nothing(db, company, register, fmt):
    """R-7.5: a register exported (in either language) and imported again is the same register."""
    add(db, register)
    for locale in ("zh-CN", "en"):
        with db.read() as uow:
            data = queries.export(uow, KEEPER[register], register, fmt, locale)
        with db.read() as uow:  # the file reopens as a workbook / CSV with the header in that language
            header = _rows(data, fmt)[0]
        assert header == tabular.header(queries.spec(register).register, locale)
        before = len(events(db, "registers."))
        with db.unit_of_work() as uow:
            result = IMPORT[register](uow, KEEPER[register], data, f"export.{fmt}")
        assert (result.created, result.updated) == ([], []) and result.unchanged >= 1
        assert len(events(db, "registers.")) == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_import_into_an_empty_register_then_the_same_file_again_creates_nothing(db, company, register, fmt):
    add(db, register)
    with db.read() as uow:
        data = queries.export(uow, KEEPER[register], register, fmt, "zh-CN")
    other = _fresh(db, register)
    with other.unit_of_work() as uow:
        first = IMPORT[register](uow, KEEPER[register], data, f"r.{fmt}")
    assert first.created == [ROWS[register]["code"]]
    with other.read() as uow:
        count = len(queries.rows(uow, KEEPER[register], register))
        row = queries.shown_rows(uow, KEEPER[register], register)[-1]
    for column, value in ROWS[register].items():
        assert row[column] == value, column
    with other.unit_of_work() as uow:
        second = IMPORT[register](uow, KEEPER[register], data, f"r.{fmt}")
    assert (second.created, second.updated) == ([], [])
    with other.read() as uow:
        assert len(queries.rows(uow, KEEPER[register], register)) == count
    assert len([e for e in events(other, "registers.") if e.action.endswith(".import")]) == 1


def _fresh(db, register):
    """The same database with the register's rows removed (written directly: a test fixture, not a user)."""
    from sqlalchemy import delete

    spec = queries.spec(register)
    with db.engine.begin() as conn:
        if register == "instruments":
            from cms_workflows.registers.models import Calibration

            conn.execute(delete(Calibration))
        conn.execute(delete(spec.model).where(spec.model.created_by != "system"))
    return db


def test_an_edited_file_updates_the_changed_rows_only(db, company):
    add(db, "obligations")
    add(db, "obligations", code="CO-02", title="温室气体排放核算与报告要求", clause="全文")
    with db.read() as uow:
        data = queries.export(uow, "compliance.lead", "obligations", "csv", "en")
    text = data.decode("utf-8-sig").replace("第十一条", "第十三条")
    with db.unit_of_work() as uow:
        result = IMPORT["obligations"](uow, "compliance.lead", text.encode("utf-8"), "o.csv")
    assert (result.created, result.updated, result.unchanged) == ([], ["CO-01"], 1)
    change = events(db, "registers.obligation.import")[-1]
    assert '"clause"' in change.payload and "第十三条" in change.payload


BAD_ROWS = [
    # (column, bad value, problem key)
    ("context", "上下游", "registers.problem.not_a_choice"),
    ("description", "", "registers.problem.required"),
    ("analysed_on", "2025-13-45", "registers.problem.bad_date"),
]


def test_one_bad_file_writes_nothing_and_lists_every_problem_with_row_and_column_in_zh_and_en(db, company):
    header = tabular.header(queries.spec("swot").register, "zh-CN")
    good = ["S-01", "内部", "优势", "技术成熟", "审计", "2025-01-10", "2026-01-10"]
    rows = [header, good, ["S-02", "上下游", "劣势", "", "", "2025-13-45", ""], ["S-01", "外部", "优势", "重复编号", "", "", ""]]
    data = _csv(rows)
    before = len(events(db, "registers."))
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        IMPORT["swot"](uow, "carbon.lead", data, "swot.csv")
    problems = {(p["row"], str(p["field"]), p["key"]) for p in raised.value.problems}
    assert problems == {(3, "context", "registers.problem.not_a_choice"), (3, "description", "registers.problem.required"),
                        (3, "analysed_on", "registers.problem.bad_date"), (4, "code", "registers.problem.duplicate_key")}
    zh, en = raised.value.message("zh-CN"), raised.value.message("en")
    assert "第 3 行 字段 内/外部" in zh and "第 3 行 字段 描述" in zh and "第 4 行 字段 编号" in zh and "内部、外部" in zh
    assert "row 3 field Internal/external" in en and "row 3 field Description" in en and "row 4 field Code" in en
    with db.read() as uow:
        assert queries.rows(uow, "carbon.lead", "swot") == []
    assert len(events(db, "registers.")) == before


def test_rules_across_columns_and_references_are_problems_too(db, company):
    """R-4.1 a strength is internal; R-6.2.1 owners exist and an assessment has both factors; R-9.1 sites exist."""
    reg = queries.spec("risks").register
    header = [c.name for c in reg.inputs()]
    row = {**ROWS["risks"], "impact": "", "owner_position": "chief_dreamer", "owner_user": "nobody"}
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        IMPORT["risks"](uow, "compliance.lead", _csv([header, [row[c] for c in header]]), "r.csv")
    assert {str(p["field"]) for p in raised.value.problems} == {"impact", "owner_position", "owner_user"}
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        ADD["swot"](uow, "carbon.lead", **{**ROWS["swot"], "context": "external"})
    assert "内部因素" in raised.value.message("zh-CN")
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        ADD["instruments"](uow, "energy_engineer.hn01", **{**ROWS["instruments"], "site": "HN01", "interval_months": 0})
    assert raised.value.problems[0]["key"] == "registers.problem.out_of_range"


def test_files_are_bounded_with_a_clear_message(db, company, monkeypatch):
    monkeypatch.setenv("CMS_LIMIT_REGISTER_MAX_ROWS", "3")
    header = [c.name for c in queries.spec("swot").register.inputs()]
    rows = [header] + [[f"S-{i}", "internal", "strength", "x", "", "", ""] for i in range(5)]
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        IMPORT["swot"](uow, "carbon.lead", _csv(rows), "big.csv")
    assert "CMS_LIMIT_REGISTER_MAX_ROWS" in raised.value.message("en")
    xlsx = tabular.export(queries.spec("swot").register, [dict(zip(header, r)) for r in rows[1:]], "xlsx")
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        IMPORT["swot"](uow, "carbon.lead", xlsx, "big.xlsx")
    assert "3" in raised.value.message("zh-CN") and raised.value.key == "registers.bad_file"
    monkeypatch.setenv("CMS_LIMIT_REGISTER_MAX_BYTES", "100")
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        IMPORT["swot"](uow, "carbon.lead", b"x" * 101, "big.csv")
    assert "CMS_LIMIT_REGISTER_MAX_BYTES" in raised.value.message("zh-CN")
    for junk, name in ((b"PK\x03\x04not a zip", "x.xlsx"), (b"\x00\x01binary", "x.csv"), (b"", "x.csv")):
        with pytest.raises(CmsError) as raised, db.unit_of_work() as uow:
            IMPORT["swot"](uow, "carbon.lead", junk, name)
        assert raised.value.key == "registers.bad_file"


def test_exports_write_formula_like_text_as_text_OWASP_csv_injection(db, company):
    """A description such as =HYPERLINK(…) comes out as text in CSV and Excel, and reads back unchanged."""
    evil = '=HYPERLINK("http://x.example","点击")'
    add(db, "swot", description=evil)
    with db.read() as uow:
        csv_data = queries.export(uow, "carbon.lead", "swot", "csv", "zh-CN")
        xlsx_data = queries.export(uow, "carbon.lead", "swot", "xlsx", "zh-CN")
    assert _rows(csv_data, "csv")[1][3] == "'" + evil
    ws = load_workbook(io.BytesIO(xlsx_data)).worksheets[0]
    cell = ws.cell(row=2, column=4)
    assert cell.data_type == "s" and cell.value == evil and cell.quotePrefix
    for data, fmt in ((csv_data, "csv"), (xlsx_data, "xlsx")):
        with db.unit_of_work() as uow:
            result = IMPORT["swot"](uow, "carbon.lead", data, f"s.{fmt}")
        assert (result.created, result.updated) == ([], [])


def test_templates_are_the_header_in_the_readers_language(db):
    for name in ("swot", "parties", "risks", "obligations", "instruments", "scope",
                 "changes", "competence", "training", "communication", "disclosures"):
        for fmt in ("xlsx", "csv"):
            rows = _rows(queries.template(name, fmt, "en"), fmt)
            assert len(rows) == 1 and rows[0][0] in ("Code",)


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _rows(data: bytes, fmt: str) -> list[list]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]
