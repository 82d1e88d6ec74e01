"""Creating and checking an installation: schema, reference data, first users, policy files."""

from __future__ import annotations

from dataclasses import dataclass

from cms_workflows.core.i18n import t


@dataclass
class InitResult:
    admin_created: bool


def initialize(db, admin: str = "admin", admin_name: str = "系统管理员") -> InitResult:
    """Migrate to the newest schema (never losing data), then seed what every installation needs."""
    from cms_workflows.audit import load_key
    from cms_workflows.org import queries as org_queries
    from cms_workflows.org import service as org

    from cms_workflows.bootstrap import configure

    configure()
    db.upgrade()
    load_key(db.settings)  # create the audit MAC key before the first event
    created = False
    with db.unit_of_work() as session:
        org.seed_reference_data(session)
        org.ensure_system_user(session)
        if not any(p == "system_admin" for _u, p, _s in org_queries.active_assignments(session)):
            org.bootstrap_admin(session, admin, admin_name)
            created = True
    return InitResult(admin_created=created)


def check_policies() -> list[str]:
    """Load and check every policy file; raises PolicyError naming the file and line."""
    from cms_workflows.access import Policy
    from cms_workflows.bootstrap import policy_checks

    policy = Policy()
    lines = [t("policy.ok", **policy.summary())]
    for check in policy_checks():
        lines.extend(check(policy))
    return lines
