"""The import template as a data administrator expects it (issue 15, item 11; R-6.3.5, R-8.6): an
instructions sheet in the user's language, the `activity_data` sheet with its identity columns locked
(sheet protection without a password: it prevents slips, not a determined user) and only quantity, data
source, evidence and purity editable, validated as they are typed, a frozen header, each row's expected unit
and its facility's usual range as a hint, and the production sheet (product tonnes, output value) per site
and month. The importer reads both data sheets back by name and ignores the instructions and the read-only
columns after the data (`importing`, `production`); the CSV template stays the plain `importing.write_template`.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlmodel import select

from cms_workflows.accounting import importing, plausibility, production, units
from cms_workflows.accounting.factors import categories
from cms_workflows.accounting.names import material_name
from cms_workflows.accounting.plausibility import magnitude
from cms_workflows.accounting.models import ProductionOutput
from cms_workflows.core import exports
from cms_workflows.core.i18n import current_locale, normalize, pick, t

EDITABLE = ("quantity", "data_source", "evidence_ref", importing.PURITY)
SPARE_ROWS = 500  # rows below the template's where validation still applies (rows a user adds)
LOCKED_FILL, EDIT_FILL, HEAD_FILL = "F2F2F2", "FFF9DB", "DDEBF7"
MAX_WIDTH = 60


# ------------------------------------------------------------------ what the hints say

def recorded_outputs(uow, sites: list[str], periods: list[str]) -> dict[tuple[str, str], tuple]:
    """(site, period) -> (product_t, value_10k_cny) already recorded: shown beside the production rows."""
    q = select(ProductionOutput).where(ProductionOutput.site.in_(sites), ProductionOutput.period.in_(periods))
    return {(o.site, o.period): (o.product_t, o.value_10k_cny) for o in uow.exec(q)}


def _maximum(material: str, unit: str, method: str) -> float | None:
    """The material's physical monthly maximum (plausible_ranges.yaml) in the row's unit, if one applies."""
    ranges = plausibility.physical_ranges()
    if unit not in units.UNITS:
        return None
    dim = units.dimension(unit)
    rng = ranges["materials"].get(material)
    if dim == "energy" and (rng is None or rng[0] != "energy"):
        rng = ranges["energy"]
    elif rng is None and method == "gas":
        rng = ranges["gases"]
    if rng is None or rng[0] != dim:
        return None
    return rng[1] / units.to_reference(unit)


def by_line(history: pd.DataFrame) -> dict[tuple[str, str, str], list[tuple[str, float]]]:
    """The history per (site, facility, material): [(unit, quantity)]."""
    out: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
    for s, f, m, u, q in history.itertuples(index=False, name=None):
        out.setdefault((s, f, m), []).append((u, q))
    return out


def hint(row: dict, history: list[tuple[str, float]], method: str) -> str:
    """The expected unit, the facility's usual monthly range from its history (`by_line`, converted to the
    row's unit) and the physical maximum above which a figure is taken for a unit slip."""
    unit = row["unit"]
    values = []
    if unit in units.UNITS:
        for u, qty in history:
            if u in units.UNITS and units.dimension(u) == units.dimension(unit):
                values.append(qty * units.to_reference(u) / units.to_reference(unit))
    if values:
        s = pd.Series(values)
        text = t("accounting.template.hint.usual", unit=unit, count=len(s), low=magnitude(s.min()),
                 high=magnitude(s.max()), median=magnitude(s.median()))
    else:
        text = t("accounting.template.hint.no_history", unit=unit)
    top = _maximum(row["material"], unit, method)
    return text + (t("accounting.template.hint.maximum", max=magnitude(top), unit=unit) if top is not None else "")


def data_source_choices(locale: str) -> list[str]:
    """The data sources as the importer reads them: the Chinese names for a Chinese user, else the codes."""
    codes = list(dict.fromkeys(importing.DATA_SOURCES.values()))
    if locale != "zh-CN":
        return codes
    return [next(k for k, v in importing.DATA_SOURCES.items() if v == c and not k.isascii()) for c in codes]


# ------------------------------------------------------------------ the workbook

