"""What every `cms` command module shares: the acting user, the database, dates and tables."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Optional

import typer

from cms_workflows.core.errors import CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import t


def acting_user(ctx: typer.Context) -> str:
    """The acting user from the root `cms` options (--as / CMS_USER); read from the context, so a command
    sees the value of its own invocation whichever module it lives in."""
    return ctx.find_root().params.get("as_user") or "admin"


def database(check_schema: bool = True):
    """The configured database; unless it is `cms init` asking, one whose schema is current."""
    from cms_workflows.bootstrap import configure
    from cms_workflows.core.db import Database, alembic_config

    configure()  # complete model registry; access reads the organisation through org
    db = Database.from_settings()
    if check_schema:
        from alembic.script import ScriptDirectory

        current = db.current_revisions()
        if not current:
            raise CmsError("cli.not_initialized", url=safe_url(db.url))
        if current != set(ScriptDirectory.from_config(alembic_config(db.url)).get_heads()):
            raise CmsError("cli.needs_upgrade", url=safe_url(db.url))
    return db


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def parse_date(value: Optional[str], field: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationFailed("error.validation", problems=[problem(field, "cli.bad_date", value=value)]) from None


def term(key: str, code: str) -> str:
    """The translated word for a code read from configuration, or the code itself when no key names it."""
    text = t(key)
    return code if text == key else text


def _width(s: str) -> int:
    # CJK characters take two terminal columns
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        typer.echo("  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(r)).rstrip())
        if n == 0:
            typer.echo("  ".join("-" * w for w in widths))
