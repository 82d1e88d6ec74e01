"""Activity-data files: template from the data collection plan, parsing, row/field validation (R-6.3.5, R-8.6).

Pure functions: bytes in, a clean DataFrame or a list of problems out. The service decides what is written.
Validation is vectorised: each rule is a boolean mask; only offending rows become Python objects.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from cms_workflows.accounting import filechecks, plausibility, production, units
from cms_workflows.accounting.factors import PURITY_METHODS
from cms_workflows.core import exports
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import Message
from cms_workflows.core.limits import check, limits
from cms_workflows.core.text import forbidden_char, shown

FIELDS = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit", "data_source",
          "evidence_ref"]
HEADERS_ZH = {"site": "站点", "production_unit": "生产单元", "facility": "排放设施", "category": "排放源类别",
              "material": "燃料/物料", "period": "期间", "quantity": "数量", "unit": "单位", "data_source": "数据来源",
              "evidence_ref": "证据编号", "purity": "纯度"}
# optional: a row's carbonate content / CO2 volume fraction (0-1]; empty = its plan line's, else 1 (GB/T 32150)
PURITY = "purity"
REQUIRED = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit", "data_source"]
DATA_SOURCES = {"meter": "meter", "invoice": "invoice", "estimate": "estimate", "计量表": "meter", "计量": "meter",
                "发票": "invoice", "结算单": "invoice", "估算": "estimate"}
MAX_QUANTITY = 1e12  # larger than any plausible monthly quantity in any unit: a typo or an overflow
MAX_PROBLEMS = 1000
ACTIVITY_SHEET = "activity_data"  # the template's data sheet, found by this name (else the first data sheet)
INSTRUCTION_SHEETS = ("填写说明", "Instructions")  # the template's instructions: never read as data
_PERIOD = re.compile(r"^(\d{4})[-/.](\d{1,2})$")


@dataclass
class Context:
    """What a row may name: sites, plan facilities (site, facility) -> production unit, materials -> method/base unit."""

    sites: set[str]
    facilities: dict[tuple[str, str], str]
    materials: dict[str, dict]
    categories: set[str]
    # site, facility, material, dimension, median: the live rows' median per facility/material, in the
    # reference unit of each dimension (units.py), so a row is compared whatever unit label it carries
    history: pd.DataFrame | None = None
    outlier_ratio: float = 10.0
    # (site, facility, material) -> (category, unit) of the data collection plan's line: a row's
    # category must be its line's, its unit convertible to the line's
    plan_lines: dict[tuple[str, str, str], tuple[str, str]] | None = None
    # an import (not a re-read of a stored file): physical ranges, neighbours within the file, and refusal
    # of rows plausibility.REFUSE_RATIO× off, unless their file row numbers are in `accept_outliers` (with a reason)
    plausibility: bool = False
    accept_outliers: frozenset[int] = frozenset()
    accept_reason: str = ""


@dataclass
class Parsed:
    frame: pd.DataFrame
    problems: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    # the production sheet's clean rows (site, period, product_t, value_10k_cny, _row); None: none filled
    production: pd.DataFrame | None = None
    skipped: int = 0  # template rows left empty (not reported in this file)


def template_rows(plan: list[dict], periods: list[str], purity_materials: set[str] = frozenset()) -> list[dict]:
    """One row per plan item and period, quantity left blank for the data owner (R-6.3.5). Rows of a material
    a purity applies to (`purity_materials`: carbonates, CO2, per-unit process inputs) carry an empty `purity`
    cell: left empty, the plan line's purity (else 1) applies, so the template never freezes a plan default."""
    return [{"site": p["site"], "production_unit": p["production_unit"], "facility": p["facility"],
             "category": p["category"], "material": p["material"], "period": per, "quantity": "", "unit": p["unit"],
             "data_source": p.get("data_source", "meter"), "evidence_ref": "",
             **({PURITY: ""} if p["material"] in purity_materials else {})} for p in plan for per in periods]


def purity_materials(materials: dict[str, dict]) -> set[str]:
    """The materials (code -> {method, …}, `FactorLibrary.materials`) whose rows may give a purity."""
    return {code for code, info in materials.items() if info["method"] in PURITY_METHODS}


