"""Evidence pack (X-1): a zip an external auditor can check without our code.

Contents: `events.jsonl` (every audit event, in order, as stored), `files/<sha256>`
(every stored file a committed row refers to), `manifest.json` (counts, chain head, SHA-256 of
every member), and `verify_evidence.py`, a standard-library script that recomputes the
chain and the file hashes.
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from pathlib import Path

from cms_workflows import audit
from cms_workflows.audit.commands import Command, command
from cms_workflows.audit.verification import referenced_files
from cms_workflows.core.filestore import sha256_bytes

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@command("audit.evidence.export", action="export", resource="audit_trail", audit_object="audit_trail")
def record_export(cmd: Command, filename: str) -> None:
    cmd.object_id, cmd.payload = "*", {"file": filename}


def export(db, actor: str, out: Path, stored_hashes) -> dict:
    """Write the pack; the export itself is an audited action (and is in the pack). The pack holds the
    stored files that committed rows refer to (`stored_hashes`, from the bootstrap), nothing else."""
    with db.unit_of_work() as uow:
        record_export(uow, actor, Path(out).name)
    members: dict[str, bytes] = {}
    with db.read_connection() as conn:
        buf = io.StringIO()
        head = (0, audit.GENESIS)
        count = 0
        names = ["seq", "occurred_at", "actor", "position", "site", "action", "object_type", "object_id",
                 "payload", "prev_hash", "hash", "mac"]
        for row in audit.iter_rows(conn):
            record = dict(zip(names, row))
            buf.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            head = (record["seq"], record["hash"])
            count += 1
        members["events.jsonl"] = buf.getvalue().encode("utf-8")
    for digest in sorted(referenced_files(db, stored_hashes)):
        members[f"files/{digest}"] = db.files.get(digest)
    members["verify_evidence.py"] = (resources.files("cms_workflows") / "data" / "verify_evidence.py").read_bytes()
    manifest = {
        "format": "cms_workflows evidence pack 1",
        "events": count,
        "head_seq": head[0],
        "head_hash": head[1],
        "hash_rule": "sha256(canonical JSON of the event without hash and mac: sorted keys, no spaces, UTF-8, payload embedded as JSON)",
        "members": {name: sha256_bytes(data) for name, data in sorted(members.items())},
    }
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, members[name])
    return manifest
