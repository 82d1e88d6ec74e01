"""`cms verify`: the audit chain, earlier verified heads (anchors) and every stored file.

The chain is recomputed event by event (in parallel ranges on a long chain). Stored files
are re-hashed and compared with the hashes committed rows refer to, which the domains
report through the functions the bootstrap hands in (`stored_hashes`): a file named but
missing, and a file stored but named by no committed row, are both reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlalchemy import select

from cms_workflows.audit.chain import GENESIS, check_rows, fetch_range, stitch, verify_range
from cms_workflows.audit.models import AuditEvent
from cms_workflows.audit.recording import canonical_json, load_key, utc_timestamp
from cms_workflows.core.i18n import t

_table = AuditEvent.__table__


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


def _no_progress(done: int, total: int) -> None:
    pass


def _counted(rows: Iterator[tuple], on_progress: Callable[[int, int], None], total: int,
             every: int = 20_000) -> Iterator[tuple]:
    """The rows, telling `on_progress(done, total)` every `every` rows (a bar for a million events)."""
    done = 0
    for done, row in enumerate(rows, 1):
        yield row
        if done % every == 0:
            on_progress(done, total)
    on_progress(done, total)


def verify(connection, key: bytes | None, on_progress: Callable[[int, int], None] = _no_progress,
           total: int = 0) -> VerifyResult:
    """Recompute the chain in this process; stop at the first broken event and name it.

    Checks per event: its number follows the previous one (a deleted event leaves a
    gap), it links to the previous event's hash (reordering, insertion), its hash
    matches its content (editing), and its MAC matches (an event forged by someone
    without the installation's key). `key=None` checks the chain only, as an external
    auditor without the key does.
    """
    r = check_rows(_counted(iter_rows(connection), on_progress, total), key, 1, GENESIS)
    return VerifyResult(r.events, r.last_seq, r.last_hash, r.problem_seq, r.problem, key is not None)


def verify_parallel(db, key: bytes | None, workers: int | None = None, min_per_worker: int = 100_000,
                    on_progress: Callable[[int, int], None] = _no_progress) -> VerifyResult:
    """The same check, one contiguous range of events per CPU core; links between ranges are
    checked here. Short chains are checked in this process (starting workers costs more)."""
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    workers = workers or os.cpu_count() or 1
    with db.read_connection() as conn:
        last = conn.execute(select(_table.c.seq).order_by(_table.c.seq.desc()).limit(1)).scalar()
        if not last or workers < 2 or last < 2 * min_per_worker:
            return verify(conn, key, on_progress, last or 0)
    workers = min(workers, last // min_per_worker)
    bounds = [(1 + last * i // workers, last * (i + 1) // workers) for i in range(workers)]
    spec = connection_spec(db.url)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(verify_range, spec, key, first, end): end - first + 1 for first, end in bounds}
        done = 0
        for future in as_completed(futures):  # each finished range moves the bar on (on_progress)
            done += futures[future]
            on_progress(done, last)
        results = [future.result() for future in futures]
    events, head_seq, head_hash, problem_seq, problem = stitch(results)
    return VerifyResult(events, head_seq, head_hash, problem_seq, problem, key is not None)


def connection_spec(url: str) -> dict:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return {"driver": "sqlite", "path": u.database}
    params = {"host": u.host, "port": u.port, "user": u.username, "password": u.password, "dbname": u.database}
    return {"driver": "postgresql", "params": {k: v for k, v in params.items() if v is not None}}


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


# ---------------------------------------------------------------- the whole installation


@dataclass
class Report:
    ok: bool
    lines: list[str] = field(default_factory=list)
    chain: VerifyResult | None = None


def referenced_files(db, stored_hashes: Iterable[Callable]) -> set[str]:
    """The SHA-256 of every stored file a committed row refers to."""
    expected: set[str] = set()
    with db.read() as uow:
        for source in stored_hashes:
            expected |= set(source(uow))
    return expected


def verify_installation(db, stored_hashes: Iterable[Callable], *, record_anchor: bool = True,
                        check_macs: bool = True, on_progress: Callable[[int, int], None] = _no_progress) -> Report:
    settings = db.settings
    # without the key MACs cannot be checked: load_key names the missing file; --no-mac is explicit
    key = load_key(settings) if check_macs else None
    anchors_path = settings.data_dir / "audit-anchors.jsonl"
    lines: list[str] = []
    ok = True
    chain = verify_parallel(db, key, on_progress=on_progress)
    with db.read_connection() as conn:
        anchor_problem = check_anchors(conn, read_anchors(anchors_path)) if chain.ok else None
    if not chain.ok:
        ok = False
        lines.append(t(f"audit.{chain.problem}", seq=chain.problem_seq))
    elif anchor_problem:
        ok = False
        lines.append(t(f"audit.{anchor_problem[1]}", seq=anchor_problem[0]))
    else:
        lines.append(t("audit.ok" if key else "audit.ok_no_mac", events=chain.events, head_seq=chain.head_seq, head_hash=chain.head_hash))
        if record_anchor:
            append_anchor(anchors_path, chain)
    problems = db.files.verify(referenced_files(db, stored_hashes))
    if problems:
        ok = False
        lines.extend(t(f"audit.file_{problem}", sha256=digest) for digest, problem in problems)
    else:
        count = len(list(db.files.root.glob("??/*"))) if db.files.root.exists() else 0
        lines.append(t("audit.files_ok", count=count))
    return Report(ok=ok, lines=lines, chain=chain)
