"""Append-only, hash-chained audit trail (X-1).

Each event records who (user, position, site), what (action, object, payload) and
when, and is chained: hash = SHA-256 of the canonical JSON of the event's fields
including the previous event's hash. Anyone can recompute that with the standard
library alone (see `canonical_body`). A second value, mac = HMAC-SHA-256(key, hash)
with a key kept outside the database, shows that the installation itself wrote the
event: someone with raw database access can recompute hashes, not MACs.

Events are appended in the caller's transaction, so a change and its evidence
commit together or not at all. The chain is linear: on PostgreSQL an advisory
transaction lock serialises appenders; on SQLite writing units of work already
hold the database's write lock (BEGIN IMMEDIATE). Triggers refuse UPDATE and
DELETE (and TRUNCATE on PostgreSQL); see migration 0001.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Iterator
from uuid import UUID

from sqlalchemy import Index, Text, insert, select, text
from sqlmodel import Field, SQLModel

GENESIS = "0" * 64
# An arbitrary constant naming the chain's advisory lock on PostgreSQL.
PG_CHAIN_LOCK = 0x434D5341  # "CMSA"
VERIFY_CHUNK = 50_000


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: str = Field(max_length=32, description="UTC, ISO 8601 with microseconds")
    actor: str = Field(max_length=64, index=True)
    position: str = Field(max_length=64)
    site: str = Field(max_length=32)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=200)
    payload: str = Field(sa_type=Text, description="canonical JSON, exactly as hashed")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    mac: str = Field(max_length=64)


_table = AuditEvent.__table__


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (UUID, Path)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"audit payload: cannot serialise {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def canonical_body(seq: int, occurred_at: str, actor: str, position: str, site: str, action: str,
                   object_type: str, object_id: str, payload: str, prev_hash: str) -> str:
    """The text that is hashed: canonical JSON (sorted keys, no spaces, UTF-8) of the event.

    Equal to canonical_json({... "payload": json.loads(payload) ...}); built by hand because
    verification runs over millions of events and `payload` is stored canonical already.
    """
    e = encode_basestring
    return (
        f'{{"action":{e(action)},"actor":{e(actor)},"object_id":{e(object_id)},'
        f'"object_type":{e(object_type)},"occurred_at":{e(occurred_at)},"payload":{payload},'
        f'"position":{e(position)},"prev_hash":{e(prev_hash)},"seq":{seq},"site":{e(site)}}}'
    )


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- the MAC key


def load_key(settings) -> bytes:
    """The installation's audit key: CMS_AUDIT_KEY, else data_dir/audit.key (created once)."""
    if settings.audit_key:
        return settings.audit_key.encode()
    path = Path(settings.data_dir) / "audit.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode()


def _key_for(session) -> bytes:
    db = session.info["database"]
    key = getattr(db, "_audit_key", None)
    if key is None:
        key = load_key(db.settings)
        db._audit_key = key
    return key


