"""Document numbers (unique and gap-free per scheme) and revision labels (A, B, …; 1.0, 1.1, …; or A0, A1, …)."""

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


# The revision schemes a type may use (document_types.yaml `revision_labels`, issue 13 item 3):
#   letters       A, B, C, … Z, AA          every revision a new letter
#   numeric       1.0, 1.1, … 2.0           a minor change counts up after the point, a major one before it
#   letter_digit  A0, A1, … B0              the A0/A1 convention: a letter per edition (换版), a digit per
#                                           amendment within it (修改); a major change starts the next letter at 0
SCHEMES = registry.LABEL_SCHEMES


def first_label(scheme: str) -> str:
    return {"letters": "A", "numeric": "1.0", "letter_digit": "A0"}[scheme]


def scheme_of(label: str) -> str | None:
    """The scheme a stored label was made in, or None if it fits none."""
    for scheme in SCHEMES:
        try:
            _next_in(scheme, label, False)
        except ValidationFailed:
            continue
        return scheme
    return None


def next_label(scheme: str, previous: str, major: bool = False) -> str:
    """The label after `previous`: B after A, AA after Z; 1.1 after 1.0, 2.0 after 1.x for a major change; A1 after
    A0, B0 after A3 for a major change.

    A document whose labels were made in another scheme (the type's scheme was changed in document_types.yaml after
    it was created) goes on in its own scheme: a change of the type's scheme applies to documents created after it,
    and never relabels or renumbers the revisions an existing document has (issue 13: "existing revisions keep
    their labels"). A label that fits no scheme is refused in the type's scheme."""
    try:
        return _next_in(scheme, previous, major)
    except ValidationFailed:
        own = scheme_of(previous)
        if own is None:
            raise
        return _next_in(own, previous, major)


def _letters_after(letters: str) -> str:
    n = 0
    for ch in letters:  # bijective base 26: A=1 … Z=26, AA=27
        n = n * 26 + (ord(ch) - 64)
    n += 1
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _next_in(scheme: str, previous: str, major: bool) -> str:
    bad = ValidationFailed("documents.bad_label", label=previous, scheme=scheme)
    if scheme == "letters":
        letters = previous.upper()
        if not letters.isalpha() or not letters.isascii():
            raise bad
        return _letters_after(letters)
    if scheme == "letter_digit":
        text = previous.upper()
        letters = text.rstrip("0123456789")
        digits = text[len(letters):]
        if not letters or not digits or not letters.isalpha() or not letters.isascii() or not digits.isascii():
            raise bad
        return f"{_letters_after(letters)}0" if major else f"{letters}{int(digits) + 1}"
    if scheme != "numeric":
        raise bad
    try:
        major_part, minor_part = previous.split(".")
        major_n, minor_n = int(major_part), int(minor_part)
    except ValueError:
        raise bad from None
    return f"{major_n + 1}.0" if major else f"{major_n}.{minor_n + 1}"


def check_label(scheme: str, label: str) -> str:
    """A label given by the user (e.g. the current revision of an imported document): it must be of the type's
    scheme (a user starting a document does so in the scheme in force)."""
    _next_in(scheme, label, False)  # raises when it does not belong to the scheme
    return label if scheme == "numeric" else label.upper()
