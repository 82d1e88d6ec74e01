"""The web approval of a run with gaps (issue 15, item 5): the form's accept_gaps checkbox, the gaps listed
beside it when it is not ticked (nothing written), and the acceptance recorded in the approval event."""

from __future__ import annotations

import json

from cms_workflows import audit
from cms_workflows.accounting import service as acc
from tests.accounting.conftest import csv_bytes, year_rows
from tests.accounting.test_service import counts

ACCOUNTANT1 = "carbon_accountant.hn01"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_approval_form_lists_the_gaps_and_records_them_when_accepted(db, plan, browser):
    with db.unit_of_work() as s:
        acc.import_activity(s, "energy_data_admin.hn01",
                            csv_bytes([r for r in year_rows(2023) if r["period"] <= "2023-02"]), "2023-q1.csv")
    with db.unit_of_work() as s:
        run_id = acc.calculate(s, ACCOUNTANT1, "2023-01", "2023-03", ["HN01"]).run_id
    run_url = f"/accounting/runs/{run_id}"
    gm = browser("gm")
    shown = gm.get(run_url)
    assert shown.status_code == 200 and 'name="accept_gaps"' in shown.text and "接受缺口" in shown.text

    before = counts(db)
    refused = gm.submit(run_url + "/approve", {"confirm": "on", "comment": "已核对"})
    assert refused.status_code == 422 and 'id="error-accept_gaps"' in refused.text
    assert "HN01 / BOILER1 / natural_gas：1 个月没有数据（2023-03）" in refused.text
    assert "--accept-gaps" in refused.text and "已核对</textarea>" in refused.text
    assert counts(db) == before

    approved = gm.submit(run_url + "/approve", {"confirm": "on", "accept_gaps": "on", "comment": "3 月数据待补录"})
    assert approved.status_code == 303, approved.text
    with db.read() as uow:
        (event,) = audit.events_for(uow, "acc_run", run_id, event="accounting.run.approve")
    payload = json.loads(event.payload)
    assert event.actor == "gm" and payload["accept_gaps"] is True and payload["comment"] == "3 月数据待补录"
    assert {(g["facility"], tuple(g["months"])) for g in payload["gaps"]["missing"]} == {
        (f, ("2023-03",)) for f in ("BOILER1", "GRID", "KILN1", "TRUCKS")}


def test_the_upload_page_says_a_locked_month_needs_a_recalculation_and_counts_production_months(db, plan, browser,
                                                                                                   monkeypatch):
    """What the CLI prints after an import, the page shows: the approved run reopened by a change to a closed
    month, and the site-months of production recorded from the template's production sheet (issue 15)."""
    from tests.accounting.test_production_import import outputs, template, with_outputs

    with db.unit_of_work() as s:
        acc.import_activity(s, "energy_data_admin.hn01", csv_bytes(year_rows(2023)), "2023.csv")
    with db.unit_of_work() as s:
        run_id = acc.calculate(s, ACCOUNTANT1, "2023-01", "2023-12", ["HN01"]).run_id
    with db.unit_of_work() as s:
        acc.approve_run(s, "gm", run_id, comment="全年数据完整")

    admin = browser("energy_data_admin.hn01")
    march = [dict(r, quantity=float(r["quantity"]) * 1.01) for r in year_rows(2023) if r["period"] == "2023-03"]
    refused = admin.submit("/accounting/upload?site=HN01", {"site": "HN01"},
                           files={"file": ("2023-03-fix.csv", csv_bytes(march), "text/csv")})
    assert refused.status_code == 422 and "以替换方式导入" in refused.text and 'name="replace"' in refused.text
    done = admin.submit("/accounting/upload?site=HN01", {"site": "HN01", "replace": "on"},
                        files={"file": ("2023-03-fix.csv", csv_bytes(march), "text/csv")})
    assert done.status_code == 200 and 'id="recalculation-needed"' in done.text, done.text
    assert f"已批准核算批次 {run_id}" in done.text and "HN01 2023-03" in done.text

    filled = with_outputs(template(db, monkeypatch), {2: (12000, 3600.5), 3: (11800, None)})
    done = admin.submit("/accounting/upload?site=HN01", {"site": "HN01"},
                        files={"file": ("production.xlsx", filled, XLSX)})
    assert done.status_code == 200 and "已登记 2 个站点月份的产量与产值" in done.text, done.text
    assert outputs(db)[("HN01", "2024-02")][:2] == (11800, None)
