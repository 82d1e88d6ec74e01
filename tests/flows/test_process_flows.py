"""The PDCA process flows (issue 11 item 3; R-6.2.3, R-9.1.3, R-9.2, R-9.3, R-10.2, X-3): thin over the
process engine, idempotent, scheduled as policies/duties.yaml says, declared alike in prefect.yaml and in
the code `cms serve` serves; a case moves on by itself when the last task of its stage is completed (the
completing command, then the engine, in-process) or at the daily sweep's `cases` step.

Prefect runs for real once here (two flow runs under its test harness; FACTS.md: keep flow tests few);
the engine itself is tested in tests/processes. The stage used is the test stage of case_child.py (a
nonconformity whose containment task is done moves to analysis, which creates three tasks)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from cms_workflows import bootstrap
from cms_workflows.audit.models import AuditEvent
from cms_workflows.core.config import Settings
from cms_workflows.core.errors import CmsError, ValidationFailed
from cms_workflows.processes import cases, corrective_action
from cms_workflows.tasks import service as tasks
from tests.conftest import TEST_AUDIT_KEY
from tests.flows.case_child import STAGE_TASKS, install_test_stage

ROOT = Path(__file__).resolve().parents[2]
LEAD, OWNER = "strategy_manager.hn01", "energy_engineer.hn01"


@pytest.fixture
def test_stage(monkeypatch):
    install_test_stage(monkeypatch.setattr)


def _raise(db) -> str:
    with db.unit_of_work() as uow:
        return corrective_action.raise_nonconformity(uow, LEAD, site="HN01", source="other",
                                                     description="燃气表读数缺失三天", owner_position="energy_engineer").number


def _contain(db, number: str) -> str:
    key = f"case:{number}:contain"
    with db.unit_of_work() as uow:
        tasks.complete(uow, OWNER, key, outcome="已补录")
    return key


def _events(db) -> int:
    with db.read() as uow:
        return uow.exec(select(func.count()).select_from(AuditEvent)).one()


def _status(db, number: str) -> str:
    with db.read() as uow:
        return cases.get_case(uow, number).status


def _stage_task_keys(db, number: str) -> list[str]:
    with db.read() as uow:
        return [t.key for t in cases.stage_tasks(uow, cases.get_case(uow, number), "step-")]


# ---------------------------------------------------------------- declared alike: prefect.yaml, the code, duties.yaml

def test_x3_prefect_yaml_declares_each_process_flow_as_the_code_serves_it():
    """One deployment per process flow besides the daily sweep, each with the entrypoint, flow and schedule
    of flows/cases.py FLOWS, in the installation's default time zone."""
    from prefect import Flow

    from cms_workflows.flows.cases import FLOWS

    declared = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]}
    assert set(declared) == {"daily-sweep", *(f.deployment for f in FLOWS)}
    zone = Settings.model_fields["timezone"].default
    for spec in FLOWS:
        entry = declared[spec.deployment]
        assert entry["entrypoint"] == spec.entrypoint
        file, _, name = spec.entrypoint.partition(":")
        module = __import__(f"cms_workflows.flows.{spec.function}", fromlist=[name])
        assert (ROOT / file).resolve() == Path(module.__file__).resolve()
        function = getattr(module, name)
        assert isinstance(function, Flow) and function.name == spec.flow_name
        assert len((ROOT / file).read_text(encoding="utf-8").splitlines()) <= 150  # thin
        schedules = entry.get("schedules") or []
        if spec.cron() is None:
            assert schedules == []
        else:
            assert [(s["cron"], s["timezone"], s["active"]) for s in schedules] == [(spec.cron(), zone, True)]


def test_r623_r913_r92_r93_scheduled_flows_run_the_day_their_duty_is_generated():
    """Each scheduled flow runs on the day its duty's occurrence is generated in an ordinary year: the due
    date of policies/duties.yaml less the duty's lead days (the daily sweep opens the case on the same
    day; the schedule makes the process's run visible in Prefect)."""
    from datetime import date, datetime

    from cms_workflows.duties.definitions import load, parse_rule
    from cms_workflows.flows.cases import FLOWS, REFERENCE_YEAR

    duties = {d.code: d for d in load()}
    scheduled = {f.deployment: f for f in FLOWS if f.duty}
    assert set(scheduled) == {"carbon-review", "compliance-evaluation", "internal-audit", "management-review"}
    for spec in scheduled.values():
        minute, hour, day, month, weekday = spec.cron().split()
        assert (minute, hour, weekday) == ("0", "7", "*")  # after the daily sweep (06:30)
        duty = duties[spec.duty]
        due = parse_rule(duty.recurrence, duty.start).after(datetime(REFERENCE_YEAR, 1, 1), inc=True).date()
        assert date(REFERENCE_YEAR, int(month), int(day)) + timedelta(days=duty.lead_days) == due, spec.deployment


