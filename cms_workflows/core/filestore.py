"""Content-addressed file store: files are named by their SHA-256 and never overwritten.

Used for rendered and uploaded documents and for imported data files, so that a
hash recorded in the database (and in the audit trail) always finds the bytes it
names. `verify()` re-hashes every stored file (part of `cms verify`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> StoredFile:
        digest = sha256_bytes(data)
        target = self.path_for(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # write to a temporary file and rename: a crash never leaves a partial file under a hash name
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
                os.chmod(target, 0o444)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        return StoredFile(digest, len(data), target)

    def get(self, sha256: str) -> bytes:
        from cms_workflows.core.errors import NotFound

        path = self.path_for(sha256)
        if not path.exists():
            raise NotFound("filestore.missing", sha256=sha256)
        return path.read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def remove(self, sha256: str) -> None:
        """Only for a file no committed row refers to (a rolled-back transaction's)."""
        self.path_for(sha256).unlink(missing_ok=True)

    def verify(self, expected: set[str] | None = None) -> list[tuple[str, str]]:
        """Re-hash stored files; returns (sha256, problem) pairs, empty when all is well.

        Problems are codes: `mismatch` (content does not match its name). With `expected` (the
        hashes committed rows refer to) also `missing` (named, not stored) and `unreferenced`
        (stored, named by no committed row: left by a command that did not commit).
        """
        problems: list[tuple[str, str]] = []
        seen: set[str] = set()
        if self.root.exists():
            for path in sorted(self.root.glob("??/*")):
                if path.name.startswith(".incoming-"):
                    continue
                seen.add(path.name)
                h = hashlib.sha256()
                with path.open("rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                if h.hexdigest() != path.name:
                    problems.append((path.name, "mismatch"))
        if expected is not None:
            problems.extend((missing, "missing") for missing in sorted(expected - seen))
            problems.extend((extra, "unreferenced") for extra in sorted(seen - expected))
        return problems
