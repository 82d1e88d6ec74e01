"""The indicators page and its API (issue 15 item 4): company and site intensity (a month without production,
a month without output value shown as "—"), year-on-year by category, ranking by source and by facility;
linked from the results page; authorized as the results page."""

from __future__ import annotations

import re

import pytest

from tests.accounting.test_indicators import E, GAS, GRID, two_years

GM, ACCOUNTANT2 = "gm", "carbon_accountant.hn02"


@pytest.fixture
def figures(db, plan):
    two_years(db)
    return db


def table(html: str, table_id: str) -> list[list[str]]:
    """The cells of one table of the page, row by row (header row first)."""
    body = html.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_page_shows_intensity_year_on_year_and_ranking(figures, browser):
    gm = browser(GM)
    results = gm.get("/accounting/results?site=*&year=2023")
    assert results.status_code == 200 and 'id="indicators-link"' in results.text
    assert 'href="/accounting/indicators?site=%2A&amp;year=2023"' in results.text

    page = gm.get("/accounting/indicators?site=*&year=2023")
    assert page.status_code == 200, page.text
    annual = table(page.text, "intensity_company_year")
    assert annual[0][:4] == ["年份", "排放量 tCO2e", "产量（吨）", "tCO2e/吨产品"]  # in the reader's language
    (year_row,) = annual[1:]
    with_product = E["HN01", "2023-01"] + E["HN01", "2023-02"] + E["HN02", "2023-01"]
    assert year_row[0] == "2023" and f"{with_product / 2000.0:.4f}" in year_row
    assert "HN02 2023-02" in year_row  # the month left out is named
    monthly = table(page.text, "intensity_company_month")
    feb = next(r for r in monthly[1:] if r[0] == "2023-02")
    assert f"{E['HN01', '2023-02'] / 800.0:.4f}" in feb and "—" in feb  # no output value that month: blank
    jan_yoy = table(page.text, "yoy_month")[1]
    jan_2022 = 10 * GAS + 1000 * GRID[2022] + 100 * 0.440 + 42.652 * 0.0202 * 0.98 * 44 / 12 + 500 * GRID[2022] + 2 * 23.5
    assert jan_yoy[:3] == ["01", f"{jan_2022:.3f}", f"{E['HN01', '2023-01'] + E['HN02', '2023-01']:.3f}"]
    sites = table(page.text, "intensity_site_year")
    assert {r[0] for r in sites[1:]} == {"HN01", "HN02"}

    yoy = table(page.text, "yoy_category")
    gas = next(r for r in yoy[1:] if r[0] == "固定燃烧源")
    assert gas[1:] == [f"{30 * GAS:.3f}", f"{32 * GAS:.3f}", f"{2 * GAS:.3f}", f"{2 / 30:+.1%}"]
    ranking = table(page.text, "ranking_material")
    assert ranking[1][0] == "电力" and ranking[1][1] == f"{3000 * GRID[2023]:.3f}"
    assert table(page.text, "ranking_facility")[1][:2] == ["HN01", "GRID"]


def test_the_api_returns_the_same_figures_with_null_where_none_can_be_computed(figures, api):
    body = api(GM).get("/api/v1/accounting/indicators?year=2023").json()
    assert body["year"] == 2023
    (company,) = body["intensity_company_year"]
    assert company["tco2e"] == pytest.approx(sum(E.values()))
    feb = next(r for r in body["intensity_company_month"] if r["period"] == "2023-02")
    assert feb["tco2e_per_10k_cny"] is None and feb["value_10k_cny"] is None
    assert body["ranking_material"][0]["material"] == "electricity" and body["ranking_material"][0]["rank"] == 1
    hn02 = api(ACCOUNTANT2).get("/api/v1/accounting/indicators?year=2023&site=HN02").json()
    assert {r["site"] for r in hn02["intensity_site_year"]} == {"HN02"}


def test_reading_another_site_is_refused(figures, browser, api):
    assert browser(ACCOUNTANT2).get("/accounting/indicators?site=HN01&year=2023").status_code == 403
    assert api(ACCOUNTANT2).get("/api/v1/accounting/indicators?site=HN01&year=2023").status_code == 403
    bad = api(GM).get("/api/v1/accounting/indicators?year=twenty")
    assert bad.status_code == 422
