"""The indicators of the figures of record (issue 15 item 4, Annex F, R-9.1): company and site intensity
per month and per year, year-on-year by category and per month, ranking by source (material) and by
facility, for a year (`?year=`) at a site or at every site the user may read (`?site=`), as a page and as
JSON (/api/v1/accounting/indicators). Authorized as the results page; one read unit of work each."""

from __future__ import annotations

import json
import math

from fastapi import APIRouter, Depends, Request

from cms_workflows.accounting import reports
from cms_workflows.core.i18n import t
from cms_workflows.web.accounting import all_sites, at_site, chosen_site, one_site, year_of
from cms_workflows.web.authorization import requires
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, current_viewer

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["accounting"])

PERCENT = {"change_pct", "share", "cumulative_share"}
RATIOS = {"tco2e_per_t", "tco2e_per_10k_cny"}
HIDDEN = {"major"}  # the Pareto flag of the threshold: the facilities page has it; here rank and shares say enough
# the page's tables, in order: (key of reports.indicator_set, heading message key)
TABLES = [("intensity_company_month", "web.accounting.indicators.intensity_company"),
          ("intensity_company_year", None),
          ("intensity_site_month", "web.accounting.indicators.intensity_site"),
          ("intensity_site_year", None),
          ("yoy_category", "web.accounting.indicators.yoy_category"),
          ("yoy_month", "web.accounting.indicators.yoy_month"),
          ("ranking_material", "web.accounting.indicators.ranking_material"),
          ("ranking_facility", "web.accounting.indicators.ranking_facility")]


def _indicators(request: Request, viewer: Viewer):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "calculation", "read")
        year = year_of(uow, request, one_site(site))
        tables = reports.indicator_set(uow, viewer.username, year, one_site(site))
        sites = all_sites(uow)
    return site, year, tables, sites


def cell(column: str, value) -> str:
    """A figure as the page shows it: "—" when it cannot be computed (no production, no output value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("web.accounting.indicators.not_given")
    if column in PERCENT:
        return f"{value:+.1%}" if column == "change_pct" else f"{value:.1%}"
    if column in RATIOS:
        return f"{value:.4f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def shaped(frame) -> dict:
    """A table for the template: headers in the reader's language, cells formatted, numbers right-aligned."""
    # a code column gives way to its name in the reader's language
    columns = [c for c in frame.columns if c not in HIDDEN and f"{c}_name" not in frame.columns]
    return {"headers": [(t(f"cli.accounting.col.{c}"), frame[c].dtype.kind == "f") for c in columns],
            "rows": [[(cell(c, v), frame[c].dtype.kind == "f") for c, v in zip(columns, row)]
                     for row in frame[columns].itertuples(index=False)]}


@pages.get("/accounting/indicators", dependencies=[requires("calculation", "read",
                                                            resource=at_site("calculation", "read"))])
def indicators_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    site, year, tables, sites = _indicators(request, viewer)
    sections = [{"id": key, "heading": t(heading, year=year, previous=year - 1) if heading else None,
                 "sub": t("web.accounting.indicators.annual" if key.endswith("_year") else "web.accounting.indicators.monthly")
                 if key.startswith("intensity") else None, **shaped(tables[key])} for key, heading in TABLES]
    return page(request, "accounting_indicators.html", title=t("web.accounting.indicators.title"), site=site,
                year=year, sites=sites, sections=sections)


@api.get("/accounting/indicators", dependencies=[requires("calculation", "read",
                                                          resource=at_site("calculation", "read"))])
def indicators_json(request: Request, viewer: Viewer = Depends(current_viewer)):
    """A year's indicators (`?year=`, default the latest closed one) at a site (`?site=`) or every site the user
    may read: intensity (company/site × month/year), year-on-year, ranking by material and by facility. A
    figure that cannot be computed (no production or output value for the months) is null."""
    site, year, tables, _sites = _indicators(request, viewer)
    return {"site": site, "year": year,
            **{key: json.loads(frame.to_json(orient="records", force_ascii=False)) for key, frame in tables.items()}}