def test_x3_cms_serve_serves_the_sweep_and_every_process_flow():
    from cms_workflows.flows.cases import FLOWS, deployments

    served = {d.name: d for d in deployments("Asia/Shanghai")}
    assert set(served) == {f.deployment for f in FLOWS}
    for spec in FLOWS:
        crons = [s.schedule.cron for s in served[spec.deployment].schedules]
        assert crons == ([spec.cron()] if spec.cron() else [])
    assert "process_deployments(timezone)" in (ROOT / "flows" / "server.py").read_text(encoding="utf-8")


# ---------------------------------------------------------------- retries, and only for what passes by itself

def test_x3_only_transient_errors_are_retried(db, company, monkeypatch):
    from prefect.states import Failed

    from cms_workflows.flows.cases import advance_case, transient

    def retried(exc) -> bool:
        return transient(None, None, Failed(data=exc))

    assert retried(OperationalError("select 1", {}, Exception("database is locked")))
    assert retried(ConnectionRefusedError()) and retried(TimeoutError())
    assert not retried(ValidationFailed("processes.invalid_input", number="x"))
    assert not retried(CmsError("flows.wrong_kind")) and not retried(KeyError("bug"))
    number = _raise(db)
    for key, value in {"CMS_DATABASE_URL": db.url, "CMS_DATA_DIR": str(db.settings.data_dir),
                       "CMS_AUDIT_KEY": TEST_AUDIT_KEY}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(CmsError) as refused:  # a case of another process named to a flow: a clear error
        advance_case.fn(number, ("carbon_review",), "carbon-review")
    assert refused.value.key == "flows.wrong_kind" and number in refused.value.message("en")


# ---------------------------------------------------------------- a case moves on by itself

def test_r102_completing_the_last_task_of_a_stage_moves_the_case_on(db, company, test_stage):
    """As `cms tasks complete` does: the command completes the task (its own event), then the engine
    moves the case on in-process; doing it again changes nothing."""
    number = _raise(db)
    key = _contain(db, number)
    assert bootstrap.after_task(db, key) == ["contain"]
    assert _status(db, number) == "analysing" and len(_stage_task_keys(db, number)) == STAGE_TASKS
    before = _events(db)
    assert bootstrap.after_task(db, key) == [] and bootstrap.after_task(db, "instrument_calibration:MI-1:x") == []
    assert _events(db) == before


def test_x3_the_daily_sweep_moves_ready_cases_on_in_its_cases_step(db, company, test_stage):
    """A completion whose case did not move (the process stopped in between) is caught up by the sweep's
    `cases` step, before the reminders; the second sweep moves nothing."""
    waiting, ready = _raise(db), _raise(db)
    _contain(db, ready)  # without after_task
    day = db.clock.today()
    first = {s.name: s for s in bootstrap.sweep(db, day).steps}
    assert list(first)[:2] == ["generate", "cases"]
    assert first["cases"].counts["moved"] >= 1 and not first["cases"].errors  # (other processes' triggers may open cases today)
    assert (_status(db, waiting), _status(db, ready)) == ("containing", "analysing")
    second = {s.name: s for s in bootstrap.sweep(db, day).steps}
    assert second["cases"].counts == {"opened": 0, "moved": 0}


# ---------------------------------------------------------------- for real, under Prefect

@pytest.mark.slow
def test_r102_the_process_flow_runs_under_prefect_and_a_second_run_changes_nothing(db, company, test_stage,
                                                                                      monkeypatch):
    """The corrective-action flow moves the named case on (one Prefect task per case); run again, without a
    case number (the scheduled form: the triggers of the day, then every open case of its kind), it
    creates no task, case or event."""
    from prefect.settings import PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from cms_workflows.flows.corrective_action import corrective_action

    for key, value in {"CMS_DATABASE_URL": db.url, "CMS_DATA_DIR": str(db.settings.data_dir),
                       "CMS_AUDIT_KEY": TEST_AUDIT_KEY, "CMS_LOCALE": "zh-CN"}.items():
        monkeypatch.setenv(key, value)  # the flow opens the installation's database from its settings
    waiting, ready = _raise(db), _raise(db)
    _contain(db, ready)
    with temporary_settings({PREFECT_SERVER_ANALYTICS_ENABLED: False}), prefect_test_harness(server_startup_timeout=90):
        first = corrective_action(case_number=ready, return_state=True)
        assert first.is_completed(), first
        assert first.result() == {"case": ready, "moved": ["contain"]}
        assert _status(db, ready) == "analysing" and len(_stage_task_keys(db, ready)) == STAGE_TASKS
        before = _events(db)
        second = corrective_action(day=db.clock.today(), return_state=True)
        assert second.is_completed(), second
    assert second.result() == {"day": db.clock.today().isoformat(), "opened": [], "moved": {}}
    assert _events(db) == before  # no second task, case or event
    assert (_status(db, waiting), _status(db, ready)) == ("containing", "analysing")
