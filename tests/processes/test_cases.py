"""The case framework every PDCA process shares (issue 11): opening, moving, texts, stage tasks,
cancelling, the timeline; refusals leave nothing behind."""

from __future__ import annotations

import pytest

from cms_workflows.bootstrap import configure
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from cms_workflows.processes import cases, corrective_action, engine, queries

LEAD, GM, ENERGY = "strategy_manager.hn01", "gm", "energy_engineer.hn01"


@pytest.fixture(autouse=True)
def _wired():
    configure()


def _raise(db, **extra):
    with db.unit_of_work() as uow:
        return corrective_action.raise_nonconformity(
            uow, LEAD, site="HN01", source="complaint", description="客户投诉：产品碳足迹声明与核算结果不一致",
            owner_position="energy_engineer", **extra).number


def test_a_case_is_numbered_per_process_and_year_and_its_first_stage_is_a_task(db, company):
    """R-10.2: the case opens in its first stage, whose human step is a task of the owner position."""
    first, second = _raise(db), _raise(db)
    year = db.clock.today().year
    assert (first, second) == (f"NC-{year}-01", f"NC-{year}-02")
    with db.read() as uow:
        view = queries.show(uow, GM, first)
        assert view.case.status == "containing"
        assert view.texts["description"].startswith("客户投诉")
        [task] = view.tasks
        assert (task.key, task.position, task.site) == (f"case:{first}:contain", "energy_engineer", "HN01")
        events = queries.timeline(uow, GM, first)
    assert [e.action for e in events] == ["tasks.task.create", "processes.corrective_action.open"]


def test_opening_by_key_is_idempotent(db, company):
    with db.unit_of_work() as uow:
        one = corrective_action.ensure_nonconformity(uow, LEAD, key="nc:test:1", site="HN01", source="other",
                                                     description="重复打开只应有一个案例")
    with db.unit_of_work() as uow:
        again = corrective_action.ensure_nonconformity(uow, LEAD, key="nc:test:1", site="HN01", source="other",
                                                       description="重复打开只应有一个案例")
    assert one.number == again.number


def test_bad_input_is_refused_by_field_and_nothing_is_written(db, company):
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        corrective_action.raise_nonconformity(uow, LEAD, site="HN01", source="rumour", description="  ",
                                              owner_position="astronaut")
    assert {p["field"] for p in refused.value.problems} == {"description", "source", "owner_position"}
    with db.read() as uow:
        assert queries.list_cases(uow, GM) == []


def test_who_may_open_and_cancel_is_the_policy(db, company):
    """X-2: a department engineer may not open a nonconformity case; the lead cancels one with its reason,
    its open tasks are cancelled with it, and a cancelled case cannot move."""
    with db.unit_of_work() as uow, pytest.raises(AccessDenied):
        corrective_action.raise_nonconformity(uow, ENERGY, site="HN01", source="other", description="x")
    number = _raise(db)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed):
        engine.cancel_case(uow, LEAD, number, " ")
    with db.unit_of_work() as uow:
        engine.cancel_case(uow, LEAD, number, "重复登记，与 NC 另案合并")
    with db.read() as uow:
        view = queries.show(uow, GM, number)
        assert view.case.status == "cancelled" and view.case.closed_at is not None
        assert [t.status for t in view.tasks] == ["cancelled"]
    with db.unit_of_work() as uow, pytest.raises(InvalidTransition):
        engine.cancel_case(uow, LEAD, number, "再次取消")


def test_advance_does_nothing_when_no_condition_holds(db, company):
    number = _raise(db)
    assert engine.advance(db, number) == []
    assert engine.sweep(db, db.clock.today()).errors == []


def test_a_step_done_through_the_case_settles_its_task_in_the_name_of_who_did_it(db, company):
    """X-3: the containment entered through the case marks its task done by the person who entered it."""
    number = _raise(db)
    with db.unit_of_work() as uow:
        corrective_action.contain(uow, ENERGY, number, "暂停发布该声明", "重新核算并更正")
    with db.read() as uow:
        case = cases.get_case(uow, number)
        [task] = cases.stage_tasks(uow, case, "contain")
        assert (task.status, task.completed_by, case.status) == ("done", ENERGY, "analysing")
        assert cases.tasks_done(uow, case, "contain")
