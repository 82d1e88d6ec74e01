"""What accounting is built on, maintained on pages: the data collection plan with its "add a plan line"
form (R-6.3.2, R-6.3.5), the production output of each site and month (the Annex F intensity
denominators) and the emission factor library in force with the company's own values (X-5).

Each form posts to its page's URL with `?site=` (the site whose permission the route decides before the
form is read); the posted site must agree with it (`accounting.check_site`). A mistake comes back beside
its field with status 422 and nothing written."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource, position_labels
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service
from cms_workflows.accounting.factors import categories
from cms_workflows.core.errors import AccessDenied, CmsError, ValidationFailed
from cms_workflows.core.i18n import pick, t
from cms_workflows.web.accounting import (
    all_sites, at_site, category_name, check_site, chosen_site, last_month, one_site,
    site_choices,
)
from cms_workflows.web.authorization import requires
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)

CALIBRATED = {"yes": True, "no": False}


def form_site(site: str, choices: list[tuple[str, str]]) -> str:
    """The site a page's form acts at: the page's own when the user may act there, else their first."""
    return site if site in {c for c, _ in choices} else (choices[0][0] if choices else "")


def typed(posted, definition) -> dict:
    """What the user typed, shown again beside the problems."""
    return {f.name: str(posted.get(f.name) or "") for f in definition.fields if f.type != "file"}


def refused(exc: CmsError) -> dict[str, str]:
    """A command's refusal beside its fields (a validation) or above the form (anything else)."""
    return field_errors(exc) if isinstance(exc, ValidationFailed) else {"": exc.message()}


def post_at_site(request: Request, viewer: Viewer, posted, form_name: str, permission: tuple[str, str],
                 run, redisplay, next_url: str, sites=None, choices: dict | None = None):
    """One form post of these pages: the page's site, the form parsed (the site must be one offered and the
    page's own), `run(site, data)` as the user, then back to `next_url` (with the site); a refusal other
    than access comes back on the page (`redisplay`) beside its fields, with what was typed."""
    definition = form(form_name)
    with viewer.reading() as uow:
        site = chosen_site(uow, request, *permission)
        offered = (sites or (lambda u, n: site_choices(u, n, *permission)))(uow, viewer.username)
    try:
        data = definition.parse(posted, choices={"site": offered, **(choices or {})})
        check_site(data, site)
        run(site, data)
    except AccessDenied:
        raise
    except CmsError as exc:
        return redisplay(request, viewer, site, 422 if isinstance(exc, ValidationFailed) else exc.http_status,
                         typed(posted, definition), refused(exc))
    return RedirectResponse(next_url.format(site=quote(site)), status_code=303)


# ------------------------------------------------------------------ the data collection plan

def _plan_page(request: Request, viewer: Viewer, site: str, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        items = q.plan(uow, one_site(site))
        sites = all_sites(uow)
        choices = site_choices(uow, viewer.username, "emission_factor", "manage")
    labels = position_labels()
    positions = {i.responsible_position: pick(*labels[i.responsible_position]) if i.responsible_position in labels
                 else i.responsible_position for i in items}
    line_site = form_site(site, choices)
    return page(request, "accounting_plan.html", status_code=status_code, title=t("web.accounting.plan_title"),
                site=site, sites=sites, items=items, positions=positions, category_name=category_name,
                this_month=last_month(request), form=form("accounting_plan_item"), line_site=line_site,
                choices={"site": choices, "category": category_choices()},
                values=values or {"site": line_site, "data_source": "meter"}, errors=errors or {})


def category_choices() -> list[tuple[str, str]]:
    return [(code, f"{category_name(code)} ({code})") for code in categories()]


@pages.get("/accounting/plan", dependencies=[requires("activity_data", "read",
                                                      resource=at_site("activity_data", "read"))])
def plan_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "activity_data", "read")
    return _plan_page(request, viewer, site)


@pages.post("/accounting/plan", dependencies=[requires("emission_factor", "manage",
                                                       resource=at_site("emission_factor", "manage"))])