def write_template(rows: list[dict], fmt: str = "xlsx") -> bytes:
    """The template file; plan names that a spreadsheet would run as formulas are written as text (core.exports).
    The purity column is there only when some row takes a purity (a fuel-only plan keeps the old layout)."""
    fields = FIELDS + ([PURITY] if any(PURITY in r for r in rows) else [])
    header = [f"{HEADERS_ZH[f]}/{f}" for f in fields]
    cells = ([r.get(f, "") for f in fields] for r in rows)
    if fmt == "csv":
        return exports.csv_bytes(header, cells)  # with a BOM: Excel opens Chinese CSV correctly
    return exports.xlsx_bytes(header, cells, sheet_name="activity_data")


def _file(key: str, **params) -> dict:
    """The problem and reason of an `accounting.bad_file` error: `raise ValidationFailed("accounting.bad_file", **_file(…))`."""
    key = f"accounting.problem.file.{key}"
    return {"problems": [problem("file", key, **params)], "reason": Message(key, **params)}


def _header_map(header: list) -> dict[int, str]:
    out = {}
    for i, h in enumerate(header):
        text = str(h if h is not None else "").strip().lstrip("\ufeff")
        code = text.rsplit("/", 1)[-1].strip() if "/" in text else None  # `label/code`, in any language
        for f in (*FIELDS, PURITY):
            if text in (f, HEADERS_ZH[f]) or code == f:
                if f in out.values():  # e.g. both 站点 and site: which one holds the data is anyone's guess
                    raise ValidationFailed("accounting.bad_file", **_file("duplicate_column", column=f))
                out[i] = f
    return out


def _read_csv(data: bytes) -> pd.DataFrame:
    if b"\x00" in data[:65536]:
        raise ValidationFailed("accounting.bad_file", **_file("binary"))
    filechecks.check_csv(data)  # lines, columns and cells within the limits before anything decodes or parses it
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK
        if filechecks.decodable(data, encoding):  # validates the whole file; the parser decodes it again, natively
            break
    else:
        raise ValidationFailed("accounting.bad_file", **_file("encoding"))
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0, dtype=str, encoding=encoding).columns
        hmap = _header_map(list(header))
        # text columns as plain objects (we hash them once ourselves, unsorted); quantity as float64
        # when every cell is a number, else as text for a row-by-row report
        dtypes = {h: (object if hmap.get(i) != "quantity" else None) for i, h in enumerate(header)}
        frame = pd.read_csv(io.BytesIO(data), dtype={h: d for h, d in dtypes.items() if d}, keep_default_na=False,
                            na_values={h: [] for h in header}, skipinitialspace=True, on_bad_lines="error",
                            engine="c", encoding=encoding)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError, UnicodeDecodeError) as e:
        detail = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ValidationFailed("accounting.bad_file", **_file("csv_unreadable", detail=detail)) from None
    return frame


def _read_xlsx(data: bytes) -> "_Workbook":
    extent = filechecks.check_xlsx(data)  # every part within the limits (and no DTD) before openpyxl opens it
    if extent is None:
        raise ValidationFailed("accounting.bad_file", **_file("not_xlsx", detail="BadZipFile"))
    try:
        return _xlsx_records(data, extent)
    except ValidationFailed:
        raise
    except Exception as e:  # noqa: BLE001  openpyxl raises many types for a damaged zip/XML; all mean "not a workbook"
        raise ValidationFailed("accounting.bad_file", **_file("not_xlsx", detail=type(e).__name__)) from None


@dataclass
class _Workbook:
    """What a workbook holds: the activity rows (None: no activity sheet), problems found while reading,
    the production sheet's records (None: no such sheet), and the template rows left empty."""

    activity: pd.DataFrame | None
    problems: list[dict]
    production: list[dict] | None
    skipped: int = 0


def _sheets(names: list[str]) -> tuple[str | None, str | None, bool]:
    """The activity sheet (`activity_data`, else the first sheet that is neither instructions nor production),
    the production sheet, and whether the workbook is our template (it has the instructions sheet)."""
    template = any(n in INSTRUCTION_SHEETS for n in names)
    output = next((n for n in names if n in production.SHEET_NAMES), None)
    data = [n for n in names if n not in INSTRUCTION_SHEETS and n != output]
    activity = ACTIVITY_SHEET if ACTIVITY_SHEET in names else (data[0] if data else None)
    return activity, output, template


