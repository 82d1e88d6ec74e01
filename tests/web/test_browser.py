"""A real browser (Debian's chromium, driven by Playwright) on the app served by uvicorn: people sign in on
the page with their passwords and do their work by clicking, as they would. Screenshots of each step are
saved under test-artifacts/screenshots/.

- The carbon policy (R-5.2, R-7.5): drafted and submitted by the carbon management lead, countersigned by
  the risk-and-compliance officer and the legal specialist, approved by the general manager; the approved
  .docx downloads and opens; document control releases it to a plant's engineers; one acknowledges it.
- A month of activity data (R-9.1): the energy data administrator downloads the import template, fills
  it in with one bad row, sees the row's error on the page, fixes it and uploads again.
- A user without the position gets the 403 page naming the position needed.
"""

from __future__ import annotations

import pytest
from docx import Document as Docx
from openpyxl import load_workbook
from sqlmodel import select

from cms_workflows.accounting.models import Activity
from cms_workflows.documents.models import Acknowledgement
from cms_workflows.identity import service as identity
from tests.web.conftest import requires_chromium

pytestmark = [requires_chromium, pytest.mark.slow]
PASSWORD = "Sichere-Passwort-2026"
NUMBER, TITLE = "CMS-PO-001", "碳方针"


@pytest.fixture
def people(db):
    """Passwords for the people of the scenarios (set by the administrator, as after `cms users add`)."""
    names = ["carbon.lead", "compliance.lead", "legal.lead", "gm", "doccontrol", "energy_engineer.hn01",
             "energy_data_admin.hn01", "energy_data_admin.hn02"]
    with db.unit_of_work() as uow:
        for username in names:
            identity.set_password(uow, "admin", username, PASSWORD)
    return names


def sign_in(new_page, live_url: str, username: str):
    page = new_page()
    page.goto(f"{live_url}/login")
    page.fill("#in-username", username)
    page.fill("#in-password", PASSWORD)
    page.click("#form-login button[type=submit]")
    page.wait_for_url(f"{live_url}/dashboard")
    return page


def decide(page, live_url: str, comment: str) -> None:
    page.goto(f"{live_url}/documents/{NUMBER}")
    page.select_option("#in-document_decision-decision", "approve")
    page.fill("#in-document_decision-comment", comment)
    page.click("#form-document_decision button[type=submit]")
    page.wait_for_url(f"{live_url}/documents/{NUMBER}")


