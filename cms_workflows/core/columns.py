"""Text columns checked before the database sees them, the same on SQLite and PostgreSQL.

SQLite stores a 200 MB string in a VARCHAR(200) column; PostgreSQL refuses it with a DataError
and refuses a NUL character outright. Both would differ between the two databases, and the second
is a traceback. So every new or changed text attribute of a row the unit of work flushes is checked
against its column's declared length and for control and bidi characters (`core.text`; line breaks
and tabs allowed, as in a reason), and a bad one is a ValidationFailed naming the field and the limit.
Services that know a field is single-line (names, titles) check it themselves first, more strictly.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import String, Text, inspect
from sqlmodel.sql.sqltypes import AutoString

from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.text import forbidden_char


@lru_cache(maxsize=None)
def _text_columns(cls: type) -> tuple[tuple[str, int | None, bool], ...]:
    """(attribute, declared length or None, check characters) of each text column of a mapped class."""
    out = []
    mapper = inspect(cls)
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        typ = column.type
        if isinstance(typ, AutoString) or (isinstance(typ, String) and not isinstance(typ, Text)):
            out.append((attr.key, getattr(typ, "length", None), True))
        elif isinstance(typ, Text):  # JSON documents and free text: the length is unbounded, NUL is not allowed
            out.append((attr.key, None, False))
    return tuple(out)


def column_problems(obj, *, changed_only: bool) -> list[dict]:
    """Problems of one mapped object's text attributes (only the changed ones when `changed_only`)."""
    state = inspect(obj)
    found = []
    for key, length, chars in _text_columns(type(obj)):
        if changed_only and not state.attrs[key].history.has_changes():
            continue
        value = state.dict.get(key)
        if not isinstance(value, str):
            continue
        if length is not None and len(value) > length:
            found.append(problem(key, "core.problem.too_long", length=f"{len(value):,}", limit=f"{length:,}"))
        elif chars and forbidden_char(value, multiline=True):
            found.append(problem(key, "core.problem.forbidden_char", char=forbidden_char(value, multiline=True)))
        elif not chars and "\x00" in value:
            found.append(problem(key, "core.problem.forbidden_char", char="U+0000"))
    return found


def check_flushed(session) -> None:
    """Refuse the flush when a new or changed row has an over-long or unprintable text value."""
    found = []
    for obj in session.new:
        found += column_problems(obj, changed_only=False)
    for obj in session.dirty:
        found += column_problems(obj, changed_only=True)
    if found:
        raise ValidationFailed("core.bad_field", problems=found)
