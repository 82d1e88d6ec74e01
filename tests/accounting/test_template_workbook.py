"""The import template a data administrator expects (issue 15, item 11; R-6.3.5, R-8.6): the generated
workbook opened again with openpyxl (instructions in zh-CN and en, locked identity columns, validations,
frozen header, hints from the facility's history and the physical ranges), and filled, sorted, padded
with blank rows and partly filled copies imported back through the real import command."""

from __future__ import annotations

import io
import random

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from cms_workflows.accounting import activity_import, importing
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.models import Activity
from cms_workflows.org.queries import site_codes

from .conftest import DATA_ADMIN, csv_bytes, year_rows

PERIODS = ["2024-01", "2024-02"]
IDENTITY = ("site", "production_unit", "facility", "category", "material", "period", "unit")


def template(db, locale: str, monkeypatch, site: str = "HN01", periods=PERIODS) -> bytes:
    monkeypatch.setenv("CMS_LOCALE", locale)
    with db.read() as s:
        return q.template(s, DATA_ADMIN, periods, site)


def columns(ws) -> dict[str, int]:
    """Header code (after the slash) -> column number."""
    return {str(c.value).rsplit("/", 1)[-1]: c.column for c in ws[1]}


def validation_of(ws, column_letter: str):
    found = [dv for dv in ws.data_validations.dataValidation
             if any(column_letter == str(r.coord).split(":")[0].rstrip("0123456789") for r in dv.sqref.ranges)]
    assert len(found) == 1, column_letter
    return found[0]


@pytest.fixture
def history(db, plan):
    """2023 imported: the hints' history (natural gas 10–11 ×10^4 Nm3 a month, limestone 100–110 t)."""
    with db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, csv_bytes(year_rows(2023)), "2023.csv")


def test_the_chinese_template_has_instructions_locked_identity_validations_and_hints(db, history, monkeypatch):
    book = load_workbook(io.BytesIO(template(db, "zh-CN", monkeypatch)))
    assert book.sheetnames == ["填写说明", "activity_data", "产量与产值"]
    notes = "\n".join(str(c.value) for c in book["填写说明"]["A"] if c.value)
    for phrase in ("填写说明", "数量/quantity", "计量表 = 计量表读数", "锁定", "没有密码", "排序", "空行",
                   "cms accounting import", "纯度", "产值可以不填", "--replace"):
        assert phrase in notes, phrase
    assert book["填写说明"].protection.sheet

    ws = book["activity_data"]
    col = columns(ws)
    assert [c.value for c in ws[1]][:11] == ["站点/site", "生产单元/production_unit", "排放设施/facility",
                                             "排放源类别/category", "燃料/物料/material", "期间/period", "数量/quantity",
                                             "单位/unit", "数据来源/data_source", "证据编号/evidence_ref", "纯度/purity"]
    assert ws.freeze_panes == "A2"
    assert ws.protection.sheet and ws.protection.password is None
    assert ws.protection.sort is False and ws.protection.insertRows is False  # sorting and adding rows allowed
    assert ws.max_row == 1 + 4 * len(PERIODS)  # one row per plan line and month, nothing below
    for n in range(2, ws.max_row + 1):
        for f in IDENTITY + ("category_name", "material_name", "hint"):
            assert ws.cell(row=n, column=col[f]).protection.locked, (n, f)
        for f in ("quantity", "data_source", "evidence_ref", "purity"):
            assert not ws.cell(row=n, column=col[f]).protection.locked, (n, f)
    from openpyxl.utils import get_column_letter as letter

    quantity = validation_of(ws, letter(col["quantity"]))
    assert (quantity.type, quantity.operator, quantity.formula1, quantity.showErrorMessage) == \
        ("decimal", "greaterThanOrEqual", "0", True)
    assert "不小于 0" in quantity.error
    source = validation_of(ws, letter(col["data_source"]))
    assert (source.type, source.formula1) == ("list", '"计量表,发票,估算"')
    purity = validation_of(ws, letter(col["purity"]))
    assert (purity.type, purity.operator, purity.formula1, purity.formula2) == ("decimal", "between", "0", "1")
    # a validation reaches below the rows, to rows a user adds
    assert int(str(quantity.sqref).split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) > ws.max_row

    rows = {(ws.cell(row=n, column=col["facility"]).value, ws.cell(row=n, column=col["period"]).value):
            {f: ws.cell(row=n, column=c).value for f, c in col.items()} for n in range(2, ws.max_row + 1)}
    gas = rows[("BOILER1", "2024-01")]
    assert (gas["category"], gas["category_name"], gas["material"], gas["material_name"]) == \
        ("stationary_combustion", "固定燃烧源", "natural_gas", "天然气")
    assert gas["data_source"] == "计量表" and gas["quantity"] is None and gas["unit"] == "10^4Nm3"
    # 2023's gas: 10 × (1 + 0.05 × (m % 3)) = 10, 10.5, 11; the physical maximum is 1.0e5 ×10^4 Nm3
    assert gas["hint"] == "单位 10^4Nm3；该设施以往 12 个月 10–11 10^4Nm3（中位数 10.5）；单月超过 100,000 10^4Nm3 视为单位错误"
    kiln = rows[("KILN1", "2024-02")]
    assert kiln["data_source"] == "发票" and kiln["material_name"] == "石灰石 (CaCO3)"
    assert "100–110 t" in kiln["hint"] and "5,000,000 t" in kiln["hint"]
    assert ws.column_dimensions[letter(col["hint"])].width > ws.column_dimensions[letter(col["site"])].width >= 8

    out = book["产量与产值"]
    assert [c.value for c in out[1]] == ["站点/site", "期间/period", "产品产量（吨）/product_t", "产值（万元）/value_10k_cny",
                                         "已登记/recorded"]
    assert [(r[0], r[1]) for r in out.iter_rows(min_row=2, values_only=True)] == [("HN01", p) for p in PERIODS]
    assert out.freeze_panes == "A2" and out.protection.sheet
    assert out["A2"].protection.locked and out["B2"].protection.locked
    assert not out["C2"].protection.locked and not out["D2"].protection.locked
    assert validation_of(out, "C").formula1 == "0" and validation_of(out, "D").operator == "greaterThanOrEqual"


