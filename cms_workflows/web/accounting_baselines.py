"""Carbon baselines (R-6.3.2, R-9.1.1.3): the list with each baseline's state and approval, proposing
one from the figures of record of a base period, and its approval by top management, with a comment
that the audit trail keeps. Nobody approves a baseline they proposed (the command decides; the page
says so and offers no form)."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service
from cms_workflows.accounting.states import BASELINE
from cms_workflows.core.errors import AccessDenied, CmsError, NotFound, ValidationFailed
from cms_workflows.core.i18n import t
from cms_workflows.web.accounting import all_sites, at_site, category_name, chosen_site, confirmed, one_site
from cms_workflows.web.accounting_setup import refused, typed
from cms_workflows.web.authorization import requires
from cms_workflows.web.forms import form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)

SITE_LEVELS = ("site", "production_unit", "facility")


def baseline_resource(uow, baseline_id: int) -> Resource:
    """A baseline as the approval command sees it: company level, authored by whoever proposed it."""
    row = q.get_baseline(uow, baseline_id)
    return Resource("baseline", id=row.id, authors=frozenset({row.created_by}))


def the_baseline(uow, request: Request) -> Resource:
    """The resource loader of a route about one baseline (`{baseline_id}` in the path)."""
    try:
        baseline_id = int(request.path_params["baseline_id"])
    except (KeyError, ValueError):
        raise NotFound("accounting.unknown_baseline", baseline_id=request.path_params.get("baseline_id", "")) from None
    return baseline_resource(uow, baseline_id)


def site_of(row) -> str | None:
    return row.scope.split("/")[0] if row.level in SITE_LEVELS and row.scope else None


def scope_label(row) -> str:
    if row.level == "category":
        return category_name(row.scope)
    return row.scope or t("web.accounting.enterprise")


def _baselines_page(request: Request, viewer: Viewer, site: str, status_code: int = 200, values=None, errors=None,
                    approving: int | None = None):
    with viewer.reading() as uow:
        rows = [r for r in q.list_baselines(uow, viewer.username, one_site(site))
                if not one_site(site) or site_of(r) == site]
        approved = q.approvals(uow, viewer.username, "acc_baseline", site=one_site(site))
        may_propose = access.can(uow, viewer.username, "manage", Resource("baseline", site=site))
        may_approve = {r.id for r in rows if BASELINE.allows(r.status, "approve_baseline")
                       and access.can(uow, viewer.username, "approve", baseline_resource(uow, r.id))}
        sites = all_sites(uow)
    listed = [{"row": r, "scope": scope_label(r), "approval": approved.get(r.id),
               "reference": json.loads(r.reference or "{}")} for r in rows]
    return page(request, "accounting_baselines.html", status_code=status_code,
                title=t("web.accounting.baselines_title"), site=site, sites=sites, baselines=listed,
                may_propose=may_propose, may_approve=may_approve, form=form("accounting_baseline"),
                approve_form=form("accounting_baseline_approve"), values=values or {"method": "average"},
                errors=errors or {}, approving=approving, viewer_name=viewer.username)


@pages.get("/accounting/baselines", dependencies=[requires("baseline", "read", resource=at_site("baseline", "read"))])
def baselines_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "baseline", "read")
    return _baselines_page(request, viewer, site)


@pages.post("/accounting/baselines", dependencies=[requires("baseline", "manage",
                                                            resource=at_site("baseline", "manage"))])
def propose(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    """`accounting.baseline.create`, as `cms accounting baseline set` takes it; the command authorizes at
    every site of the scope."""
    definition = form("accounting_baseline")
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "baseline", "manage")
    try:
        data = definition.parse(posted)
        viewer.act(service.set_baseline, data["level"], data.get("scope") or "", data["base_from"], data["base_to"],
                   data["method"])
    except AccessDenied:
        raise
    except CmsError as exc:
        return _baselines_page(request, viewer, site, 422 if isinstance(exc, ValidationFailed) else exc.http_status,
                               typed(posted, definition), refused(exc))
    return RedirectResponse(f"/accounting/baselines?site={quote(site)}", status_code=303)


@pages.post("/accounting/baselines/{baseline_id}/approve",
            dependencies=[requires("baseline", "approve", resource=the_baseline)])
def approve(request: Request, baseline_id: int, viewer: Viewer = Depends(current_viewer),
            posted=Depends(checked_form)):
    """`accounting.baseline.approve` with the approver's comment (an approval step: confirm + comment)."""
    definition = form("accounting_baseline_approve")
    try:
        data = definition.parse(posted)
        confirmed(data, "accounting_baseline_approve")
        viewer.act(service.approve_baseline, baseline_id, comment=data.get("comment") or "")
    except AccessDenied:
        raise
    except CmsError as exc:
        values = {"confirm": bool(posted.get("confirm")), "comment": str(posted.get("comment") or "")}
        return _baselines_page(request, viewer, COMPANY_WIDE,
                               422 if isinstance(exc, ValidationFailed) else exc.http_status,
                               values, refused(exc), approving=baseline_id)
    return RedirectResponse(f"/accounting/baselines#baseline-{baseline_id}", status_code=303)
