"""A process flow killed with SIGKILL in the middle of a stage, then run again (issue 11 "Bad input and
faults"; R-10.2, X-1): the stage is finished with no duplicate task, event or case, and `cms verify` is
clean. A real subprocess runs the corrective-action flow under Prefect over several nonconformities whose
next stage creates several tasks (tests/flows/case_child.py) and kills itself inside the unit of work of
the second case's stage, after two of its three tasks were created."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from cms_workflows import audit, bootstrap
from cms_workflows.processes import cases, corrective_action
from cms_workflows.processes.models import Case
from cms_workflows.tasks import service as tasks
from cms_workflows.tasks.models import Task
from tests.conftest import TEST_AUDIT_KEY
from tests.flows.case_child import STAGE_TASKS
from tests.flows.test_serve import _group_members

CHILD = Path(__file__).with_name("case_child.py")
ROOT = Path(__file__).resolve().parents[2]
LEAD, OWNER = "strategy_manager.hn01", "energy_engineer.hn01"
CASES = 4
KILL_AFTER = STAGE_TASKS + 2  # the first case's stage committed, the second's half made


def _stop_group(pgid: int) -> None:
    """What the child left in its session (Prefect's temporary server, when the child was killed)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while _group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _group_members(pgid):
            return


def child(db, prefect_home: Path, kill_after: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CMS_DATABASE_URL": db.url, "CMS_DATA_DIR": str(db.settings.data_dir),
           "CMS_AUDIT_KEY": TEST_AUDIT_KEY, "CMS_LOCALE": "en", "PYTHONPATH": str(ROOT),
           "PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90"}
    for name in ("CMS_SIGNING_KEY", "CMS_SMTP_URL", "PREFECT_API_URL"):
        env.pop(name, None)
    args = [sys.executable, str(CHILD), *([str(kill_after)] if kill_after else [])]
    # files, not pipes: the server a killed child leaves behind would hold a pipe open
    out_path, err_path = prefect_home.with_name("child.out"), prefect_home.with_name("child.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
                                start_new_session=True)
    try:
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _stop_group(proc.pid)
    assert _group_members(proc.pid) == []  # nothing of the child is left running
    return subprocess.CompletedProcess(args, proc.returncode, out_path.read_text(), err_path.read_text())


def _contained_cases(db) -> list[str]:
    """CASES nonconformities, each with its containment task done (by its holder, without moving the case)."""
    numbers = []
    for n in range(CASES):
        with db.unit_of_work() as uow:
            numbers.append(corrective_action.raise_nonconformity(
                uow, LEAD, site="HN01", source="other", description=f"第 {n + 1} 号计量点数据缺失",
                owner_position="energy_engineer").number)
    for number in numbers:
        with db.unit_of_work() as uow:
            tasks.complete(uow, OWNER, f"case:{number}:contain", outcome="已隔离并补录")
    return numbers


def _state(db) -> dict:
    with db.read() as uow:
        return {"cases": {c.number: c.status for c in uow.exec(select(Case))},
                "tasks": {t.key: t.id for t in uow.exec(select(Task))},
                "events": audit.events_for(uow)}


@pytest.mark.slow
def test_issue11_a_process_flow_killed_in_a_stage_and_run_again_finishes_it_without_duplicates(db, company,
                                                                                                  tmp_path):
    numbers = _contained_cases(db)
    prefect_home = tmp_path / "prefect"

    killed = child(db, prefect_home, KILL_AFTER)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    half = _state(db)
    assert [half["cases"][n] for n in numbers] == ["analysing", "containing", "containing", "containing"]
    assert not any(key.startswith(f"case:{numbers[1]}:step-") for key in half["tasks"])  # rolled back whole

    again = child(db, prefect_home)
    assert again.returncode == 0, again.stdout + again.stderr
    result = json.loads(again.stdout.strip().splitlines()[-1])
    assert result["completed"] and sorted(result["result"]["moved"]) == numbers[1:]  # the rest, not the first

    done = _state(db)
    assert sorted(done["cases"]) == sorted(numbers) and set(done["cases"].values()) == {"analysing"}
    for number in numbers:  # each case: its containment task and the stage's tasks, once
        assert sorted(k for k in done["tasks"] if k.startswith(f"case:{number}:")) == sorted(
            [f"case:{number}:contain", *(f"case:{number}:step-{n}" for n in range(1, STAGE_TASKS + 1))])
    creates = Counter(e.object_id for e in done["events"] if e.action == "tasks.task.create")
    assert sorted(creates) == sorted(str(i) for i in done["tasks"].values()) and max(creates.values()) == 1
    advances = Counter(e.object_id for e in done["events"] if e.action == "processes.case.advance")
    assert advances == Counter(numbers)  # one automatic step per case, none taken twice
    opens = Counter(e.object_id for e in done["events"] if e.action == "processes.corrective_action.open")
    assert opens == Counter(numbers)  # no case opened again
    with db.read() as uow:
        assert all(cases.get_case(uow, n).status == "analysing" for n in numbers)
    report = bootstrap.verify_installation(db)  # `cms verify`
    assert report.ok, report.lines
