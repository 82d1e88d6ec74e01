"""Schema changes ship as Alembic migrations; `cms init` upgrades in place and loses nothing."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from cms_workflows import audit
from cms_workflows.bootstrap import installation
from cms_workflows.demo import company as demo_company
from cms_workflows.bootstrap import metadata
from cms_workflows.core.db import alembic_config
from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
EARLIER_REVISIONS = sorted(r.revision for r in SCRIPTS.walk_revisions() if r.revision not in SCRIPTS.get_heads())


def _row_counts(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def test_schema_from_migrations_matches_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_there_is_one_migration_history_from_0001(db):
    assert db.current_revisions() == set(SCRIPTS.get_heads())
    assert SCRIPTS.get_base() == "0001_foundation"


@pytest.mark.parametrize("revision", EARLIER_REVISIONS or ["0001_foundation"])
def test_upgrade_from_an_earlier_revision_keeps_every_row(empty_db, revision):
    """A database created by an earlier release, in use, is upgraded by `cms init`."""
    empty_db.upgrade(revision)
    with empty_db.unit_of_work() as session:
        org.seed_reference_data(session)
        org.ensure_system_user(session)
        org.bootstrap_admin(session, "admin", "管理员")
    with empty_db.unit_of_work() as session:
        demo_company.seed(session)
    before = _row_counts(empty_db)
    with empty_db.engine.connect() as conn:
        chain_before = audit.verify(conn, audit.load_key(empty_db.settings))
    assert chain_before.ok and chain_before.events > 50

    installation.initialize(empty_db)  # what `cms init` does

    after = _row_counts(empty_db)
    # nothing lost, nothing added to old tables but the trail and the guide's seeds (checked below: their events)
    grown = {"audit_event", "reg_risk", "reg_carbon_parameter"}
    assert {t: after[t] for t in before if t not in grown} == {t: n for t, n in before.items() if t not in grown}
    assert all(after[t] >= n for t, n in before.items())
    with empty_db.engine.connect() as conn:
        chain_after = audit.verify(conn, audit.load_key(empty_db.settings))
    assert chain_after.ok
    with empty_db.read() as session:  # the chain goes on: only the installation's seeds of new reference data
        added = audit.events_for(session)[chain_before.events:]
    assert {(e.actor, e.action) for e in added} <= {("system", "registers.risk.seed"),
                                                  ("system", "registers.carbon_parameter.seed")}
    assert empty_db.current_revisions() == set(SCRIPTS.get_heads())
    with empty_db.read() as session:
        assert org_queries.get_user(session, "carbon_accountant.hn01").active


def test_triggers_exist_after_init(db):
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            assert {"audit_event_no_update", "audit_event_no_delete"} <= names
        else:
            names = {r[0] for r in conn.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
            assert {"audit_event_no_change", "audit_event_no_truncate"} <= names