def test_the_english_template_speaks_english_and_keeps_the_codes(db, history, monkeypatch):
    book = load_workbook(io.BytesIO(template(db, "en", monkeypatch)))
    assert book.sheetnames == ["Instructions", "activity_data", "production"]
    notes = "\n".join(str(c.value) for c in book["Instructions"]["A"] if c.value)
    assert "how to fill it" in notes and "meter = meter reading" in notes and "no password" in notes
    assert "填写" not in notes
    ws = book["activity_data"]
    header = [c.value for c in ws[1]]
    assert "Quantity/quantity" in header and "Fuel/material/material" in header and "Hint/hint" in header
    col = columns(ws)
    first = {f: ws.cell(row=2, column=c).value for f, c in col.items()}
    assert first["category_name"] == "Stationary combustion" and first["material_name"] == "Natural gas"
    assert first["data_source"] == "meter" and first["hint"].startswith("unit 10^4Nm3; this facility's earlier 12")
    from openpyxl.utils import get_column_letter as letter

    assert validation_of(ws, letter(col["data_source"])).formula1 == '"meter,invoice,estimate"'
    assert [c.value for c in book["production"][1]][2] == "Product output (t)/product_t"


def test_a_first_template_has_no_history_and_the_csv_template_is_as_before(db, plan, monkeypatch):
    ws = load_workbook(io.BytesIO(template(db, "zh-CN", monkeypatch)))["activity_data"]
    hints = [ws.cell(row=n, column=columns(ws)["hint"]).value for n in range(2, ws.max_row + 1)]
    assert all(h.startswith("单位 ") and "尚无以往数据" in h for h in hints)
    monkeypatch.setenv("CMS_LOCALE", "zh-CN")
    with db.read() as s:
        text = q.template(s, DATA_ADMIN, PERIODS, "HN01", "csv").decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(f"{importing.HEADERS_ZH[f]}/{f}" for f in importing.FIELDS + ["purity"])
    assert len(text.splitlines()) == 1 + 4 * len(PERIODS)


