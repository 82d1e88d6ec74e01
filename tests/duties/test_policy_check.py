"""`cms policy check` and `cms duties check` on policies/duties.yaml (X-3): an RRULE that does not parse,
an unknown position, an unknown clause, an unknown subject source — each named with its file and line,
all of them at once; the sweep refuses to run a broken file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cms_workflows import bootstrap
from cms_workflows.access import Policy, policy_dir
from cms_workflows.core.errors import PolicyError
from cms_workflows.duties.definitions import check_file, duties_path
from cms_workflows.duties.sources import described

GOOD = duties_path(policy_dir()).read_text(encoding="utf-8")

BAD = """\
defaults:
  lead_days: 30
  reminder_days: [7, 1]
  escalation: [{after_days: 1, to: department_head}]
  evidence: document
duties:
  compliance_evaluation:
    clause: R-9.1.3
    position: compliance_officer
    site: company
    recurrence: "FREQ=FORTNIGHTLY;BYDAY=XX"
    period: year
  management_review:
    clause: R-9.3
    position: chief_dreamer
    site: company
    recurrence: "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=20"
    period: year
  training_plan:
    clause: R-99.9
    position: training_specialist
    site: each_site
    recurrence: "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31"
    period: year
  instrument_calibration:
    clause: R-9.1
    position: maintenance_engineer
    site: subject
    subjects: registers.teleporters
    period: day
  monthly_activity_data:
    clause: R-6.3.5
    position: energy_data_admin
    site: each_site
    recurrence: "FREQ=WEEKLY"
    period: month
    escalation: [{after_days: 3, to: nobody_at_all}]
"""


def _policy_folder(tmp_path: Path, duties: str) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(policy_dir(), folder, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    (folder / "duties.yaml").write_text(duties, encoding="utf-8")
    return folder


def _problems(path: Path) -> str:
    with pytest.raises(PolicyError) as raised:
        check_file(path, described(bootstrap.duty_sources()))
    return raised.value.message("en")


def test_x3_the_shipped_duties_file_passes_the_policy_check():
    lines = bootstrap.check_duties(Policy())
    assert "12" in lines[0] and "duties.yaml" in lines[0]


def test_x3_every_mistake_is_named_with_its_file_and_line_at_once(tmp_path):
    path = tmp_path / "duties.yaml"
    path.write_text(BAD, encoding="utf-8")
    text = _problems(path)
    assert "has 6 problem(s)" in text, text
    assert "duties.yaml line 11: duty compliance_evaluation: the recurrence FREQ=FORTNIGHTLY;BYDAY=XX does not parse" in text
    assert "duties.yaml line 15: duty management_review names an unknown position chief_dreamer" in text
    assert "duties.yaml line 20: duty training_plan cites clause R-99.9, which is not a requirement" in text
    assert "duties.yaml line 29: duty instrument_calibration takes its subjects from registers.teleporters, an unknown source" in text
    assert "duties.yaml line 35: duty monthly_activity_data: the recurrence FREQ=WEEKLY falls due twice in one month" in text
    assert "duties.yaml line 37: duty monthly_activity_data: step 1: nobody_at_all is neither a position" in text


def test_x3_policy_check_names_the_duties_file_and_line_in_chinese(tmp_path):
    folder = _policy_folder(tmp_path, BAD)
    with pytest.raises(PolicyError) as raised:
        bootstrap.check_duties(Policy(folder))
    text = raised.value.message("zh-CN")
    assert "duties.yaml 第 15 行：职责 management_review 的岗位 chief_dreamer 不存在" in text
    assert "duties.yaml 第 20 行：职责 training_plan 引用的条款 R-99.9 不是指南的要求" in text


def test_x3_yaml_errors_duplicates_and_unknown_fields_are_named_too(tmp_path):
    path = tmp_path / "duties.yaml"
    path.write_text("duties:\n  a: [unclosed\n", encoding="utf-8")
    assert "duties.yaml line 3: not valid YAML" in _problems(path)
    odd = GOOD.replace("    site: each_site\n", "    site: each_site\n    colour: red\n", 1)
    path.write_text(odd, encoding="utf-8")
    line = odd.splitlines().index("    colour: red") + 1
    assert f"duties.yaml line {line}: duty training_plan has an unknown field colour" in _problems(path)
    misspelt = GOOD.replace("  lead_days: 30\n", "  lead_dayz: 30\n", 1)
    path.write_text(misspelt, encoding="utf-8")
    line = misspelt.splitlines().index("  lead_dayz: 30") + 1
    assert f"duties.yaml line {line}: defaults has an unknown field lead_dayz" in _problems(path)
    twice = GOOD + "  training_plan:\n    clause: R-7.2\n"
    path.write_text(twice, encoding="utf-8")
    assert f"duties.yaml line {len(twice.splitlines()) - 1}: duty training_plan is declared twice" in _problems(path)


def test_x3_the_sweep_refuses_a_broken_duties_file_and_still_reminds(tmp_path, db, company):
    """The generate step reports the policy error; the other steps still run (each its own step)."""
    from cms_workflows.duties.sweep import sweep

    folder = _policy_folder(tmp_path, BAD)
    from cms_workflows import access

    saved = access.get_access().policy.directory
    access.get_access().policy.directory = folder
    try:
        report = sweep(db, db.clock.today(), bootstrap.duty_sources())
    finally:
        access.get_access().policy.directory = saved
    generate = report.steps[0]
    assert generate.name == "generate" and generate.errors and "chief_dreamer" in generate.errors[0]
    assert [s.name for s in report.steps] == ["generate", "remind", "escalate", "send", "checkpoint"]
    assert all(not s.errors for s in report.steps[1:])


def test_x3_cms_duties_check_names_file_and_line(tmp_path, cli_env):
    path = tmp_path / "duties.yaml"
    path.write_text(BAD, encoding="utf-8")
    env = {**cli_env, "CMS_LOCALE": "en"}
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "duties", "check", "--file", str(path)],
                       capture_output=True, text=True, env={**__import__("os").environ, **env}, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "duties.yaml line 15: duty management_review names an unknown position chief_dreamer" in r.stderr
    assert "Traceback" not in r.stderr
    ok = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "duties", "check"], capture_output=True, text=True,
                        env={**__import__("os").environ, **env}, timeout=120)
    assert ok.returncode == 0 and "Duties OK: 12" in ok.stdout, ok.stdout + ok.stderr
