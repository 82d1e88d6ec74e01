"""Reads of the audit trail for people allowed to read it (audit_trail read): events by filter, one page
at a time in chain order, and one event by its sequence number; the chain's head (`head_seq`, and `SqliteHead`
for a caller that must not wait), which anyone reading may ask (it says only how many events there are)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import select

from cms_workflows.access import Resource, require
from cms_workflows.audit.models import AuditEvent
from cms_workflows.core.errors import NotFound

# the chain's newest sequence number (NULL before the first event); the sign-in statement reads it as a subquery
HEAD_SEQ = core_select(func.max(AuditEvent.__table__.c.seq))


def head_seq(connection) -> int:
    """The sequence number of the chain's newest event (0 before the first), read through a unit of work or a
    Core connection: the installation's version, since every committed change appends an event in its own
    transaction (X-1) and appenders are serialised."""
    return connection.execute(HEAD_SEQ).scalar() or 0


class SqliteHead:
    """The chain's head as SQLite's own driver reads it, on a read-only connection of this object's own, for a
    caller that must not wait (the web app's event loop: no pool, no ORM, no thread). It never waits: the busy
    timeout is 0, so a database that cannot answer at once answers None. A reader of a WAL database takes no lock
    a writer holds, and the head is the last entry of the chain's primary key, a few pages normally in memory."""

    def __init__(self, path: str, dialect) -> None:
        self.uri = Path(path).resolve().as_uri() + "?mode=ro"
        self.statement = str(HEAD_SEQ.compile(dialect=dialect))  # the one definition of the head
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def of(cls, database) -> "SqliteHead | None":
        """The head of a database kept in a SQLite file; None for any other (PostgreSQL, in memory)."""
        path = database.engine.url.database
        if database.dialect != "sqlite" or path in (None, "", ":memory:"):
            return None
        return cls(path, database.engine.dialect)

    def read(self) -> int | None:
        try:
            if self._connection is None:
                # the loop's thread may differ from the one that made the app (a test client's); one at a time
                self._connection = sqlite3.connect(self.uri, uri=True, timeout=0, isolation_level=None,
                                                   check_same_thread=False)
            return self._connection.execute(self.statement).fetchone()[0] or 0
        except sqlite3.Error:
            return None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True)
class EventFilter:
    """Every filter given must hold; days are local days of the installation (to: inclusive)."""

    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    site: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _moment(clock, day: date) -> str:
    return clock.start_of(day).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _conditions(clock, where: EventFilter) -> list:
    found = []
    for column, value in ((AuditEvent.object_type, where.object_type), (AuditEvent.object_id, where.object_id),
                          (AuditEvent.actor, where.actor), (AuditEvent.site, where.site)):
        if value:
            found.append(column == value)
    if where.date_from:
        found.append(AuditEvent.occurred_at >= _moment(clock, where.date_from))
    if where.date_to:
        found.append(AuditEvent.occurred_at < _moment(clock, where.date_to + timedelta(days=1)))
    return found


def search_events(uow, actor: str, where: EventFilter, offset: int = 0, limit: int = 50) -> tuple[list[AuditEvent], int]:
    """One page of the events matching the filter, in chain order, and how many match in all."""
    require(uow, actor, "read", Resource("audit_trail"))
    conditions = _conditions(uow.clock, where)
    total = uow.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    rows = uow.exec(select(AuditEvent).where(*conditions).order_by(AuditEvent.seq).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def get_event(uow, actor: str, seq: int) -> AuditEvent:
    require(uow, actor, "read", Resource("audit_trail"))
    row = uow.get(AuditEvent, seq)
    if row is None:
        raise NotFound()
    return row
