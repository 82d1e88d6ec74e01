"""Signed checkpoints: the anchor outside the installation (X-1, R-7.5).

The audit chain proves its own arithmetic, and the MACs prove the installation wrote each
event, but someone holding the database and `audit.key` can still rewrite the chain from scratch,
cut its tail, or restore an older copy of the database, and the chain still checks out. A
checkpoint closes that gap: the chain head (sequence, hash, time) signed with the installation's
Ed25519 key (`signing`), which lives outside the data folder. Each checkpoint is stored in
`audit_checkpoint`, recorded as an event by the `system` identity, and appended as one JSON line to
a checkpoint log that an auditor keeps outside the installation. Comparing that log with the
database (`check_log`, `cms verify --checkpoints FILE`) detects all three attacks, with nothing but
the public key or its fingerprint.

The installation's identity is the hash of audit event #1. The signed bytes are

    canonical_json({"installation": <hash of event 1>, "seq": n, "hash": h, "signed_at": <UTC ISO 8601>})

encoded as UTF-8; a log line is the canonical JSON of those fields plus `fingerprint`,
`public_key` (raw Ed25519, hex) and `signature` (hex).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from cms_workflows.audit import signing
from cms_workflows.audit.checkpoint_models import AuditCheckpoint
from cms_workflows.audit.commands import Command, installer_command
from cms_workflows.audit.models import AuditEvent
from cms_workflows.audit.queries import head_seq
from cms_workflows.audit.recording import canonical_json, load_key, utc_timestamp
from cms_workflows.audit.verification import verify_parallel
from cms_workflows.core.errors import CmsError
from cms_workflows.core.i18n import t

SIGNED_FIELDS = ("installation", "seq", "hash", "signed_at")
LOG_FIELDS = (*SIGNED_FIELDS, "fingerprint", "public_key", "signature")
_events = AuditEvent.__table__


def signed_bytes(checkpoint: dict) -> bytes:
    """What the signature covers (see the module's docstring)."""
    return canonical_json({k: checkpoint[k] for k in SIGNED_FIELDS}).encode("utf-8")


# ---------------------------------------------------------------- the signing key


def create_signing_key(settings, path: Path) -> dict:
    """`cms init --signing-key PATH`: a new Ed25519 key, mode 0600, never overwriting one, and never
    inside the data folder (whoever copies or takes the data folder must not get the key with it)."""
    path = Path(path).expanduser().resolve()
    data_dir = Path(settings.data_dir).resolve()
    if path == data_dir or path.is_relative_to(data_dir):
        raise CmsError("audit.signing_key_in_data_dir", path=str(path), data_dir=str(data_dir))
    public = signing.create_key(path)
    return {"path": str(path), "public_key": public.hex(), "fingerprint": signing.fingerprint(public)}


def key_info(settings) -> dict:
    """`cms key show`: the configured key's public half and fingerprint."""
    public = signing.public_bytes(signing.load_private(settings))
    return {"path": str(Path(settings.signing_key).resolve()), "public_key": public.hex(),
            "fingerprint": signing.fingerprint(public)}


# ---------------------------------------------------------------- signing


def installation_identity(connection) -> str | None:
    """The hash of audit event #1 (None before the first event)."""
    return connection.execute(select(_events.c.hash).where(_events.c.seq == 1)).scalar()


@installer_command("audit.checkpoint.sign", audit_object="audit_trail")
def _record(cmd: Command, checkpoint: dict) -> AuditCheckpoint:
    row = AuditCheckpoint(**checkpoint)
    cmd.uow.add(row)
    cmd.uow.flush()
    cmd.object_id, cmd.payload = row.id, dict(checkpoint)
    return row


def sign_checkpoint(db, log_path: Path | None = None) -> dict:
    """Sign the verified chain head, store and record the checkpoint, and append it to `log_path`.

    The chain is verified (with MACs) first: a checkpoint vouches for what it signs, so a broken chain
    is never signed. Called by `cms checkpoint`, `cms demo` and the daily sweep. Returns the log entry."""
    private = signing.load_private(db.settings)
    result = verify_parallel(db, load_key(db.settings))
    if not result.ok:
        raise CmsError("audit.checkpoint_refused", seq=result.problem_seq)
    if result.events == 0:
        raise CmsError("audit.checkpoint_empty")
    public = signing.public_bytes(private)
    with db.read_connection() as conn:
        identity = installation_identity(conn)
    checkpoint = {"installation": identity, "seq": result.head_seq, "hash": result.head_hash,
                  "signed_at": utc_timestamp()}
    checkpoint["fingerprint"] = signing.fingerprint(public)
    checkpoint["public_key"] = public.hex()
    checkpoint["signature"] = signing.sign(private, signed_bytes(checkpoint))
    with db.unit_of_work() as uow:
        _record(uow, checkpoint)
    if log_path is not None:
        append_to_log(Path(log_path), checkpoint)
    return checkpoint


def checkpoint_line(checkpoint: dict) -> str:
    return canonical_json({k: checkpoint[k] for k in LOG_FIELDS})


def append_to_log(path: Path, checkpoint: dict) -> None:
    """Append one line and flush it to disk (the log is written after the checkpoint is committed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(checkpoint_line(checkpoint) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def checkpoint_lines(db) -> list[str]:
    """Every checkpoint stored in the database, as log lines (to rebuild or compare an auditor's log)."""
    from sqlmodel import select as sm_select

    with db.read() as uow:
        rows = uow.exec(sm_select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()
        return [checkpoint_line(r.model_dump()) for r in rows]


# ---------------------------------------------------------------- reading and checking a log


_DUPLICATE_KEYS = object()  # an object with a key twice is not a checkpoint (which value would be signed?)


def _no_duplicates(pairs: list):
    keys = [k for k, _v in pairs]
    return dict(pairs) if len(keys) == len(set(keys)) else _DUPLICATE_KEYS


def read_log(path: Path) -> list[tuple[int, dict | None]]:
    """(line number, checkpoint) for each non-blank line; None for a line that is not a checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise CmsError("audit.checkpoint_log_missing", path=str(path))
    entries: list[tuple[int, dict | None]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line, object_pairs_hook=_no_duplicates)
        except ValueError:
            entry = None
        entries.append((number, entry if _well_formed(entry) else None))
    return entries


def _well_formed(entry) -> bool:
    if not isinstance(entry, dict) or set(entry) != set(LOG_FIELDS):
        return False
    if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool):
        return False
    return all(isinstance(entry[k], str) for k in LOG_FIELDS if k != "seq")


@dataclass
class LogReport:
    ok: bool
    lines: list[str] = field(default_factory=list)
    checked: int = 0


def trusted_fingerprint(settings, fingerprint: str | None) -> str:
    """The fingerprint the log must be signed with: the one the auditor pins, else the configured key's."""
    if fingerprint:
        fingerprint = fingerprint.strip().lower()
        if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise CmsError("audit.bad_fingerprint", fingerprint=fingerprint)
        return fingerprint
    if settings.signing_key is None:
        raise CmsError("audit.checkpoint_no_trusted_key")
    return key_info(settings)["fingerprint"]


def check_log(db, path: Path, fingerprint: str | None = None) -> LogReport:
    """Every checkpoint in the log is signed by the trusted key and still holds in the chain: the
    installation is the same (event #1), the signed event still exists (not cut off, not an older copy
    of the database) and still has the signed hash (not rewritten). Each problem names the
    checkpoint (its line in the log, when it was signed) and the event."""
    trusted = trusted_fingerprint(db.settings, fingerprint)
    entries = read_log(path)
    report = LogReport(ok=True)
    with db.read_connection() as conn:
        identity = installation_identity(conn)
        head = head_seq(conn)
        for number, entry in entries:
            problem = _check_entry(conn, entry, trusted, identity, head)
            if problem is not None:
                report.ok = False
                key, params = problem
                report.lines.append(t(key, line=number, **params))
            else:
                report.checked += 1
    if not entries:
        report.ok = False
        report.lines.append(t("audit.checkpoint_log_empty", path=str(path)))
    elif report.ok:
        last = max(e["seq"] for _n, e in entries)
        report.lines.append(t("audit.checkpoints_ok", count=report.checked, path=str(path), seq=last,
                              fingerprint=trusted))
    return report


def _check_entry(conn, entry: dict | None, trusted: str, identity: str | None, head: int):
    if entry is None:
        return "audit.checkpoint_malformed", {}
    where = {"seq": entry["seq"], "signed_at": entry["signed_at"]}
    try:
        public = bytes.fromhex(entry["public_key"])
    except ValueError:
        return "audit.checkpoint_malformed", {}
    if signing.fingerprint(public) != trusted or entry["fingerprint"] != trusted:
        return "audit.checkpoint_other_key", {**where, "fingerprint": signing.fingerprint(public), "trusted": trusted}
    if not signing.verify(public, signed_bytes(entry), entry["signature"]):
        return "audit.checkpoint_bad_signature", where
    if entry["installation"] != identity:
        return "audit.checkpoint_other_installation", where
    if entry["seq"] > head:
        return "audit.checkpoint_beyond_head", {**where, "head": head}
    found = conn.execute(select(_events.c.hash).where(_events.c.seq == entry["seq"])).scalar()
    if found is None:
        return "audit.checkpoint_event_missing", where
    if found != entry["hash"]:
        return "audit.checkpoint_mismatch", {**where, "signed": entry["hash"][:16], "found": found[:16]}
    return None
