"""Registers as tables (R-7.5 documented information): columns declared once, and from them the export,
the import template and the import.

A register declares its columns (name, type, required, choices, length, range); its header labels and
choice labels are message keys (`registers.<register>.col.<column>`, `registers.<register>.<column>.<value>`),
so a file reads in the user's language and either language's file imports. From that one declaration:

- `export` writes rows as .xlsx or CSV (`core.exports`: text a spreadsheet would run as a formula —
  starting with = + - @ tab CR — is a string cell with quotePrefix in .xlsx and gets a leading quote
  in CSV; OWASP CSV injection);
- `template` writes the header only;
- `read` reads a file back into typed values, or every problem with its row and column — the column
  named by its label in the reader's language when the error is shown. Files are bounded before any
  parser reads them: bytes and rows (`RegisterLimits`, env `CMS_LIMIT_REGISTER_*`), and for .xlsx the
  package checks of `core.packages` (zip sizes, DTDs, cells).

What is written is the services' business: all or nothing, by natural key (`registers.service`).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cms_workflows.core import exports
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import LOCALES, Message, catalog, normalize, t
from cms_workflows.core.text import forbidden_char, shown

KINDS = ("text", "multiline", "int", "date", "choice", "bool", "position")
MAX_PROBLEMS = 500
BLANK = {"text": "", "multiline": "", "position": "", "bool": False}  # an empty optional cell
_TRUE = {"1", "true", "yes", "y", "是", "√", "✓"}
_FALSE = {"0", "false", "no", "n", "否", "×"}


class RegisterLimits(BaseSettings):
    """How large a register file may be: registers are lists people keep, not bulk data."""

    model_config = SettingsConfigDict(env_prefix="CMS_LIMIT_REGISTER_", extra="ignore")

    max_bytes: int = Field(default=10 * 2**20, gt=0)
    max_rows: int = Field(default=10_000, gt=0)


class FieldName(str):
    """A column's code that reads as its header label in the locale the message is shown in."""

    label_key: str

    def __new__(cls, code: str, label_key: str) -> "FieldName":
        value = super().__new__(cls, code)
        value.label_key = label_key
        return value

    def localized(self, locale: str | None) -> str:
        return t(self.label_key, locale=locale)


class Labels:
    """Several labels as one message parameter, listed in the locale the message is shown in."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def localized(self, locale: str | None) -> str:
        return ("、" if normalize(locale) == "zh-CN" else ", ").join(t(k, locale) for k in self.keys)

    def __format__(self, spec: str) -> str:
        return self.localized(None)


FILE = FieldName("file", "registers.whole_file")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    low: int | None = None
    high: int | None = None
    computed: bool = False  # exported (score, next due date …), never read back

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RuntimeError(f"column {self.name}: unknown kind {self.kind}")


@dataclass(frozen=True)
class Register:
    """A register's columns; `key` is the natural key column (the same key in a file updates, never duplicates)."""

    name: str
    columns: tuple[Column, ...]
    key: str = "code"
    sheet: str = ""
    by_name: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name.update({c.name: c for c in self.columns})

    def label_key(self, column: str) -> str:
        return f"registers.{self.name}.col.{column}"

    def field(self, column: str) -> FieldName:
        return FieldName(column, self.label_key(column))

    def choice_key(self, column: str, value: str) -> str:
        return f"registers.{self.name}.{column}.{value}"

    def inputs(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.computed)


# ------------------------------------------------------------------ values


def convert(register: Register, column: Column, raw, row: int | None) -> tuple[object, dict | None]:
    """One cell as the column's type: (value, None), or (None, the problem)."""
    name = register.field(column.name)
    if isinstance(raw, str):
        raw = exports.restore_value(raw.strip())  # the quote our CSV export put before formula-like text
    if raw is None or raw == "":
        if column.required:
            return None, problem(name, "registers.problem.required", row=row)
        return BLANK.get(column.kind), None
    kind = column.kind
    if kind in ("text", "multiline", "position"):
        text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
        return _text(name, column, text, row)
    if kind == "int":
        return _integer(name, column, raw, row)
    if kind == "date":
        return _date(name, raw, row)
    if kind == "bool":
        word = str(raw).strip().lower() if not isinstance(raw, bool) else ("true" if raw else "false")
        if word in _TRUE or word == t("registers.yes", "zh-CN") or word == t("registers.yes", "en").lower():
            return True, None
        if word in _FALSE or word == t("registers.no", "zh-CN") or word == t("registers.no", "en").lower():
            return False, None
        return None, problem(name, "registers.problem.not_yes_no", row=row, value=shown(raw, 40))
    return _choice(register, name, column, str(raw), row)


