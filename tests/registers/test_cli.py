"""`cms registers …` end to end in a real process (R-4.1, R-4.3, R-6.2.1, R-9.1): add, change, list, template,
export, import (twice: nothing new; a bad file: every problem, nothing written), scope versions, calibrate."""

from __future__ import annotations

from tests.test_cli import cms


def test_swot_through_the_cli_in_both_languages(db, company, cli_env, tmp_path):
    lead = "carbon.lead"
    r = cms(cli_env, "registers", "swot", "add", "类别=优势", "内/外部=内部", "description=余热回收技术成熟", user=lead)
    assert r.returncode == 0 and "SWOT-001" in r.stdout, r.stderr
    r = cms(cli_env, "registers", "swot", "change", "SWOT-001", "next_analysis=2026-06-30", user=lead, locale="en")
    assert r.returncode == 0 and "Changed SWOT-001" in r.stdout, r.stderr
    listed = cms(cli_env, "registers", "swot", "list", user="verifier", locale="en")
    assert "strength" in listed.stdout and "2026-06-30" in listed.stdout and "Next analysis" in listed.stdout
    out = tmp_path / "swot.xlsx"
    assert cms(cli_env, "registers", "swot", "export", str(out), user=lead).returncode == 0
    again = cms(cli_env, "registers", "swot", "import", str(out), user=lead)
    assert again.returncode == 0 and "未写入任何内容" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("code,context,kind,description\nS-9,inside,strength,\n", encoding="utf-8")
    refused = cms(cli_env, "registers", "swot", "import", str(bad), user=lead, locale="en")
    assert refused.returncode == 2 and "row 2 field Internal/external" in refused.stderr
    assert "row 2 field Description" in refused.stderr and "Traceback" not in refused.stderr
    denied = cms(cli_env, "registers", "swot", "add", "kind=strength", "context=internal", "description=x", user="purchaser.hn01")
    assert denied.returncode == 2 and "Traceback" not in denied.stderr
    template = tmp_path / "t.csv"
    assert cms(cli_env, "registers", "risks", "template", str(template), locale="en").returncode == 0
    assert template.read_text(encoding="utf-8-sig").startswith("Code,Risk/opportunity")


def test_scope_versions_and_calibration_through_the_cli(db, company, cli_env, tmp_path):
    lead = "carbon.lead"
    for args in (("draft", "--note", "首版"), ("add", "code=HN01", "kind=site", "name=长沙工厂"), ("submit",)):
        r = cms(cli_env, "registers", "scope", *args, user=lead)
        assert r.returncode == 0, r.stderr
    assert cms(cli_env, "registers", "scope", "approve", user=lead).returncode == 2  # not top management
    r = cms(cli_env, "registers", "scope", "approve", user="gm")
    assert r.returncode == 0 and "第 1 版" in r.stdout, r.stderr
    shown = cms(cli_env, "registers", "scope", "list", user="verifier", locale="en")
    assert "Scope version 1" in shown.stdout and "HN01" in shown.stdout
    r = cms(cli_env, "registers", "instruments", "add", "code=MI-001", "name=电能表", "accuracy_class=0.5S", "site=HN01",
            "measures=电力", "interval_months=12", user="energy_engineer.hn01")
    assert r.returncode == 0, r.stderr
    cert = tmp_path / "cert.pdf"
    cert.write_bytes(b"%PDF-1.4 certificate")
    r = cms(cli_env, "registers", "instruments", "calibrate", "MI-001", "--date", "2025-03-01", "--certificate", "JL-1",
            "--file", str(cert), user="maintenance_engineer.hn01")
    assert r.returncode == 0 and "2026-03-01" in r.stdout, r.stderr
    verify = cms(cli_env, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