def _fill(data: bytes, quantities: dict[tuple[str, str], float], evidence: str = "") -> tuple:
    """The template with a quantity per (facility, period) given (others left empty)."""
    book = load_workbook(io.BytesIO(data))
    ws = book["activity_data"]
    col = columns(ws)
    for n in range(2, ws.max_row + 1):
        key = (ws.cell(row=n, column=col["facility"]).value, ws.cell(row=n, column=col["period"]).value)
        if key in quantities:
            ws.cell(row=n, column=col["quantity"], value=quantities[key])
            ws.cell(row=n, column=col["evidence_ref"], value=evidence or None)
    return book, ws


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _shuffled_with_blank_rows(book, ws, seed: int = 7) -> bytes:
    """The data rows in another order (as a user's sort would leave them), blank rows between them."""
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    random.Random(seed).shuffle(rows)
    for n, values in enumerate(rows, start=2):
        for j, v in enumerate(values, start=1):
            ws.cell(row=n, column=j, value=v)
    ws.insert_rows(4, amount=2)
    ws.insert_rows(ws.max_row + 1 - 3)
    return _save(book)


def _parsed(db, data: bytes, name: str):
    with db.read() as s:
        parsed, _accepted = activity_import.read(s, site_codes(s), data, name, 10.0, None, "")
    return parsed


def _as_set(frame) -> set[tuple]:
    keys = ["site", "facility", "material", "period", "quantity", "unit", "data_source", "evidence_ref"]
    return {tuple(r) for r in frame[keys].astype(str).itertuples(index=False, name=None)}


def test_a_filled_template_sorted_with_blank_rows_imports_the_same_rows(db, history, monkeypatch):
    data = template(db, "zh-CN", monkeypatch)
    quantities = {("BOILER1", "2024-01"): 10.2, ("BOILER1", "2024-02"): 10.7, ("KILN1", "2024-01"): 101,
                  ("KILN1", "2024-02"): 104, ("GRID", "2024-01"): 1010, ("GRID", "2024-02"): 1040,
                  ("TRUCKS", "2024-01"): 2.1, ("TRUCKS", "2024-02"): 2.2}
    book, ws = _fill(data, quantities, evidence="抄表单-1")
    plain = _save(book)
    expected = _parsed(db, plain, "filled.xlsx")
    assert expected.problems == [] and len(expected.frame) == 8 and expected.skipped == 0
    shuffled = _shuffled_with_blank_rows(*_fill(data, quantities, evidence="抄表单-1"))
    again = _parsed(db, shuffled, "sorted.xlsx")
    assert again.problems == [] and _as_set(again.frame) == _as_set(expected.frame)

    with db.unit_of_work() as s:
        result = acc.import_activity(s, DATA_ADMIN, shuffled, "sorted.xlsx")
    assert (result.rows, result.skipped, result.outputs) == (8, 0, 0)
    with db.read() as s:
        stored = s.exec(select(Activity).where(Activity.import_id == result.import_id)).all()
    assert {(a.facility, a.period): a.quantity for a in stored} == {k: float(v) for k, v in quantities.items()}
    assert {a.data_source for a in stored} == {"meter", "invoice"} and {a.evidence_ref for a in stored} == {"抄表单-1"}
    assert {a.category for a in stored if a.facility == "KILN1"} == {"process"}


def test_a_partly_filled_template_imports_the_filled_rows_and_counts_the_others(db, history, monkeypatch):
    data = template(db, "zh-CN", monkeypatch)
    book, _ws = _fill(data, {("BOILER1", "2024-01"): 10.4, ("GRID", "2024-01"): 1020})
    with db.unit_of_work() as s:
        result = acc.import_activity(s, DATA_ADMIN, _save(book), "january.xlsx")
    assert (result.rows, result.skipped) == (2, 6)
    with db.read() as s:
        stored = s.exec(select(Activity.facility, Activity.period).where(Activity.import_id == result.import_id)).all()
    assert sorted(stored) == [("BOILER1", "2024-01"), ("GRID", "2024-01")]


def test_an_empty_template_is_refused_and_a_started_row_is_reported(db, plan, monkeypatch):
    data = template(db, "zh-CN", monkeypatch)
    from cms_workflows.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as empty, db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, data, "empty.xlsx")
    assert empty.value.key == "accounting.bad_file"
    # evidence given without a quantity: the row was started, so its missing quantity is reported
    book, ws = _fill(data, {("KILN1", "2024-02"): 100})
    col = columns(ws)
    ws.cell(row=2, column=col["evidence_ref"], value="INV-7")
    with pytest.raises(ValidationFailed) as started, db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, _save(book), "started.xlsx")
    assert [(p["row"], p["field"], p["key"]) for p in started.value.problems] == \
        [(2, "quantity", "accounting.problem.required")]
    with db.read() as s:
        assert s.exec(select(Activity)).first() is None
