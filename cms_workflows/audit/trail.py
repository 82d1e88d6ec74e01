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
from pathlib import Path
from typing import Any, Iterator
from uuid import UUID

from sqlalchemy import Index, Text, bindparam, insert, select, text
from sqlmodel import Field, SQLModel

from cms_workflows.audit.chain import GENESIS, RangeResult, canonical_body, check_rows, fetch_range, stitch, verify_range  # noqa: F401

# An arbitrary constant naming the chain's advisory lock on PostgreSQL.
PG_CHAIN_LOCK = 0x434D5341  # "CMSA"


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
# Built once: constructing Core statements per event cost more than hashing (bench/audit.py).
_INSERT = insert(_table)
_HEAD = select(_table.c.seq, _table.c.hash).order_by(_table.c.seq.desc()).limit(1)
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_COLUMNS = ("seq", "occurred_at", "actor", "position", "site", "action", "object_type", "object_id", "payload",
            "prev_hash", "hash", "mac")
# INSERT … SELECT :values WHERE <hash of the newest event> = :prev_hash (see record()).
_GUARDED_INSERT = insert(_table).from_select(
    list(_COLUMNS),
    select(*[bindparam(c, type_=_table.c[c].type) for c in _COLUMNS]).where(
        select(_table.c.hash).order_by(_table.c.seq.desc()).limit(1).scalar_subquery() == bindparam("prev_hash")
    ),
).execution_options(preserve_rowcount=True)  # otherwise psycopg reports -1 for INSERT … SELECT


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
    occurred_at = utc_timestamp()
    payload_text = canonical_json(payload or {})
    object_id = "" if object_id is None else str(object_id)
    values = {"occurred_at": occurred_at, "actor": grant.username, "position": grant.position, "site": grant.site,
              "action": action, "object_type": object_type, "object_id": object_id, "payload": payload_text}
    key = _key_for(session)
    transaction = session.get_transaction()
    db = session.info["database"]
    cached = session.info.get("audit_head")
    if cached is not None and cached[0] is transaction:
        head = cached[1], cached[2]
    elif getattr(db, "_audit_head", None):
        # Optimistic: the head this process wrote last, checked inside the INSERT itself.
        # We hold the chain's lock (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: the
        # advisory lock, taken in its own statement so the INSERT's snapshot is younger than
        # it), so if the guard holds nobody can move the head before we commit; if another
        # process moved it, nothing is inserted and we read the real head below.
        head = db._audit_head
        if db.dialect == "postgresql":
            session.execute(_PG_LOCK, {"k": PG_CHAIN_LOCK})
        _fill(values, head, key)
        if session.execute(_GUARDED_INSERT, values).rowcount == 1:
            return _remember(session, transaction, db, values)
        head = _head(session)
    else:
        head = _head(session)
    _fill(values, head, key)
    session.execute(_INSERT, values)
    return _remember(session, transaction, db, values)


def _fill(values: dict, head: tuple[int, str], key: bytes) -> None:
    seq, prev_hash = head[0] + 1, head[1]
    body = canonical_body(seq, values["occurred_at"], values["actor"], values["position"], values["site"], values["action"],
                          values["object_type"], values["object_id"], values["payload"], prev_hash)
    event_hash = hashlib.sha256(body.encode("utf-8")).hexdigest()
    values.update(seq=seq, prev_hash=prev_hash, hash=event_hash, mac=mac_of(key, event_hash))


def _remember(session, transaction, db, values: dict) -> int:
    session.info["audit_head"] = (transaction, values["seq"], values["hash"])
    # a rolled-back transaction leaves a stale guess here: the next guard then fails and re-reads
    db._audit_head = (values["seq"], values["hash"])
    return values["seq"]


def _head(session) -> tuple[int, str]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_LOCK, {"k": PG_CHAIN_LOCK})
    row = session.execute(_HEAD).first()
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


def iter_rows(connection, after: int = 0) -> Iterator[tuple]:
    """Stream events in sequence order as plain tuples (the DB-API cursor: FACTS.md bulk reads)."""
    yield from fetch_range(connection.connection.driver_connection, _paramstyle(connection), after + 1, None)


def _paramstyle(connection) -> str:
    return "qmark" if connection.dialect.name == "sqlite" else "format"


def verify(connection, key: bytes | None) -> VerifyResult:
    """Recompute the chain in this process; stop at the first broken event and name it.

    Checks per event: its number follows the previous one (a deleted event leaves a
    gap), it links to the previous event's hash (reordering, insertion), its hash
    matches its content (editing), and its MAC matches (an event forged by someone
    without the installation's key). `key=None` checks the chain only, as an external
    auditor without the key does.
    """
    r = check_rows(iter_rows(connection), key, 1, GENESIS)
    return VerifyResult(r.events, r.last_seq, r.last_hash, r.problem_seq, r.problem, key is not None)


def verify_parallel(db, key: bytes | None, workers: int | None = None, min_per_worker: int = 100_000) -> VerifyResult:
    """The same check, one contiguous range of events per CPU core; links between ranges are
    checked here. Short chains are checked in this process (starting workers costs more)."""
    import os
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    workers = workers or os.cpu_count() or 1
    with db.read_connection() as conn:
        last = conn.execute(select(_table.c.seq).order_by(_table.c.seq.desc()).limit(1)).scalar()
        if not last or workers < 2 or last < 2 * min_per_worker:
            return verify(conn, key)
    workers = min(workers, last // min_per_worker)
    bounds = [(1 + last * i // workers, last * (i + 1) // workers) for i in range(workers)]
    spec = connection_spec(db.url)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(verify_range, [spec] * workers, [key] * workers, [b[0] for b in bounds], [b[1] for b in bounds]))
    events, head_seq, head_hash, problem_seq, problem = stitch(results)
    return VerifyResult(events, head_seq, head_hash, problem_seq, problem, key is not None)


def connection_spec(url: str) -> dict:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return {"driver": "sqlite", "path": u.database}
    params = {"host": u.host, "port": u.port, "user": u.username, "password": u.password, "dbname": u.database}
    return {"driver": "postgresql", "params": {k: v for k, v in params.items() if v is not None}}


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
