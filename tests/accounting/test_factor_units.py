"""A factor's unit is checked against its material when the factor is recorded (issue 15, item 2; X-5):
an unknown unit or one the material is not measured in is refused with the units allowed, nothing written;
a unit stored before this check (an existing database) gives a clear error on import and calculation,
never a KeyError."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import select

from cms_workflows.accounting import service as acc
from cms_workflows.accounting import units
from cms_workflows.accounting.models import FactorOverride
from cms_workflows.core.errors import ValidationFailed

from .conftest import ACCOUNTANT, DATA_ADMIN, csv_bytes
from .test_cli_and_outputs import cms
from .test_service import counts


def _override(db, **kwargs):
    args = {"material": "limestone_caco3", "parameter": "ef", "value": 0.44, "evidence": "化验报告 HY-2023-01",
            "site": "HN01", **kwargs}
    with db.unit_of_work() as s:
        return acc.add_factor_override(s, ACCOUNTANT, **args)


def _refusal(db, **kwargs) -> dict:
    before = counts(db)
    with pytest.raises(ValidationFailed) as e:
        _override(db, **kwargs)
    assert e.value.key == "accounting.invalid_factor"
    assert counts(db) == before  # nothing written, no event
    (p,) = [p for p in e.value.problems if p["field"] == "unit"]
    return p


def test_unknown_unit_is_refused_naming_it_and_the_units_allowed(db, plan):
    p = _refusal(db, unit="banana")
    assert p["key"] == "accounting.problem.unknown_unit_allowed"
    assert p["params"]["unit"] == "banana" and p["params"]["allowed"] == ", ".join(units.UNITS)


def test_a_unit_the_material_is_not_measured_in_is_refused(db, plan):
    p = _refusal(db, unit="MWh")  # limestone is measured in tonnes
    assert p["key"] == "accounting.problem.factor_unit_not_allowed"
    assert p["params"] == {"unit": "MWh", "material": "limestone_caco3", "allowed": "t"}
    # a same-dimension unit would be applied per tonne all the same: refused too (the factor is per base unit)
    assert _refusal(db, unit="kg")["params"]["allowed"] == "t"
    p = _refusal(db, material="natural_gas", parameter="ncv", value=389.31, unit="t")
    assert p["params"]["allowed"] == "10^4Nm3"


def test_the_base_unit_or_its_alias_is_accepted_and_stored_canonically(db, plan):
    oid = _override(db, unit="吨")
    _override(db, material="natural_gas", parameter="ncv", value=389.31, unit="万Nm3")
    _override(db, material="diesel", parameter="oxidation", value=0.98)  # no unit: nothing to check
    with db.read() as s:
        stored = {o.material: o.unit for o in s.exec(select(FactorOverride))}
    assert oid and stored == {"limestone_caco3": "t", "natural_gas": "10^4Nm3", "diesel": None}


def test_a_company_material_keeps_the_unit_its_first_factor_gave_it(db, plan):
    _override(db, material="wood_pellets", value=0.05, unit="t")
    p = _refusal(db, material="wood_pellets", value=0.05, unit="MWh", year_from=2024)
    assert p["params"] == {"unit": "MWh", "material": "wood_pellets", "allowed": "t"}
    assert _override(db, material="wood_pellets", value=0.06, unit="t", year_from=2024)


def test_cli_refuses_banana_with_the_units_allowed(db, plan, cli_env):
    before = counts(db)
    r = cms(cli_env, "factor", "limestone_caco3", "ef", "0.44", "--unit", "banana", "--evidence", "HY-1",
            "--site", "HN01", user=ACCOUNTANT, locale="en")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "banana" in r.stderr and "units allowed" in r.stderr and "10^4Nm3" in r.stderr
    r = cms(cli_env, "factor", "electricity", "ef", "0.5", "--unit", "t", "--evidence", "HY-1", "--site", "HN01",
            user=ACCOUNTANT)
    assert r.returncode == 2 and "单位 t 不适用于 electricity" in r.stderr and "可用单位：MWh" in r.stderr
    assert counts(db) == before
    r = cms(cli_env, "factor", "electricity", "ef", "0.5", "--unit", "兆瓦时", "--evidence", "HY-1", "--site", "HN01",
            user=ACCOUNTANT)
    assert r.returncode == 0, r.stderr


def test_a_unit_stored_before_the_check_is_a_clear_error_on_import_and_calculation(db, plan, cli_env, tmp_path):
    """A database written before issue 15 may hold a company factor in `banana`: the import of a row naming
    that material and the calculation of rows already there say so, never a traceback."""
    _override(db, material="wood_pellets", value=0.05, unit="t")
    with db.unit_of_work() as s:
        acc.add_plan_item(s, ACCOUNTANT, site="HN01", production_unit="U1", facility="DRYER", category="process",
                          material="wood_pellets", unit="t")
    row = {"site": "HN01", "production_unit": "U1", "facility": "DRYER", "category": "process",
           "material": "wood_pellets", "period": "2023-01", "quantity": 12, "unit": "t", "data_source": "invoice"}
    with db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, csv_bytes([row]), "pellets-01.csv")
    with db.engine.begin() as conn:  # what an older version let through, written as it stands in such a database
        conn.execute(update(FactorOverride).where(FactorOverride.material == "wood_pellets").values(unit="banana"))

    with pytest.raises(ValidationFailed) as e:
        with db.unit_of_work() as s:
            acc.calculate(s, ACCOUNTANT, "2023-01", "2023-01", ["HN01"])
    assert e.value.key == "accounting.missing_factor"
    assert [(p["key"], p["params"]["unit"]) for p in e.value.problems] == [("accounting.problem.factor.override_unit",
                                                                             "banana")]
    with pytest.raises(ValidationFailed) as e:
        units.dimension("banana")
    assert e.value.problems[0]["params"]["unit"] == "banana"

    path = tmp_path / "pellets-02.csv"
    path.write_bytes(csv_bytes([{**row, "period": "2023-02"}]))
    before = counts(db)
    r = cms(cli_env, "import", str(path), user=DATA_ADMIN, locale="en")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "KeyError" not in r.stderr
    assert "wood_pellets" in r.stderr and "banana" in r.stderr and "record that factor again" in r.stderr
    r = cms(cli_env, "calculate", "2023-01", "2023-01", "--site", "HN01", user=ACCOUNTANT, locale="en")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "banana" in r.stderr
    assert counts(db) == before
