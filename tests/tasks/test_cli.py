"""`cms tasks …` (X-3) in real processes: mine, claim, complete with a stored file, overdue, ics; a refusal is
one message, exit 2, nothing written."""

from __future__ import annotations

from icalendar import Calendar

from tests.tasks.helpers import events, new_task
from tests.test_cli import cms

A = "energy_data_admin.hn01"


def test_x3_tasks_from_the_command_line(db, company, cli_env, tmp_path):
    with db.unit_of_work() as uow:
        task = new_task(uow, evidence="file")
    mine = cms(cli_env, "tasks", "mine", user=A)
    assert mine.returncode == 0 and "提交 2026-03 月度活动数据" in mine.stdout and "R-6.3.5" in mine.stdout
    assert cms(cli_env, "tasks", "claim", str(task.id), user=A).returncode == 0
    cli_env.as_user("energy_data_admin.hn02")  # signing in is itself an event: done before counting
    before = len(events(db))
    no_evidence = cms(cli_env, "tasks", "complete", str(task.id), "--outcome", "已提交", user=A)
    assert no_evidence.returncode == 2 and "文件" in no_evidence.stderr and "Traceback" not in no_evidence.stderr
    other = cms(cli_env, "tasks", "complete", str(task.id), "--outcome", "done", "--record", "R1",
                user="energy_data_admin.hn02", locale="en")
    assert other.returncode == 2 and "does not hold" in other.stderr
    assert len(events(db)) == before
    overdue = cms(cli_env, "tasks", "overdue", "--date", "2026-04-06", user=A)
    assert overdue.returncode == 0 and str(task.id) in overdue.stdout
    out = tmp_path / "mine.ics"
    assert cms(cli_env, "tasks", "ics", "--out", str(out), user=A).returncode == 0
    assert len(Calendar.from_ical(out.read_bytes()).walk("VEVENT")) == 1
    evidence = tmp_path / "三月能耗.csv"
    evidence.write_text("month,kWh\n2026-03,1200\n", encoding="utf-8")
    done = cms(cli_env, "tasks", "complete", str(task.id), "--outcome", "已提交", "--file", str(evidence), user=A)
    assert done.returncode == 0, done.stderr
    twice = cms(cli_env, "tasks", "complete", str(task.id), "--outcome", "已提交", "--file", str(evidence), user=A)
    assert twice.returncode == 2 and "已完成" in twice.stderr
    assert cms(cli_env, "tasks", "mine", user=A).stdout.strip() == "没有任务。"
    listed = cms(cli_env, "tasks", "list", "--site", "HN01", "--status", "done", user="gm", locale="en")
    assert listed.returncode == 0 and "done" in listed.stdout
    assert cms(cli_env, "tasks", "list", user=A).returncode == 2  # a plant's data administrator reads their own only
