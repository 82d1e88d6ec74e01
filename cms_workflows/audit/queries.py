"""Reads of the audit trail for people allowed to read it (audit_trail read): events by filter, one page
at a time in chain order, and one event by its sequence number; the chain's head (`head_seq`), which anyone
reading may ask (it says only how many events there are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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
