"""The results workbook a manager expects (issue 15, item 11): named sheets in the reader's language,
figures rounded to the reporting precision but numeric with a number format, units in the headers, frozen
headers, fitted widths, text never a formula; a by-source sheet where the results record their material.

Every expected figure here is summed from the hand-made frame by the test itself, never by the module."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime, timezone

import pandas as pd
import pytest
from openpyxl import load_workbook

from cms_workflows.accounting import results_workbook as rw
from tests.conftest import signed_in_env

from .conftest import ACCOUNTANT, GM, csv_bytes, year_rows
from .test_service import do_import

HYPERLINK = '=HYPERLINK("http://evil","x")'
COLUMNS = ["site", "production_unit", "facility", "category", "material", "period", "tco2e", "memo_tco2e"]
ROWS = [
    ("HN01", "U1", "BOILER1", "stationary_combustion", "natural_gas", "2023-01", 1078.60788736965, 0.0),
    ("HN01", "U1", "BOILER1", "stationary_combustion", "natural_gas", "2023-02", 1000.004, 0.0),
    ("HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-01", 530.6, 0.0),
    ("HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-02", 520.125, 0.0),
    ("HN02", "V1", HYPERLINK, "stationary_combustion", "diesel", "2023-01", 12.3456, 0.0),
    ("HN02", "V1", "STEAM", "exported_heat", "heat", "2023-02", -40.5, 0.0),
    ("HN02", "V1", "BIO", "biomass", "wood_biomass", "2023-01", 0.0, 87.654321),
]
TITLE = rw.Title(first="2023-01", last="2023-02", company="湖南示范制造有限公司",
                 generated_at=datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc))
HALF_CENT = 0.005 + 1e-9  # a figure rounded to 2 decimals is within half a hundredth of the exact sum
SHEETS = {"zh-CN": ["汇总", "按场所", "按类别", "按月份", "按设施", "按排放源", "说明"],
          "en": ["Summary", "By site", "By category", "By month", "By facility", "By source", "About"]}


def _frame(with_material: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    return frame if with_material else frame.drop(columns=["material"])


def _open(data: bytes):
    return load_workbook(io.BytesIO(data))


def _rows(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def _by_first_column(ws) -> dict:
    return {r[0]: r for r in _rows(ws)[1:]}


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_sheets_are_named_in_the_readers_language(locale):
    wb = _open(rw.build(_frame(), locale, TITLE))
    assert wb.sheetnames == SHEETS[locale]


def test_headers_categories_and_materials_read_in_chinese_and_in_english():
    zh, en = _open(rw.build(_frame(), "zh-CN", TITLE)), _open(rw.build(_frame(), "en", TITLE))
    assert _rows(zh["按类别"])[0] == ["排放源类别", "类别代码", "排放量（tCO2e）", "备忘项（tCO2e，不计入总量）", "占总排放量（%）"]
    assert _rows(en["By category"])[0] == ["Source category", "Category code", "Emissions (tCO2e)",
                                           "Memo items (tCO2e, not in total)", "Share of total (%)"]
    assert {"固定燃烧源", "输入电力产生的排放", "输出热力对应的排放", "生物质燃料燃烧源"} <= set(_by_first_column(zh["按类别"]))
    assert {"Stationary combustion", "Exported heat"} <= set(_by_first_column(en["By category"]))
    assert {"天然气", "电力", "柴油", "热力", "木材/木质废弃物"} <= set(_by_first_column(zh["按排放源"]))
    assert {"Natural gas", "Electricity", "Diesel oil", "Heat", "Wood / wood waste"} <= set(_by_first_column(en["By source"]))
    assert _rows(zh["按月份"])[0] == ["月份", "HN01（tCO2e）", "HN02（tCO2e）", "合计（tCO2e）"]
    assert _rows(en["By facility"])[0][:4] == ["Site", "Production unit", "Facility", "Source category"]
    # every sheet but About says its unit in a header
    for ws in zh.worksheets[:-1]:
        assert any("tCO2e" in str(h) for h in _rows(ws)[0]), ws.title


def test_figures_are_rounded_numbers_with_a_number_format_not_strings():
    wb = _open(rw.build(_frame(), "zh-CN", TITLE))
    numbers = 0
    for ws in wb.worksheets[:-1]:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    assert not _is_number(cell.value), (ws.title, cell.coordinate, cell.value)  # never "1078.61"
                    continue
                if cell.value is None:
                    continue
                numbers += 1
                assert cell.data_type == "n", (ws.title, cell.coordinate)
                assert cell.number_format in ("#,##0.00", "0.0%"), (ws.title, cell.coordinate, cell.number_format)
                if cell.number_format == "#,##0.00":
                    assert cell.value == round(cell.value, 2), (ws.title, cell.coordinate, cell.value)
    assert numbers > 40
    january = _by_first_column(wb["按月份"])["2023-01"]
    assert january[1] == 1609.21  # 1078.60788736965 + 530.6 = 1609.20788736965
    assert rw.rounded(2.675) == 2.68 and rw.rounded(-0.125) == -0.13  # half up, as by hand (round() gives 2.67)


def test_totals_equal_the_frames_sums():
    frame = _frame()
    total = sum(r[6] for r in ROWS)
    memo = sum(r[7] for r in ROWS)
    per_site = {s: sum(r[6] for r in ROWS if r[0] == s) for s in ("HN01", "HN02")}
    per_category = {c: sum(r[6] for r in ROWS if r[3] == c) for c in {r[3] for r in ROWS}}
    per_month = {p: sum(r[6] for r in ROWS if r[5] == p) for p in ("2023-01", "2023-02")}
    wb = _open(rw.build(frame, "en", TITLE))

    summary = _rows(wb["Summary"])
    assert summary[1][:3] == ["Total", "Total", pytest.approx(total, abs=HALF_CENT)]
    assert summary[1][3] == 1
    assert {r[1]: r[2] for r in summary if r[0] == "Site"} == {s: pytest.approx(v, abs=HALF_CENT) for s, v in per_site.items()}
    assert summary[-1][:3] == ["Memo", "Biomass CO2 and other memo items (not in total)", pytest.approx(memo, abs=HALF_CENT)]

    sites = _by_first_column(wb["By site"])
    assert sites["Total"][1:3] == [pytest.approx(total, abs=HALF_CENT), pytest.approx(memo, abs=HALF_CENT)]
    assert sites["HN02"][1] == pytest.approx(per_site["HN02"], abs=HALF_CENT) and sites["HN02"][2] == pytest.approx(memo, abs=HALF_CENT)
    assert sites["HN01"][3] == pytest.approx(per_site["HN01"] / total, abs=0.00005)

    categories = {r[1]: r for r in _rows(wb["By category"])[1:]}
    assert {c: categories[c][2] for c in per_category} == {c: pytest.approx(v, abs=HALF_CENT) for c, v in per_category.items()}
    assert categories["exported_heat"][2] == -40.5  # a deduction stays negative
    assert _by_first_column(wb["By category"])["Total"][2] == pytest.approx(total, abs=HALF_CENT)

    months = _by_first_column(wb["By month"])
    assert {p: months[p][-1] for p in per_month} == {p: pytest.approx(v, abs=HALF_CENT) for p, v in per_month.items()}
    assert months["Total"][1:] == [pytest.approx(per_site["HN01"], abs=HALF_CENT), pytest.approx(per_site["HN02"], abs=HALF_CENT),
                                   pytest.approx(total, abs=HALF_CENT)]

    facilities = _rows(wb["By facility"])
    assert facilities[-1][0] == "Total" and facilities[-1][4] == pytest.approx(total, abs=HALF_CENT)
    assert sum(r[4] for r in facilities[1:-1]) == pytest.approx(total, abs=HALF_CENT * len(facilities))
    assert facilities[1][:3] == ["HN01", "U1", "BOILER1"]  # largest first within a site

    sources = {r[1]: r for r in _rows(wb["By source"])[1:]}
    assert sources["natural_gas"][3] == pytest.approx(1078.60788736965 + 1000.004, abs=HALF_CENT)
    assert sources["wood_biomass"][3:5] == [0, pytest.approx(87.654321, abs=HALF_CENT)]
    assert sources[None][0] == "Total" and sources[None][3] == pytest.approx(total, abs=HALF_CENT)


def test_headers_are_frozen_bold_and_columns_fitted():
    wb = _open(rw.build(_frame(), "zh-CN", TITLE))
    for ws in wb.worksheets:
        assert ws.freeze_panes == ("B2" if ws.title == "按月份" else "A2"), ws.title
        assert all(c.font.b for c in ws[1]), ws.title
        header = _rows(ws)[0]
        for i, text in enumerate(header, start=1):
            width = ws.column_dimensions[ws.cell(1, i).column_letter].width
            # a Chinese character takes two widths: the header fits in its column
            assert width >= sum(2 if ord(ch) > 0x2E7F else 1 for ch in text), (ws.title, text, width)
    about = wb["说明"]
    assert about.column_dimensions["B"].width > about.column_dimensions["A"].width  # fitted, not one default


def test_text_cells_are_never_formulas():
    wb = _open(rw.build(_frame(), "en", TITLE))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    (evil,) = [c for c in cells if c.value == HYPERLINK]
    assert evil.data_type == "s" and evil.quotePrefix


def test_the_about_sheet_says_what_the_figures_are():
    about = {r[0]: r[1] for r in _rows(_open(rw.build(_frame(), "zh-CN", TITLE))["说明"])[1:]}
    assert about["公司"] == "湖南示范制造有限公司" and about["核算期间"] == "2023-01 至 2023-02"
    assert about["数据来源"].startswith("正式数据") and about["场所"] == "HN01, HN02"
    assert about["单位"] == "吨二氧化碳当量（tCO2e）" and "2 位小数" in about["数值精度"]
    assert about["生成时间"] == "2024-03-01 09:30:00+00:00"
    run = {r[0]: r[1] for r in _rows(_open(rw.build(_frame(), "en", rw.Title("2023-01", "2023-12", run_id=7)))["About"])[1:]}
    assert run["Figures from"] == "Calculation run 7" and run["Company"] is None


def test_no_source_sheet_for_results_without_a_material():
    for frame in (_frame(with_material=False), _frame().assign(material=None)):
        wb = _open(rw.build(frame, "zh-CN", TITLE))
        assert wb.sheetnames == [n for n in SHEETS["zh-CN"] if n != "按排放源"]
        assert "无“按排放源”工作表" in {r[0]: r[1] for r in _rows(wb["说明"])[1:]}["按排放源"]


def test_rows_of_an_earlier_run_without_a_material_are_listed_as_not_recorded():
    frame = _frame()
    frame.loc[frame["facility"] == "STEAM", "material"] = None
    sources = _by_first_column(_open(rw.build(frame, "zh-CN", TITLE))["按排放源"])
    assert sources["未记录（旧核算批次）"][3] == -40.5
    assert sources["合计"][3] == pytest.approx(sum(r[6] for r in ROWS), abs=HALF_CENT)


def test_an_empty_period_gives_a_workbook_with_zero_totals():
    wb = _open(rw.build(pd.DataFrame(columns=COLUMNS), "en", TITLE))
    assert wb.sheetnames == [n for n in SHEETS["en"] if n != "By source"]
    assert _rows(wb["Summary"])[1][2] == 0 and _rows(wb["By month"])[-1] == ["Total", 0]


# ---------------------------------------------------------------- from the database, CLI and web alike

def _approved_year(db) -> pd.DataFrame:
    from cms_workflows.accounting import queries as q
    from cms_workflows.accounting import service as acc

    do_import(db, csv_bytes(year_rows(2023)))
    with db.unit_of_work() as s:
        run_id = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12", ["HN01"]).run_id
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run_id)
    with db.read() as s:
        return q.official_results(s, GM, "2023-01", "2023-12")


def test_the_figures_of_record_as_a_workbook(db, plan):
    official = _approved_year(db)
    with db.read() as s:
        data = rw.for_request(s, GM, first="2023-01", last="2023-12", locale="zh-CN", company="示范公司")
    wb = _open(data)
    assert wb.sheetnames[:5] == SHEETS["zh-CN"][:5] and wb.sheetnames[-1] == "说明"
    summary = _rows(wb["汇总"])
    assert summary[1][2] == pytest.approx(official["tco2e"].sum(), abs=HALF_CENT)
    facilities = {r[2] for r in _rows(wb["按设施"])[1:-1]}
    assert facilities == {"BOILER1", "KILN1", "GRID", "TRUCKS"}
    months = _rows(wb["按月份"])
    assert [r[0] for r in months[1:-1]] == [f"2023-{m:02d}" for m in range(1, 13)]
    about = {r[0]: r[1] for r in _rows(wb["说明"])[1:]}
    assert about["公司"] == "示范公司" and about["核算期间"] == "2023-01 至 2023-12"
    assert ("按排放源" in wb.sheetnames) == ("material" in official.columns and official["material"].notna().any())


def test_cms_accounting_results_out_xlsx_writes_the_workbook_and_csv_keeps_its_level(db, plan, cli_env, tmp_path):
    official = _approved_year(db)
    env = {**os.environ, **signed_in_env(cli_env, GM), "CMS_LOCALE": "en"}
    out = tmp_path / "results.xlsx"
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "accounting", "results", "--from", "2023-01",
                        "--to", "2023-12", "--out", str(out)], capture_output=True, text=True, env=env, check=False,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    wb = _open(out.read_bytes())
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-1] == "About"
    assert _rows(wb["Summary"])[1][2] == pytest.approx(official["tco2e"].sum(), abs=HALF_CENT)
    assert _by_first_column(wb["About"])["Company"][1] == env["CMS_COMPANY_NAME"]
    csv_out = tmp_path / "results.csv"
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "accounting", "results", "--from", "2023-01",
                        "--to", "2023-12", "--level", "category", "--by", "year", "--out", str(csv_out)],
                       capture_output=True, text=True, env=env, check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(csv_out, encoding="utf-8-sig")
    assert list(table.columns) == ["category", "year", "tco2e", "memo_tco2e"]
    assert table["tco2e"].sum() == pytest.approx(official["tco2e"].sum())
