"""The daily sweep as a Prefect flow (X-3): run once for real under Prefect's test harness (a temporary
Prefect server), it calls the service step by step and leaves what a bare sweep leaves; its deployment
in prefect.yaml agrees with what `cms serve` serves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from cms_workflows import bootstrap
from cms_workflows.core.config import Settings
from cms_workflows.duties.definitions import load
from cms_workflows.duties.generate import due_occurrences
from cms_workflows.duties.sources import described
from cms_workflows.duties.sweep import STEPS
from tests.conftest import TEST_AUDIT_KEY
from tests.duties.helpers import add_instrument, add_plan, tasks

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_x3_the_flow_runs_each_step_of_the_service_under_prefects_harness(db, company, monkeypatch):
    from prefect.settings import PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from cms_workflows.flows.daily_sweep import daily_sweep

    for key, value in {"CMS_DATABASE_URL": db.url, "CMS_DATA_DIR": str(db.settings.data_dir),
                       "CMS_AUDIT_KEY": TEST_AUDIT_KEY, "CMS_LOCALE": "zh-CN"}.items():
        monkeypatch.setenv(key, value)  # the flow opens the installation's database from its settings
    monkeypatch.delenv("CMS_SIGNING_KEY", raising=False)
    monkeypatch.delenv("CMS_SMTP_URL", raising=False)
    add_plan(db)
    add_instrument(db, "MI-001", None)  # never calibrated: a task today whatever today is
    day = db.clock.today()
    with temporary_settings({PREFECT_SERVER_ANALYTICS_ENABLED: False}), prefect_test_harness(server_startup_timeout=90):
        state = daily_sweep(day=day, return_state=True)
        assert state.is_completed(), state
        result = state.result()
    assert result["day"] == day.isoformat() and set(result) == {"day", *STEPS}
    made = {k: v for k, v in tasks(db).items() if not k.startswith("case:")}  # a case's stage tasks: the cases step
    assert result["generate"]["created"] == len(made) >= 1
    assert f"instrument_calibration:MI-001:first" in made
    with db.read() as uow:  # nothing due is left, and the bare service finds nothing more to do
        sources = bootstrap.duty_sources()
        assert all(due_occurrences(uow, d, day, sources) == [] for d in load(sources=described(sources)))
    assert bootstrap.sweep(db, day).changed is False


def test_x3_prefect_yaml_declares_the_deployment_cms_serve_serves():
    from cms_workflows.flows import daily_sweep as module

    declared = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = [d for d in declared["deployments"] if d["name"] == module.DEPLOYMENT]  # besides the process flows
    assert deployment["name"] == module.DEPLOYMENT
    file, _, name = deployment["entrypoint"].partition(":")
    assert (ROOT / file).resolve() == Path(module.__file__).resolve() and callable(getattr(module, name))
    (schedule,) = deployment["schedules"]
    assert schedule["cron"] == module.CRON
    assert schedule["timezone"] == Settings.model_fields["timezone"].default == "Asia/Shanghai"


def test_x3_the_served_deployment_has_the_daily_schedule_in_the_installations_zone():
    from cms_workflows.flows.daily_sweep import CRON, DEPLOYMENT, deployment

    served = deployment("Asia/Shanghai")
    assert served.name == DEPLOYMENT
    (schedule,) = served.schedules
    assert schedule.schedule.cron == CRON and schedule.schedule.timezone == "Asia/Shanghai"