def _sheet_rows(book, name: str, extent):
    """A sheet's rows, read-only (streamed). Its dimension is dropped: the scan found the real extent,
    so rows are as wide as the widest cell present, and no rows are made up past the last one present."""
    ws = book[name]
    ws.reset_dimensions()
    return ws.iter_rows(values_only=True, max_col=extent.max_column or None)


def _xlsx_records(data: bytes, extent) -> _Workbook:
    from openpyxl import load_workbook

    books = [load_workbook(io.BytesIO(data), read_only=True, data_only=d) for d in (False, True)]
    activity, output, template = _sheets(books[1].sheetnames)
    problems: list[dict] = []
    out = _Workbook(None, problems, None)
    if activity is not None:
        f_rows, v_rows = (_sheet_rows(b, activity, extent) for b in books)
        header, _ = next(v_rows, None), next(f_rows, None)
        if header is None and output is None:
            raise ValidationFailed("accounting.bad_file", **_file("empty_sheet"))
        if header is not None:
            hmap = _header_map(list(header))
            records = _records(f_rows, v_rows, hmap, problems, str, {"quantity"})
            if template:  # rows our template offered and the user left empty: not reported in this file
                filled = [r for r in records if not _unfilled(r)]
                out.skipped, records = len(records) - len(filled), filled
            columns = list(hmap.values()) + ["_row"]
            out.activity = pd.DataFrame.from_records(records, columns=columns) if records else \
                pd.DataFrame(columns=columns)
    if output is not None:
        f_rows, v_rows = (_sheet_rows(b, output, extent) for b in books)
        header, _ = next(v_rows, None), next(f_rows, None)
        hmap = {i: f for i, h in enumerate(header or ()) if (f := production.header_field(h))}
        out.production = _records(f_rows, v_rows, hmap, problems, production.field, set(production.VALUES))
    return out


def _unfilled(rec: dict) -> bool:
    return all(rec.get(f) is None or str(rec.get(f)).strip() == "" for f in ("quantity", "evidence_ref", PURITY))


def _records(f_rows, v_rows, hmap: dict[int, str], problems: list[dict], where, numbers: set[str]) -> list[dict]:
    """A sheet's non-blank rows as `{field: value, "_row": n}`: dates as YYYY-MM, whole floats of text fields
    as integers' text, numbers of `numbers` as read; an uncomputed formula is a problem of its cell."""
    records = []
    max_rows = limits().max_rows
    for n, (fr, vr) in enumerate(zip(f_rows, v_rows), start=2):
        if n > max_rows:  # a running check: the scan has counted the rows already
            check("max_rows", n)
        if all(v is None or str(v).strip() == "" for v in vr):
            continue
        rec = {}
        for i, f in hmap.items():
            v = vr[i] if i < len(vr) else None
            raw = fr[i] if i < len(fr) else None
            if isinstance(raw, str) and raw.startswith("=") and v is None:
                # a formula Excel never computed (file written by a program): we do not evaluate formulas
                problems.append(problem(where(f), "accounting.problem.formula_uncomputed", row=n, formula=raw[:60]))
            if isinstance(v, (datetime, date)):
                v = v.strftime("%Y-%m")
            elif isinstance(v, float) and f not in numbers and v.is_integer():
                v = str(int(v))
            rec[f] = v if f in numbers else "" if v is None else str(v)
        rec["_row"] = n
        records.append(rec)
    return records


def empty_frame() -> pd.DataFrame:
    """The clean frame of a file without activity rows (only production and output value)."""
    return pd.DataFrame({**{f: pd.Categorical([]) for f in FIELDS if f != "quantity"},
                         "quantity": np.zeros(0), PURITY: np.zeros(0), "_row": np.zeros(0, dtype=np.int64)})


