"""Audit trail throughput.

1. Single-event transactions/s: each transaction appends one hash-chained event
   (`audit.record`: head lookup, canonical JSON, SHA-256, HMAC, insert) against the same
   rows inserted into an identical table without chaining or hashing. Goal: ratio >= 0.8.
2. `cms verify` speed over 1,000,000 events. Goal: >= 200,000 events/s.

    python bench/audit.py [--transactions 2000] [--events 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import itertools
import os
import hashlib
import uuid
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import MetaData, Table, insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.common import fmt, scratch_database  # noqa: E402
from cms_workflows import audit  # noqa: E402
from cms_workflows.audit import chain  # noqa: E402
from cms_workflows.access import Grant  # noqa: E402

GRANT = Grant("carbon_accountant.hn01", "carbon_accountant", "HN01")
PAYLOAD = {"document": "HN01-PR-003", "revision": "B", "comment": "同意发布，按程序文件执行", "sha256": "ab" * 32}


def plain_table(db) -> Table:
    """A structural copy of audit_event (same columns and indexes), without triggers or chaining."""
    md = MetaData()
    t = audit.AuditEvent.__table__.to_metadata(md, name="bench_plain_event")
    for index in list(t.indexes):  # index names must be unique in the schema
        index.name = index.name.replace("audit_event", "bench_plain_event")
    for constraint in t.constraints:
        if constraint.name and "audit_event" in str(constraint.name):
            constraint.name = str(constraint.name).replace("audit_event", "bench_plain_event")
    md.create_all(db.engine)
    return t


_plain_seq = itertools.count(1)


def transactions(db, n: int, table: Table | None) -> float:
    plain_insert = insert(table) if table is not None else None  # prebuilt, as audit.record's is
    start = time.perf_counter()
    for i in range(n):
        if table is None:  # a command's unit of work: the event, and the check that a write has one
            with db.unit_of_work() as session:
                audit.record(session, GRANT, "documents.revision.approve", "revision", i, PAYLOAD)
        else:  # the baseline: a bare session and transaction, as a unit of work was before it checked anything
            with Session(db.engine, expire_on_commit=False) as session, session.begin():
                session.execute(plain_insert, {
                    "seq": next(_plain_seq), "occurred_at": audit.utc_timestamp(), "actor": GRANT.username, "position": GRANT.position,
                    "site": GRANT.site, "action": "documents.revision.approve", "object_type": "revision",
                    "object_id": str(i), "payload": audit.canonical_json(PAYLOAD), "prev_hash": "", "hash": uuid.uuid4().hex * 2, "mac": ""})
    return n / (time.perf_counter() - start)


def bulk_chain(db, count: int, key: bytes) -> None:
    """Append `count` valid events fast (Core executemany in batches), continuing the chain."""
    with db.engine.connect() as conn:
        head = conn.execute(audit.AuditEvent.__table__.select().with_only_columns(audit.AuditEvent.__table__.c.seq, audit.AuditEvent.__table__.c.hash)
                            .order_by(audit.AuditEvent.__table__.c.seq.desc()).limit(1)).first()
    seq, prev = (head[0], head[1]) if head else (0, audit.GENESIS)
    payload = audit.canonical_json(PAYLOAD)
    batch = []
    with db.engine.begin() as conn:
        for i in range(count):
            seq += 1
            ts = f"2026-01-01T00:00:00.{i % 1000000:06d}Z"
            body = chain.canonical_body(seq, ts, GRANT.username, GRANT.position, GRANT.site, "bench.event", "thing", str(i), payload, prev)
            h = hashlib.sha256(body.encode()).hexdigest()
            batch.append({"seq": seq, "occurred_at": ts, "actor": GRANT.username, "position": GRANT.position, "site": GRANT.site,
                          "action": "bench.event", "object_type": "thing", "object_id": str(i), "payload": payload,
                          "prev_hash": prev, "hash": h, "mac": audit.mac_of(key, h)})
            prev = h
            if len(batch) == 50_000:
                conn.execute(insert(audit.AuditEvent.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(audit.AuditEvent.__table__), batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temp folder")
    args = parser.parse_args()

    db = scratch_database(args.database_url)
    print(f"database: {db.dialect}")
    table = plain_table(db)
    chained, plain = [], []
    for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
        plain.append(transactions(db, args.transactions, table))
        chained.append(transactions(db, args.transactions, None))
    c, p = statistics.median(chained), statistics.median(plain)
    print(f"single-event transactions/s: chained audit {fmt(c)}, plain insert {fmt(p)} "
          f"(medians of {args.repeats} x {args.transactions:,}); ratio {c / p:.2f} (goal >= 0.8)")

    key = audit.load_key(db.settings)
    start = time.perf_counter()
    bulk_chain(db, args.events, key)
    print(f"generated {args.events:,} chained events in {time.perf_counter() - start:.1f} s")
    def timed(fn) -> tuple[float, audit.VerifyResult]:
        rates = []
        for _ in range(3):
            start = time.perf_counter()
            result = fn()
            rates.append(result.events / (time.perf_counter() - start))
            assert result.ok, result
        return statistics.median(rates), result

    def single():
        with db.read_connection() as conn:
            return audit.verify(conn, key)

    parallel_rate, result = timed(lambda: audit.verify_parallel(db, key))
    single_rate, _ = timed(single)
    print(f"verify (chain + MAC) over {result.events:,} events, as `cms verify` runs it (one range per core, "
          f"{os.cpu_count()} cores): {fmt(parallel_rate)} events/s; in one process: {fmt(single_rate)} events/s "
          f"(medians of 3; goal >= 200,000)")
    db.dispose()


if __name__ == "__main__":
    main()
