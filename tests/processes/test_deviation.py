"""Baseline deviation investigation (R-9.1.1.3): opened from accounting's deviation list over the threshold
for the closed months of approved baselines, investigated (cause and response), closed or escalated to a
corrective action (R-10.1)."""

from __future__ import annotations

from datetime import date

import pytest

from cms_workflows import audit
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.factors import Options
from cms_workflows.bootstrap import configure
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from cms_workflows.processes import cases, deviation, engine, queries
from tests.accounting.conftest import PLAN, csv_bytes, year_rows
from tests.processes.helpers import GM, do, view

ACCOUNTANT, DATA_ADMIN, LEAD = "carbon_accountant.hn01", "energy_data_admin.hn01", "strategy_manager.hn01"
BASE, YEAR = date.today().year - 2, date.today().year - 1
DAY = date(date.today().year, 1, 15)


@pytest.fixture(autouse=True)
def _wired():
    configure()


def _official_year(db, year: int, scale: float = 1.0, months: int = 12) -> None:
    rows = [r for r in year_rows(year, site="HN01", scale=scale) if int(r["period"][5:7]) <= months]
    do(db, acc.import_activity, DATA_ADMIN, csv_bytes(rows), f"HN01-{year}.csv")
    run = do(db, acc.calculate, ACCOUNTANT, f"{year}-01", f"{year}-{months:02d}", ["HN01"],
             options=Options(electricity_kind="market"))
    do(db, acc.approve_run, GM, run.run_id)


@pytest.fixture
def deviating(db, company):
    """HN01: a base year, then three closed months 30 % over it (the rest of the year not closed yet)."""
    with db.unit_of_work() as uow:
        for site, pu, fac, cat, mat, unit, ds in PLAN:
            if site == "HN01":
                acc.add_plan_item(uow, ACCOUNTANT, site=site, production_unit=pu, facility=fac, category=cat,
                                  material=mat, unit=unit, data_source=ds,
                                  meter_calibrated=True if ds == "meter" else None)
    _official_year(db, BASE)
    _official_year(db, YEAR, scale=1.3, months=3)
    with db.unit_of_work() as uow:
        baseline_id = acc.set_baseline(uow, ACCOUNTANT, "site", "HN01", f"{BASE}-01", f"{BASE}-12")
    do(db, acc.approve_baseline, GM, baseline_id)
    return baseline_id


def chain(db) -> int:
    with db.read() as uow:
        return len(audit.events_for(uow))


def _official_month(db, year: int, month: int, scale: float) -> None:
    rows = [r for r in year_rows(year, site="HN01", scale=scale) if int(r["period"][5:7]) == month]
    do(db, acc.import_activity, DATA_ADMIN, csv_bytes(rows), f"HN01-{year}-{month:02d}.csv")
    run = do(db, acc.calculate, ACCOUNTANT, f"{year}-{month:02d}", f"{year}-{month:02d}", ["HN01"],
             options=Options(electricity_kind="market"))
    do(db, acc.approve_run, GM, run.run_id)


def test_r9_1_1_3_deviations_over_the_threshold_open_one_investigation_and_twice_opens_nothing(db, deviating):
    """R-9.1.1.3: the closed months over the threshold of one baseline and scope are one investigation, each
    month an item with its figures, a task to the site's carbon accountant; the open months are not
    deviations; the trigger is idempotent."""
    opened = deviation.open_from_deviations(db, DAY)
    assert len(opened) == 1
    assert deviation.open_from_deviations(db, DAY) == []
    assert [n for n in engine.sweep(db, DAY).opened if n.startswith("DEV-")] == []  # the sweep runs the same trigger
    with db.read() as uow:
        found = queries.list_cases(uow, GM, kind="deviation")
        assert [c.key for c in found] == [f"deviation:{deviating}:HN01:{YEAR}-01"]
    v = view(db, opened[0])
    assert v.case.site == "HN01" and v.case.status == "investigating" and v.case.trigger == "event"
    assert v.data["period"] == f"{YEAR}-01" and v.data["deviation"] == pytest.approx(0.3)
    assert v.data["actual"] == pytest.approx(v.data["baseline"] * 1.3) and v.data["what"] == "长沙水泥厂"
    assert [d["period"] for _i, d in v.items["month"]] == [f"{YEAR}-{m:02d}" for m in (1, 2, 3)]
    assert all(d["deviation"] == pytest.approx(0.3) for _i, d in v.items["month"])
    [task] = v.tasks
    assert (task.position, task.site, task.status) == ("carbon_accountant", "HN01", "open")
    assert "+30.0%" in task.title_params


