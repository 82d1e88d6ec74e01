"""The registers' pages and API: the registers a user may read with their counts, one register's rows with
translated headers and choice labels (?site, paged), its .xlsx export, and refusals naming the positions."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from cms_workflows.bootstrap import configure
from cms_workflows.registers import instruments, obligations


def add_instruments(db, count: int = 3) -> None:
    configure()
    with db.unit_of_work() as uow:
        for i in range(1, count + 1):
            site = "HN01" if i < count else "HN02"
            instruments.add_instrument(uow, f"energy_engineer.{site.lower()}", code=f"MI-{i:03d}", name=f"{i}号电能表",
                                       accuracy_class="0.5S", site=site, location="总配电室", measures="电力（外购）",
                                       interval_months=12, last_calibrated=None, certificate="")


def add_obligation(db) -> None:
    configure()
    with db.unit_of_work() as uow:
        obligations.add_obligation(uow, "compliance.lead", code="CO-01", kind="regulation", title="碳排放权交易管理暂行条例",
                                   issuer="国务院", clause="第十一条", applicability="重点排放单位",
                                   owner_position="legal_specialist")


def test_the_registers_a_user_may_read_with_their_counts(db, browser):
    add_instruments(db)
    add_obligation(db)
    lead = browser("carbon.lead")
    listing = lead.get("/registers")
    assert listing.status_code == 200
    assert 'href="/registers/instruments"' in listing.text and "碳计量器具" in listing.text
    assert 'href="/registers/obligations"' in listing.text
    row = listing.text.split('href="/registers/instruments"')[1].split("</tr>")[0]
    assert ">3<" in row
    engineer = browser("energy_data_admin.hn01").get("/registers").text
    assert 'href="/registers/instruments"' in engineer and 'href="/registers/swot"' not in engineer


def test_one_register_shows_its_rows_with_translated_columns_paged_and_by_site(db, browser):
    add_instruments(db)
    add_obligation(db)
    lead = browser("carbon.lead")
    page = lead.get("/registers/obligations")
    assert page.status_code == 200 and "碳排放权交易管理暂行条例" in page.text and "法规" in page.text
    instruments_page = lead.get("/registers/instruments?per_page=2")
    assert instruments_page.status_code == 200 and "MI-001" in instruments_page.text
    assert "MI-003" not in instruments_page.text and "第 1 页，共 2 页" in instruments_page.text
    site = lead.get("/registers/instruments?site=HN02")
    assert "MI-003" in site.text and "MI-001" not in site.text
    assert "<th>器具名称</th>" in page.text.replace("obligations", "") or "<th>器具名称</th>" in instruments_page.text
    lead.cookies.set("cms_lang", "en")
    english = lead.get("/registers/instruments")
    assert "<th>Name</th>" in english.text and "<th>器具名称</th>" not in english.text
    local = browser("energy_data_admin.hn01").get("/registers/instruments")  # a reader at one site only
    assert local.status_code == 200 and "MI-001" in local.text and "MI-003" not in local.text


def test_a_register_exports_as_xlsx(db, browser):
    add_instruments(db)
    response = browser("carbon.lead").get("/registers/instruments.xlsx")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "MI-001" in values and "MI-003" in values


def test_a_reader_without_the_permission_is_refused_with_the_positions(db, browser, api):
    add_obligation(db)
    refused = browser("energy_data_admin.hn01").get("/registers/swot")
    assert refused.status_code == 403 and "strategy_manager" in refused.text
    assert browser("energy_data_admin.hn01").get("/registers/swot.xlsx").status_code == 403
    assert browser("energy_data_admin.hn02").get("/registers/instruments?site=HN01").status_code == 403
    problem = api("energy_data_admin.hn01").get("/api/v1/registers/obligations")
    assert problem.status_code == 403 and problem.headers["content-type"].startswith("application/problem+json")


def test_the_api_lists_registers_and_pages_rows_by_site(db, api):
    add_instruments(db)
    lead = api("carbon.lead")
    names = {r["name"]: r["count"] for r in lead.get("/api/v1/registers").json()["items"]}
    assert names["instruments"] == 3 and "swot" in names
    page = lead.get("/api/v1/registers/instruments?per_page=2").json()
    assert page["total"] == 3 and [r["code"] for r in page["items"]] == ["MI-001", "MI-002"]
    site = lead.get("/api/v1/registers/instruments?site=HN02").json()
    assert site["total"] == 1 and site["items"][0]["code"] == "MI-003"
    assert lead.get("/api/v1/registers/nonsense").status_code == 404
