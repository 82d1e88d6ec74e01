"""Where `cms login` keeps its sign-in: a token (never the password) per installation, in the user's
config folder, in a file only its owner can read (0600). `CMS_TOKEN` overrides it for scripts."""

from __future__ import annotations

import json
import os
from pathlib import Path


def _installation(db) -> str:
    """An installation is named by its database URL (without password)."""
    from sqlalchemy.engine import make_url

    return make_url(db.url).render_as_string(hide_password=True)


def credentials_file() -> Path:
    from cms_workflows.core.config import get_settings

    folder = get_settings().config_dir
    if folder is None:
        folder = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "cms_workflows"
    return Path(folder) / "credentials.json"


def _stored() -> dict:
    path = credentials_file()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_stored(entries: dict) -> None:
    """Replace the file atomically, readable by its owner only."""
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(entries, fh, ensure_ascii=False, indent=1, sort_keys=True)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def stored_token(db) -> str | None:
    entry = _stored().get(_installation(db))
    return entry.get("token") if isinstance(entry, dict) else None


def store_token(db, username: str, token: str) -> None:
    entries = _stored()
    entries[_installation(db)] = {"username": username, "token": token}
    _write_stored(entries)


def forget_token(db) -> None:
    entries = _stored()
    if entries.pop(_installation(db), None) is not None:
        _write_stored(entries)
