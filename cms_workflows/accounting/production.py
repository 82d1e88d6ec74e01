"""Production and output value (the Annex F intensity denominators) per site and month, as a data
administrator fills them in the import template's production sheet beside the activity data (issue 15).

Pure functions: the sheet's records in, a clean frame or row/field problems out; `check_output` is the one
rule for a single value, shared with `record_output`. The output value is optional everywhere (a site that
does not report it leaves it empty; its value intensity is then blank, never a division by zero)."""

from __future__ import annotations

import math
import re

import pandas as pd

from cms_workflows.core.errors import problem
from cms_workflows.core.limits import limits
from cms_workflows.core.text import shown

SHEET = "production"  # the sheet's name, stable whatever the user's language (the importer finds it by it)
SHEET_NAMES = (SHEET, "产量与产值")
FIELDS = ["site", "period", "product_t", "value_10k_cny"]
HEADERS_ZH = {"site": "站点", "period": "期间", "product_t": "产品产量（吨）", "value_10k_cny": "产值（万元）"}
VALUES = ("product_t", "value_10k_cny")
MAX_VALUE = 1e12  # larger than any site's monthly production or output value: a typo or an overflow
_PERIOD = re.compile(r"^(\d{4})[-/.](\d{1,2})$")


def field(name: str) -> str:
    """A problem's field on this sheet: its row numbers are the production sheet's, not the activity sheet's."""
    return f"{SHEET}.{name}"


def template_rows(sites: list[str], periods: list[str]) -> list[dict]:
    """One row per site and month, both values left blank for the data administrator."""
    return [{"site": s, "period": p, "product_t": None, "value_10k_cny": None} for s in sites for p in periods]


def header_field(text) -> str | None:
    """The field a header cell names: `产品产量（吨）/product_t`, `Product output (t)/product_t`, `产品产量（吨）`
    or `product_t`."""
    text = str(text if text is not None else "").strip().lstrip("\ufeff")
    code = text.rsplit("/", 1)[-1].strip() if "/" in text else None  # `label/code`, in any language
    for f in FIELDS:
        if text in (f, HEADERS_ZH[f]) or code == f:
            return f
    return None


def check_output(product_t, value_10k_cny, *, row: int | None = None) -> tuple[dict, list[dict]]:
    """A product tonnage (required) and an output value (optional) as floats, or the problems with them:
    numbers, not negative, not absurd. `row` set: the problems name the production sheet's fields."""
    out: dict = {}
    problems: list[dict] = []
    for name, raw in (("product_t", product_t), ("value_10k_cny", value_10k_cny)):
        where = field(name) if row is not None else name
        text = "" if raw is None else str(raw).strip().replace(",", "")
        if text == "":
            if name == "product_t":
                problems.append(problem(where, "accounting.problem.required", row=row))
            out[name] = None
            continue
        try:
            value = float(text) if not isinstance(raw, bool) else math.nan
        except ValueError:
            value = math.nan
        if math.isnan(value):
            problems.append(problem(where, "accounting.problem.not_a_number", row=row, value=shown(text, 40)))
        elif value < 0:
            problems.append(problem(where, "accounting.problem.negative", row=row))
        elif math.isinf(value) or value > MAX_VALUE:
            problems.append(problem(where, "accounting.problem.too_large", row=row, limit=f"{MAX_VALUE:g}"))
        out[name] = value
    return out, problems


def _period(text: str) -> str | None:
    """YYYY-MM (also YYYY/MM, YYYY-M) normalised, or None."""
    m = _PERIOD.match(text)
    return f"{m.group(1)}-{int(m.group(2)):02d}" if m and 1 <= int(m.group(2)) <= 12 else None


def validate(records: list[dict], sites: set[str]) -> tuple[pd.DataFrame, list[dict]]:
    """The sheet's filled rows (each `{field: cell, "_row": n}`) as a frame of site, period, product_t,
    value_10k_cny (None when not given) and _row; a row with neither value is not filled and is skipped."""
    lim = limits()
    problems: list[dict] = []
    clean: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    for rec in records:
        n = rec["_row"]
        if all(rec.get(v) is None or str(rec.get(v)).strip() == "" for v in VALUES):
            continue  # a template row left empty: this site and month are not reported in this file
        values, found = check_output(rec.get("product_t"), rec.get("value_10k_cny"), row=n)
        site = str(rec.get("site") or "").strip()
        period_text = str(rec.get("period") or "").strip()
        if not site:
            found.append(problem(field("site"), "accounting.problem.required", row=n))
        elif site not in sites:
            found.append(problem(field("site"), "accounting.problem.unknown_site", row=n, site=shown(site)))
        period = _period(period_text)
        if not period_text:
            found.append(problem(field("period"), "accounting.problem.required", row=n))
        elif period is None:
            found.append(problem(field("period"), "accounting.problem.period_format", row=n,
                                 value=shown(period_text, 20)))
        elif not lim.min_year <= int(period[:4]) <= lim.max_year:  # 0000-01 and 9999-12 are typing errors
            found.append(problem(field("period"), "accounting.problem.period_range", row=n, value=period,
                                 first=f"{lim.min_year}-01", last=f"{lim.max_year}-12"))
        elif (site, period) in seen:
            found.append(problem(field("period"), "accounting.template.problem.duplicate_output", row=n,
                                 site=shown(site), period=period, first=seen[(site, period)]))
        else:
            seen[(site, period)] = n
        problems += found
        if not found:
            clean.append({"site": site, "period": period, **values, "_row": n})
    return pd.DataFrame(clean, columns=[*FIELDS, "_row"]), problems
