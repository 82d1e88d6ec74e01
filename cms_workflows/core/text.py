"""Text a user types that is stored and shown again: names, titles, reasons, comments.

Control characters (C0, DEL, C1: ESC sequences recolour or rewrite a terminal) and the Unicode
bidirectional overrides, embeddings, isolates and marks (which make "gm" display as something else,
or reverse a file name's extension) are refused where such text enters, so the trail and every
listing show what was really entered (X-1). Line breaks and tabs are allowed in multi-line text
(reasons, comments) only.
"""

from __future__ import annotations

import re

from cms_workflows.core.errors import ValidationFailed, problem

# C0 controls except TAB LF CR, DEL and C1; LRM/RLM; ALM; LRE RLE PDF LRO RLO; LRI RLI FSI PDI
_BIDI = "\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def forbidden_char(value: str | None, *, multiline: bool = False) -> str | None:
    """The first character `value` may not contain, as `U+XXXX`, or None when it is clean."""
    if not value:
        return None
    m = (_MULTI_LINE if multiline else _SINGLE_LINE).search(value)
    return f"U+{ord(m.group()):04X}" if m else None


def text_problems(fields: dict[str, str | None], *, multiline: bool = False) -> list[dict]:
    """One `core.problem.forbidden_char` problem per field that holds a forbidden character."""
    out = []
    for name, value in fields.items():
        char = forbidden_char(value, multiline=multiline)
        if char:
            out.append(problem(name, "core.problem.forbidden_char", char=char))
    return out


def check_text(key: str = "core.bad_text", *, multiline: bool = False, **fields: str | None) -> None:
    """Refuse the fields (name=value) holding a forbidden character, naming each field and character."""
    problems = text_problems(fields, multiline=multiline)
    if problems:
        raise ValidationFailed(key, problems=problems)


def shown(value, limit: int = 80) -> str:
    """A user's value quoted in a message: forbidden characters made visible (U+FFFD), cut to `limit`."""
    text = str(value)
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return _SINGLE_LINE.sub("\ufffd", cut)
