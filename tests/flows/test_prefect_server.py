"""The scale path for real (X-3, issue 11 item 4; docs/scale.md): a Prefect server on a PostgreSQL database of
its own, a work pool of type `process` with a process worker whose environment holds the installation's
CMS_* settings, the repository's flows deployed to the pool from the repository directory, a deployment
run through the worker, its effect read back from the cms database (PostgreSQL too). Everything the test
starts is stopped and both databases are dropped, whatever the outcome (tests/flows/prefect_stack.py).

Only with PostgreSQL (CMS_TEST_DATABASE_URL): the scale path is PostgreSQL's. Each test starts a server
of its own on a free port with a database named per run, so the suite's parallel workers never meet."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from cms_workflows import bootstrap
from cms_workflows.audit.checkpoint_models import AuditCheckpoint
from cms_workflows.audit.models import AuditEvent
from cms_workflows.duties.definitions import load
from cms_workflows.duties.generate import due_occurrences
from cms_workflows.duties.sources import described
from tests.conftest import PG_URL, TEST_AUDIT_KEY, TEST_COMPANY_NAME
from tests.duties.helpers import add_instrument, add_plan, tasks
from tests.flows.prefect_stack import FlowToDeploy, prefect_stack

DAILY_SWEEP = FlowToDeploy("flows/daily_sweep.py:daily_sweep", "daily-sweep")
CARBON_REVIEW = FlowToDeploy("flows/carbon_review.py:carbon_review", "carbon-review")
FLOWS = [DAILY_SWEEP, CARBON_REVIEW]  # what the stack deploys (those whose file is there)
RUN_TIMEOUT = 240  # seconds for one flow run through the worker (measured 4-8 s; a loaded machine is slower)

pytestmark = [pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.skipif(not PG_URL, reason="the scale path runs on PostgreSQL: set CMS_TEST_DATABASE_URL "
                                                    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")]


def deployable() -> list[FlowToDeploy]:
    return [spec for spec in FLOWS if spec.path.exists()]


@pytest.fixture(scope="module")
def postgres() -> str:
    """The PostgreSQL server of CMS_TEST_DATABASE_URL, answering (asked before any database is made)."""
    engine = create_engine(make_url(PG_URL), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any failure to connect means: no server to test against here
        pytest.skip(f"PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)} does not answer "
                    f"({type(exc).__name__})")
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture
def cms_env(db, tmp_path) -> dict[str, str]:
    """The installation's settings the worker passes to its flow runs: the test's cms database, its audit key,
    and a signing key (outside the data folder) so the sweep signs a checkpoint."""
    from cms_workflows.audit.checkpoints import create_signing_key

    key = tmp_path / "keys" / "signing.pem"
    create_signing_key(db.settings, key)
    return {"CMS_DATABASE_URL": db.url, "CMS_DATA_DIR": str(db.settings.data_dir), "CMS_AUDIT_KEY": TEST_AUDIT_KEY,
            "CMS_LOCALE": "zh-CN", "CMS_COMPANY_NAME": TEST_COMPANY_NAME, "CMS_SIGNING_KEY": str(key)}


def _due_keys(db, day) -> set[str]:
    with db.read() as uow:
        sources = bootstrap.duty_sources()
        return {o.key for d in load(sources=described(sources)) for o in due_occurrences(uow, d, day, sources)}


def _event_count(db, **where) -> int:
    with db.read() as uow:
        query = select(func.count()).select_from(AuditEvent)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return uow.exec(query).one()


def test_x3_the_daily_sweep_runs_through_a_process_worker_of_a_prefect_server_on_postgresql(postgres, db, company,
                                                                                             cms_env, tmp_path):
    add_plan(db)
    add_instrument(db, "MI-001", None)  # never calibrated: due today whatever today is
    day = db.clock.today()
    due = _due_keys(db, day)
    assert "instrument_calibration:MI-001:first" in due and tasks(db) == {}
    created_before = _event_count(db, action="tasks.task.create")

    with prefect_stack(postgres, tmp_path / "prefect-stack", cms_env) as stack:
        ids = stack.deploy(deployable())
        assert set(ids) == {spec.deployment for spec in deployable()}
        run = stack.run(ids[DAILY_SWEEP.deployment], {"day": day.isoformat()}, timeout=RUN_TIMEOUT)
        assert run.state is not None and run.state.is_completed(), f"{run.state}\n{stack.logs()}"
        worker_log = stack.worker_logs[0].read_text(errors="replace")
        assert str(run.id) in worker_log  # this worker took the run, in a process of its own
    assert stack.leftovers() == []  # server, worker, flow runs and the Prefect database: all gone
    print(f"\nprefect stack, seconds per phase: {stack.timings}")  # shown with -s

    made = tasks(db)
    assert due <= set(made)  # every due occurrence became a task, through the worker (cases' tasks besides)
    assert _event_count(db, action="tasks.task.create") - created_before == len(made)  # each one audited
    with db.read() as uow:
        assert uow.exec(select(func.count()).select_from(AuditCheckpoint)).one() >= 1  # CMS_SIGNING_KEY reached it
    assert bootstrap.sweep(db, day).changed is False  # the run did the whole day's work: nothing is left


def _case_status(db, number: str) -> str:
    from cms_workflows.processes import cases

    with db.read() as uow:
        return cases.get_case(uow, number).status


@pytest.mark.skipif(not CARBON_REVIEW.path.exists(), reason="flows/carbon_review.py not there yet")
def test_r623_a_carbon_review_runs_end_to_end_through_a_process_worker(postgres, db, company, cms_env, tmp_path):
    """R-6.2.3, X-3: the people's steps through the services (as the CLI and the web take them), every
    automatic step of the case taken by the carbon review flow, run by the worker: data collected →
    calculating, the year's calculation approved → analysing, the report approved → approved."""
    from datetime import datetime

    from cms_workflows.core.clock import FixedClock
    from cms_workflows.core.db import Database
    from cms_workflows.documents import approval
    from cms_workflows.processes import carbon_review as cr
    from cms_workflows.tasks import service as task_service
    from tests.processes import test_carbon_review as steps  # the company's data and the people's steps
    from tests.processes.helpers import case_of, do

    # the people act at a moment after the reviewed year (as in tests/processes); the worker's flow runs
    # keep the real clock, which the automatic steps do not depend on
    people = Database(db.url, settings=db.settings, clock=FixedClock(datetime(steps.Y, 3, 1, 9, 0)))
    try:
        with prefect_stack(postgres, tmp_path / "prefect-stack", cms_env) as stack:
            deployment = stack.deploy(deployable())[CARBON_REVIEW.deployment]

            def flow_moves_it_to(status: str) -> None:
                run = stack.run(deployment, {"case_number": number}, timeout=RUN_TIMEOUT)
                assert run.state is not None and run.state.is_completed(), f"{run.state}\n{stack.logs()}"
                assert _case_status(db, number) == status

            steps._world(people)
            number = steps._open(people)
            steps._plan(people, number)
            for site, admin in steps.DATA_ADMIN.items():  # completed without the in-process advance
                do(people, task_service.complete, admin, f"case:{number}:collect:{site}:energy_data_admin",
                   outcome="已报送")
            assert _case_status(db, number) == "collecting"
            flow_moves_it_to("calculating")
            flow_moves_it_to("calculating")  # nothing approved yet: a run changes nothing
            steps._calculate(people, steps.R)
            flow_moves_it_to("analysing")
            steps._analyse(people, number)
            do(people, cr.finish_analysis, steps.LEAD, number)
            do(people, cr.draft_report, steps.LEAD, number)
            do(people, cr.submit_report, steps.LEAD, number)
            document = case_of(people, number).document_number
            do(people, approval.decide, steps.REVIEWER, document, "approve", "审核同意", expect="review")
            do(people, approval.decide, steps.GM, document, "approve", "同意", expect="approve")
            assert _case_status(db, number) == "in_review"
            flow_moves_it_to("approved")
        assert stack.leftovers() == []
        print(f"\nprefect stack, seconds per phase: {stack.timings}")  # shown with -s
    finally:
        people.dispose()
    with db.read() as uow:
        moved_by_worker = uow.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_id == number, AuditEvent.action == "processes.case.advance")).one()
    assert moved_by_worker == 3  # one audited step per automatic transition, none twice
