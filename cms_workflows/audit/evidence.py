"""Evidence packs an external auditor can rely on (X-1, R-7.5, R-9.2).

`export()` writes one zip:
- `events.jsonl`: the audit events in scope, full rows, as stored;
- `chain.jsonl`: seq, prev_hash and hash of EVERY event from #1 to the pack's head, so that the
  in-scope events are bound to the whole chain and the chain to a signed head;
- `checkpoints.jsonl`: the installation's signed checkpoints up to the head (`audit_checkpoint`)
  and a checkpoint of the pack's own head, signed now, as lines of a checkpoint log;
- `records/…`: the business records the domains hold for the objects in scope (accounting runs'
  inputs and results, document register entries: `EvidenceSource`s from the bootstrap);
- `files/<sha256>`: every stored file those events and records name (and only those);
- `index.html` (table of contents, offline), `verify_evidence.py` (the standalone verifier);
- `manifest.json` (every member's SHA-256 and size, scope, installation identity, export time,
  exporter, head, public key) and `manifest.sig`, its Ed25519 signature by the installation key.

The installation identity is the hash of event #1; checkpoints are those of `audit.checkpoints`
(signed bytes: `canonical_json({"installation", "seq", "hash", "signed_at"})`). The pack is written
to a temporary file beside the target and renamed only after the export's own event has committed,
so there is never a half pack, and never a pack without its event. For the same scope, chain and export time (the database clock) the bytes are identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from json.encoder import encode_basestring
from pathlib import Path

from sqlalchemy import select

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.audit import checkpoints, signing
from cms_workflows.audit.checkpoint_models import AuditCheckpoint
from cms_workflows.audit.chain import fetch_range
from cms_workflows.audit.commands import Command, command
from cms_workflows.audit.models import AuditEvent
from cms_workflows.audit.verification import referenced_files
from cms_workflows.core.errors import CmsError

FORMAT = "cms_workflows evidence pack 2"
HASH_RULE = ("sha256 of the canonical JSON of the event without hash and mac (sorted keys, no spaces, UTF-8, "
             "payload embedded as stored, which is canonical JSON)")
_HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_table = AuditEvent.__table__


@dataclass(frozen=True)
class Scope:
    """What a pack covers; every filter given must hold (an empty scope: the whole trail).

    `head` fixes the chain's end (default: the current head), so a pack can be reproduced.
    `cases` names PDCA cases (resolved by the domain that owns them, like `documents`)."""

    date_from: date | None = None
    date_to: date | None = None
    site: str | None = None
    documents: tuple[str, ...] = ()
    head: int | None = None
    cases: tuple[str, ...] = ()

    def describe(self) -> dict:
        return {"from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None,
                "site": self.site, "documents": sorted(self.documents), "cases": sorted(self.cases),
                "head": self.head}


Key = tuple[str, str]  # (object_type, object_id) of an audit event


@dataclass(frozen=True)
class EvidenceSource:
    """A domain's part of a pack (wired in the bootstrap).

    `objects(uow, filter, value)`: the objects a scope filter names ("site": a site code,
    "documents" or "cases": a tuple of numbers), as event keys; unknown values raise a CmsError.
    `records(uow, keys)`: for the objects of the in-scope events, the members to add
    ({path under records/: bytes}) and the SHA-256 of the stored files they refer to."""

    objects: Callable[..., set[Key]]
    records: Callable[..., tuple[dict[str, bytes], set[str]]]


@dataclass
class _Selection:
    start: str | None  # occurred_at bounds (UTC text, compared as text)
    end: str | None
    site: str | None
    site_keys: set[Key] | None
    document_keys: set[Key] | None
    case_keys: set[Key] | None = None

    def __call__(self, row: tuple) -> bool:
        occurred_at, site, key = row[1], row[4], (row[6], row[7])
        if self.start is not None and occurred_at < self.start:
            return False
        if self.end is not None and occurred_at >= self.end:
            return False
        if self.site is not None and site != self.site and key not in self.site_keys:
            return False
        if self.case_keys is not None and key not in self.case_keys:
            return False
        return self.document_keys is None or key in self.document_keys


@command("audit.evidence.export", action="export", resource="audit_trail", audit_object="audit_trail")
def record_export(cmd: Command, filename: str, manifest: dict | None = None, manifest_sha256: str | None = None) -> None:
    cmd.object_id = "*"
    cmd.payload = {"file": filename}
    if manifest is not None:  # the pack's identity in the trail: what was handed out, and what it covered
        cmd.payload.update(scope=manifest["scope"], head=manifest["head"], events=manifest["events_in_scope"],
                           manifest_sha256=manifest_sha256)


def export(db, actor: str, out: Path, stored_hashes: Iterable[Callable], sources: Iterable[EvidenceSource] = (),
           scope: Scope | None = None) -> dict:
    """Write the pack (see the module docstring); returns its manifest."""
    scope, out, sources = scope or Scope(), Path(out), list(sources)
    with db.read() as uow:
        access.require(uow, actor, "export", Resource("audit_trail"))
        private = signing.load_private(db.settings)
        selection = _selection(uow, db.clock, scope, sources)
    exported_at = db.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                manifest = _write(db, _Zip(zf, exported_at), private, actor, scope, selection, sources, stored_hashes)
            fh.flush()
            os.fsync(fh.fileno())
        digest = hashlib.sha256(_manifest_bytes(manifest)).hexdigest()
        with db.unit_of_work() as uow:
            record_export(uow, actor, out.name, manifest, digest)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


def _selection(uow, clock, scope: Scope, sources: list[EvidenceSource]) -> _Selection:
    def bound(day: date | None) -> str | None:
        return None if day is None else clock.start_of(day).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    site_keys = documents = case_keys = None
    if scope.cases:
        case_keys = set().union(*(s.objects(uow, "cases", tuple(scope.cases)) for s in sources))
    if scope.site is not None:
        site_keys = set().union(*(s.objects(uow, "site", scope.site) for s in sources))
    if scope.documents:
        documents = set().union(*(s.objects(uow, "documents", tuple(scope.documents)) for s in sources))
    end = bound(scope.date_to + timedelta(days=1)) if scope.date_to else None
    return _Selection(bound(scope.date_from), end, scope.site, site_keys, documents, case_keys)


class _Zip:
    """Members written in a fixed order with fixed metadata; remembers each one's SHA-256 and size."""

    def __init__(self, zf: zipfile.ZipFile, moment: str) -> None:
        self.zf = zf
        y, mo, d, h, mi, s = (int(moment[i:j]) for i, j in ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19)))
        self.time = (max(y, 1980), mo, d, h, mi, s)
        self.moment = moment
        self.members: dict[str, dict] = {}

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.create_system = 3  # the same bytes whichever system exports
        return info

    def add(self, name: str, data: bytes, listed: bool = True) -> None:
        self.zf.writestr(self._info(name), data, compresslevel=6)
        if listed:
            self.members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def stream(self, name: str, chunks: Iterable[bytes]) -> None:
        sha, size = hashlib.sha256(), 0
        with self.zf.open(self._info(name), "w", force_zip64=True) as member:
            for chunk in chunks:
                sha.update(chunk)
                size += len(chunk)
                member.write(chunk)
        self.members[name] = {"sha256": sha.hexdigest(), "size": size}


