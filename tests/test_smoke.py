"""The fixtures themselves: a migrated database, the demo company, verification."""

from cms_workflows import audit
from cms_workflows.org import queries as org_queries
from cms_workflows.org import service as org


def test_fresh_database_has_reference_data_and_a_valid_chain(db):
    with db.read() as session:
        assert len(org_queries.list_positions(session)) == 28
        users = {u.username for u in org_queries.list_users(session)}
    assert users == {"admin", "system"}
    with db.engine.connect() as conn:
        result = audit.verify(conn, audit.load_key(db.settings))
    assert result.ok and result.events >= 3


def test_company_fixture_holds_every_position(company):
    assert company["general_manager"] == ["gm"]
    assert "carbon_accountant.hn01" in company["carbon_accountant"]
    assert set(company["internal_auditor"]) == {"auditor1", "auditor2"}
