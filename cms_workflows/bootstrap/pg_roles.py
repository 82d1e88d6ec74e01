"""PostgreSQL: a table owner for migrations, an application role that cannot rewrite the trail (X-1).

Whoever owns `audit_event` can disable its triggers, and whoever has UPDATE or DELETE on it can
change it. So the schema belongs to an owner role that only `cms init` uses
(CMS_OWNER_DATABASE_URL), and the role the application logs in as (the user of CMS_DATABASE_URL)
gets SELECT and INSERT on `audit_event` and `audit_checkpoint`, and ordinary rights on the other
tables. Re-run by every `cms init`, so tables added by later migrations are granted too
(docs/security.md).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url

from cms_workflows.core.errors import CmsError

APPEND_ONLY_TABLES = ("audit_event", "audit_checkpoint")


def migrate_as_owner(db, owner_url: str) -> str | None:
    """Upgrade the schema as the owner role, then grant the application's role what it may do.
    Returns the application role's name (None when both URLs name the same role)."""
    from cms_workflows.core.db import Database

    if make_url(owner_url).get_backend_name() != "postgresql" or db.dialect != "postgresql":
        raise CmsError("core.owner_url_postgres_only")
    app_role = make_url(db.url).username
    owner = Database(owner_url, settings=db.settings)
    try:
        owner.upgrade()
        with owner.engine.begin() as conn:
            owner_role = conn.execute(text("SELECT current_user")).scalar()
            if not app_role or app_role == owner_role:
                return None
            grant_application_role(conn, app_role, owner_role)
    finally:
        owner.dispose()
    return app_role


def grant_application_role(conn, role: str, owner_role: str) -> None:
    """Run by the owner: the application's role may use every table, but only read and append the trail."""
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
        raise CmsError("core.unknown_role", role=role)
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    owned = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tableowner = :r ORDER BY 1"),
                         {"s": schema, "r": role}).scalars().all()
    if owned:
        # an installation created before the split: its owner must hand the tables over first
        raise CmsError("core.app_role_owns_tables", role=role, owner=owner_role, tables=", ".join(owned))
    quote = conn.dialect.identifier_preparer.quote
    r, s = quote(role), quote(schema)
    for statement in (
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {', '.join(APPEND_ONLY_TABLES)} FROM {r}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {r}",  # the schema version is the owner's
    ):
        conn.execute(text(statement))
