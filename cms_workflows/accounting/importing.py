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

from cms_workflows.accounting import filechecks, units
from cms_workflows.core import exports
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import Message
from cms_workflows.core.limits import check, limits
from cms_workflows.core.text import forbidden_char, shown

FIELDS = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit", "data_source",
          "evidence_ref"]
HEADERS_ZH = {"site": "站点", "production_unit": "生产单元", "facility": "排放设施", "category": "排放源类别",
              "material": "燃料/物料", "period": "期间", "quantity": "数量", "unit": "单位", "data_source": "数据来源",
              "evidence_ref": "证据编号"}
REQUIRED = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit", "data_source"]
DATA_SOURCES = {"meter": "meter", "invoice": "invoice", "estimate": "estimate", "计量表": "meter", "计量": "meter",
                "发票": "invoice", "结算单": "invoice", "估算": "estimate"}
MAX_QUANTITY = 1e12  # larger than any plausible monthly quantity in any unit: a typo or an overflow
MAX_PROBLEMS = 1000
_PERIOD = re.compile(r"^(\d{4})[-/.](\d{1,2})$")


@dataclass
class Context:
    """What a row may name: sites, plan facilities (site, facility) -> production unit, materials -> method/base unit."""

    sites: set[str]
    facilities: dict[tuple[str, str], str]
    materials: dict[str, dict]
    categories: set[str]
    history: pd.DataFrame | None = None  # site, facility, material, median (in the row unit's reference)
    outlier_ratio: float = 10.0


@dataclass
class Parsed:
    frame: pd.DataFrame
    problems: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


def template_rows(plan: list[dict], periods: list[str]) -> list[dict]:
    """One row per plan item and period, quantity left blank for the data owner (R-6.3.5)."""
    return [{"site": p["site"], "production_unit": p["production_unit"], "facility": p["facility"],
             "category": p["category"], "material": p["material"], "period": per, "quantity": "", "unit": p["unit"],
             "data_source": p.get("data_source", "meter"), "evidence_ref": ""} for p in plan for per in periods]


def write_template(rows: list[dict], fmt: str = "xlsx") -> bytes:
    """The template file; plan names that a spreadsheet would run as formulas are written as text (core.exports)."""
    header = [f"{HEADERS_ZH[f]}/{f}" for f in FIELDS]
    cells = ([r[f] for f in FIELDS] for r in rows)
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
        for f in FIELDS:
            if text in (f, HEADERS_ZH[f], f"{HEADERS_ZH[f]}/{f}"):
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


def _read_xlsx(data: bytes) -> tuple[pd.DataFrame, list[dict]]:
    extent = filechecks.check_xlsx(data)  # every part within the limits (and no DTD) before openpyxl opens it
    if extent is None:
        raise ValidationFailed("accounting.bad_file", **_file("not_xlsx", detail="BadZipFile"))
    try:
        return _xlsx_records(data, extent)
    except ValidationFailed:
        raise
    except Exception as e:  # noqa: BLE001  openpyxl raises many types for a damaged zip/XML; all mean "not a workbook"
        raise ValidationFailed("accounting.bad_file", **_file("not_xlsx", detail=type(e).__name__)) from None


def _sheet_rows(data: bytes, extent, data_only: bool):
    """The first sheet's rows, read-only (streamed). Its dimension is dropped: the scan found the real extent,
    so rows are as wide as the widest cell present, and no rows are made up past the last one present."""
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only).worksheets[0]
    ws.reset_dimensions()
    return ws.iter_rows(values_only=True, max_col=extent.max_column or None)


def _xlsx_records(data: bytes, extent) -> tuple[pd.DataFrame, list[dict]]:
    f_rows, v_rows = _sheet_rows(data, extent, False), _sheet_rows(data, extent, True)
    header, _ = next(v_rows, None), next(f_rows, None)
    if header is None:
        raise ValidationFailed("accounting.bad_file", **_file("empty_sheet"))
    hmap = _header_map(list(header))
    problems = []
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
                problems.append(problem(f, "accounting.problem.formula_uncomputed", row=n, formula=raw[:60]))
            if isinstance(v, (datetime, date)):
                v = v.strftime("%Y-%m")
            elif isinstance(v, float) and f != "quantity" and v.is_integer():
                v = str(int(v))
            rec[f] = "" if v is None else str(v) if f != "quantity" else v
        rec["_row"] = n
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(hmap.values()) + ["_row"]) if records else \
        pd.DataFrame(columns=list(hmap.values()) + ["_row"])
    return frame.rename(columns={}), problems


def parse(data: bytes, filename: str, ctx: Context) -> Parsed:
    """Read and validate a file. Raises ValidationFailed for a file-level problem; row problems are returned."""
    if not data or data.isspace():  # (not data.strip(): a copy of the whole file)
        raise ValidationFailed("accounting.bad_file", **_file("empty"))
    problems: list[dict] = []
    with filechecks.as_bad_file():
        check("max_import_bytes", len(data))
        if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
            raw, problems = _read_xlsx(data)
        else:
            raw = _read_csv(data)
            hmap = _header_map(list(raw.columns))
            raw = raw.rename(columns={raw.columns[i]: f for i, f in hmap.items()})[list(hmap.values())]
            raw["_row"] = np.arange(2, len(raw) + 2)
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
    out = pd.DataFrame({f: col[f] for f in FIELDS if f != "quantity"})
    out["quantity"] = qty
    out["_row"] = rows
    warnings: list[dict] = []
    if ctx.history is not None and len(ctx.history) and not bad.all():
        far, usual = _far_from_history(out, qty, ctx, bad)
        report(far, "quantity", "far_from_usual", lambda i: {"value": f"{qty[i]:g}", "usual": f"{usual[i]:g}"},
               target=warnings)
    if len(problems) >= MAX_PROBLEMS:
        problems.append(problem("file", "accounting.problem.more_not_listed", row="", limit=MAX_PROBLEMS))
    return Parsed(out, sorted(problems, key=lambda p: (p["row"] if isinstance(p["row"], int) else 1 << 60, p["field"])), warnings)


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
    # units: known, and convertible to the material's base unit (fuels also accept energy units)
    ucats = [units.normalize(u) or u for u in col["unit"].categories]
    col["unit"] = _recode(col["unit"], ucats)
    unit_ok = _by_value(col["unit"], lambda v: v in units.UNITS)
    report(~unit_ok & ~blank["unit"], "unit", "unknown_unit", lambda i: {"unit": text("unit", i)})

    def fits(m: str, u: str) -> bool:
        if m not in ctx.materials or u not in units.UNITS:
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


def _far_from_history(out: pd.DataFrame, qty: np.ndarray, ctx: Context, bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows far outside the facility's history: a warning for the data owner, not an error (R-8.6)."""
    h = ctx.history.set_index(["site", "facility", "material", "unit"])["median"]
    med = h.reindex(pd.MultiIndex.from_frame(out[["site", "facility", "material", "unit"]].astype(str))).to_numpy()
    ratio = ctx.outlier_ratio
    with np.errstate(invalid="ignore"):
        return np.isfinite(med) & (med > 0) & ((qty > med * ratio) | (qty < med / ratio)) & ~bad, med


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
