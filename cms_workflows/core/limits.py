"""Limits on what a user can hand the system: file sizes, rows, columns, cells, unzipped bytes, periods.

Defaults suit a company's activity data and controlled documents; an installation changes one with the
environment (`CMS_LIMIT_MAX_COLUMNS=300`). Read on demand, never cached, so a test or an operator can
scale a limit down without restarting anything. Every refusal names the limit it hit
(`core.limit.<name>`), so the reader knows which setting to change, if changing it is right.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cms_workflows.core.errors import ValidationFailed

MIB = 2**20


class Limits(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CMS_LIMIT_", extra="ignore")

    max_upload_bytes: int = Field(default=50 * MIB, gt=0, description="an uploaded document file (.docx, PDF …)")
    max_import_bytes: int = Field(default=256 * MIB, gt=0, description="an activity data file (.csv, .xlsx)")
    max_unzipped_bytes: int = Field(default=256 * MIB, gt=0,
                                    description=".docx/.xlsx: sum of the members' sizes once unzipped")
    max_xml_part_bytes: int = Field(default=32 * MIB, gt=0,
                                    description=".docx/.xlsx: one XML part that is loaded whole (not a worksheet)")
    max_zip_members: int = Field(default=10_000, gt=0)
    max_rows: int = Field(default=1_048_576, gt=0, description="rows of a sheet or CSV (Excel's own maximum)")
    max_columns: int = Field(default=200, gt=0)
    max_cells: int = Field(default=20_000_000, gt=0, description="cells present in a sheet, or rows × columns of a CSV")
    max_shared_strings: int = Field(default=1_048_576, gt=0, description=".xlsx shared strings table entries")
    max_cell_chars: int = Field(default=32_767, gt=0, description="characters in one cell (Excel's own maximum)")
    max_line_bytes: int = Field(default=1 * MIB, gt=0, description="one line of a CSV file")
    min_year: int = Field(default=1990, description="earliest year of a period (YYYY-MM)")
    max_year: int = Field(default=2100, description="latest year of a period (YYYY-MM)")


def limits() -> Limits:
    """The limits in force now (from the environment, defaults otherwise)."""
    return Limits()


def exceeded(name: str, value: int, limit: int | None = None, **params) -> ValidationFailed:
    """The error for input above the limit `name`: what was found, the limit and its name (`core.limit.<name>`)."""
    limit = getattr(limits(), name) if limit is None else limit
    return ValidationFailed(f"core.limit.{name}", name=name, value=_n(value), limit=_n(limit), **params)


def _n(number: int) -> str:
    return f"{number:,}"


def check(name: str, value: int, current: Limits | None = None, **params) -> None:
    """Refuse `value` when it is above the limit `name`."""
    limit = getattr(current or limits(), name)
    if value > limit:
        raise exceeded(name, value, limit, **params)