def _write(db, zipped: _Zip, private, actor, scope, selection, sources, stored_hashes) -> dict:
    exported_at = zipped.moment
    with db.read_connection() as conn, tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        head = _head(conn, scope.head)
        installation = _first_hash(conn)
        found = _Found()
        zipped.stream("chain.jsonl", _chain_and_events(conn, head[0], selection, spool, found))
        spool.seek(0)
        zipped.stream("events.jsonl", iter(lambda: spool.read(1 << 20), b""))
        stored = _stored_checkpoints(conn, head[0])
    members, files = {}, set(found.hashes)
    with db.read() as uow:
        for source in sources:
            more, named = source.records(uow, found.keys)
            members.update(more)
            files |= named
    for name in sorted(members):
        zipped.add(f"records/{name}", members[name])
    for digest in sorted(files & referenced_files(db, stored_hashes)):
        zipped.add(f"files/{digest}", db.files.get(digest))
    public = signing.public_bytes(private)
    own = {"installation": installation, "seq": head[0], "hash": head[1], "signed_at": exported_at,
           "fingerprint": signing.fingerprint(public), "public_key": public.hex()}
    own["signature"] = signing.sign(private, checkpoints.signed_bytes(own))
    lines = sorted([*stored, checkpoints.checkpoint_line(own)], key=lambda line: json.loads(line)["seq"])
    zipped.add("checkpoints.jsonl", "".join(line + "\n" for line in lines).encode())
    zipped.add("verify_evidence.py", verifier_bytes())
    manifest = {
        "format": FORMAT, "installation": installation, "exported_at": exported_at, "exporter": actor,
        "scope": scope.describe(), "head": {"seq": head[0], "hash": head[1]}, "events_in_scope": found.events,
        "public_key": public.hex(), "fingerprint": signing.fingerprint(public), "hash_rule": HASH_RULE,
    }
    from cms_workflows.audit.evidence_index import render

    zipped.add("index.html", render(manifest, zipped.members).encode("utf-8"))
    manifest["members"] = dict(sorted(zipped.members.items()))
    data = _manifest_bytes(manifest)
    zipped.add("manifest.json", data, listed=False)
    zipped.add("manifest.sig", (signing.sign(private, data) + "\n").encode(), listed=False)
    return manifest