def workbook(uow, rows: list[dict], periods: list[str], lib, quantities: pd.DataFrame) -> bytes:
    """The template workbook of `rows` (importing.template_rows) in the user's language; `quantities` are
    the sites' live monthly rows (queries.live_quantities), summarised as each row's usual range."""
    locale = normalize(current_locale())
    sites = sorted({r["site"] for r in rows})
    history = by_line(quantities)
    methods = {code: info["method"] for code, info in lib.materials().items()}
    names = {code: material_name(code, locale) for code in lib.materials()}
    wb = exports.editable_workbook()
    has_purity = any(importing.PURITY in r for r in rows)
    _instructions(wb.active, locale, has_purity)
    _activity_sheet(wb.create_sheet(importing.ACTIVITY_SHEET), rows, history, methods, names, locale)
    _production_sheet(wb.create_sheet(production.SHEET_NAMES[0 if locale == "en" else 1]), sites, periods,
                      recorded_outputs(uow, sites, periods), locale)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _instructions(ws, locale: str, has_purity: bool) -> None:
    from openpyxl.styles import Alignment, Font

    ws.title = importing.INSTRUCTION_SHEETS[0 if locale == "zh-CN" else 1]
    sources = ", ".join(f"{c} = {t(f'accounting.template.data_source.{importing.DATA_SOURCES[c]}', locale=locale)}"
                        for c in data_source_choices(locale))
    lines = [("title", {}), ("intro", {}), ("columns", {})]
    for f in importing.FIELDS + ([importing.PURITY] if has_purity else []):
        lines.append((f"column.{f}", {"label": _label(f, locale)}))
    lines += [("sources", {"choices": sources}), ("units", {}), ("hint", {}), ("locked", {}),
              ("empty_rows", {}), ("sorting", {})]
    lines += [("purity", {})] if has_purity else []
    lines += [("production", {}), ("reimport", {}), ("same_file", {}), ("correction", {})]
    for n, (key, params) in enumerate(lines, start=1):
        cell = ws.cell(row=n, column=1, value=t(f"accounting.template.instructions.{key}", locale=locale, **params))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if key == "title":
            cell.font = Font(bold=True, size=14)
        elif key in ("columns",):
            cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 110
    ws.protection.sheet = True  # read, not edited; no password


def _label(f: str, locale: str) -> str:
    """A data column's header: its label in the user's language and its code (`数量/quantity`), the form
    the importer reads."""
    return f"{t(f'accounting.template.column.{f}', locale=locale)}/{f}"


def _activity_sheet(ws, rows: list[dict], history: dict, methods: dict, names: dict,
                    locale: str) -> None:
    from openpyxl.styles import PatternFill

    fields = importing.FIELDS + ([importing.PURITY] if any(importing.PURITY in r for r in rows) else [])
    extra = ["category_name", "material_name", "hint"]
    header = [_label(f, locale) for f in fields] + [f"{t(f'accounting.template.column.{e}', locale=locale)}/{e}"
                                                     for e in extra]
    _header(ws, header)
    choices = data_source_choices(locale)
    chosen = {code: label for label, code in zip(choices, dict.fromkeys(importing.DATA_SOURCES.values()))}
    cat = categories()
    for n, r in enumerate(rows, start=2):
        values = {**r, "data_source": chosen.get(r.get("data_source"), r.get("data_source")),
                  "quantity": None, importing.PURITY: None}
        for j, f in enumerate(fields, start=1):
            exports.put_text(ws.cell(row=n, column=j), values.get(f) if values.get(f) != "" else None)
        info = cat.get(r["category"]) or {}
        shown = [pick(info.get("name_zh"), info.get("name_en"), locale) or r["category"],
                 names.get(r["material"], r["material"]), hint(r, history.get((r["site"], r["facility"], r["material"]), []), methods.get(r["material"], ""))]
        for j, value in enumerate(shown, start=len(fields) + 1):
            exports.put_text(ws.cell(row=n, column=j), value)
    editable = [j for j, f in enumerate(fields, start=1) if f in EDITABLE]
    _lock(ws, len(header), len(rows) + 1, editable, PatternFill("solid", fgColor=LOCKED_FILL),
          PatternFill("solid", fgColor=EDIT_FILL))
    col = {f: j for j, f in enumerate(fields, start=1)}
    last = len(rows) + 1 + SPARE_ROWS
    _number_rule(ws, col["quantity"], last, locale, "quantity")
    _list_rule(ws, col["data_source"], last, locale, choices)
    if importing.PURITY in col:
        _number_rule(ws, col[importing.PURITY], last, locale, "purity", upper=1)
    _finish(ws, len(header), len(rows) + 1)


