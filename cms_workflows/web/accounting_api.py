"""Emissions accounting over the JSON API (/api/v1/accounting/…): runs (paged, by site), one run with its
results, the figures of record, approving a run, and importing an activity-data file (a refused file
comes back as problem+json whose `errors` name each row and field)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service
from cms_workflows.accounting.reports import text
from cms_workflows.accounting.plausibility import parse_rows
from cms_workflows.web.accounting import (
    at_site, chosen_site, check_site, confirmed, official, one_site, read_upload, run_detail, site_choices, the_run,
)
from cms_workflows.web.authorization import requires
from cms_workflows.web.forms import form
from cms_workflows.web.paging import Paging, as_json, json_page, paging
from cms_workflows.web.session import Viewer, check_api_csrf, current_viewer

api = APIRouter(tags=["accounting"])

RUN_FIELDS = ("id", "first_period", "last_period", "status", "is_recalculation", "total_tco2e", "rows", "input_hash",
              "factor_version", "code_version", "created_by", "created_at", "approved_by", "approved_at")


def run_json(run, sites: list[str]) -> dict:
    out = as_json({k: getattr(run, k) for k in RUN_FIELDS})
    return {**out, "sites": sites, "options": json.loads(run.options or "{}")}


@api.get("/accounting/runs", dependencies=[requires("calculation", "read", resource=at_site("calculation", "read"))])
def list_runs(request: Request, page: Paging = Depends(paging), viewer: Viewer = Depends(current_viewer)):
    """Calculation runs, newest first; `?site=` only those with results at that site."""
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "calculation", "read")
        runs = q.list_runs(uow, viewer.username, one_site(site))
    return json_page(runs, page, lambda pair: run_json(*pair))


@api.get("/accounting/runs/{run_id}", dependencies=[requires("calculation", "read", resource=the_run)])
def get_run(run_id: int, viewer: Viewer = Depends(current_viewer)):
    """A run, its results by category and by facility, and its differences while it awaits approval."""
    with viewer.reading() as uow:
        detail = run_detail(uow, viewer.username, run_id)
    return {"run": run_json(detail["run"], detail["sites"]), "by_category": detail["by_category"],
            "by_facility": as_json(detail["by_facility"]), "differences": as_json(detail["differences"])}


@api.get("/accounting/results", dependencies=[requires("calculation", "read",
                                                       resource=at_site("calculation", "read"))])
def results(request: Request, viewer: Viewer = Depends(current_viewer)):
    """The figures of record of a year (`?year=`, default the latest closed one) at a site (`?site=`)."""
    with viewer.reading() as uow:
        site, year, frame = official(uow, viewer.username, request)
    return {"site": site, "year": year, "total_tco2e": float(frame["tco2e"].sum()) if len(frame) else 0.0,
            "items": as_json(frame.to_dict("records"))}


@api.post("/accounting/runs/{run_id}/approval", status_code=200,
          dependencies=[requires("calculation", "approve", resource=the_run)],
          openapi_extra=form("accounting_approve").openapi_body())
async def approve_run(request: Request, run_id: int, viewer: Viewer = Depends(current_viewer)):
    """Approve a run: `{"confirm": true, "comment": "…"}` (the comment is recorded with the approval; a run with
    missing months or unresolved warnings also needs `"accept_gaps": true`). Its
    months close; a recalculation replaces the locked figures."""
    check_api_csrf(request, viewer)
    try:
        body = await request.json()
    except ValueError:
        body = None
    data = form("accounting_approve").parse(body, api=True)
    confirmed(data)
    diff = await run_in_threadpool(viewer.act, service.approve_run, run_id, comment=data.get("comment") or "",
                                   accept_gaps=bool(data.get("accept_gaps")))
    with viewer.reading() as uow:
        run = q.get_run(uow, run_id)
        sites = q.run_site_map(uow).get(run_id, [])
    return {"run": run_json(run, sites), "differences": as_json(diff.to_dict("records"))}


@api.post("/accounting/imports", status_code=201,
          dependencies=[requires("activity_data", "submit", resource=at_site("activity_data", "submit"))])
async def import_file(request: Request, viewer: Viewer = Depends(current_viewer)):
    """Import an activity-data file: multipart `site` and `file` (.xlsx/.csv), the site also as `?site=`.
    All rows or none; a refused file answers 422 with one error per row and field."""
    check_api_csrf(request, viewer)
    definition = form("accounting_upload")
    posted = await request.form()
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "activity_data", "submit")
        choices = site_choices(uow, viewer.username, "activity_data", "submit")
    fields = {k: v for k in ("replace", "accept_outliers", "reason") if (v := posted.get(k)) is not None}
    data = definition.parse({"site": posted.get("site") or site, **fields}, choices={"site": choices})
    check_site(data, site)
    content, name = await read_upload(posted, definition)
    outcome = await run_in_threadpool(viewer.act, service.import_activity, content, name,
                                      replace=bool(data.get("replace")),
                                      accept_outliers=parse_rows(data.get("accept_outliers")),
                                      reason=data.get("reason") or "")
    return {"import_id": outcome.import_id, "rows": outcome.rows, "duplicate": outcome.duplicate,
            "sha256": outcome.sha256, "site": site, "production_months": outcome.outputs,
            "rows_skipped": outcome.skipped, "recalculation_needed": outcome.recalculation,
            "warnings": [{"row": w["row"], "field": w["field"], "code": w["key"], "message": text(w)} for w in outcome.warnings[:200]]}

