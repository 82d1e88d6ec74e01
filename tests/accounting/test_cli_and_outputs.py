"""`cms accounting …` as real processes; Excel/CSV results; PNG charts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from cms_workflows import audit
from cms_workflows.accounting import charts
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.calculation import calculate
from cms_workflows.accounting.factors import FactorLibrary
from cms_workflows.accounting.pareto import pareto
from cms_workflows.core.errors import ValidationFailed
from tests.conftest import signed_in_env

from .conftest import ACCOUNTANT, DATA_ADMIN, GM, csv_bytes, year_rows
from .test_service import counts


def cms(env, *args, user=None, locale="zh-CN"):
    full = {**os.environ, **signed_in_env(env, user), "CMS_LOCALE": locale}
    return subprocess.run([sys.executable, "-m", "cms_workflows.cli", "accounting", *args], capture_output=True, check=False,
                          text=True, env=full, timeout=120)


def test_cli_template_import_calculate_approve_results(db, plan, cli_env, tmp_path):
    tpl = tmp_path / "template.xlsx"
    r = cms(cli_env, "template", str(tpl), "--period", "2023-01", "--site", "HN01", user=DATA_ADMIN)
    assert r.returncode == 0, r.stderr
    frame = pd.read_excel(tpl, sheet_name="activity_data")  # after the instructions sheet
    assert len(frame) == 4 and "站点/site" in frame.columns

    bad = tmp_path / "bad.csv"
    rows = year_rows(2023)
    rows[3]["quantity"] = "十"
    bad.write_bytes(csv_bytes(rows, "gbk"))
    before = counts(db)
    r = cms(cli_env, "import", str(bad), user=DATA_ADMIN)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "5" in r.stderr and "quantity" in r.stderr and "未导入" in r.stderr
    assert counts(db) == before
    r = cms(cli_env, "import", str(tmp_path / "missing.csv"), user=DATA_ADMIN, locale="en")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "cannot be read" in r.stderr

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(year_rows(2023)))
    r = cms(cli_env, "import", str(good), user=DATA_ADMIN)
    assert r.returncode == 0 and "48" in r.stdout, r.stderr
    r = cms(cli_env, "import", str(good), user=DATA_ADMIN, locale="en")
    assert r.returncode == 0 and "imported already" in r.stdout

    r = cms(cli_env, "calculate", "2023-01", "2023-12", user=ACCOUNTANT)
    assert r.returncode == 0 and "草稿" in r.stdout, r.stderr
    run_id = r.stdout.split("核算批次 ")[1].split("：")[0]
    r = cms(cli_env, "calculate", "2023-01", "2023-12", "--electricity", "bogus", user=ACCOUNTANT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert cms(cli_env, "approve", run_id, user=ACCOUNTANT).returncode == 2
    assert cms(cli_env, "approve", run_id, user=GM).returncode == 0

    out = tmp_path / "results.xlsx"
    r = cms(cli_env, "results", "--from", "2023-01", "--to", "2023-12", "--level", "facility", "--by", "year", "--out", str(out), user=GM)
    assert r.returncode == 0, r.stderr
    res = pd.read_excel(out, sheet_name=None)  # the results workbook: named sheets in the user's language
    assert set(res["按设施"]["设施"].dropna()) == {"BOILER1", "KILN1", "GRID", "TRUCKS"}
    total = res["汇总"].iloc[0]["排放量（tCO2e）"]  # the summary's first row: the total, rounded to 0.01 t
    csv_out = tmp_path / "results.csv"
    assert cms(cli_env, "results", "--run", run_id, "--level", "category", "--out", str(csv_out), user=GM).returncode == 0
    assert pd.read_csv(csv_out, encoding="utf-8-sig")["tco2e"].sum() == pytest.approx(total, abs=0.0051)

    r = cms(cli_env, "quality", "2023-01", "2023-12", "--site", "HN01", user=ACCOUNTANT)
    assert r.returncode == 0 and "数据质量得分" in r.stdout
    r = cms(cli_env, "charts", "2023-01", "2023-12", str(tmp_path / "charts"), user=GM)
    assert r.returncode == 0, r.stderr
    assert all((tmp_path / "charts" / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in ("monthly_trend.png", "categories.png", "pareto.png"))
    # one site's figures: the site's accountant may ask for them; an unknown site is named as such
    r = cms(cli_env, "pareto", "2023-01", "2023-12", "--site", "HN01", user=ACCOUNTANT)
    assert r.returncode == 0 and "BOILER1" in r.stdout, r.stderr
    r = cms(cli_env, "charts", "2023-01", "2023-12", str(tmp_path / "hn01"), "--site", "HN01", user=ACCOUNTANT)
    assert r.returncode == 0 and (tmp_path / "hn01" / "pareto.png").exists(), r.stderr
    r = cms(cli_env, "pareto", "2023-01", "2023-12", "--site", "HN77", user=GM)
    assert r.returncode == 2 and "HN77" in r.stderr and "Traceback" not in r.stderr
    r = cms(cli_env, "baseline", "set", "site", "2023-01", "2023-12", "--scope", "HN01", user=ACCOUNTANT)
    assert r.returncode == 0, r.stderr
    r = cms(cli_env, "baseline", "trigger", "HN01", "product", "新产品线投产", user=ACCOUNTANT)
    assert r.returncode == 0, r.stderr


def test_charts_are_png_with_or_without_a_cjk_font():
    rows = [("HN01", "U", f"F{i}", "stationary_combustion", "natural_gas", f"2023-{m:02d}", i + 1, "10^4Nm3")
            for i in range(4) for m in range(1, 4)]
    res = calculate(pd.DataFrame(rows, columns=["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit"]),
                    FactorLibrary()).results
    for png in (charts.monthly_trend(res), charts.category_breakdown(res, {"stationary_combustion": "固定燃烧源"}),
                charts.pareto_chart(pareto(res))):
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_pareto_threshold():
    res = pd.DataFrame({"site": ["A"] * 4, "facility": ["a", "b", "c", "d"], "tco2e": [50.0, 30.0, 15.0, 5.0]})
    assert list(pareto(res, 0.8)["major"]) == [True, True, False, False]
    assert list(pareto(res, 0.81)["major"]) == [True, True, True, False]
    assert list(pareto(res, 0.5)["major"]) == [True, False, False, False]
    with pytest.raises(ValidationFailed):
        pareto(res, 0)


def test_cli_approvals_take_a_comment_recorded_in_their_event(db, plan, cli_env):
    with db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, csv_bytes(year_rows(2023)), "2023.csv")
    with db.unit_of_work() as s:
        run_id = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12").run_id
    r = cms(cli_env, "approve", "--help", user=GM)
    assert r.returncode == 0 and "--comment" in r.stdout and "批准意见" in r.stdout
    before = counts(db)
    r = cms(cli_env, "approve", str(run_id), "--comment", "ok\x1b[2J", user=GM, locale="en")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "comment" in r.stderr
    assert counts(db) == before
    r = cms(cli_env, "approve", str(run_id), "--comment", "已与能源台账核对", user=GM)
    assert r.returncode == 0, r.stderr
    r = cms(cli_env, "baseline", "set", "site", "2023-01", "2023-12", "--scope", "HN01", user=ACCOUNTANT)
    assert r.returncode == 0, r.stderr
    with db.read() as s:
        (created,) = audit.events_for(s, "acc_baseline", event="accounting.baseline.create")
    r = cms(cli_env, "baseline", "approve", created.object_id, "--comment", "基准期数据完整", user=GM)
    assert r.returncode == 0, r.stderr
    with db.read() as s:
        (run_event,) = audit.events_for(s, "acc_run", run_id, event="accounting.run.approve")
        (baseline_event,) = audit.events_for(s, "acc_baseline", event="accounting.baseline.approve")
    assert json.loads(run_event.payload)["comment"] == "已与能源台账核对"
    assert json.loads(baseline_event.payload)["comment"] == "基准期数据完整"