def parse(data: bytes, filename: str, ctx: Context) -> Parsed:
    """Read and validate a file. Raises ValidationFailed for a file-level problem; row problems are returned.
    A workbook may also hold the production sheet (production and output value, `production.py`): either
    sheet may be the only one filled."""
    if not data or data.isspace():  # (not data.strip(): a copy of the whole file)
        raise ValidationFailed("accounting.bad_file", **_file("empty"))
    problems: list[dict] = []
    book = None
    with filechecks.as_bad_file():
        check("max_import_bytes", len(data))
        if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
            book = _read_xlsx(data)
            raw, problems = book.activity, book.problems
        else:
            raw = _read_csv(data)
            hmap = _header_map(list(raw.columns))
            raw = raw.rename(columns={raw.columns[i]: f for i, f in hmap.items()})[list(hmap.values())]
            raw["_row"] = np.arange(2, len(raw) + 2)
    outputs, output_problems = (production.validate(book.production, ctx.sites) if book and book.production
                                else (None, []))
    has_outputs = bool(output_problems) or (outputs is not None and len(outputs) > 0)
    if (raw is None or len(raw) == 0) and has_outputs:
        parsed = Parsed(empty_frame(), problems)  # only the production sheet is filled
    else:
        parsed = _activity(raw if raw is not None else pd.DataFrame(columns=["_row"]), ctx, problems)
    parsed.problems += output_problems
    parsed.production = outputs if has_outputs else None
    parsed.skipped = book.skipped if book else 0
    return parsed


def _activity(raw: pd.DataFrame, ctx: Context, problems: list[dict]) -> Parsed:
    absent = [f for f in REQUIRED if f not in raw.columns]
    if absent:
        reason = Message("accounting.problem.file.missing_columns", columns=", ".join(absent))
        raise ValidationFailed("accounting.bad_file", reason=reason,
                               problems=[problem(f, "accounting.problem.column_missing") for f in absent])
    if len(raw) == 0:
        raise ValidationFailed("accounting.bad_file", **_file("no_rows"))
    if "evidence_ref" not in raw.columns:
        raw["evidence_ref"] = ""
    return validate(raw, ctx, problems)


