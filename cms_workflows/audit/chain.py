"""The audit chain's arithmetic, with the standard library and a DB-API driver only.

Kept free of SQLAlchemy so that verification workers start in milliseconds: `cms
verify` splits a long chain into one contiguous range per CPU core, each worker checks
its range, and the coordinator checks the links between ranges.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from json.encoder import encode_basestring

GENESIS = "0" * 64
COLUMNS = ("seq", "occurred_at", "actor", "position", "site", "action", "object_type", "object_id",
           "payload", "prev_hash", "hash", "mac")
CHUNK = 50_000


def canonical_body(seq: int, occurred_at: str, actor: str, position: str, site: str, action: str,
                   object_type: str, object_id: str, payload: str, prev_hash: str) -> str:
    """The text that is hashed: canonical JSON (sorted keys, no spaces, UTF-8) of the event.

    Equal to json.dumps({... "payload": json.loads(payload) ...}, sort_keys=True,
    ensure_ascii=False, separators=(",", ":")); built by hand because verification runs
    over millions of events and `payload` is stored in canonical form already.
    """
    e = encode_basestring
    return (
        f'{{"action":{e(action)},"actor":{e(actor)},"object_id":{e(object_id)},'
        f'"object_type":{e(object_type)},"occurred_at":{e(occurred_at)},"payload":{payload},'
        f'"position":{e(position)},"prev_hash":{e(prev_hash)},"seq":{seq},"site":{e(site)}}}'
    )


def hmac_sha256_hex(key: bytes):
    """HMAC-SHA-256 (RFC 2104) with the key's pads hashed once, for checking many messages."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(message: bytes) -> str:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return mac


@dataclass
class RangeResult:
    first_seq: int
    first_prev_hash: str | None  # as stored in the range's first event
    last_seq: int  # of the last event that checked out
    last_hash: str
    events: int
    problem_seq: int | None = None
    problem: str | None = None


def check_rows(rows, key: bytes | None, first_seq: int, prev: str | None) -> RangeResult:
    """Check events in sequence order. `prev=None` takes the first event's stored prev_hash as
    given (a worker's range start: the coordinator checks that link)."""
    sha256 = hashlib.sha256
    body_of = canonical_body
    mac = hmac_sha256_hex(key) if key is not None else None
    expected = first_seq
    first_prev = None
    count = 0
    last_hash = prev if prev is not None else ""
    for seq, occurred_at, actor, position, site, action, otype, oid, payload, prev_hash, h, stored_mac in rows:
        if count == 0 and seq == first_seq:
            first_prev = prev_hash
            if prev is None:
                prev = prev_hash
        if seq != expected:
            return RangeResult(first_seq, first_prev, expected - 1, last_hash, count, expected, "missing")
        if prev_hash != prev:
            return RangeResult(first_seq, first_prev, seq - 1, last_hash, count, seq, "broken_link")
        if sha256(body_of(seq, occurred_at, actor, position, site, action, otype, oid, payload, prev_hash).encode()).hexdigest() != h:
            return RangeResult(first_seq, first_prev, seq - 1, last_hash, count, seq, "altered")
        if mac is not None and mac(h.encode()) != stored_mac:
            return RangeResult(first_seq, first_prev, seq - 1, last_hash, count, seq, "forged")
        prev = last_hash = h
        expected += 1
        count += 1
    return RangeResult(first_seq, first_prev, expected - 1, last_hash, count)


def fetch_range(dbapi_connection, paramstyle: str, first: int, last: int | None, chunk: int = CHUNK):
    """Events with first <= seq <= last in order, in keyset pages, as plain tuples."""
    mark = "?" if paramstyle == "qmark" else "%s"
    upper = f" AND seq <= {mark}" if last is not None else ""
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit_event WHERE seq >= {mark}{upper} ORDER BY seq LIMIT {chunk}"
    start = first
    while True:
        cur = dbapi_connection.cursor()
        cur.execute(sql, (start, last) if last is not None else (start,))
        rows = cur.fetchall()
        cur.close()
        if not rows:
            return
        yield from rows
        if len(rows) < chunk:
            return
        start = rows[-1][0] + 1


def connect(spec: dict):
    """A DB-API connection from a plain description (picklable, for worker processes)."""
    if spec["driver"] == "sqlite":
        import sqlite3

        return sqlite3.connect(f"file:{spec['path']}?mode=ro", uri=True), "qmark"
    import psycopg

    return psycopg.connect(**spec["params"]), "format"


def verify_range(spec: dict, key: bytes | None, first: int, last: int) -> RangeResult:
    """Worker entry point: check events first..last of the database `spec` describes."""
    conn, style = connect(spec)
    try:
        return check_rows(fetch_range(conn, style, first, last), key, first, None)
    finally:
        conn.close()


def stitch(ranges: list[RangeResult]) -> tuple[int, int, str, int | None, str | None]:
    """Join per-range results in order: (events, head_seq, head_hash, problem_seq, problem)."""
    events, head_seq, head_hash = 0, 0, GENESIS
    for r in ranges:
        if r.events == 0 and r.problem is None:  # ranges cover 1..max(seq): an empty one is a gap
            return events, head_seq, head_hash, r.first_seq, "missing"
        # the link into the range first, as the single-process check does (r.first_prev_hash is
        # None when the range's first event is missing: that problem is the worker's to report)
        if r.first_prev_hash is not None and r.first_prev_hash != head_hash:
            return events, head_seq, head_hash, r.first_seq, "broken_link"
        if r.problem is not None:
            return events + r.events, (r.last_seq if r.events else head_seq), (r.last_hash if r.events else head_hash), r.problem_seq, r.problem
        if r.events == 0:
            continue
        events += r.events
        head_seq, head_hash = r.last_seq, r.last_hash
    return events, head_seq, head_hash, None, None
