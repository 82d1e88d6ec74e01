"""What every `cms` command module shares: the acting user, the database, dates and tables."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Optional

import typer

from cms_workflows.core.errors import AccessDenied, CmsError, NotFound, ValidationFailed, problem
from cms_workflows.core.i18n import t


def acting_user(ctx: typer.Context):
    """The signed-in user (`cms login`, or `CMS_TOKEN` for scripts), as an `access.Actor`. With the root
    option `--for USER` the signed-in user acts for USER under a delegation USER granted them: the
    trail records both. Nobody is assumed: without a valid sign-in the command stops here."""
    root = ctx.find_root()
    if "cms.actor" in root.meta:
        return root.meta["cms.actor"]
    from cms_workflows.access import Actor
    from cms_workflows.cli.credentials import stored_token
    from cms_workflows.core.config import get_settings
    from cms_workflows.identity import queries as identity

    db = database()
    token = get_settings().token or stored_token(db)
    if not token:
        raise CmsError("cli.not_signed_in")
    with db.read() as uow:
        username = identity.authenticate(uow, token)
        for_user = root.params.get("for_user")
        if for_user and for_user != username:
            _require_person(uow, for_user)
            identity.active_user(uow, for_user)
            identity.delegation_for(uow, for_user, username, uow.clock.today())
            actor = Actor(for_user, delegate=username)
        else:
            actor = Actor(username)
    root.meta["cms.actor"] = actor
    return actor


def _require_person(uow, username: str) -> None:
    """`--for USER` names a person of the installation, active: said as such, not as a failed sign-in."""
    from cms_workflows.access import directory
    from cms_workflows.audit.commands import INSTALLER

    active = directory().user_active(uow, username)
    if active is None or username == INSTALLER.username:  # the installation's own agent is nobody to act for
        raise NotFound("access.unknown_user", username=username)
    if not active:
        raise CmsError("access.user_inactive", username=username)


def require_site(uow, site: str) -> None:
    """A site named on the command line exists (or is "*", company-wide): an unknown one is said as such."""
    from cms_workflows.access import COMPANY_WIDE, directory

    if site != COMPANY_WIDE and not directory().site_exists(uow, site):
        raise NotFound("access.unknown_site", site=site)


def require_readable(uow, username: str, object_types, what: str, action: str = "read") -> None:
    """A list filtered by permission that comes back empty because the user may read none of it says so and
    fails, instead of showing an empty table (issue 15). `what` names the kind of record (a message key)."""
    from cms_workflows.access import PositionNames, get_access

    control = get_access()
    if control.permitted_anywhere(uow, username, action, object_types):
        return
    held = [position for position, _site in control.table(uow, username).assignments]
    raise AccessDenied("cli.nothing_readable", username=username, what=t(what),
                       held=PositionNames(dict.fromkeys(held)))


def database(check_schema: bool = True):
    """The configured database; unless it is `cms init` asking, one whose schema is current."""
    from cms_workflows.bootstrap import configure
    from cms_workflows.core.db import Database, migration_heads

    configure()  # access reads the organisation through org (each command imports the models it uses)
    if check_schema:
        _require_sqlite_file()
    db = Database.from_settings()
    if check_schema:  # without importing Alembic (issue 15: it was most of every command's start)
        current = db.current_revisions()
        if not current:
            raise CmsError("cli.not_initialized", url=safe_url(db.url))
        if current != migration_heads():
            raise CmsError("cli.needs_upgrade", url=safe_url(db.url))
    return db


def _require_sqlite_file() -> None:
    """A SQLite database that is not there is not created by opening it: with the relative default data
    folder, a command run from another directory would otherwise start a second, empty installation."""
    from sqlalchemy.engine import make_url

    from cms_workflows.core.config import get_settings

    settings = get_settings()
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            raise CmsError("cli.no_installation", path=str(Path(url.database).resolve()),
                           data_dir=str(Path(settings.data_dir).resolve()))


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
