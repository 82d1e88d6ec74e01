"""`cms verify`: the audit chain, earlier verified heads (anchors) and every stored file's hash.

Domains that store files register a function returning the hashes their tables
refer to (`register_stored_hashes`), so a file the database names but the store
lacks is reported too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cms_workflows import audit
from cms_workflows.core.filestore import FileStore
from cms_workflows.core.i18n import t

_stored_hash_sources: list[Callable] = []


def register_stored_hashes(fn: Callable) -> Callable:
    """Register fn(session) -> set of SHA-256 the domain's tables refer to."""
    if fn not in _stored_hash_sources:
        _stored_hash_sources.append(fn)
    return fn


@dataclass
class Report:
    ok: bool
    lines: list[str] = field(default_factory=list)
    chain: audit.VerifyResult | None = None


def verify_installation(db, *, record_anchor: bool = True, check_macs: bool = True) -> Report:
    from cms_workflows.bootstrap import register_hooks

    register_hooks()
    settings = db.settings
    key = audit.load_key(settings) if check_macs and _key_available(settings) else None
    anchors_path = settings.data_dir / "audit-anchors.jsonl"
    lines: list[str] = []
    ok = True
    chain = audit.verify_parallel(db, key)
    with db.read_connection() as conn:
        anchor_problem = audit.check_anchors(conn, audit.read_anchors(anchors_path)) if chain.ok else None
    if not chain.ok:
        ok = False
        lines.append(t(f"audit.{chain.problem}", seq=chain.problem_seq))
    elif anchor_problem:
        ok = False
        lines.append(t(f"audit.{anchor_problem[1]}", seq=anchor_problem[0]))
    else:
        lines.append(t("audit.ok" if key else "audit.ok_no_mac", events=chain.events, head_seq=chain.head_seq, head_hash=chain.head_hash))
        if record_anchor:
            audit.append_anchor(anchors_path, chain)
    expected: set[str] = set()
    if _stored_hash_sources:
        with db.read() as session:
            for source in _stored_hash_sources:
                expected |= set(source(session))
    store = FileStore(settings.file_store_dir)
    problems = store.verify(expected)
    if problems:
        ok = False
        lines.extend(t("audit.file_problem", sha256=h, problem=p) for h, p in problems)
    else:
        count = len(list(store.root.glob("??/*"))) if store.root.exists() else 0
        lines.append(t("audit.files_ok", count=count))
    return Report(ok=ok, lines=lines, chain=chain)


def _key_available(settings) -> bool:
    return bool(settings.audit_key) or (settings.data_dir / "audit.key").exists()
