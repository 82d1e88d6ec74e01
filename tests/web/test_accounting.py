"""Emissions accounting through the pages and the API: the import template, an upload refused row by
row (in the user's language, nothing written), the corrected upload, a run, its approval by somebody
else, the figures of record with charts and the Excel export; refusals and the API's problem+json."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook

from cms_workflows import audit
from cms_workflows.accounting import service as acc
from tests.accounting.conftest import csv_bytes, year_rows
from tests.accounting.test_service import counts

ADMIN1, ADMIN2 = "energy_data_admin.hn01", "energy_data_admin.hn02"
ACCOUNTANT1, ACCOUNTANT2 = "carbon_accountant.hn01", "carbon_accountant.hn02"
RUN_FORM = {"site": "HN01", "first": "2023-01", "last": "2023-01", "electricity_kind": "statistical", "gwp_set": "AR5"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def month(period: str = "2023-01", site: str = "HN01") -> list[dict]:
    return [r for r in year_rows(int(period[:4]), site) if r["period"] == period]


def with_bad_quantity(rows: list[dict], index: int = 2, value="-5") -> list[dict]:
    """The rows with one bad quantity; file row = index + 2 (the header is row 1)."""
    rows = [dict(r) for r in rows]
    rows[index]["quantity"] = value
    return rows


def upload(client, rows: list[dict], site: str = "HN01", name: str = "2023-01.csv"):
    return client.submit(f"/accounting/upload?site={site}", {"site": site},
                         files={"file": (name, csv_bytes(rows), "text/csv")})


def test_the_data_admin_uploads_a_month_fixes_a_bad_row_then_it_is_run_approved_and_reported(db, plan, browser):
    admin = browser(ADMIN1)
    template = admin.get("/accounting/template?site=HN01&period=2023-01")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(template.content))["activity_data"]  # after the instructions sheet
    values = list(sheet.iter_rows(values_only=True))
    assert "站点/site" in values[0] and len(values) == 1 + 4
    assert {r[values[0].index("排放设施/facility")] for r in values[1:]} == {"BOILER1", "KILN1", "GRID", "TRUCKS"}

    before = counts(db)
    refused = upload(admin, with_bad_quantity(month()))
    assert refused.status_code == 422
    assert 'id="import-refused"' in refused.text and "未导入任何数据" in refused.text
    assert '<td class="num">4</td>' in refused.text and "数量 <code>quantity</code>" in refused.text
    assert "不能为负数" in refused.text
    assert '<option value="HN01" selected>' in refused.text  # the chosen site stays chosen
    assert counts(db) == before

    assert admin.submit("/language", {"locale": "en", "next": "/accounting/upload"}).status_code == 303
    refused = upload(admin, with_bad_quantity(month(), value="ten"))
    assert refused.status_code == 422 and "Nothing was imported" in refused.text
    assert '<td class="num">4</td>' in refused.text and "Quantity <code>quantity</code>" in refused.text
    assert "not a number: ten" in refused.text.lower()
    assert counts(db)[:2] == before[:2]  # (choosing the language is itself recorded)

    done = upload(admin, month())
    assert done.status_code == 200 and 'id="import-done"' in done.text and "4 rows imported" in done.text
    assert counts(db)[:2] == (before[0] + 4, before[1] + 1)

    accountant = browser(ACCOUNTANT1)
    started = accountant.submit("/accounting/runs?site=HN01", RUN_FORM)
    assert started.status_code == 303, started.text
    run_url = started.headers["location"]
    own = accountant.get(run_url)
    assert own.status_code == 200, own.text
    assert "按职责分离" in own.text and 'id="form-accounting_approve"' not in own.text
    assert accountant.submit(run_url + "/approve", {"confirm": "on"}).status_code == 403

    gm = browser("gm")
    shown = gm.get(run_url)
    assert 'id="form-accounting_approve"' in shown.text and "草稿" in shown.text
    assert "BOILER1" in shown.text and "固定" in shown.text  # results by facility and by category
    assert 'name="comment"' in shown.text and "<textarea" in shown.text
    before = counts(db)
    unconfirmed = gm.submit(run_url + "/approve", {"comment": "已与能源台账核对"})
    assert unconfirmed.status_code == 422 and 'id="error-confirm"' in unconfirmed.text and "草稿" in unconfirmed.text
    assert "已与能源台账核对</textarea>" in unconfirmed.text  # what was typed is shown again
    too_long = gm.submit(run_url + "/approve", {"confirm": "on", "comment": "长" * 2001})
    assert too_long.status_code == 422 and 'id="error-comment"' in too_long.text and "2000" in too_long.text
    assert counts(db) == before
    approved = gm.submit(run_url + "/approve", {"confirm": "on", "comment": "已与能源台账和发票核对。\n一月数据完整。"})
    assert approved.status_code == 303
    page = gm.get(run_url).text
    assert "正式（已批准）" in page and 'id="approval-comment"' in page and "已与能源台账和发票核对。\n一月数据完整。" in page
    assert "已与能源台账和发票核对" in accountant.get(run_url).text  # whoever reads the run reads why it was approved
    run_id = int(run_url.rsplit("/", 1)[1])
    with db.read() as uow:
        (event,) = audit.events_for(uow, "acc_run", run_id, event="accounting.run.approve")
    assert event.actor == "gm" and json.loads(event.payload)["comment"] == "已与能源台账和发票核对。\n一月数据完整。"

    results = gm.get("/accounting/results?site=HN01&year=2023")
    assert results.status_code == 200 and "2023-01" in results.text
    for name in ("monthly_trend", "categories"):
        assert f"/accounting/charts/{name}.png?site=HN01&amp;year=2023" in results.text
        png = gm.get(f"/accounting/charts/{name}.png?site=HN01&year=2023")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    export = gm.get("/accounting/results.xlsx?site=HN01&year=2023")
    assert export.status_code == 200 and export.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(export.content))  # the results workbook, in the viewer's language
    assert workbook.sheetnames[:5] == ["汇总", "按场所", "按类别", "按月份", "按设施"]
    rows = list(workbook["按设施"].iter_rows(values_only=True))
    assert "设施" in rows[0] and {r[rows[0].index("设施")] for r in rows[1:-1]} == {"BOILER1", "KILN1", "GRID", "TRUCKS"}
    png = gm.get("/accounting/charts/sources.png?site=HN01&year=2023")  # by material
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_overview_plan_and_runs_pages(db, plan, browser):
    admin = browser(ADMIN1)
    overview = admin.get("/accounting")  # no ?site: the user's own site
    assert overview.status_code == 200 and "/accounting/upload?site=HN01" in overview.text
    listed = admin.get("/accounting/plan?site=HN01")
    assert listed.status_code == 200 and "KILN1" in listed.text and "能源数据管理员" in listed.text
    assert "SWITCHGEAR" not in listed.text
    runs = browser(ACCOUNTANT1).get("/accounting/runs?site=HN01")
    assert runs.status_code == 200 and 'id="form-accounting_run"' in runs.text
    no_data = browser(ACCOUNTANT1).submit("/accounting/runs?site=HN01", {**RUN_FORM, "first": "2019-01", "last": "2019-02"})
    assert no_data.status_code == 404 and "没有活动数据" in no_data.text
    bad = browser(ACCOUNTANT1).submit("/accounting/runs?site=HN01", {**RUN_FORM, "first": "2023-13"})
    assert bad.status_code == 422 and 'id="error-first"' in bad.text


def test_a_user_of_another_site_may_not_upload_for_hn01(db, plan, browser):
    other, admin = browser(ADMIN2), browser(ADMIN1)
    before = counts(db)
    refused = upload(other, month())
    assert refused.status_code == 403 and "能源数据管理员" in refused.text
    assert other.get("/accounting/upload?site=HN01").status_code == 403
    assert counts(db) == before
    # a page's site cannot be swapped under its permission: the posted site must be the URL's
    swapped = admin.submit("/accounting/upload?site=HN01", {"site": "HN02"},
                                     files={"file": ("a.csv", csv_bytes(month()), "text/csv")})
    assert swapped.status_code == 422 and counts(db) == before


def _runs(db) -> dict[str, list[int]]:
    """Two runs at HN01 and one at HN02, through the services."""
    with db.unit_of_work() as uow:
        acc.import_activity(uow, ADMIN1, csv_bytes(month()), "hn01.csv")
        acc.import_activity(uow, ADMIN2, csv_bytes(month(site="HN02")), "hn02.csv")
    out: dict[str, list[int]] = {"HN01": [], "HN02": []}
    for site, who in (("HN01", ACCOUNTANT1), ("HN01", ACCOUNTANT1), ("HN02", ACCOUNTANT2)):
        with db.unit_of_work() as uow:
            out[site].append(acc.calculate(uow, who, "2023-01", "2023-01", [site]).run_id)
    return out


def test_the_api_lists_runs_by_page_and_site_and_approves_one(db, plan, api, browser):
    made = _runs(db)
    gm = api("gm")
    first = gm.get("/api/v1/accounting/runs?per_page=2").json()
    assert first["total"] == 3 and len(first["items"]) == 2 and first["items"][0]["id"] == made["HN02"][0]
    assert len(gm.get("/api/v1/accounting/runs?per_page=2&page=2").json()["items"]) == 1
    hn02 = gm.get("/api/v1/accounting/runs?site=HN02").json()
    assert hn02["total"] == 1 and hn02["items"][0]["sites"] == ["HN02"]
    refused = api(ACCOUNTANT2).get("/api/v1/accounting/runs?site=HN01")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")

    run_id = made["HN01"][0]
    one = gm.get(f"/api/v1/accounting/runs/{run_id}").json()
    assert one["run"]["status"] == "draft" and one["by_category"]
    bad = gm.post(f"/api/v1/accounting/runs/{run_id}/approval", json={"confirm": True, "approved_by": "gm"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} == {"approved_by"}
    control = gm.post(f"/api/v1/accounting/runs/{run_id}/approval", json={"confirm": True, "comment": "ok\x1b[2J"})
    assert control.status_code == 422 and control.json()["errors"][0]["field"] == "comment"
    unconfirmed = gm.post(f"/api/v1/accounting/runs/{run_id}/approval", json={"confirm": False})
    assert unconfirmed.status_code == 422 and unconfirmed.json()["errors"][0]["field"] == "confirm"
    assert api(ACCOUNTANT1).post(f"/api/v1/accounting/runs/{run_id}/approval", json={"confirm": True}).status_code == 403
    no_csrf = browser("gm").post(f"/api/v1/accounting/runs/{run_id}/approval", json={"confirm": True})
    assert no_csrf.status_code == 403
    done = gm.post(f"/api/v1/accounting/runs/{run_id}/approval", json={"confirm": True, "comment": "checked"})
    assert done.status_code == 200 and done.json()["run"]["status"] == "official"
    with db.read() as uow:
        (event,) = audit.events_for(uow, "acc_run", run_id, event="accounting.run.approve")
    assert json.loads(event.payload)["comment"] == "checked"
    figures = gm.get("/api/v1/accounting/results?site=HN01&year=2023").json()
    assert figures["year"] == 2023 and figures["total_tco2e"] > 0
    assert {i["site"] for i in figures["items"]} == {"HN01"}


def test_a_bad_upload_through_the_api_is_a_problem_with_rows_and_fields(db, plan, api):
    admin = api(ADMIN1)
    before = counts(db)
    bad = admin.post("/api/v1/accounting/imports?site=HN01", data={"site": "HN01"},
                     files={"file": ("bad.csv", csv_bytes(with_bad_quantity(month())), "text/csv")})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {"row": 4, "field": "quantity"}.items() <= bad.json()["errors"][0].items()
    assert counts(db) == before
    wrong_kind = admin.post("/api/v1/accounting/imports?site=HN01", data={"site": "HN01"},
                            files={"file": ("notes.txt", b"hello", "text/plain")})
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "file"
    good = admin.post("/api/v1/accounting/imports?site=HN01", data={"site": "HN01"},
                      files={"file": ("good.csv", csv_bytes(month()), "text/csv")})
    assert good.status_code == 201 and good.json()["rows"] == 4
    corrected = [dict(r, quantity=float(r["quantity"]) + 1) for r in month()]
    clash = admin.post("/api/v1/accounting/imports?site=HN01", data={"site": "HN01"},
                       files={"file": ("fix.csv", csv_bytes(corrected), "text/csv")})
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "period"
    replaced = admin.post("/api/v1/accounting/imports?site=HN01", data={"site": "HN01", "replace": "true"},
                          files={"file": ("fix.csv", csv_bytes(corrected), "text/csv")})
    assert replaced.status_code == 201 and replaced.json()["rows"] == 4, replaced.text
    assert replaced.json()["recalculation_needed"] == [] and replaced.json()["production_months"] == 0
    assert api(ADMIN2).post("/api/v1/accounting/imports?site=HN01", data={"site": "HN01"},
                            files={"file": ("x.csv", csv_bytes(month("2023-02")), "text/csv")}).status_code == 403