def _text(name: FieldName, column: Column, text: str, row) -> tuple[object, dict | None]:
    limit = column.max_length
    if limit is not None and len(text) > limit:
        return None, problem(name, "registers.problem.too_long", row=row, length=f"{len(text):,}", limit=f"{limit:,}")
    char = forbidden_char(text, multiline=column.kind == "multiline")
    if char:
        return None, problem(name, "registers.problem.forbidden_char", row=row, char=char)
    return text, None


def _integer(name: FieldName, column: Column, raw, row) -> tuple[object, dict | None]:
    try:
        number = float(str(raw).strip().replace(",", "")) if not isinstance(raw, (int, float)) else raw
        if isinstance(raw, bool) or not float(number).is_integer():
            raise ValueError
        value = int(number)
    except (TypeError, ValueError, OverflowError):
        return None, problem(name, "registers.problem.not_an_integer", row=row, value=shown(raw, 40))
    if (column.low is not None and value < column.low) or (column.high is not None and value > column.high):
        return None, problem(name, "registers.problem.out_of_range", row=row, value=value, low=column.low,
                             high=column.high)
    return value, None


def _date(name: FieldName, raw, row) -> tuple[object, dict | None]:
    if isinstance(raw, datetime):
        return raw.date(), None
    if isinstance(raw, date):
        return raw, None
    text = str(raw).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date(), None
        except ValueError:
            continue
    return None, problem(name, "registers.problem.bad_date", row=row, value=shown(text, 40))


def _choice(register: Register, name: FieldName, column: Column, text: str, row) -> tuple[object, dict | None]:
    wanted = text.strip()
    for code in column.choices:
        key = register.choice_key(column.name, code)
        labels = {code.lower(), *(catalog(loc).get(key, "").strip().lower() for loc in LOCALES)}
        if wanted.lower() in labels - {""}:
            return code, None
    allowed = Labels([register.choice_key(column.name, code) for code in column.choices])
    return None, problem(name, "registers.problem.not_a_choice", row=row, value=shown(text, 40), allowed=allowed)


def validate_values(register: Register, values: dict, row: int | None = None, *,
                    partial: bool = False) -> tuple[dict, list[dict]]:
    """Typed values of the given inputs (all declared columns, or only the given ones when `partial`)."""
    clean, problems = {}, []
    for column in register.inputs():
        if partial and column.name not in values:
            continue
        value, found = convert(register, column, values.get(column.name), row)
        if found:
            problems.append(found)
        else:
            clean[column.name] = value
    unknown = sorted(set(values) - {c.name for c in register.inputs()})
    if unknown:
        raise RuntimeError(f"{register.name}: no such columns {unknown}")
    return clean, problems


def shown_value(register: Register, column: Column, value, locale: str | None, *, csv_out: bool):
    """A stored value as a cell: choices and yes/no as labels in the reader's language."""
    if value is None:
        return None
    if column.kind == "choice":
        return t(register.choice_key(column.name, value), locale)
    if column.kind == "bool":
        return t("registers.yes" if value else "registers.no", locale)
    if isinstance(value, date) and csv_out:
        return value.isoformat()
    return value


# ------------------------------------------------------------------ writing


def header(register: Register, locale: str | None = None) -> list[str]:
    return [t(register.label_key(c.name), locale) for c in register.columns]


def export(register: Register, rows: Iterable[dict], fmt: str = "xlsx", locale: str | None = None) -> bytes:
    """The rows (dicts by column name) as a file in the reader's language, formulas written as text."""
    locale = normalize(locale)
    csv_out = fmt == "csv"
    cells = ([shown_value(register, c, r.get(c.name), locale, csv_out=csv_out) for c in register.columns]
             for r in rows)
    if csv_out:
        return exports.csv_bytes(header(register, locale), cells)
    return exports.xlsx_bytes(header(register, locale), cells, sheet_name=register.sheet or register.name)


def template(register: Register, fmt: str = "xlsx", locale: str | None = None) -> bytes:
    """An empty file with the register's header, ready to fill in."""
    return export(register, [], fmt, locale)