def mac_of(key: bytes, event_hash: str) -> str:
    return hmac.new(key, event_hash.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- appending


def record(session, grant, action: str, object_type: str, object_id: Any, payload: dict | None = None) -> int:
    """Append one event in the caller's transaction; returns its sequence number."""
    seq, prev_hash = _head(session)
    seq += 1
    occurred_at = utc_timestamp()
    payload_text = canonical_json(payload or {})
    object_id = "" if object_id is None else str(object_id)
    body = canonical_body(seq, occurred_at, grant.username, grant.position, grant.site, action,
                          object_type, object_id, payload_text, prev_hash)
    event_hash = hashlib.sha256(body.encode("utf-8")).hexdigest()
    session.execute(
        insert(_table).values(
            seq=seq, occurred_at=occurred_at, actor=grant.username, position=grant.position, site=grant.site,
            action=action, object_type=object_type, object_id=object_id, payload=payload_text,
            prev_hash=prev_hash, hash=event_hash, mac=mac_of(_key_for(session), event_hash),
        )
    )
    session.info["audit_head"] = (session.get_transaction(), seq, event_hash)
    return seq


def _head(session) -> tuple[int, str]:
    cached = session.info.get("audit_head")
    transaction = session.get_transaction()
    if cached is not None and cached[0] is transaction and transaction is not None:
        return cached[1], cached[2]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_CHAIN_LOCK})
    row = session.execute(select(_table.c.seq, _table.c.hash).order_by(_table.c.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


# ---------------------------------------------------------------- reading and verifying


@dataclass
class VerifyResult:
    events: int
    head_seq: int
    head_hash: str
    problem_seq: int | None = None
    problem: str | None = None
    macs_checked: bool = True

    @property
    def ok(self) -> bool:
        return self.problem is None


def iter_rows(connection, columns=None, after: int = 0, chunk: int = VERIFY_CHUNK) -> Iterator[tuple]:
    """Stream events in sequence order by keyset pages (Core, no ORM: FACTS.md bulk reads)."""
    cols = columns or [_table.c.seq, _table.c.occurred_at, _table.c.actor, _table.c.position, _table.c.site,
                       _table.c.action, _table.c.object_type, _table.c.object_id, _table.c.payload,
                       _table.c.prev_hash, _table.c.hash, _table.c.mac]
    last = after
    while True:
        rows = connection.execute(select(*cols).where(_table.c.seq > last).order_by(_table.c.seq).limit(chunk)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def verify(connection, key: bytes | None) -> VerifyResult:
    """Recompute the chain; stop at the first broken event and name it.

    Checks per event: its number follows the previous one (a deleted event leaves a
    gap), it links to the previous event's hash (reordering, insertion), its hash
    matches its content (editing), and its MAC matches (an event forged by someone
    without the installation's key). `key=None` checks the chain only, as an external
    auditor without the key does.
    """
    sha256 = hashlib.sha256
    new_hmac = hmac.new
    body_of = canonical_body
    expected_seq, prev = 1, GENESIS
    count = 0
    for seq, occurred_at, actor, position, site, action, otype, oid, payload, prev_hash, h, mac in iter_rows(connection):
        if seq != expected_seq:
            return VerifyResult(count, expected_seq - 1, prev, expected_seq, "missing")
        if prev_hash != prev:
            return VerifyResult(count, seq - 1, prev, seq, "broken_link")
        body = body_of(seq, occurred_at, actor, position, site, action, otype, oid, payload, prev_hash)
        if sha256(body.encode("utf-8")).hexdigest() != h:
            return VerifyResult(count, seq - 1, prev, seq, "altered")
        if key is not None and new_hmac(key, h.encode(), sha256).hexdigest() != mac:
            return VerifyResult(count, seq - 1, prev, seq, "forged")
        prev = h
        expected_seq += 1
        count += 1
    return VerifyResult(count, expected_seq - 1, prev, macs_checked=key is not None)


def events_for(session, object_type: str | None = None, object_id: Any = None, limit: int | None = None) -> list[AuditEvent]:
    from sqlmodel import select as sm_select

    q = sm_select(AuditEvent).order_by(AuditEvent.seq)
    if object_type:
        q = q.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        q = q.where(AuditEvent.object_id == str(object_id))
    if limit:
        q = q.limit(limit)
    return list(session.exec(q))


# ---------------------------------------------------------------- anchors


def read_anchors(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_anchors(connection, anchors: list[dict]) -> tuple[int, str] | None:
    """Every head recorded by an earlier verification must still be in the chain unchanged
    (detects a chain cut back to an earlier event, which hashes alone cannot)."""
    for anchor in anchors:
        row = connection.execute(select(_table.c.hash).where(_table.c.seq == anchor["seq"])).first()
        if row is None:
            return anchor["seq"], "truncated"
        if row[0] != anchor["hash"]:
            return anchor["seq"], "anchor_mismatch"
    return None


def append_anchor(path: Path, result: VerifyResult) -> None:
    if result.events == 0:
        return
    anchors = read_anchors(path)
    if anchors and anchors[-1]["seq"] == result.head_seq:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(canonical_json({"seq": result.head_seq, "hash": result.head_hash, "verified_at": utc_timestamp()}) + "\n")