def _manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def verifier_bytes() -> bytes:
    """The standalone verifier (byte-identical to tools/verify_evidence.py in the repository)."""
    return (resources.files("cms_workflows") / "data" / "verify_evidence.py").read_bytes()


@dataclass
class _Found:
    events: int = 0
    keys: set[Key] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)


def _chain_and_events(conn, head: int, selection: _Selection, spool, found: _Found):
    """Yield chain.jsonl in chunks; write the in-scope events to `spool` on the way."""
    driver = conn.connection.driver_connection
    style = "qmark" if conn.dialect.name == "sqlite" else "format"
    lines: list[str] = []
    for row in fetch_range(driver, style, 1, head):
        seq, prev_hash, event_hash = row[0], row[9], row[10]
        lines.append(f'{{"hash":"{event_hash}","prev_hash":"{prev_hash}","seq":{seq}}}\n')
        if selection(row):
            spool.write(_event_line(row).encode("utf-8"))
            found.events += 1
            found.keys.add((row[6], row[7]))
            found.hashes.update(_HEX64.findall(row[8]))
        if len(lines) >= 20_000:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


def _event_line(row: tuple) -> str:
    """One line of events.jsonl: the stored row as a JSON object (equal to json.dumps(dict(zip(COLUMNS, row)),
    ensure_ascii=False, separators=(",", ":")); built by hand, it is the export's hot loop)."""
    e = encode_basestring
    return (f'{{"seq":{row[0]},"occurred_at":{e(row[1])},"actor":{e(row[2])},"position":{e(row[3])},'
            f'"site":{e(row[4])},"action":{e(row[5])},"object_type":{e(row[6])},"object_id":{e(row[7])},'
            f'"payload":{e(row[8])},"prev_hash":{e(row[9])},"hash":{e(row[10])},"mac":{e(row[11])}}}\n')


def _head(conn, wanted: int | None) -> tuple[int, str]:
    q = select(_table.c.seq, _table.c.hash)
    q = q.where(_table.c.seq == wanted) if wanted is not None else q.order_by(_table.c.seq.desc()).limit(1)
    row = conn.execute(q).first()
    if row is None:
        raise CmsError("audit.evidence_no_head", seq=wanted) if wanted is not None else CmsError("audit.evidence_empty")
    return row[0], row[1]


def _first_hash(conn) -> str:
    """The installation's identity: the hash of event #1."""
    row = conn.execute(select(_table.c.hash).where(_table.c.seq == 1)).first()
    if row is None:
        raise CmsError("audit.evidence_empty")
    return row[0]


def _stored_checkpoints(conn, head: int) -> list[str]:
    """The installation's signed checkpoints up to the head, as checkpoint-log lines (`audit.checkpoints`)."""
    table = AuditCheckpoint.__table__
    rows = conn.execute(select(*[table.c[k] for k in checkpoints.LOG_FIELDS]).where(table.c.seq <= head)
                        .order_by(table.c.seq, table.c.id)).all()
    return [checkpoints.checkpoint_line(dict(zip(checkpoints.LOG_FIELDS, row))) for row in rows]
