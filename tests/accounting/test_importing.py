"""Import parsing and validation (R-8.6): row/field problems or a clear file-level error, never a traceback."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cms_workflows.accounting import importing
from cms_workflows.accounting.factors import FactorLibrary, categories
from cms_workflows.core.errors import ValidationFailed

from .conftest import PLAN, csv_bytes, row


def ctx(history=None):
    return importing.Context(sites={"HN01", "HN02"}, facilities={(p[0], p[2]): p[1] for p in PLAN},
                             materials=FactorLibrary().materials(), categories=set(categories()), history=history)


def good():
    return [row("HN01", "BOILER1", "natural_gas", "2023-01", 10, "10^4Nm3"), row("HN01", "GRID", "electricity", "2023-01", 1000, "MWh")]


def test_utf8_bom_and_gbk_with_chinese_headers_and_aliases():
    header = [f"{importing.HEADERS_ZH[f]}" for f in importing.FIELDS]
    rows = good()
    rows[0]["unit"] = "万Nm3"
    rows[1]["data_source"] = "计量表"
    for enc in ("utf-8-sig", "gbk", "utf-8"):
        p = importing.parse(csv_bytes(rows, enc, header), "a.csv", ctx())
        assert p.problems == [], enc
        assert list(p.frame["unit"]) == ["10^4Nm3", "MWh"] and list(p.frame["data_source"]) == ["meter", "meter"]


def test_every_bad_field_is_reported_with_row_and_field():
    rows = good() + [
        row("HN01", "BOILER1", "natural_gas", "2023-02", "abc", "10^4Nm3"),
        row("HN01", "BOILER1", "natural_gas", "2023-03", -5, "10^4Nm3"),
        row("HN01", "BOILER1", "natural_gas", "2023-13", 1, "10^4Nm3"),
        {**row("HN01", "BOILER1", "natural_gas", "2023-04", 1, "10^4Nm3"), "facility": "NOPE"},
        {**row("HN01", "BOILER1", "natural_gas", "2023-05", 1, "10^4Nm3"), "material": "unobtainium"},
        row("HN01", "BOILER1", "natural_gas", "2023-06", 1, "furlong"),
        row("HN01", "BOILER1", "natural_gas", "2023-07", 1, "MWh-x"),
        row("HN01", "BOILER1", "natural_gas", "2023-01", 11, "10^4Nm3"),  # duplicate period
        row("HN01", "BOILER1", "natural_gas", "2023-08", "1e300", "10^4Nm3"),
        row("HN01", "GRID", "electricity", "2023-09", 1, "t"),
        {**row("HN01", "GRID", "electricity", "2023-10", 1, "MWh"), "site": "XX"},
    ]
    p = importing.parse(csv_bytes(rows), "bad.csv", ctx())
    got = {(x["row"], x["field"]) for x in p.problems}
    assert {(4, "quantity"), (5, "quantity"), (6, "period"), (7, "facility"), (8, "material"), (9, "unit"), (10, "unit"),
            (11, "period"), (12, "quantity"), (13, "unit"), (14, "site")} <= got
    assert (2, "quantity") not in got and (3, "quantity") not in got
    assert all(x["key"].startswith("accounting.problem.") for x in p.problems)


def test_file_level_errors():
    for data, name in [(b"", "e.csv"), (b"   \n", "e.csv"), (b"\x00\x01\x02garbage", "g.csv"), (b"\xff\xfe\xfa" * 50, "g.csv"),
                       (b"PK\x03\x04broken zip", "x.xlsx"), ("站点,数量\nHN01,1\n".encode(), "few.csv"),
                       (",".join(importing.FIELDS).encode() + b"\n", "header_only.csv")]:
        with pytest.raises(ValidationFailed) as e:
            importing.parse(data, name, ctx())
        assert e.value.key == "accounting.bad_file" and e.value.message()


def test_far_from_history_is_a_warning_not_an_error():
    import pandas as pd

    hist = pd.DataFrame({"site": ["HN01"], "facility": ["BOILER1"], "material": ["natural_gas"], "unit": ["10^4Nm3"], "median": [10.0]})
    rows = good() + [row("HN01", "BOILER1", "natural_gas", "2023-02", 500, "10^4Nm3")]
    p = importing.parse(csv_bytes(rows), "a.csv", ctx(hist))
    assert p.problems == [] and [(w["row"], w["field"]) for w in p.warnings] == [(4, "quantity")]


def xlsx(rows, formula_cell=None, cached=False):
    wb = Workbook()
    ws = wb.active
    ws.append([f"{importing.HEADERS_ZH[f]}/{f}" for f in importing.FIELDS])
    for r in rows:
        ws.append([r[f] for f in importing.FIELDS])
    if formula_cell:
        ws[formula_cell] = "=1+2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_values_and_uncomputed_formulas():
    p = importing.parse(xlsx(good()), "a.xlsx", ctx())
    assert p.problems == [] and list(p.frame["quantity"]) == [10.0, 1000.0]
    # openpyxl writes formulas without a computed value: reported at its row and field, not evaluated
    p = importing.parse(xlsx(good(), formula_cell="G3"), "a.xlsx", ctx())
    assert [(x["row"], x["field"]) for x in p.problems if x["key"] == "accounting.problem.formula_uncomputed"] == [(3, "quantity")]


def test_template_round_trips_through_the_parser():
    plan = [dict(zip(["site", "production_unit", "facility", "category", "material", "unit", "data_source"], p)) for p in PLAN]
    rows = importing.template_rows(plan, ["2023-01", "2023-02"])
    assert len(rows) == 2 * len(PLAN)
    for r in rows:
        r["quantity"] = 1
    for fmt in ("csv", "xlsx"):
        p = importing.parse(importing.write_template(rows, fmt), f"t.{fmt}", ctx())
        assert p.problems == [] and len(p.frame) == len(rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda s: s.encode("utf-8")),
       st.sampled_from(["f.csv", "f.xlsx", "f.txt"]))
def test_fuzzed_bytes_never_raise_anything_but_validation_failed(data, name):
    try:
        p = importing.parse(data, name, ctx())
    except ValidationFailed as e:
        assert e.problems and e.message()
    else:
        assert all({"row", "field", "key", "params"} <= set(x) for x in p.problems)


cell = st.one_of(st.text(max_size=12), st.integers(-10**20, 10**20).map(str), st.floats().map(str),
                 st.sampled_from(["HN01", "BOILER1", "natural_gas", "2023-01", "10^4Nm3", "meter", "", "=A1"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=10, max_size=10), min_size=1, max_size=8), st.sampled_from(["utf-8-sig", "gb18030"]))
def test_fuzzed_rows_get_row_field_reports(rows, enc):
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(importing.FIELDS)
    w.writerows(rows)
    try:
        p = importing.parse(buf.getvalue().encode(enc, errors="replace"), "f.csv", ctx())
    except ValidationFailed as e:
        assert e.problems
        return
    for x in p.problems:
        assert x["field"] in importing.FIELDS or x["field"] == "file"
    if not p.problems:  # then every row is clean and complete
        assert (p.frame["quantity"] >= 0).all() and p.frame["period"].str.match(r"^\d{4}-\d{2}$").all()
