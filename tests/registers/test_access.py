"""Who keeps and who reads each register, per Annex A position (R-5.3, X-2): allowed and denied."""

from __future__ import annotations

import pytest

from cms_workflows.core.errors import AccessDenied, CmsError
from cms_workflows.registers import queries, tabular

from .conftest import ADD, CHANGE, IMPORT, ROWS, add

# register -> (may add, may not add)
KEEPERS = {
    "swot": (["carbon.lead"], ["compliance.lead", "gm", "verifier", "strategy_manager.hn01", "purchaser.hn01"]),
    "parties": (["carbon.lead", "compliance.lead"], ["gm", "verifier", "energy_engineer.hn01"]),
    "risks": (["carbon.lead", "compliance.lead"], ["gm", "verifier", "legal.lead"]),
    "obligations": (["compliance.lead", "legal.lead"], ["carbon.lead", "gm", "verifier"]),
    "instruments": (["energy_engineer.hn01"], ["energy_engineer.hn02", "energy_data_admin.hn01", "gm", "verifier"]),
}
SITE_KEEPERS = {"energy_engineer.hn02"}  # keeps instruments elsewhere: gets to read the file, then is refused at HN01
CHANGE_COLUMN = {"swot": "source", "parties": "name", "risks": "response", "obligations": "title", "instruments": "name"}
# register -> (may read, may not read)
READERS = {
    "swot": (["gm", "verifier", "auditor1", "carbon.lead"], ["purchaser.hn01", "energy_data_admin.hn01"]),
    "parties": (["gm", "verifier", "compliance.lead"], ["purchaser.hn01"]),
    "risks": (["gm", "verifier", "energy_engineer.hn01", "system"], ["purchaser.hn01", "iqc_inspector.hn02"]),
    "obligations": (["gm", "verifier", "legal.lead", "env_specialist.hn01", "system"], ["purchaser.hn01"]),
    "instruments": (["gm", "verifier", "energy_data_admin.hn01", "system"], ["purchaser.hn01", "lca_engineer.hn01"]),
}


@pytest.mark.parametrize("name", sorted(KEEPERS))
def test_who_may_keep_each_register(db, company, name):
    allowed, denied = KEEPERS[name]
    good_file = tabular.export(queries.spec(name).register, [{**ROWS[name], "code": "D-1"}], "csv")
    for n, user in enumerate(allowed):
        add(db, name, actor=user, code=f"A-{n}")
    for user in denied:
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            ADD[name](uow, user, **{**ROWS[name], "code": "D-1"})
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            CHANGE[name](uow, user, "A-0", **{CHANGE_COLUMN[name]: ROWS[name][CHANGE_COLUMN[name]]})
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            IMPORT[name](uow, user, good_file, "x.csv")
        with pytest.raises(AccessDenied if user not in SITE_KEEPERS else CmsError), db.unit_of_work() as uow:
            IMPORT[name](uow, user, b"code\nX-1\n", "x.csv")  # refused before the file is read


@pytest.mark.parametrize("name", sorted(READERS))
def test_who_may_read_each_register(db, company, name):
    allowed, denied = READERS[name]
    for user in allowed:
        with db.read() as uow:
            queries.export(uow, user, name, "csv")
    for user in denied:
        with pytest.raises(AccessDenied), db.read() as uow:
            queries.rows(uow, user, name)


def test_a_site_holder_sees_and_keeps_only_their_sites_instruments_R_9_1(db, company):
    add(db, "instruments")
    add(db, "instruments", actor="energy_engineer.hn02", code="MI-201", site="HN02")
    with db.read() as uow:
        assert [i.code for i in queries.rows(uow, "energy_data_admin.hn01", "instruments")] == ["MI-001"]
        assert [i.code for i in queries.rows(uow, "gm", "instruments")] == ["MI-001", "MI-201"]
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:  # moving an instrument to a site one does not keep
        CHANGE["instruments"](uow, "energy_engineer.hn01", "MI-001", site="HN02")


def test_the_scope_is_read_by_interested_parties_and_drafted_by_the_carbon_team_only(db, company):
    from cms_workflows.registers import scope

    for user in ("gm", "verifier", "energy_engineer.hn01", "compliance.lead"):
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            scope.draft(uow, user)
    with pytest.raises(AccessDenied), db.read() as uow:
        queries.scope_versions(uow, "purchaser.hn01")
    with db.read() as uow:
        assert queries.scope_versions(uow, "verifier") == []
