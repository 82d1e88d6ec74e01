"""Spreadsheet exports that cannot run code (R-7.5 documented information handed out; OWASP CSV injection).

A text cell starting with `=`, `+`, `-`, `@`, tab or carriage return is a formula to Excel, LibreOffice
and most CSV readers: a plan or facility name like `=HYPERLINK(…)` or `=cmd|' /C calc'!A0` would come
out live. So every export goes through here:

- CSV: such a text value gets a leading single quote (the spreadsheet shows it as text);
- .xlsx: every text value is written as a string cell (never a formula), and a neutralised one with the
  cell's quotePrefix set, so editing it in Excel keeps it text; the value itself is unchanged.

Only text is touched: numbers (negative ones too) stay numbers. `restore_value` undoes the CSV quote
when one of our own templates comes back as an import.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def needs_neutralising(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TRIGGERS)


def neutralise_value(value: Any) -> Any:
    """A CSV cell: text that a spreadsheet would read as a formula gets a leading quote; anything else as is."""
    return QUOTE + value if needs_neutralising(value) else value


def restore_value(value: str) -> str:
    """The inverse of `neutralise_value` for text read back from a CSV we wrote (an import template)."""
    if value.startswith(QUOTE) and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


def neutralise_frame(frame):
    """A copy of a DataFrame for CSV: its text cells (and column names) neutralised, numeric columns untouched."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_datetime64_any_dtype(column.dtype):
            continue  # bool counts as numeric here too: never text
        out[name] = column.astype(object).map(neutralise_value)
    out.columns = [neutralise_value(c) for c in out.columns]
    return out


def write_csv(frame, out: Path | IO[bytes]) -> None:
    """A DataFrame as CSV with a BOM (Excel opens Chinese text correctly), text neutralised."""
    neutralise_frame(frame).to_csv(out, index=False, encoding="utf-8-sig")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as CSV with a BOM, text neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([neutralise_value(v) for v in header])
    for row in rows:
        writer.writerow([neutralise_value(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _cell(ws, value: Any):
    """What openpyxl is given for one value: None for a blank, numbers and dates as they are, anything else
    as a string cell (typed explicitly: openpyxl would make text starting with = a formula)."""
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if type(value).__module__ == "numpy":  # numpy scalars as the Python numbers openpyxl knows
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, int, float, Decimal, datetime, date, time, timedelta)):
        return value
    text = str(value)
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if needs_neutralising(text):
        cell.quotePrefix = True  # and stays text when edited in Excel
    return cell


def editable_workbook():
    """A workbook built cell by cell (styles, protection, validation: the import template); its text goes in
    through `put_text`, so that this module stays the one place a workbook is made."""
    from openpyxl import Workbook

    return Workbook()


def put_text(cell, value: Any) -> None:
    """A cell of an editable workbook: text stays text (a name like `=A1` is never a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if needs_neutralising(value):
            cell.quotePrefix = True


def write_xlsx(out: Path | IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]],
               sheet_name: str = "Sheet1") -> None:
    """Rows as a one-sheet workbook (streamed, write-only): text as string cells, never formulas."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name)
    ws.append([_cell(ws, v) for v in header])
    for row in rows:
        ws.append([_cell(ws, v) for v in row])
    wb.save(out)


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_name: str = "Sheet1") -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, header, rows, sheet_name)
    return buf.getvalue()


def write_frame_xlsx(frame, out: Path | IO[bytes], sheet_name: str = "Sheet1") -> None:
    """A DataFrame as a workbook (as `to_excel(index=False)`), text as string cells, never formulas."""
    cells = frame.astype(object).where(frame.notna(), None)  # NaN, NA and NaT as blank cells (as to_excel)
    write_xlsx(out, [str(c) for c in frame.columns], cells.itertuples(index=False, name=None), sheet_name)


# ------------------------------------------------------------------ formatted multi-sheet workbooks

@dataclass
class Sheet:
    """One sheet of a formatted workbook: a header row (frozen, bold), rows of values, a number format per
    column index (numbers stay numbers, shown e.g. with two decimals), rows to set in bold (totals)."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    number_formats: Mapping[int, str] = field(default_factory=dict)
    freeze: str = "A2"
    bold_rows: frozenset[int] = frozenset()  # indices into `rows`


def display_width(value: Any, number_format: str | None = None) -> float:
    """About how many character widths a value takes in Excel's default font (a CJK character two)."""
    if value is None:
        return 0
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        decimals = len(number_format.split(".")[1].rstrip("%")) if number_format and "." in number_format else 0
        text = f"{float(value) * (100 if number_format and number_format.endswith('%') else 1):,.{decimals}f}"
    else:
        text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _fitted_widths(sheet: Sheet) -> list[float]:
    widths = [display_width(h) for h in sheet.header]
    for row in sheet.rows:
        for i, value in enumerate(row):
            if i < len(widths):
                widths[i] = max(widths[i], display_width(value, sheet.number_formats.get(i)))
    return [min(max(w + 2, 8), 60) for w in widths]  # a margin; no column wider than a screen's third


def _styled(ws, value: Any, number_format: str | None, bold: bool):
    """`_cell` as a styled cell (number format, bold) where there is a style to give."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Font

    plain = _cell(ws, value)
    if plain is None or (number_format is None and not bold):
        return plain
    cell = plain if isinstance(plain, Cell) else WriteOnlyCell(ws, value=plain)
    if number_format is not None and not isinstance(plain, Cell):  # numbers only: text keeps its format
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """Several sheets as one workbook (write-only): frozen bold headers, fitted column widths, number
    formats on number cells, text as string cells (never formulas; neutralised as `_cell` does)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for i, width in enumerate(_fitted_widths(sheet), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = sheet.freeze
        ws.append([_styled(ws, h, None, True) for h in sheet.header])
        for n, row in enumerate(sheet.rows):
            bold = n in sheet.bold_rows
            ws.append([_styled(ws, v, sheet.number_formats.get(i), bold) for i, v in enumerate(row)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
