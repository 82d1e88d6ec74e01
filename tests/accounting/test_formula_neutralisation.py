"""Exports neutralise formulas (issue 14 item 8; OWASP CSV injection; R-7.5 documented information handed out).

The finding: plan and facility names such as `=HYPERLINK(...)` or `=cmd|...` came out as live formulas
in results.xlsx and unescaped in CSV. Here such names go through plan, import template, import and
calculation, and every export (the results of `cms accounting results --out`, the import template, the
shared writer the demo uses) shows them as text: string cells in .xlsx, a leading quote in CSV, while
numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from cms_workflows.accounting import queries, reports
from cms_workflows.accounting import service as acc
from cms_workflows.core import exports
from tests.conftest import signed_in_env

from .conftest import ACCOUNTANT, DATA_ADMIN, GM

HYPERLINK = '=HYPERLINK("http://evil","x")'
DDE = "=cmd|' /C calc'!A0"
PLUS = "+1+1"
AT = "@SUM(A1)"
MINUS = "-2+3"
# production unit, facility, category, material, unit, data source, monthly quantity
EVIL_PLAN = [
    (PLUS, HYPERLINK, "stationary_combustion", "natural_gas", "10^4Nm3", "meter", 10.0),
    (MINUS, DDE, "purchased_electricity", "electricity", "MWh", "meter", 1000.0),
    ("U1", AT, "process", "limestone_caco3", "t", "invoice", 100.0),
    (AT, MINUS, "mobile_combustion", "diesel", "t", "invoice", 2.0),
]
EVIL = {HYPERLINK, DDE, PLUS, AT, MINUS}
PERIODS = ["2023-01", "2023-02"]


@pytest.fixture
def evil_plan(db, company):
    with db.unit_of_work() as session:
        for pu, fac, cat, mat, unit, ds, _q in EVIL_PLAN:
            acc.add_plan_item(session, ACCOUNTANT, site="HN01", production_unit=pu, facility=fac, category=cat,
                              material=mat, unit=unit, data_source=ds, facility_name=AT,
                              meter_calibrated=True if ds == "meter" else None)
    return EVIL_PLAN


def _template(db, fmt: str) -> bytes:
    with db.read() as session:
        return queries.template(session, DATA_ADMIN, PERIODS, "HN01", fmt)


def _cells(data: bytes | Path):
    """Every cell of every sheet, reopened with openpyxl (normal mode: formulas would show data_type 'f')."""
    wb = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _assert_no_formula(cells) -> None:
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    for c in cells:
        if isinstance(c.value, str) and c.value in EVIL:
            assert c.data_type == "s" and c.quotePrefix, (c.coordinate, c.value)


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _fill_csv(data: bytes) -> bytes:
    """The data administrator fills the CSV template's quantities and sends it back as it is."""
    rows = _csv_rows(data)
    quantity = next(i for i, h in enumerate(rows[0]) if h.endswith("/quantity"))
    facility = next(i for i, h in enumerate(rows[0]) if h.endswith("/facility"))
    by_facility = {"'" + fac: q for _pu, fac, *_rest, q in EVIL_PLAN} | {fac: q for _pu, fac, *_rest, q in EVIL_PLAN}
    for row in rows[1:]:
        row[quantity] = str(by_facility[row[facility]])
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _imported_and_approved(db) -> None:
    data = _fill_csv(_template(db, "csv"))
    with db.unit_of_work() as session:
        result = acc.import_activity(session, DATA_ADMIN, data, "activity.csv")
    assert result.rows == len(EVIL_PLAN) * len(PERIODS)
    with db.unit_of_work() as session:
        run = acc.calculate(session, ACCOUNTANT, PERIODS[0], PERIODS[-1])
    with db.unit_of_work() as session:
        acc.approve_run(session, GM, run.run_id)


def test_the_import_template_writes_plan_names_as_text(db, evil_plan):
    xlsx = _template(db, "xlsx")
    cells = _cells(xlsx)
    _assert_no_formula(cells)
    values = {c.value for c in cells}
    assert EVIL <= values  # the names themselves, unchanged (the quote is a cell style, not part of the text)
    rows = _csv_rows(_template(db, "csv"))
    written = {v for row in rows[1:] for v in row}
    assert {"'" + v for v in EVIL} <= written and not EVIL & written


def test_a_filled_template_imports_back_under_the_plans_names(db, evil_plan):
    """The quote the CSV template adds is not part of the name: the filled template matches the plan."""
    _imported_and_approved(db)
    with db.read() as session:
        frame = queries.activity_frame(session, PERIODS[0], PERIODS[-1], ["HN01"])
    assert set(frame["facility"].astype(str)) == {fac for _pu, fac, *_r in EVIL_PLAN}
    assert set(frame["production_unit"].astype(str)) == {pu for pu, *_r in EVIL_PLAN}


