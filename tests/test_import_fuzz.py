"""Fuzzing the activity-data importer (issue 14, item 7; R-8.6) with structured CSV and .xlsx files.

The generators build what a person or a program might upload: the real headers (English, Chinese or both,
in any order, some missing), extra columns, blank and ragged rows, values from the plan mixed with random
Unicode (controls, bidi marks, CJK), numbers of every kind (NaN, infinities, huge, negative), dates in the
period column and formulas. Every file either imports or is refused with a CmsError, never another
exception; a refusal writes nothing (no batch, no row, no event, no stored file). Each case has a time
budget (hypothesis' deadline) and a memory budget (tracemalloc's peak). The examples are derandomized:
the suite runs the same ones every time, so a red run is reproducible; widen the search locally by
raising max_examples."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date, datetime, timedelta
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from cms_workflows.accounting import importing
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.factors import FactorLibrary, categories
from cms_workflows.accounting.models import Activity, ImportBatch
from cms_workflows.audit.models import AuditEvent
from cms_workflows.core.errors import CmsError

from .accounting.conftest import DATA_ADMIN, PLAN, plan  # noqa: F401  (plan: a fixture)

MEMORY_BUDGET = 64 * 2**20  # Python allocations of one parse of a file of at most a few KB

SITES = ["HN01", "HN02", "XX", ""]
PERIODS = ["2023-01", "2023/2", "2024.12", "2023-13", "0000-01", "9999-12", "1990-01", "2100-12", "23-01", ""]
UNITS = ["MWh", "10^4Nm3", "万Nm3", "t", "kg", "GJ", "furlong", ""]
SOURCES = ["meter", "invoice", "estimate", "计量表", "发票", "估算", "guess", ""]

# any character a file can carry (no lone surrogates: they cannot be encoded), controls and bidi marks included
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**25, 10**25),
                    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(float))


def _domain(field: str):
    """Values of a field as the plan and the documentation know them, and plausible mistakes."""
    if field == "site":
        return st.sampled_from(SITES)
    if field in ("production_unit", "facility", "category", "material"):
        index = {"production_unit": 1, "facility": 2, "category": 3, "material": 4}[field]
        return st.sampled_from(sorted({p[index] for p in PLAN}) + ["NOPE"])
    if field == "period":
        return st.one_of(st.sampled_from(PERIODS), st.dates(date(1, 1, 1), date(9999, 12, 31)).map(
            lambda d: d.strftime("%Y-%m")))
    if field == "quantity":
        return numbers
    if field == "unit":
        return st.sampled_from(UNITS)
    if field == "data_source":
        return st.sampled_from(SOURCES)
    return st.one_of(st.just(""), st.text("ABCDEFG-0123456789", max_size=12))


PLAN_FIELDS = ["site", "production_unit", "facility", "category", "material", "unit", "data_source"]
good_periods = st.dates(date(1990, 1, 1), date(2100, 12, 31)).map(lambda d: d.strftime("%Y-%m"))


def cell_for(field: str | None):
    mixed = st.one_of(any_text, numbers, st.sampled_from(["=A1+1", "=HYPERLINK(\"x\")", "@SUM(1)", "-", "+"]))
    if field is None:  # an extra column
        return mixed
    return st.one_of(_domain(field), _domain(field), mixed)


@st.composite
def tables(draw, clean_one_in: int = 3) -> tuple[list[str], list[list]]:
    """A header (some of the fields, named in any of the accepted ways, with extra columns, in any order)
    and rows of cells that mostly fit their column; one file in `clean_one_in` has only real plan lines."""
    fields = draw(st.lists(st.sampled_from(importing.FIELDS), unique=True, min_size=5, max_size=10))
    if draw(st.booleans()):  # usually a complete file
        fields = importing.FIELDS[:]
    columns: list[str | None] = list(fields) + [None] * draw(st.integers(0, 3))
    if draw(st.integers(0, 19)) == 0:  # a field twice, under two of its names
        columns.append(draw(st.sampled_from(fields)))
    columns = draw(st.permutations(columns))
    header = []
    for c in columns:
        if c is None:
            header.append(draw(any_text))
        else:
            header.append(draw(st.sampled_from([c, importing.HEADERS_ZH[c], f"{importing.HEADERS_ZH[c]}/{c}"])))
    rows = []
    if draw(st.integers(0, clean_one_in - 1)) == 0:  # every row a real plan line, perhaps one cell changed
        for item, period, quantity in draw(st.lists(
                st.tuples(st.sampled_from([p for p in PLAN if p[0] == "HN01"]), good_periods,
                          st.floats(0, 1e9, allow_nan=False)), min_size=1, max_size=12,
                unique_by=lambda t: (t[0][2], t[0][4], t[1]))):
            good = dict(zip(PLAN_FIELDS, item), period=period, quantity=quantity, evidence_ref="")
            rows.append([good.get(c, "") if c else "" for c in columns])
        if draw(st.booleans()):
            r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(columns) - 1))
            rows[r][c] = draw(cell_for(columns[c]))
        return header, rows
    for _ in range(draw(st.integers(0, 12))):
        shape = draw(st.sampled_from(["row", "row", "row", "row", "row", "blank", "short", "long"]))
        row = [draw(cell_for(c)) for c in columns]
        if shape == "blank":
            row = [""] * len(columns)
        elif shape == "short":
            row = row[:draw(st.integers(0, len(row)))]
        elif shape == "long":
            row = row + [draw(cell_for(None)) for _ in range(draw(st.integers(1, 3)))]
        rows.append(row)
    return header, rows


def to_csv(header: list, rows: list[list], encoding: str, raw: bool = False) -> bytes:
    """A CSV file as Excel writes it, or `raw`: cells joined by commas unquoted, as a careless script does."""
    buf = io.StringIO()
    if raw:
        for line in [header, *rows]:
            buf.write(",".join(map(str, line)) + "\n")
    else:
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def to_xlsx(header: list, rows: list[list], draw_dates: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(v):
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub("", v)  # openpyxl cannot write XML-illegal characters
            if draw_dates and len(v) == 7 and v[4] == "-" and v[:4].isdigit() and v[5:].isdigit() \
                    and 1 <= int(v[5:]) <= 12 and int(v[:4]) >= 1:
                return datetime(int(v[:4]), int(v[5:]), 1)  # a period typed as a date, as Excel makes it
        if isinstance(v, float) and v != v:
            return None
        if isinstance(v, int) and abs(v) > 2**53:
            return float(v)
        return v

    wb = Workbook()
    ws = wb.active
    ws.append([cell(h) for h in header])
    for r in rows:
        ws.append([cell(v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def files(clean_one_in: int = 3):
    return st.one_of(
        st.tuples(tables(clean_one_in), st.sampled_from(["utf-8-sig", "utf-8", "gb18030"]), st.booleans()).map(
            lambda t: (to_csv(*t[0], t[1], raw=t[2]), "activity.csv")),
        st.tuples(tables(clean_one_in), st.booleans()).map(lambda t: (to_xlsx(*t[0], t[1]), "activity.xlsx")),
    )


@lru_cache(maxsize=1)
def ctx() -> importing.Context:
    return importing.Context(sites={"HN01", "HN02"}, facilities={(p[0], p[2]): p[1] for p in PLAN},
                             materials=FactorLibrary().materials(), categories=set(categories()))


@pytest.fixture(scope="module", autouse=True)
def _warm():
    """Load the reference data and the readers once, outside the cases' time budget."""
    header, row = importing.FIELDS, ["HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-01", 1, "MWh",
                                     "meter", ""]
    importing.parse(to_csv(header, [row], "utf-8"), "warm.csv", ctx())
    importing.parse(to_xlsx(header, [row], True), "warm.xlsx", ctx())