def add_plan_line(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    """`accounting.plan_item.create`, as `cms accounting plan add` takes it."""
    def run(site: str, data: dict) -> None:
        viewer.act(service.add_plan_item, site=site, production_unit=data["production_unit"],
                   facility=data["facility"], category=data["category"], material=data["material"],
                   unit=data["unit"], data_source=data["data_source"], facility_name=data.get("facility_name") or "",
                   meter_calibrated=CALIBRATED.get(data.get("calibrated") or ""), purity=data.get("purity"))

    return post_at_site(request, viewer, posted, "accounting_plan_item", ("emission_factor", "manage"), run,
                        _plan_page, "/accounting/plan?site={site}#plan-lines",
                        choices={"category": category_choices()})


# ------------------------------------------------------------------ production output (intensity)

def _output_page(request: Request, viewer: Viewer, site: str, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        rows = q.outputs(uow, viewer.username, one_site(site))
        sites = all_sites(uow)
        choices = site_choices(uow, viewer.username, "activity_data", "submit")
    output_site = form_site(site, choices)
    return page(request, "accounting_output.html", status_code=status_code, title=t("web.accounting.output_title"),
                site=site, sites=sites, rows=rows, form=form("accounting_output"), output_site=output_site,
                choices={"site": choices}, values=values or {"site": output_site, "period": last_month(request)},
                errors=errors or {})


@pages.get("/accounting/output", dependencies=[requires("activity_data", "read",
                                                        resource=at_site("activity_data", "read"))])
def output_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "activity_data", "read")
    return _output_page(request, viewer, site)


@pages.post("/accounting/output", dependencies=[requires("activity_data", "submit",
                                                         resource=at_site("activity_data", "submit"))])
def record_output(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    """`accounting.production_output.record`, as `cms accounting output` takes it."""
    def run(site: str, data: dict) -> None:
        viewer.act(service.record_output, site, data["period"], data["product_t"], data["value_10k_cny"])

    return post_at_site(request, viewer, posted, "accounting_output", ("activity_data", "submit"), run,
                        _output_page, "/accounting/output?site={site}")


# ------------------------------------------------------------------ the factor library in force

def factor_sites(uow, username: str) -> list[tuple[str, str]]:
    """Where the user may set a company value: company-wide ("*") first when allowed, then each site."""
    wide = [(COMPANY_WIDE, t("web.accounting.all_sites"))] if access.can(
        uow, username, "manage", Resource("emission_factor", site=COMPANY_WIDE)) else []
    return wide + site_choices(uow, username, "emission_factor", "manage")


def _factors_page(request: Request, viewer: Viewer, site: str, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        library = q.library(uow)
        overrides = [o for o in q.overrides(uow) if not one_site(site) or o.site in (site, COMPANY_WIDE)]
        sites = all_sites(uow)
        choices = factor_sites(uow, viewer.username)
    materials = sorted(library.materials().items())
    factor_site = form_site(site, choices)
    return page(request, "accounting_factors.html", status_code=status_code, title=t("web.accounting.factors_title"),
                site=site, sites=sites, version=library.version(), materials=materials, overrides=overrides,
                form=form("accounting_factor"), factor_site=factor_site, choices={"site": choices},
                values=values or {"site": factor_site}, errors=errors or {})


@pages.get("/accounting/factors", dependencies=[requires("emission_factor", "read",
                                                         resource=at_site("emission_factor", "read"))])
def factors_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "emission_factor", "read")
    return _factors_page(request, viewer, site)


@pages.post("/accounting/factors", dependencies=[requires("emission_factor", "manage",
                                                          resource=at_site("emission_factor", "manage"))])
def add_factor(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    """`accounting.factor_override.create`, as `cms accounting factor` takes it (its evidence is a reference)."""
    def run(site: str, data: dict) -> None:
        viewer.act(service.add_factor_override, material=data["material"], parameter=data["parameter"],
                   value=data["value"], evidence=data["evidence"], site=site, source=data.get("source") or "",
                   unit=data.get("unit") or None, year_from=data.get("year_from"), year_to=data.get("year_to"))

    return post_at_site(request, viewer, posted, "accounting_factor", ("emission_factor", "manage"), run,
                        _factors_page, "/accounting/factors?site={site}", sites=factor_sites)
