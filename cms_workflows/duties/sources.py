"""Where a duty's subjects come from (X-3): the lines of the data collection plan, the instruments,
obligations and risks of the registers, the controlled documents.

Duties sit above the task domain and beside nothing else: they do not import the accounting, document
or register domains. The bootstrap hands in a registry of named sources (`bootstrap.duty_sources()`,
as it hands in `stored_hashes()`), so a new register plugs in by one line there and a name in
`policies/duties.yaml`, without a change here or in the sweep.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

KEY_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@+\-]{0,59}$")


@dataclass(frozen=True)
class Subject:
    """One thing a duty is done for: its stable id (part of the task key), its site ("*": the company),
    a label for the task's title, the position that owns it (if the row names one) and, for a dated
    source, the day it falls due (None: the row has no date yet)."""

    id: str
    site: str
    label: str
    position: str | None = None
    due: date | None = None


# fn(uow, until) -> subjects; a dated source returns the rows due on or before `until` (and undated ones)
Fetch = Callable[[object, date], list[Subject]]


@dataclass(frozen=True)
class Source:
    fetch: Fetch
    dated: bool = False  # the rows carry their own due dates (next calibration, next review)


def key_part(value: str) -> str:
    """A subject id as it may stand in a task key: as it is when it is plain, else a short digest (stable)."""
    value = str(value)
    if KEY_PART.match(value):
        return value
    return "h" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def described(sources: dict[str, Source]) -> dict[str, bool]:
    """name -> dated, what the duties file check needs to know of the registry."""
    return {name: source.dated for name, source in sources.items()}
