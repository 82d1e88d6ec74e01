"""A sweep in a process of its own (tests/flows/test_sweep_kill.py): `python sweep_child.py DAY [FUNCTION N]`.

With FUNCTION and N, the process sends itself SIGKILL right after the N-th call of FUNCTION returned —
inside the unit of work that called it, before that unit commits (`create`: a task of a duty, `remind`:
the reminders of a task) or after the mail server accepted the N-th message (`send`). A real SIGKILL:
no exception handler, no rollback code, no atexit runs. Settings come from the CMS_* environment."""

from __future__ import annotations

import os
import signal
import sys
from datetime import date, datetime


def _crash_after(owner, name: str, n: int) -> None:
    original = getattr(owner, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] >= n:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, wrapped)


def main() -> None:
    from cms_workflows import bootstrap
    from cms_workflows.core.clock import FixedClock
    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database
    from cms_workflows.tasks import outbox, schedule, service

    bootstrap.configure()
    day = date.fromisoformat(sys.argv[1])
    if len(sys.argv) > 3:
        owner, name = {"create": (service, "create"), "remind": (schedule, "remind"),
                       "send": (outbox.Mailer, "send")}[sys.argv[2]]
        _crash_after(owner, name, int(sys.argv[3]))
    settings = get_settings()
    db = Database(settings.resolved_database_url(), settings=settings,
                  clock=FixedClock(datetime(day.year, day.month, day.day, 6, 0)))
    report = bootstrap.sweep(db, day)
    print("ok" if report.ok else [s.errors for s in report.steps])


if __name__ == "__main__":
    main()