# ------------------------------------------------------------------ reading


def _bad_file(key: str, **params) -> ValidationFailed:
    return ValidationFailed("registers.bad_file", reason=Message(key, **params),
                            problems=[problem(FILE, key, **params)])


def read(register: Register, data: bytes, filename: str) -> list[tuple[int, dict]]:
    """(row number, typed values) of each filled row, or a ValidationFailed listing every problem."""
    limit = RegisterLimits()
    if len(data) > limit.max_bytes:
        raise _bad_file("registers.limit.bytes", value=f"{len(data):,}", limit=f"{limit.max_bytes:,}")
    if not data.strip():
        raise _bad_file("registers.problem.file.empty")
    is_xlsx = data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx")
    rows = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    first = next(rows, None)
    if first is None:
        raise _bad_file("registers.problem.file.empty")
    columns = _header_map(register, first)
    absent = [c.name for c in register.inputs() if c.required and c.name not in columns.values()]
    if absent:
        raise ValidationFailed("registers.bad_file", reason=Message("registers.problem.file.missing_columns"),
                               problems=[problem(register.field(c), "registers.problem.column_missing") for c in absent])
    out, problems, seen = [], [], {}
    for number, cells in enumerate(rows, start=2):
        if number - 1 > limit.max_rows:
            raise _bad_file("registers.limit.rows", limit=f"{limit.max_rows:,}")
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        raw = {name: cells[i] if i < len(cells) else None for i, name in columns.items()}
        values, found = validate_values(register, raw, number)
        problems += found
        key = values.get(register.key)
        if key is not None and key in seen:
            problems.append(problem(register.field(register.key), "registers.problem.duplicate_key", row=number,
                                    value=shown(key, 40), first=seen[key]))
        elif key is not None:
            seen[key] = number
        out.append((number, values))
    if not out and not problems:
        raise _bad_file("registers.problem.file.no_rows")
    if problems:
        raise ValidationFailed("registers.import_rejected", problems=problems[:MAX_PROBLEMS], filename=shown(filename),
                               count=len(problems))
    return out


def _header_map(register: Register, first: list) -> dict[int, str]:
    """Which column each header cell names: its code or its label in any locale; other columns are ignored."""
    names: dict[str, str] = {}
    for column in register.inputs():
        names[column.name.lower()] = column.name
        for loc in LOCALES:
            label = catalog(loc).get(register.label_key(column.name))
            if label:
                names[label.strip().lower()] = column.name
    out = {}
    for i, cell in enumerate(first):
        text = exports.restore_value(str(cell if cell is not None else "").strip().lstrip("\ufeff")).lower()
        if text in names and names[text] not in out.values():
            out[i] = names[text]
    return out


def _csv_rows(data: bytes) -> Iterator[list]:
    if b"\x00" in data:
        raise _bad_file("registers.problem.file.binary")
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030: what Excel saves a Chinese CSV as
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _bad_file("registers.problem.file.encoding")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise _bad_file("registers.problem.file.csv_unreadable", line=reader.line_num, detail=shown(exc, 120)) from None


def _xlsx_rows(data: bytes) -> Iterator[list]:
    """The first sheet's rows, after `core.packages` has checked the package (sizes, DTDs, cells)."""
    from cms_workflows.core.packages import open_package, scan_workbook

    try:
        z = open_package(data, streamed=lambda n: n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml")
        if z is None:
            raise _bad_file("registers.problem.file.not_xlsx")
        with z:
            extent = scan_workbook(z)
        limit = RegisterLimits().max_rows
        if extent.max_row - 1 > limit:  # refused before openpyxl reads a row
            raise _bad_file("registers.limit.rows", limit=f"{limit:,}")
    except ValidationFailed as exc:
        if exc.key.startswith(("core.limit.", "core.package.")):
            raise _bad_file(exc.key, **exc.params) from None
        raise
    try:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        sheet.reset_dimensions()  # the scan found the real extent; no rows made up past the last present
        rows = [list(r) for r in sheet.iter_rows(values_only=True, max_col=extent.max_column or None)]
    except Exception as exc:  # noqa: BLE001  openpyxl raises many types for a damaged workbook: all mean "not one"
        raise _bad_file("registers.problem.file.not_xlsx_detail", detail=type(exc).__name__) from None
    yield from rows
