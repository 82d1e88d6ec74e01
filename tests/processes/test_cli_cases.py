"""`cms cases`: the cases a user may read, one case with its texts, items and tasks, its timeline, the human
steps of a process by name with their fields (`steps`, `open`, `do`), and the lead's cancel (issue 11;
R-10.2, X-3)."""

from __future__ import annotations

import os
import subprocess
import sys

from cms_workflows.bootstrap import configure
from cms_workflows.processes import corrective_action
from tests.conftest import signed_in_env
from tests.processes.helpers import do, view

LEAD, OWNER = "strategy_manager.hn01", "energy_engineer.hn01"


def cms(env, *args, user=None, locale="zh-CN"):
    full = {**os.environ, **signed_in_env(env, user), "CMS_LOCALE": locale}
    return subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], capture_output=True, text=True,
                          env=full, timeout=120)


def test_cases_through_the_cli(db, company, cli_env):
    configure()
    number = do(db, corrective_action.raise_nonconformity, LEAD, site="HN01", source="complaint",
                description="客户投诉：碳足迹声明与核算结果不一致", owner_position="energy_engineer").number

    listed = cms(cli_env, "cases", "list", "--open", user=LEAD)
    assert listed.returncode == 0 and number in listed.stdout and "不符合与纠正措施" in listed.stdout, listed.stderr
    shown = cms(cli_env, "cases", "show", number, user=LEAD, locale="en")
    assert shown.returncode == 0 and "containment and correction" in shown.stdout and "客户投诉" in shown.stdout
    timeline = cms(cli_env, "cases", "timeline", number, user=LEAD)
    assert timeline.returncode == 0 and "processes.corrective_action.open" in timeline.stdout

    # a human step from the command line: the same command, its checks by field, the case moved on
    bad = cms(cli_env, "cases", "do", number, "contain", "containment= ", "colour=red", user=OWNER, locale="en")
    assert bad.returncode == 2 and "correction" in bad.stderr and "colour" in bad.stderr, bad.stderr
    done = cms(cli_env, "cases", "do", number, "contain", "containment=暂停使用该声明", "correction=重新核算并更正",
               user=OWNER)
    assert done.returncode == 0 and "contain" in done.stdout, done.stderr
    assert view(db, number).case.status == "analysing"
    opened = cms(cli_env, "cases", "open", "corrective_action", "site=HN01", "source=other",
                 "description=供应商提供的碳足迹数据缺少核查声明", user=LEAD)
    assert opened.returncode == 0 and "NC-" in opened.stdout, opened.stderr
    steps = cms(cli_env, "cases", "steps", "corrective_action", user=LEAD)
    assert "review_effectiveness effective=bool evidence=str" in steps.stdout

    refused = cms(cli_env, "cases", "cancel", number, "--reason", "重复", user=OWNER)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    unknown = cms(cli_env, "cases", "show", "NC-1999-99", user=LEAD)
    assert unknown.returncode == 2 and "NC-1999-99" in unknown.stderr
    cancelled = cms(cli_env, "cases", "cancel", number, "--reason", "与另一投诉合并处理", user=LEAD)
    assert cancelled.returncode == 0, cancelled.stderr
    assert view(db, number).case.status == "cancelled"
