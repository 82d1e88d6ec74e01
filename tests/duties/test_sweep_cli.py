"""`cms sweep`, `cms duties list` and the sweep's checkpoint step (X-3, X-1): one sweep by hand for a
user who may create tasks company-wide, never for a day after today; a checkpoint of the audit chain
signed when a signing key is configured, and not again when nothing new happened."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from cms_workflows import bootstrap
from cms_workflows.core.db import Database
from tests.conftest import signed_in_env
from tests.duties.helpers import add_plan


def cms(env, *args, user=None, locale="en"):
    full = {**os.environ, **signed_in_env(env, user), "CMS_LOCALE": locale}
    return subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], capture_output=True, text=True,
                          env=full, timeout=120)


def test_x3_cms_sweep_runs_once_by_hand_and_a_second_time_changes_nothing(db, company, cli_env):
    add_plan(db)
    first = cms(cli_env, "sweep", user="carbon.lead")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Sweep of" in first.stdout and "checkpoint: 0 signed" in first.stdout
    assert "No signing key configured" in first.stdout
    second = cms(cli_env, "sweep", user="carbon.lead", locale="zh-CN")
    assert second.returncode == 0 and "没有到期事项，未作任何更改。" in second.stdout, second.stdout + second.stderr


def test_x3_cms_sweep_is_refused_for_a_day_after_today_and_for_a_user_who_may_not_create_tasks(db, company, cli_env):
    tomorrow = (db.clock.today() + timedelta(days=1)).isoformat()
    ahead = cms(cli_env, "sweep", "--date", tomorrow, user="carbon.lead")
    assert ahead.returncode == 2 and "after today" in ahead.stderr, ahead.stdout + ahead.stderr
    clerk = cms(cli_env, "sweep", user="energy_data_admin.hn01")
    assert clerk.returncode == 2 and "may not" in clerk.stderr, clerk.stdout + clerk.stderr
    assert "Traceback" not in ahead.stderr + clerk.stderr


def test_x3_cms_duties_list_shows_every_duty_with_its_clause(db, cli_env):
    r = cms(cli_env, "duties", "list", locale="zh-CN")
    assert r.returncode == 0, r.stderr
    for code, clause in (("monthly_activity_data", "R-6.3.5"), ("instrument_calibration", "R-9.1"),
                         ("document_periodic_review", "R-7.5"), ("management_review", "R-9.3")):
        assert any(code in line and clause in line for line in r.stdout.splitlines()), code


def test_x1_x3_the_sweep_signs_a_checkpoint_when_a_key_is_configured_and_only_when_the_chain_grew(db, company, tmp_path):
    from cms_workflows.audit.checkpoints import create_signing_key

    key = tmp_path / "keys" / "signing.pem"
    settings = db.settings.model_copy(update={"signing_key": key})
    create_signing_key(settings, key)
    database = Database(db.url, settings=settings)
    try:
        add_plan(database)
        first = bootstrap.sweep(database).steps[-1]
        assert first.counts["signed"] == 1 and first.note is None
        second = bootstrap.sweep(database).steps[-1]
        assert second.counts["signed"] == 0 and second.note.key == "duties.sweep.nothing_to_sign"
    finally:
        database.dispose()