def test_r9_1_1_3_a_later_month_joins_the_open_investigation_and_after_closing_opens_a_new_one(db, deviating):
    [number] = deviation.open_from_deviations(db, DAY)
    _official_month(db, YEAR, 4, scale=1.3)
    assert deviation.open_from_deviations(db, DAY.replace(month=5)) == []
    assert [d["period"] for _i, d in view(db, number).items["month"]][-1] == f"{YEAR}-04"
    do(db, deviation.investigate, ACCOUNTANT, number, "石灰石配比提高", "已按产量核对")
    do(db, deviation.close_investigation, ACCOUNTANT, number)
    _official_month(db, YEAR, 5, scale=1.3)
    [again] = deviation.open_from_deviations(db, DAY.replace(month=6))
    assert again != number and [d["period"] for _i, d in view(db, again).items["month"]] == [f"{YEAR}-05"]
    assert deviation.open_from_deviations(db, DAY.replace(month=6)) == []


def test_r9_1_1_3_investigated_and_closed(db, deviating):
    number = deviation.open_from_deviations(db, DAY)[0]
    before = chain(db)
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as uow:
        deviation.close_investigation(uow, ACCOUNTANT, number)
    assert {p["field"] for p in refused.value.problems} == {"cause", "response"}
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as uow:
        deviation.investigate(uow, ACCOUNTANT, number, " ", "\x1b[31m")
    assert {p["field"] for p in refused.value.problems} == {"cause", "response"}
    assert chain(db) == before
    do(db, deviation.investigate, ACCOUNTANT, number, "石灰石配比提高，产量同步增加", "按产品产量核对强度，强度未变，无需措施")
    do(db, deviation.close_investigation, ACCOUNTANT, number)
    v = view(db, number)
    assert v.case.status == "closed" and v.texts["cause"].startswith("石灰石")
    assert [(t.status, t.completed_by) for t in v.tasks] == [("done", ACCOUNTANT)]
    with pytest.raises(InvalidTransition), db.unit_of_work() as uow:
        deviation.investigate(uow, ACCOUNTANT, number, "再次调查", "无")


def test_r9_1_1_3_escalation_opens_one_nonconformity_with_this_case_as_its_parent(db, deviating):
    """R-9.1.1.3 → R-10.1: escalating raises a nonconformity, source "deviation", parent this case; once."""
    number = deviation.open_from_deviations(db, DAY)[0]
    do(db, deviation.investigate, ACCOUNTANT, number, "1号锅炉燃烧器故障，天然气单耗上升", "安排检修并开纠正措施")
    before = chain(db)
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as uow:
        deviation.escalate(uow, ACCOUNTANT, number, "astronaut")
    assert [p["field"] for p in refused.value.problems] == ["owner_position"]
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:
        deviation.escalate(uow, DATA_ADMIN, number, "energy_engineer")
    assert chain(db) == before
    do(db, deviation.escalate, ACCOUNTANT, number, "energy_engineer")
    v = view(db, number)
    assert v.case.status == "closed" and len(v.children) == 1
    nc = view(db, v.children[0])
    assert (nc.case.kind, nc.case.trigger, nc.case.trigger_ref, nc.parent) == ("corrective_action", "deviation",
                                                                            number, number)
    assert nc.data["owner_position"] == "energy_engineer" and "燃烧器故障" in nc.texts["description"]
    assert f"{YEAR}-02" in nc.texts["description"] and "+30.0%" in nc.texts["description"]
    [(item, data)] = v.items["escalation"]
    assert data["nonconformity"] == nc.case.number and item.linked_case_id == nc.case.id
    with pytest.raises(InvalidTransition), db.unit_of_work() as uow:
        deviation.escalate(uow, ACCOUNTANT, number, "energy_engineer")
    with db.read() as uow:
        assert len(queries.list_cases(uow, GM, kind="corrective_action")) == 1
        assert cases.find_case(uow, f"corrective_action:deviation:{number}").number == nc.case.number
