"""Evidence pack export and verification (issue 14 item 6, X-1).

Fixture: 100,000 audit events (written straight to the table, hash-chained with MACs, as
bench/audit.py does) of which 2,500 are the life of 500 documents, each with an approved revision
and its controlled file (40 KB, incompressible like a .docx) in the file store.

Measured, medians of `--repeats` runs in the same process:
1. `export_evidence` of the whole trail (read, chain skeleton, records, files, index, manifest, signatures);
2. the same members written to a plain zip from disk (same compression level): the baseline;
3. the standalone verifier (tools/verify_evidence.py) over the pack, with the key fingerprint pinned.
Goal: export within 2x of the plain zip.

    python bench/evidence.py [--events 100000] [--documents 500] [--repeats 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import random
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from bench.common import scratch_database  # noqa: E402
from cms_workflows import audit  # noqa: E402
from cms_workflows.audit import chain, signing  # noqa: E402
from cms_workflows.audit.evidence import Scope  # noqa: E402
from cms_workflows.bootstrap import export_evidence  # noqa: E402
from cms_workflows.documents.models import Document, Revision  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FILE_SIZE = 40_000
LIFE = ("documents.document.create", "documents.revision.submit", "documents.revision.decide",
        "documents.revision.approve", "documents.revision.make_effective")
FILLER = {"document": "HN01-PR-003", "revision": "B", "comment": "同意发布，按程序文件执行", "sha256": "ab" * 32}


def seed_documents(db, count: int) -> list[tuple[int, str, str]]:
    """`count` documents with an approved revision and its stored file; returns (id, number, sha256)."""
    rng = random.Random(14)
    docs, revisions, out = [], [], []
    for i in range(1, count + 1):
        number = f"HN01-PR-{i:04d}"
        stored = db.files.put(rng.randbytes(FILE_SIZE))
        docs.append({"id": i, "number": number, "doc_type": "procedure", "site": "HN01", "title": f"程序文件 {i}",
                     "owner_department": "carbon_management", "language": "zh-CN", "status": "active",
                     "created_by": "strategy_manager.hn01"})
        revisions.append({"id": i, "document_id": i, "seq": 1, "label": "A", "status": "effective",
                          "author": "strategy_manager.hn01", "author_position": "strategy_manager", "change_reason": "",
                          "content": "{}", "source": "rendered", "round": 1, "approved_by": "gm",
                          "file_sha256": stored.sha256, "file_size": FILE_SIZE})
        out.append((i, number, stored.sha256))
    with db.engine.begin() as conn:
        conn.execute(insert(Document.__table__), docs)
        conn.execute(insert(Revision.__table__), revisions)
    return out


def seed_events(db, total: int, documents: list[tuple[int, str, str]]) -> int:
    """Continue the chain up to `total` events: each document's life, then filler events. Returns the head."""
    key = audit.load_key(db.settings)
    table = audit.AuditEvent.__table__
    with db.engine.connect() as conn:
        seq, prev = conn.execute(select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)).first()
    todo = [(action, "doc_document", str(i), {"number": number, "revision": "A", "file_sha256": sha})
            for i, number, sha in documents for action in LIFE]
    filler = audit.canonical_json(FILLER)
    batch = []
    with db.engine.begin() as conn:
        n = 0
        while seq < total:
            seq, n = seq + 1, n + 1
            action, otype, oid, payload = todo[n - 1] if n <= len(todo) else ("bench.event", "thing", str(n), None)
            payload_text = audit.canonical_json(payload) if payload is not None else filler
            ts = f"2026-01-01T00:{(n // 60000) % 60:02d}:{(n // 1000) % 60:02d}.{n % 1000:03d}000Z"
            body = chain.canonical_body(seq, ts, "carbon_accountant.hn01", "carbon_accountant", "HN01", action, otype,
                                        oid, payload_text, prev)
            h = hashlib.sha256(body.encode()).hexdigest()
            batch.append({"seq": seq, "occurred_at": ts, "actor": "carbon_accountant.hn01", "position": "carbon_accountant",
                          "site": "HN01", "action": action, "object_type": otype, "object_id": oid, "payload": payload_text,
                          "prev_hash": prev, "hash": h, "mac": audit.mac_of(key, h)})
            prev = h
            if len(batch) == 20_000:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
    return seq


def plain_zip(folder: Path, names: list[str], out: Path) -> None:
    """The baseline: the same members, read from disk, deflated at the same level."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in names:
            zf.write(folder / name, name)


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temp folder")
    args = parser.parse_args()

    keys = Path(tempfile.mkdtemp(prefix="cms-bench-keys-"))  # the signing key outside the data folder
    db = scratch_database(args.database_url, signing_key=keys / "signing.pem")
    fingerprint = signing.fingerprint(signing.create_key(keys / "signing.pem"))
    print(f"database: {db.dialect}")
    start = time.perf_counter()
    head = seed_events(db, args.events, seed_documents(db, args.documents))
    print(f"fixture: {head:,} events, {args.documents} documents with {FILE_SIZE // 1000} KB files "
          f"({time.perf_counter() - start:.1f} s)")

    work = Path(tempfile.mkdtemp(prefix="cms-bench-evidence-"))
    pack = work / "pack.zip"
    scope = Scope(head=head)  # each export adds its own event; the pack stays the same
    export_s, export_all = timed(lambda: export_evidence(db, "admin", pack, scope), args.repeats)
    with zipfile.ZipFile(pack) as zf:
        names = zf.namelist()
        zf.extractall(work / "members")
    raw_mb = sum((work / "members" / n).stat().st_size for n in names) / 1e6
    plain_s, plain_all = timed(lambda: plain_zip(work / "members", names, work / "plain.zip"), args.repeats)

    spec = importlib.util.spec_from_file_location("verify_evidence", ROOT / "tools" / "verify_evidence.py")
    verifier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verifier)

    def verify():
        ok, lines = verifier.verify(str(pack), fingerprint)
        assert ok, lines

    verify_s, verify_all = timed(verify, args.repeats)
    files = sum(1 for n in names if n.startswith("files/"))
    print(f"pack: {len(names)} members ({files} files), {raw_mb:.1f} MB uncompressed, "
          f"{pack.stat().st_size / 1e6:.1f} MB zipped")
    print(f"export:    {export_s:.2f} s  {raw_mb / export_s:,.1f} MB/s  (runs: {', '.join(f'{t:.2f}' for t in export_all)})")
    print(f"plain zip: {plain_s:.2f} s  {raw_mb / plain_s:,.1f} MB/s  (runs: {', '.join(f'{t:.2f}' for t in plain_all)})")
    print(f"verify:    {verify_s:.2f} s  {raw_mb / verify_s:,.1f} MB/s  ({verifier.IMPLEMENTATION}; "
          f"runs: {', '.join(f'{t:.2f}' for t in verify_all)})")
    print(f"export / plain zip: {export_s / plain_s:.2f}x (goal <= 2x; medians of {args.repeats})")
    db.dispose()


if __name__ == "__main__":
    main()