@settings(max_examples=150, deadline=timedelta(seconds=5), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_every_file_parses_or_is_refused_with_a_message_within_its_budget(file):
    data, name = file
    tracemalloc.start()
    try:
        parsed = importing.parse(data, name, ctx())
    except CmsError as exc:
        assert exc.message("en") and exc.message("zh-CN")  # the message can be shown in both languages
        event(f"refused: {exc.key} {exc.params.get('reason').key if hasattr(exc.params.get('reason'), 'key') else ''}")
        parsed = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_BUDGET, f"{peak / 2**20:.1f} MB"
    if parsed is not None:
        event("parsed with problems" if parsed.problems else "parsed clean")
        for p in parsed.problems:
            assert p["field"] in importing.FIELDS or p["field"] == "file"
        if not parsed.problems:  # then every row is complete and plausible
            assert (parsed.frame["quantity"] >= 0).all()
            assert parsed.frame["period"].astype(str).str.match(r"^(199\d|20\d\d|2100)-(0[1-9]|1[0-2])$").all()


def _state(db) -> tuple[int, int, int, int]:
    with db.read() as session:
        counts = tuple(session.exec(select(func.count()).select_from(m)).one() for m in (ImportBatch, Activity, AuditEvent))
    stored = len(list(db.files.root.glob("??/*"))) if db.files.root.exists() else 0
    return (*counts, stored)


@pytest.fixture
def importer_db(db, plan):  # noqa: F811  (plan: the fixture imported above)
    return db


@settings(max_examples=30, deadline=timedelta(seconds=10), derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files(clean_one_in=1))
def test_every_import_is_all_or_nothing(importer_db, file):
    db = importer_db
    data, name = file
    before = _state(db)
    try:
        with db.unit_of_work() as session:
            result = acc.import_activity(session, DATA_ADMIN, data, name)
    except CmsError as exc:
        assert exc.message("en")
        event(f"refused: {exc.key}")
        assert _state(db) == before  # nothing written: no batch, no row, no event, no file
        return
    after = _state(db)
    event("imported")
    if result.duplicate:
        assert after == before
    else:
        assert after[0] == before[0] + 1 and after[1] >= before[1] + result.rows and after[2] == before[2] + 1


def test_a_field_under_two_names_is_a_file_error():
    # found by the fuzzer: 站点 and site in one header gave an AttributeError from pandas
    header = importing.FIELDS + ["站点"]
    line = ["HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-01", 1, "MWh", "meter", "", "HN02"]
    for data, name in ((to_csv(header, [line], "utf-8"), "a.csv"), (to_xlsx(header, [line], False), "a.xlsx")):
        with pytest.raises(CmsError) as err:
            importing.parse(data, name, ctx())
        assert err.value.message("en") == ("The file cannot be read: column site appears twice (under two names)\n"
                                           "  field file: column site appears twice (under two names)")
