"""A process flow in a process of its own (tests/flows/test_case_kill.py): `python case_child.py [N]`.

Runs the corrective-action flow for real under Prefect (its temporary server), with no case number: every
open nonconformity is moved on as far as it goes. The test stage (`install_test_stage`) makes the move
one that creates several tasks in one unit of work. With N, the process sends itself SIGKILL right after
the N-th stage task was created — inside the unit of work of a case's stage, before it commits. A real
SIGKILL: no exception handler, no rollback code, no atexit runs (Prefect's temporary server is left
behind in the process group: the test stops that group). Settings come from the CMS_* environment.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

STAGE_TASKS = 3  # tasks the test stage creates on entering `analysing`


def _stage_tasks(cmd, case) -> None:
    from cms_workflows.processes import cases

    for n in range(1, STAGE_TASKS + 1):
        cases.stage_task(cmd, case, f"step-{n}", title_key="processes.task.nc_contain",
                         due=cmd.uow.clock.today() + timedelta(days=14))


def _contained(uow, case) -> bool:
    from cms_workflows.processes import cases

    return cases.tasks_done(uow, case, "contain")


def install_test_stage(setattr_=setattr) -> None:
    """A stage that creates several tasks, as a corrective action's plan creates one task per action: once
    its containment task is done, a nonconformity moves to `analysing` by itself, and entering it creates
    STAGE_TASKS tasks. Replaces the process's automatic steps (whatever the process module declares), so
    the test does not depend on how far that module is written; `setattr_` is pytest's monkeypatch.setattr
    in the test process."""
    from cms_workflows.processes import corrective_action
    from cms_workflows.processes.registry import AutoStep

    proc = corrective_action.PROCESS
    setattr_(proc, "auto", {"containing": [AutoStep("contain", _contained)]})
    setattr_(proc, "on_enter", {**proc.on_enter, "analysing": _stage_tasks})


def main() -> None:
    from cms_workflows.bootstrap import configure
    from cms_workflows.processes import cases

    configure()
    install_test_stage()
    if len(sys.argv) > 1:
        from sweep_child import _crash_after  # run as a script: its own folder is on the path

        _crash_after(cases, "stage_task", int(sys.argv[1]))
    from cms_workflows.flows.corrective_action import corrective_action

    state = corrective_action(return_state=True)
    print(json.dumps({"completed": state.is_completed(), "result": state.result(raise_on_failure=False)
                      if state.is_completed() else str(state)}))


if __name__ == "__main__":
    main()