def test_results_xlsx_and_csv_show_formulas_as_text_and_numbers_as_numbers(db, evil_plan, tmp_path):
    from cms_workflows.cli.accounting import _write_table  # what `cms accounting results --out` calls

    _imported_and_approved(db)
    with db.read() as session:
        table = reports.results_table(session, GM, first=PERIODS[0], last=PERIODS[-1], level="facility", by="month")
    assert EVIL & set(table["facility"].astype(str))
    _write_table(table, tmp_path / "results.xlsx")
    _write_table(table, tmp_path / "results.csv")

    cells = _cells(tmp_path / "results.xlsx")
    _assert_no_formula(cells)
    header = [c.value for c in cells[: len(table.columns)]]
    per_column = {h: [c for c in cells[len(header):] if c.column == i + 1] for i, h in enumerate(header)}
    assert {c.value for c in per_column["facility"]} == {fac for _pu, fac, *_r in EVIL_PLAN}
    # a whole tonne (100 t limestone x 0.440 = 44) reads back from xlsx as an int: still a number
    assert all(c.data_type == "n" and isinstance(c.value, (int, float)) for c in per_column["tco2e"])
    assert sum(c.value for c in per_column["tco2e"]) == pytest.approx(table["tco2e"].sum())

    text = (tmp_path / "results.csv").read_bytes()
    rows = _csv_rows(text)
    facility, tco2e = rows[0].index("facility"), rows[0].index("tco2e")
    assert {r[facility] for r in rows[1:]} == {"'" + fac for _pu, fac, *_r in EVIL_PLAN}
    assert not any(re.match(r"^[=+\-@\t\r]", v) for r in rows for v in r if not _is_number(v))
    assert sum(float(r[tco2e]) for r in rows[1:]) == pytest.approx(table["tco2e"].sum())
    assert pd.read_csv(io.BytesIO(text), encoding="utf-8-sig")["tco2e"].dtype.kind == "f"


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def test_cms_accounting_results_out_writes_no_formula(db, evil_plan, cli_env, tmp_path):
    """The real command, in its own process."""
    _imported_and_approved(db)
    out = tmp_path / "results.xlsx"
    env = {**os.environ, **signed_in_env(cli_env, GM)}
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "accounting", "results", "--from", PERIODS[0],
                        "--to", PERIODS[-1], "--level", "facility", "--out", str(out)],
                       capture_output=True, text=True, env=env, check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    wb = load_workbook(out)  # the results workbook: facilities are on their own sheet, not the summary
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    _assert_no_formula(cells)
    assert HYPERLINK in {c.value for c in cells} and DDE in {c.value for c in cells}


# ---------------------------------------------------------------- the shared helper itself


@pytest.mark.parametrize("value", [HYPERLINK, DDE, PLUS, AT, MINUS, "\tTAB", "\rCR", "=1+1", "-", "@"])
def test_every_trigger_is_neutralised_and_restored(value):
    assert exports.neutralise_value(value) == "'" + value
    assert exports.restore_value(exports.neutralise_value(value)) == value
    cells = _cells(exports.xlsx_bytes(["name"], [[value]]))
    assert cells[1].value == value and cells[1].data_type == "s" and cells[1].quotePrefix


@pytest.mark.parametrize("value", ["BOILER1", "锅炉=1号", "", "'quoted", "a-b", -2.5, -3, 0, 1e-9, None, True])
def test_harmless_values_and_numbers_pass_unchanged(value):
    assert exports.neutralise_value(value) == value
    if isinstance(value, str):
        assert exports.restore_value(value) == value


def test_numbers_stay_numbers_and_text_becomes_text_in_frames(tmp_path):
    frame = pd.DataFrame({"facility": [HYPERLINK, "-2+3", "GRID", None], "tco2e": [-2.5, 3.0, float("nan"), 1.0],
                          "count": [-1, 2, 3, 4], "unit": pd.Categorical(["@x", "t", "t", "t"])})
    csv_path, xlsx_path = tmp_path / "f.csv", tmp_path / "f.xlsx"
    exports.write_csv(frame, csv_path)
    exports.write_frame_xlsx(frame, xlsx_path, sheet_name="results")
    back = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert list(back["facility"].fillna("")) == ["'" + HYPERLINK, "'-2+3", "GRID", ""]
    assert list(back["count"]) == [-1, 2, 3, 4] and back["tco2e"].iloc[0] == -2.5
    assert back["count"].dtype.kind == "i" and back["tco2e"].dtype.kind == "f"
    assert list(back["unit"]) == ["'@x", "t", "t", "t"]
    cells = _cells(xlsx_path)
    _assert_no_formula(cells)
    rows = [[c for c in cells if c.row == r] for r in range(1, 6)]
    assert [c.value for c in rows[1]] == [HYPERLINK, -2.5, -1, "@x"]
    assert [c.data_type for c in rows[1]] == ["s", "n", "n", "s"]
    assert rows[3][1].value is None and rows[4][0].value is None  # NaN and None as blank cells, as to_excel
    assert load_workbook(xlsx_path).sheetnames == ["results"]
    assert frame["facility"].iloc[0] == HYPERLINK  # the caller's frame is not changed


def test_no_export_bypasses_the_shared_writer():
    """Every .xlsx the package writes goes through core.exports (pandas' to_excel and a bare openpyxl
    Workbook would turn text starting with = into a formula)."""
    root = Path(exports.__file__).resolve().parents[1]
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "exports.py" and path.parent.name == "core":
            continue
        source = path.read_text(encoding="utf-8")
        if ".to_excel(" in source or re.search(r"\bWorkbook\(", source):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