def _production_sheet(ws, sites: list[str], periods: list[str], recorded: dict, locale: str) -> None:
    from openpyxl.styles import PatternFill

    header = [f"{t(f'accounting.template.column.{f}', locale=locale)}/{f}" for f in production.FIELDS]
    header.append(f"{t('accounting.template.column.recorded', locale=locale)}/recorded")
    _header(ws, header)
    rows = production.template_rows(sites, periods)
    for n, r in enumerate(rows, start=2):
        exports.put_text(ws.cell(row=n, column=1), r["site"])
        exports.put_text(ws.cell(row=n, column=2), r["period"])
        before = recorded.get((r["site"], r["period"]))
        if before is not None:
            value = "—" if before[1] is None else magnitude(before[1])
            exports.put_text(ws.cell(row=n, column=5), t("accounting.template.hint.recorded", locale=locale,
                                              product=magnitude(before[0]), value=value))
    _lock(ws, len(header), len(rows) + 1, [3, 4], PatternFill("solid", fgColor=LOCKED_FILL),
          PatternFill("solid", fgColor=EDIT_FILL))
    last = len(rows) + 1 + SPARE_ROWS
    _number_rule(ws, 3, last, locale, "product_t")
    _number_rule(ws, 4, last, locale, "value_10k_cny")
    _finish(ws, len(header), len(rows) + 1)


def _header(ws, header: list[str]) -> None:
    from openpyxl.styles import Font, PatternFill

    for j, label in enumerate(header, start=1):
        cell = ws.cell(row=1, column=j)
        exports.put_text(cell, label)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEAD_FILL)


def _lock(ws, width: int, last_row: int, editable: list[int], locked_fill, edit_fill) -> None:
    """Every cell locked (openpyxl's default) but the editable columns: their cells, and their column's
    style, which Excel gives the cells of rows a user adds (no empty cells are written below the rows:
    the sheet ends where the template's rows end)."""
    from openpyxl.styles import Protection
    from openpyxl.utils import get_column_letter

    for j in editable:
        ws.column_dimensions[get_column_letter(j)].protection = Protection(locked=False)
        for n in range(2, last_row + 1):
            cell = ws.cell(row=n, column=j)
            cell.protection = Protection(locked=False)
            cell.fill = edit_fill
    for n in range(2, last_row + 1):
        for j in range(1, width + 1):
            if j not in editable:
                ws.cell(row=n, column=j).fill = locked_fill


def _range(column: int, last: int) -> str:
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(column)
    return f"{letter}2:{letter}{last}"


def _number_rule(ws, column: int, last: int, locale: str, what: str, upper: float | None = None) -> None:
    """A decimal ≥ 0 (or between 0 and `upper`), refused as it is typed, with the rule as the cell's prompt."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if upper is None:
        rule = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    else:
        rule = DataValidation(type="decimal", operator="between", formula1="0", formula2=str(upper), allow_blank=True)
    _explain(rule, locale, what)
    rule.add(_range(column, last))
    ws.add_data_validation(rule)


def _list_rule(ws, column: int, last: int, locale: str, choices: list[str]) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    _explain(rule, locale, "data_source", choices=", ".join(choices))
    rule.add(_range(column, last))
    ws.add_data_validation(rule)


def _explain(rule, locale: str, what: str, **params) -> None:
    # Excel limits a validation's title to 32 and its text to 255 characters
    rule.showErrorMessage = rule.showInputMessage = True
    rule.errorTitle = t("accounting.template.rule.title", locale=locale)[:32]
    rule.error = t(f"accounting.template.rule.{what}", locale=locale, **params)[:255]
    rule.promptTitle = t(f"accounting.template.column.{what}", locale=locale)[:32]
    rule.prompt = rule.error


def _finish(ws, width: int, last_row: int) -> None:
    """Frozen header, a filter on it (sorting is allowed), fitted widths, protection without a password."""
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(width)}{max(last_row, 2)}"
    for j in range(1, width + 1):
        letter = get_column_letter(j)
        longest = max((exports.display_width(c.value) for c in ws[letter][:last_row]), default=8)
        ws.column_dimensions[letter].width = min(MAX_WIDTH, max(8, longest + 2))
    p = ws.protection
    p.sheet = True
    # what a user may still do on the protected sheet: sort and filter, add and remove rows, widen columns
    p.sort = p.autoFilter = p.insertRows = p.deleteRows = p.formatColumns = p.formatRows = False