def _clean(s: pd.Series) -> pd.Categorical:
    """A text column as a categorical with stripped values; the work is per distinct value."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniq = s.cat.codes.to_numpy(), list(s.cat.categories)
    else:
        codes, uniq = pd.factorize(s.to_numpy(dtype=object))
    # a quote our template put before text that looks like a formula (core.exports) is not part of the name
    stripped = [exports.restore_value(str(u).strip()) for u in uniq] + [""]
    remap, values = pd.factorize(np.asarray(stripped, dtype=object))
    codes = np.where(codes >= 0, codes, len(uniq))  # missing cells read as ""
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(values, dtype=object), validate=False)


def _by_value(c: pd.Categorical, fn) -> np.ndarray:
    """Apply a per-value predicate to each distinct value, then spread it to the rows."""
    per = np.array([bool(fn(v)) for v in c.categories.tolist()], dtype=bool)
    return per[c.codes] if len(per) else np.zeros(len(c), dtype=bool)


def validate(raw: pd.DataFrame, ctx: Context, problems: list[dict] | None = None) -> Parsed:
    problems = list(problems or [])
    rows = raw["_row"].to_numpy()
    col = {f: _clean(raw[f]) for f in FIELDS if f != "quantity"}
    bad = np.zeros(len(raw), dtype=bool)

    def text(f, i) -> str:
        return shown(col[f][i])  # quoted in a message: cut short, control characters made visible

    def report(mask: np.ndarray, fld: str, key: str, params=None, target: list | None = None) -> None:
        """Each row of `mask` has the problem `accounting.problem.<key>`; `params(i)` gives its parameters."""
        target = problems if target is None else target
        idx = np.flatnonzero(mask)
        for i in idx[: max(0, MAX_PROBLEMS - len(target))]:
            target.append(problem(fld, f"accounting.problem.{key}", row=int(rows[i]), **(params(i) if params else {})))
        if target is problems:
            bad[idx] = True

    blank = {f: _by_value(col[f], lambda v: v == "") for f in col}
    for f in REQUIRED:
        if f != "quantity":
            report(blank[f], f, "required")
    # quantity: numbers only, not negative, not absurd
    q_raw = raw["quantity"]
    if pd.api.types.is_numeric_dtype(q_raw.dtype) and not pd.api.types.is_bool_dtype(q_raw.dtype):
        qty = q_raw.to_numpy(dtype=np.float64)
        empty_q = np.isnan(qty)
        q_text = None
    else:
        q_text = q_raw.astype(object).where(q_raw.notna(), "").map(lambda v: str(v).strip().replace(",", ""))
        qty = pd.to_numeric(q_text, errors="coerce").to_numpy(dtype=np.float64)
        empty_q = (q_text == "").to_numpy()
    report(empty_q, "quantity", "required")
    report(np.isnan(qty) & ~empty_q, "quantity", "not_a_number", lambda i: {"value": str(q_text.iloc[i])[:40]})
    with np.errstate(invalid="ignore"):
        report(qty < 0, "quantity", "negative")
        report(np.isinf(qty) | (qty > MAX_QUANTITY), "quantity", "too_large", lambda i: {"limit": f"{MAX_QUANTITY:g}"})
    # period YYYY-MM (also YYYY/MM, YYYY-M), normalised per distinct value
    def norm_period(v: str) -> str | None:
        m = _PERIOD.match(v)
        return f"{m.group(1)}-{int(m.group(2)):02d}" if m and 1 <= int(m.group(2)) <= 12 else None
    pcats = [norm_period(v) for v in col["period"].categories]
    okp = np.array([p is not None for p in pcats], dtype=bool)[col["period"].codes]
    report(~okp & ~blank["period"], "period", "period_format", lambda i: {"value": text("period", i)[:20]})
    lim = limits()  # a plausible year: 0000-01 and 9999-12 are typing errors, not periods
    inside = np.array([p is None or lim.min_year <= int(p[:4]) <= lim.max_year for p in pcats], dtype=bool)
    report(~inside[col["period"].codes], "period", "period_range",
           lambda i: {"value": text("period", i)[:20], "first": f"{lim.min_year}-01", "last": f"{lim.max_year}-12"})
    _check_text(col, report)
    col["period"] = _recode(col["period"], [p if p is not None else v for p, v in zip(pcats, col["period"].categories)])
    _check_references(col, blank, ctx, report)
    # one value per site, facility, material and period
    key = _key([col["site"], col["facility"], col["material"], col["period"]])
    dup = pd.Series(key).duplicated(keep="first").to_numpy()
    report(dup, "period", "duplicate_period",
           lambda i: {"period": text("period", i), "facility": text("facility", i), "material": text("material", i)})
    if ctx.plan_lines is not None:
        _check_plan(col, ctx, bad, report)
    out = pd.DataFrame({f: col[f] for f in FIELDS if f != "quantity"})
    out["quantity"] = qty
    if PURITY in raw.columns:
        out[PURITY] = _check_purity(raw[PURITY], col["material"], ctx, report)
    out["_row"] = rows
    warnings: list[dict] = []
    if not bad.all():
        plausibility.check(out, qty, ctx, bad.copy(), problems, warnings, MAX_PROBLEMS)
    if len(problems) >= MAX_PROBLEMS:
        problems.append(problem("file", "accounting.problem.more_not_listed", row="", limit=MAX_PROBLEMS))
    return Parsed(out, sorted(problems, key=lambda p: (p["row"] if isinstance(p["row"], int) else 1 << 60, p["field"])), warnings)


def _check_purity(cells: pd.Series, material: pd.Categorical, ctx: Context, report) -> np.ndarray:
    """The optional purity column as floats (NaN where empty): a number in (0, 1] (95 % is 0.95, not 95), and only
    on a material a purity applies to (on a fuel it would scale a factor that already describes the fuel)."""
    text = cells.astype(object).where(cells.notna(), "").map(lambda v: str(v).strip().replace(",", ""))
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    empty = (text == "").to_numpy()
    report(np.isnan(values) & ~empty, PURITY, "not_a_number", lambda i: {"value": shown(text.iloc[i], 40)})
    with np.errstate(invalid="ignore"):
        out_of_range = ~np.isnan(values) & ~((values > 0) & (values <= 1))
    report(out_of_range, PURITY, "purity_range", lambda i: {"value": f"{values[i]:g}", "rows": 1})
    takes = _by_value(material, lambda m: m not in ctx.materials or ctx.materials[m]["method"] in PURITY_METHODS)
    report(~empty & ~takes, PURITY, "purity_not_applicable", lambda i: {"materials": shown(material[i])})
    return np.where(empty, np.nan, values)


def _check_text(col: dict, report) -> None:
    """Each text cell within its column's length in the database (the same refusal on SQLite and PostgreSQL)
    and free of control and bidi characters; checked per distinct value."""
    from cms_workflows.accounting.models import Activity

    for f, c in col.items():
        limit = Activity.__table__.c[f].type.length
        report(_by_value(c, lambda v: len(v) > limit), f, "too_long",
               lambda i, f=f: {"length": f"{len(str(col[f][i])):,}", "limit": f"{limit:,}"})
        report(_by_value(c, lambda v: len(v) <= limit and forbidden_char(v) is not None), f, "forbidden_char",
               lambda i, f=f: {"char": forbidden_char(str(col[f][i]))})


def _check_references(col: dict, blank: dict, ctx: Context, report) -> None:
    """Sites, categories, plan facilities, materials, units and data sources the rows name (recodes unit and
    data source to their canonical codes)."""

    def text(f, i) -> str:
        return shown(col[f][i])  # quoted in a message: cut short, control characters made visible

    site_ok = _by_value(col["site"], lambda v: v in ctx.sites)
    report(~site_ok & ~blank["site"], "site", "unknown_site", lambda i: {"site": text("site", i)})
    report(~_by_value(col["category"], lambda v: v in ctx.categories) & ~blank["category"], "category",
           "unknown_category", lambda i: {"category": text("category", i)})
    fac_ok = _pairs_ok(col["site"], col["facility"], lambda s, f: (s, f) in ctx.facilities)
    report(~fac_ok & site_ok & ~blank["facility"], "facility",
           "facility_not_in_plan", lambda i: {"facility": text("facility", i), "site": text("site", i)})
    pu_ok = _combo_ok([col["site"], col["facility"], col["production_unit"]],
                      lambda s, f, u: ctx.facilities.get((s, f), u) == u)
    report(~pu_ok & fac_ok, "production_unit",
           "wrong_production_unit", lambda i: {"facility": text("facility", i), "given": text("production_unit", i),
                                               "expected": ctx.facilities.get((col["site"][i], col["facility"][i]))})
    mat_ok = _by_value(col["material"], lambda v: v in ctx.materials)
    report(~mat_ok & ~blank["material"], "material", "unknown_material", lambda i: {"material": text("material", i)})
    # units: known, and convertible to the material's base unit (fuels also accept energy units); a volume
    # that does not say it is at standard conditions (`m3`) is refused with how to write it (issue 15)
    unstated = _by_value(col["unit"], units.conditions_unstated)
    report(unstated, "unit", "unit_conditions_unstated", lambda i: {"unit": text("unit", i)})
    ucats = [units.normalize(u) or u for u in col["unit"].categories]
    col["unit"] = _recode(col["unit"], ucats)
    unit_ok = _by_value(col["unit"], lambda v: v in units.UNITS)
    report(~unit_ok & ~blank["unit"] & ~unstated, "unit", "unknown_unit", lambda i: {"unit": text("unit", i)})

    # a company material whose factor names a unit no table knows (stored before units were checked, issue 15)
    bad_base = {m: info["base_unit"] for m, info in ctx.materials.items() if info["base_unit"] not in units.UNITS}
    if bad_base:
        report(_by_value(col["material"], lambda v: v in bad_base), "material", "factor_unit_unknown",
               lambda i: {"material": text("material", i), "unit": shown(bad_base[col["material"][i]]),
                          "allowed": ", ".join(units.UNITS)})

    def fits(m: str, u: str) -> bool:
        if m not in ctx.materials or u not in units.UNITS or m in bad_base:
            return True  # reported above
        info = ctx.materials[m]
        dims = {units.dimension(info["base_unit"])} | ({"energy"} if info["method"] in ("combustion", "electricity", "heat") else set())
        return units.dimension(u) in dims
    report(~_pairs_ok(col["material"], col["unit"], fits), "unit",
           "unit_cannot_measure", lambda i: {"unit": text("unit", i), "material": text("material", i)})
    dcats = [DATA_SOURCES.get(v.lower(), DATA_SOURCES.get(v)) for v in col["data_source"].categories]
    ds_ok = np.array([d is not None for d in dcats], dtype=bool)[col["data_source"].codes]
    report(~ds_ok & ~blank["data_source"], "data_source",
           "unknown_data_source", lambda i: {"data_source": text("data_source", i)})
    col["data_source"] = _recode(col["data_source"], [d or v for d, v in zip(dcats, col["data_source"].categories)])


def _check_plan(col: dict, ctx: Context, bad: np.ndarray, report) -> None:
    """Each row against its line of the data collection plan (issue 15, R-6.3.5): the facility must list the
    material, the category must be the line's (biomass filed as stationary combustion would be counted in the
    total, exported heat filed as purchased heat added instead of deducted), and the unit must convert to the
    line's unit. Rows already refused for their site, facility, material or unit are not judged again."""
    lines = ctx.plan_lines

    def text(f, i) -> str:
        return shown(col[f][i])

    known = ~bad.copy()
    in_plan = _combo_ok([col["site"], col["facility"], col["material"]], lambda s, f, m: (s, f, m) in lines)
    report(known & ~in_plan, "material", "material_not_in_plan",
           lambda i: {"material": text("material", i), "facility": text("facility", i), "site": text("site", i),
                      "planned": ", ".join(sorted(m for (s, f, m) in lines
                                                  if (s, f) == (col["site"][i], col["facility"][i])))})
    key = [col["site"], col["facility"], col["material"]]
    same_cat = _combo_ok(key + [col["category"]], lambda s, f, m, c: lines.get((s, f, m), (c,))[0] == c)
    report(known & in_plan & ~same_cat, "category", "category_not_plan",
           lambda i: {"category": text("category", i), "facility": text("facility", i),
                      "material": text("material", i),
                      "expected": lines[(col["site"][i], col["facility"][i], col["material"][i])][0]})

    def converts(s: str, f: str, m: str, u: str) -> bool:
        plan_unit = lines.get((s, f, m), (None, None))[1]
        if plan_unit not in units.UNITS or u not in units.UNITS:
            return True  # an unknown row unit is reported above; a plan unit is checked when the line is added
        return units.dimension(plan_unit) == units.dimension(u)
    same_dim = _combo_ok(key + [col["unit"]], converts)
    report(known & in_plan & ~same_dim, "unit", "unit_not_plan",
           lambda i: {"unit": text("unit", i), "facility": text("facility", i), "material": text("material", i),
                      "plan_unit": lines[(col["site"][i], col["facility"][i], col["material"][i])][1]})


