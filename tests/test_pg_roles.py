"""PostgreSQL: the application's role cannot rewrite the trail (issue 14, item 3; X-1; docs/security.md).

Found: the application's own login owned `audit_event`, so it could disable the triggers and then
update or delete events. Now `cms init` migrates as an owner role (CMS_OWNER_DATABASE_URL) and grants
the application's role (the user of CMS_DATABASE_URL) only SELECT and INSERT on the trail."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cms_workflows import audit
from cms_workflows.audit import checkpoints
from cms_workflows.bootstrap import installation, verify_installation
from cms_workflows.core.db import Database
from cms_workflows.org import service as org
from tests.conftest import _pg_admin_engine, make_settings, requires_postgres
from tests.test_checkpoints import with_signing_key

pytestmark = pytest.mark.postgres


@pytest.fixture
def split_roles(tmp_path):
    """A new database owned by a throwaway owner role, and a throwaway application login role;
    all three dropped afterwards."""
    admin, base = _pg_admin_engine()
    suffix = uuid.uuid4().hex[:10]
    owner, app, name, password = f"cms_owner_{suffix}", f"cms_app_{suffix}", f"cms_t_roles_{suffix}", f"pw-{suffix}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE \"{owner}\" LOGIN PASSWORD '{password}'"))
        conn.execute(text(f"CREATE ROLE \"{app}\" LOGIN PASSWORD '{password}'"))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    url = {role: base.set(username=role, password=password, database=name).render_as_string(hide_password=False)
           for role in (owner, app)}
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = make_settings(data_dir, url[app])
    settings.owner_database_url = url[owner]
    db = Database(url[app], settings=settings)
    try:
        yield db, app, url[owner]
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


def as_role(db, statement: str) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql(statement)


@requires_postgres
def test_the_finding_a_login_that_owns_the_trail_can_disable_its_triggers(split_roles):
    """Before: one login for everything (here the owner's), so the application could rewrite the trail."""
    db, _app_role, owner_url = split_roles
    settings = db.settings.model_copy(update={"owner_database_url": None, "database_url": owner_url})
    single = Database(owner_url, settings=settings)
    try:
        installation.initialize(single)
        as_role(single, "ALTER TABLE audit_event DISABLE TRIGGER USER")
        as_role(single, "DELETE FROM audit_event WHERE seq = 2")
        with single.engine.connect() as conn:
            assert audit.verify(conn, audit.load_key(settings)).problem == "missing"
    finally:
        single.dispose()


@requires_postgres
def test_the_application_role_can_only_read_and_append_the_trail(split_roles, tmp_path):
    db, app_role, owner_url = split_roles
    result = installation.initialize(db)
    assert result.app_role == app_role
    # normal work as the application role: commands, verification, checkpoints
    with db.unit_of_work() as uow:
        org.create_site(uow, "admin", "HN09", "九厂")
    with_signing_key(db, tmp_path)
    checkpoints.sign_checkpoint(db)
    assert verify_installation(db).ok
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == app_role
    # what the application's role could do before, refused now (not by the triggers: by the grants)
    for statement, refusal in [
        ("ALTER TABLE audit_event DISABLE TRIGGER USER", "must be owner"),
        ("ALTER TABLE audit_event DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER audit_event_no_change ON audit_event", "must be owner"),
        ("UPDATE audit_event SET payload = '{}' WHERE seq = 1", "permission denied"),
        ("DELETE FROM audit_event WHERE seq = 1", "permission denied"),
        ("TRUNCATE audit_event", "permission denied"),
        ("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER", "must be owner"),
        ("UPDATE audit_checkpoint SET seq = 1", "permission denied"),
        ("DELETE FROM audit_checkpoint", "permission denied"),
        ("UPDATE alembic_version SET version_num = 'x'", "permission denied"),
    ]:
        with pytest.raises(DBAPIError, match=refusal):
            as_role(db, statement)
    with db.engine.connect() as conn:
        assert audit.verify(conn, audit.load_key(db.settings)).ok
    # `cms init` again (a later upgrade) keeps the split and grants again
    assert installation.initialize(db).app_role == app_role
    with db.unit_of_work() as uow:
        org.create_site(uow, "admin", "HN10", "十厂")


@requires_postgres
def test_tables_owned_by_the_application_role_are_named_not_silently_kept(split_roles):
    """An installation created before the split: the application's role owns the tables."""
    db, app_role, _owner_url = split_roles
    owner_url = db.settings.owner_database_url
    db.settings.owner_database_url = None
    with pytest.raises(DBAPIError, match="permission denied"):  # nor may it create tables in the owner's schema
        db.upgrade()
    # make the app role own one table, as an old installation's login did
    owner = Database(owner_url, settings=db.settings)
    try:
        with owner.engine.begin() as conn:
            conn.execute(text(f'GRANT CREATE ON SCHEMA public TO "{app_role}"'))
    finally:
        owner.dispose()
    as_role(db, "CREATE TABLE legacy_table (id integer)")
    db.settings.owner_database_url = owner_url
    from cms_workflows.core.errors import CmsError

    with pytest.raises(CmsError) as raised:
        installation.initialize(db)
    assert raised.value.key == "core.app_role_owns_tables"
    assert "legacy_table" in raised.value.message("en") and "REASSIGN OWNED BY" in raised.value.message("zh-CN")
