"""Appending to the hash-chained audit trail (X-1).

Each event records who (user, position, site), what (action, object, payload) and
when, and is chained: hash = SHA-256 of the canonical JSON of the event's fields
including the previous event's hash. Anyone can recompute that with the standard
library alone (see `chain.canonical_body`). A second value, mac = HMAC-SHA-256(key, hash)
with a key kept outside the database, shows that the installation itself wrote the
event: someone with raw database access can recompute hashes, not MACs.

Events are appended in the caller's unit of work, so a change and its evidence
commit together or not at all. The chain is linear: on PostgreSQL an advisory
transaction lock serialises appenders; on SQLite writing units of work already
hold the database's write lock (BEGIN IMMEDIATE).

Event names follow one scheme, `domain.object.verb` (docs/events.md); commands get
theirs from their declaration in the command pipeline (`cms_workflows.audit.commands`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from sqlalchemy import bindparam, insert, select, text

from cms_workflows.audit.chain import GENESIS, canonical_body
from cms_workflows.audit.models import AuditEvent
from cms_workflows.core.errors import CmsError

# An arbitrary constant naming the chain's advisory lock on PostgreSQL.
PG_CHAIN_LOCK = 0x434D5341  # "CMSA"

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


# ---------------------------------------------------------------- the MAC key and this process's guesses

_lock = threading.Lock()
_keys: dict[str, bytes] = {}  # database instance -> MAC key
_last_written: dict[str, tuple[int, str]] = {}  # database instance -> (seq, hash) this process appended last


def key_path(settings) -> Path:
    """Where the audit key lives when CMS_AUDIT_KEY does not give it: data_dir/audit.key, absolute, so
    that messages name the folder a relative CMS_DATA_DIR resolved to."""
    return (Path(settings.data_dir) / "audit.key").resolve()


def load_key(settings) -> bytes:
    """The installation's audit key: CMS_AUDIT_KEY, else data_dir/audit.key.

    Never created here: a key made on the fly (a relative data folder read from another directory)
    would make every earlier MAC look forged. `cms init` creates it once (`create_key`)."""
    if settings.audit_key:
        return settings.audit_key.encode()
    path = key_path(settings)
    if not path.exists():
        raise CmsError("audit.key_missing", path=str(path))
    return path.read_text().strip().encode()


def create_key(settings) -> bool:
    """Create data_dir/audit.key (mode 0600) for a new installation; never overwrites. True if created."""
    if settings.audit_key:
        return False
    path = key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return True


def _key_for(uow) -> bytes:
    instance = uow.database.instance
    key = _keys.get(instance)
    if key is None:
        key = load_key(uow.settings)
        with _lock:
            _keys[instance] = key
    return key


def mac_of(key: bytes, event_hash: str) -> str:
    return hmac.new(key, event_hash.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- appending


def record(uow, grant, action: str, object_type: str, object_id: Any, payload: dict | None = None) -> int:
    """Append one event in the unit of work's transaction; returns its sequence number.

    Commands do not call this themselves: the command pipeline appends their declared event."""
    occurred_at = utc_timestamp()
    payload_text = canonical_json(payload or {})
    object_id = "" if object_id is None else str(object_id)
    values = {"occurred_at": occurred_at, "actor": grant.username, "position": grant.position, "site": grant.site,
              "action": action, "object_type": object_type, "object_id": object_id, "payload": payload_text}
    key = _key_for(uow)
    instance = uow.database.instance
    if uow.chain_head is not None:
        head = uow.chain_head
    elif instance in _last_written:
        # Optimistic: the head this process wrote last, checked inside the INSERT itself.
        # We hold the chain's lock (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: the
        # advisory lock, taken in its own statement so the INSERT's snapshot is younger than
        # it), so if the guard holds nobody can move the head before we commit; if another
        # process moved it, nothing is inserted and we read the real head below.
        head = _last_written[instance]
        if uow.get_bind().dialect.name == "postgresql":
            uow.execute(_PG_LOCK, {"k": PG_CHAIN_LOCK})
        _fill(values, head, key)
        if uow.execute(_GUARDED_INSERT, values).rowcount == 1:
            return _remember(uow, values)
        head = _head(uow)
    else:
        head = _head(uow)
    _fill(values, head, key)
    uow.execute(_INSERT, values)
    return _remember(uow, values)


def _fill(values: dict, head: tuple[int, str], key: bytes) -> None:
    seq, prev_hash = head[0] + 1, head[1]
    body = canonical_body(seq, values["occurred_at"], values["actor"], values["position"], values["site"], values["action"],
                          values["object_type"], values["object_id"], values["payload"], prev_hash)
    event_hash = hashlib.sha256(body.encode("utf-8")).hexdigest()
    values.update(seq=seq, prev_hash=prev_hash, hash=event_hash, mac=mac_of(key, event_hash))


def _remember(uow, values: dict) -> int:
    uow.chain_head = (values["seq"], values["hash"])
    uow.events += 1
    # a rolled-back transaction leaves a stale guess here: the next guard then fails and re-reads
    _last_written[uow.database.instance] = uow.chain_head
    return values["seq"]


def _head(uow) -> tuple[int, str]:
    if uow.get_bind().dialect.name == "postgresql":
        uow.execute(_PG_LOCK, {"k": PG_CHAIN_LOCK})
    row = uow.execute(_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS)


@lru_cache(maxsize=1)
def _renamed() -> dict[str, str]:
    """Old event name -> the name in force (docs/events.md); old events keep their names in the chain."""
    text = (resources.files("cms_workflows") / "data" / "event_names.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text)["renamed"])


def names_for(event: str) -> tuple[str, ...]:
    """The name in force and every older name of the same event, for queries over a whole chain."""
    return (event, *sorted(old for old, new in _renamed().items() if new == event))


def events_for(uow, object_type: str | None = None, object_id: Any = None, limit: int | None = None,
               event: str | None = None) -> list[AuditEvent]:
    """Events in chain order, by object and/or by event (under its current and older names)."""
    from sqlmodel import select as sm_select

    q = sm_select(AuditEvent).order_by(AuditEvent.seq)
    if event:
        q = q.where(AuditEvent.action.in_(names_for(event)))
    if object_type:
        q = q.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        q = q.where(AuditEvent.object_id == str(object_id))
    if limit:
        q = q.limit(limit)
    return list(uow.exec(q))