def _recode(c: pd.Categorical, values: list) -> pd.Categorical:
    """Replace each category by `values[i]` (several may become one) without touching the rows' strings."""
    remap, uniq = pd.factorize(np.asarray(values, dtype=object))
    codes = c.codes
    return pd.Categorical.from_codes(remap[codes] if len(remap) else codes, categories=pd.Index(uniq, dtype=object),
                                     validate=False)


def _key(columns: list[pd.Categorical]) -> np.ndarray:
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for c in columns:
        key = key * max(len(c.categories), 1) + c.codes
    return key


def _combo_ok(columns: list[pd.Categorical], fn) -> np.ndarray:
    """A predicate over a combination of columns, evaluated once per distinct combination."""
    group, uniq = pd.factorize(_key(columns))
    sizes = [max(len(c.categories), 1) for c in columns]
    values = [c.categories.tolist() for c in columns]
    per = []
    for k in uniq.tolist():
        parts = []
        for n in reversed(sizes):
            parts.append(k % n)
            k //= n
        per.append(bool(fn(*(v[p] for v, p in zip(values, reversed(parts))))))
    return np.array(per, dtype=bool)[group] if per else np.zeros(len(columns[0]), dtype=bool)


def _pairs_ok(a: pd.Categorical, b: pd.Categorical, fn) -> np.ndarray:
    """A predicate over (a, b) evaluated once per distinct pair."""
    key = _key([a, b])
    group, uniq = pd.factorize(key)
    nb = max(len(b.categories), 1)
    av, bv = list(a.categories), list(b.categories)
    per = np.array([bool(fn(av[k // nb], bv[k % nb])) for k in uniq.tolist()], dtype=bool)
    return per[group] if len(per) else np.zeros(len(a), dtype=bool)
