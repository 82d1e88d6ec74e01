"""Creating and checking an installation: schema, reference data, first users, policy files."""

from __future__ import annotations

from dataclasses import dataclass

from cms_workflows.core.i18n import t


@dataclass
class InitResult:
    admin_created: bool
    app_role: str | None = None  # PostgreSQL: the application role granted by the owner (pg_roles)


def initialize(db, admin: str = "admin", admin_name: str = "系统管理员") -> InitResult:
    """Migrate to the newest schema (never losing data), then seed what every installation needs."""
    from cms_workflows.org import queries as org_queries
    from cms_workflows.org import service as org
    from cms_workflows.registers import parameters, risks

    from cms_workflows.bootstrap import configure

    configure()
    app_role = None
    if db.settings.owner_database_url:
        from cms_workflows.bootstrap import pg_roles

        app_role = pg_roles.migrate_as_owner(db, db.settings.owner_database_url)
    else:
        db.upgrade()
    ensure_audit_key(db)
    created = False
    with db.unit_of_work() as session:
        org.seed_reference_data(session)
        org.ensure_system_user(session)
        risks.seed_annex_b(session)  # Annex B table B.1 examples, added once by code
        parameters.seed_annex_f(session)  # Annex F table F.1 examples, added once by code
        if not any(p == "system_admin" for _u, p, _s in org_queries.active_assignments(session)):
            org.bootstrap_admin(session, admin, admin_name)
            created = True
    return InitResult(admin_created=created, app_role=app_role)


def ensure_audit_key(db) -> None:
    """Create the audit MAC key of a new installation, once. An installation that has events but no key
    is an error naming the path: a new key would make every earlier MAC look forged (X-1)."""
    from sqlalchemy import text

    from cms_workflows.audit.recording import create_key, load_key

    if db.settings.audit_key:
        return
    with db.read_connection() as conn:
        has_events = conn.execute(text("SELECT 1 FROM audit_event WHERE seq = 1")).first() is not None
    if has_events:
        load_key(db.settings)  # raises audit.key_missing when the file is not there
    else:
        create_key(db.settings)


def check_policies() -> list[str]:
    """Load and check every policy file; raises PolicyError naming the file and line."""
    from cms_workflows.access import Policy
    from cms_workflows.bootstrap import policy_checks

    policy = Policy()
    lines = [t("policy.ok", **policy.summary())]
    for check in policy_checks():
        lines.extend(check(policy))
    return lines
