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
from collections.abc import Iterable, Sequence
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