def test_the_carbon_policy_is_drafted_countersigned_approved_downloaded_and_acknowledged(
        db, people, live_url, new_page, screens, tmp_path):
    lead = sign_in(new_page, live_url, "carbon.lead")
    screens.shot(lead, "dashboard")
    lead.goto(f"{live_url}/documents/new")
    lead.select_option("#in-doc_type", "policy")  # first the type: its template's variables become fields
    lead.select_option("#in-site", "*")
    lead.click("#choose-type button[type=submit]")
    lead.wait_for_selector("#in-policy_statement")
    lead.fill("#in-title", TITLE)
    lead.select_option("#in-owner_department", "carbon_management")
    lead.check("#in-example")  # start from the template's example content
    screens.shot(lead, "new-policy")
    lead.click("form[action='/documents/new'][method=post] button[type=submit]")
    lead.wait_for_url(f"{live_url}/documents/{NUMBER}")
    lead.click("#form-document_submit button[type=submit]")
    lead.wait_for_url(f"{live_url}/documents/{NUMBER}")
    assert lead.locator("#form-document_decision").count() == 0  # nobody decides on their own work
    screens.shot(lead, "submitted")

    for username, comment in (("compliance.lead", "符合法规要求"), ("legal.lead", "无异议"), ("gm", "批准发布")):
        decider = sign_in(new_page, live_url, username)
        decider.goto(f"{live_url}/inbox")
        assert NUMBER in decider.inner_text("main")  # the approval waits in their inbox
        decide(decider, live_url, comment)
        screens.shot(decider, f"decided-{username}")
    route = decider.inner_text("#route")
    assert "符合法规要求" in route and "无异议" in route and "批准发布" in route

    with decider.expect_download() as download:
        decider.click("#revisions a[href$='/revisions/1.0.docx']")
    saved = tmp_path / "policy.docx"
    download.value.save_as(saved)
    marked, title = (p.text for p in Docx(str(saved)).paragraphs[:2])
    assert marked.startswith("草稿 / 未受控") and title == TITLE  # approved, not yet effective: marked (issue 13)

    control = sign_in(new_page, live_url, "doccontrol")
    control.goto(f"{live_url}/documents/{NUMBER}")
    control.check("#form-document_make_effective input[type=checkbox]")
    control.click("#form-document_make_effective button[type=submit]")
    control.wait_for_url(f"{live_url}/documents/{NUMBER}")
    control.select_option("#in-document_distribute-positions", ["energy_engineer"])
    control.select_option("#in-document_distribute-site", "HN01")
    control.click("#form-document_distribute button[type=submit]")
    control.wait_for_url(f"{live_url}/documents/{NUMBER}")
    screens.shot(control, "released-and-distributed")

    engineer = sign_in(new_page, live_url, "energy_engineer.hn01")
    engineer.goto(f"{live_url}/documents/{NUMBER}")
    engineer.check("#form-document_acknowledge input[type=checkbox]")
    engineer.click("#form-document_acknowledge button[type=submit]")
    engineer.wait_for_url(f"{live_url}/documents/{NUMBER}")
    assert engineer.locator("#form-document_acknowledge").count() == 0
    screens.shot(engineer, "acknowledged")
    with db.read() as uow:
        assert [a.username for a in uow.exec(select(Acknowledgement))] == ["energy_engineer.hn01"]


def _fill_template(path, bad_quantity: str | None) -> None:
    """Fill the downloaded import template as a data administrator would in Excel: a quantity per row."""
    book = load_workbook(path)
    sheet = book["activity_data"]  # after the instructions sheet
    header = [cell.value for cell in sheet[1]]
    column = next(i for i, name in enumerate(header, 1) if str(name).endswith("/quantity"))
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=column, value=1200 + row)
    if bad_quantity is not None:
        sheet.cell(row=3, column=column, value=bad_quantity)
    book.save(path)


def test_a_month_of_activity_data_with_a_bad_row_is_refused_on_the_page_then_fixed(
        db, plan, people, live_url, new_page, screens, tmp_path):
    admin = sign_in(new_page, live_url, "energy_data_admin.hn01")
    admin.goto(f"{live_url}/accounting/upload?site=HN01")
    with admin.expect_download() as download:
        admin.click("a[href^='/accounting/template']")
    filled = tmp_path / "activity.xlsx"
    download.value.save_as(filled)
    _fill_template(filled, bad_quantity="-5")

    admin.set_input_files("#form-accounting_upload #in-file", str(filled))
    admin.click("#form-accounting_upload button[type=submit]")
    admin.wait_for_selector("#import-refused")
    report = admin.inner_text("#import-refused")
    assert "3" in report and "quantity" in report and "不能为负数" in report
    screens.shot(admin, "row-error")
    with db.read() as uow:
        assert uow.exec(select(Activity)).first() is None  # nothing of the file was imported

    _fill_template(filled, bad_quantity=None)
    admin.set_input_files("#form-accounting_upload #in-file", str(filled))
    admin.click("#form-accounting_upload button[type=submit]")
    admin.wait_for_selector("#import-done")
    screens.shot(admin, "imported")
    with db.read() as uow:
        assert len(uow.exec(select(Activity)).all()) == 4


def test_a_user_without_the_position_sees_which_position_is_needed(db, plan, people, live_url, new_page, screens):
    other = sign_in(new_page, live_url, "energy_data_admin.hn02")
    response = other.goto(f"{live_url}/accounting/upload?site=HN01")
    assert response.status == 403
    text = other.inner_text("main")
    assert "能源数据管理员" in text and "energy_data_admin" in text
    screens.shot(other, "forbidden")
