"""Document numbers (unique and gap-free per scheme) and revision labels (A, B, … or 1.0, 1.1, …)."""

from __future__ import annotations

import string
from datetime import date

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from cms_workflows.access import COMPANY_WIDE
from cms_workflows.documents import registry
from cms_workflows.documents.models import NumberCounter
from cms_workflows.core.errors import ValidationFailed


def allocate(session, dt: registry.DocType, site: str, on: date) -> str:
    """The next number of the type's scheme at this site.

    The counter row is incremented in the caller's transaction: the row lock (PostgreSQL) or
    the write lock (SQLite, BEGIN IMMEDIATE) serialises creators, and a rolled-back creation
    gives its number back, so numbers have no gaps.
    """
    fields = {"site": registry.company_prefix() if site == COMPANY_WIDE else site, "abbr": dt.abbr, "year": on.year}
    scheme_key = _scheme_key(dt.numbering, fields)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(NumberCounter).values(scheme=scheme_key, last_seq=0).on_conflict_do_nothing())
    seq = session.execute(update(NumberCounter).where(NumberCounter.scheme == scheme_key)
                          .values(last_seq=NumberCounter.last_seq + 1).returning(NumberCounter.last_seq)).scalar_one()
    return dt.numbering.format(seq=seq, **fields)


def _scheme_key(numbering: str, fields: dict) -> str:
    """The scheme with every field but {seq} filled in: one counter per site, type and (if used) year."""
    parts = []
    for literal, name, spec, _conv in string.Formatter().parse(numbering):
        parts.append(literal)
        if name is None:
            continue
        if name == "seq":
            parts.append("{seq}")
        else:
            parts.append(format(fields[name], spec or ""))
    return "".join(parts)


def first_label(scheme: str) -> str:
    return "A" if scheme == "letters" else "1.0"


def next_label(scheme: str, previous: str, major: bool = False) -> str:
    """The label after `previous`: B after A, AA after Z; 1.1 after 1.0, 2.0 after 1.x for a major change."""
    if scheme == "letters":
        letters = previous.upper()
        if not letters.isalpha() or not letters.isascii():
            raise ValidationFailed("documents.bad_label", label=previous, scheme=scheme)
        n = 0
        for ch in letters:  # bijective base 26: A=1 … Z=26, AA=27
            n = n * 26 + (ord(ch) - 64)
        n += 1
        out = ""
        while n:
            n, r = divmod(n - 1, 26)
            out = chr(65 + r) + out
        return out
    try:
        major_part, minor_part = previous.split(".")
        major_n, minor_n = int(major_part), int(minor_part)
    except ValueError:
        raise ValidationFailed("documents.bad_label", label=previous, scheme=scheme) from None
    return f"{major_n + 1}.0" if major else f"{major_n}.{minor_n + 1}"


def check_label(scheme: str, label: str) -> str:
    """A label given by the user (e.g. the current revision of an imported document)."""
    next_label(scheme, label)  # raises when it does not belong to the scheme
    return label.upper() if scheme == "letters" else label
