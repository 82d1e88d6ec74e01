"""Emissions accounting pages (GB/T 32150, R-6.3, R-9.1): the import template, uploading a month of
activity data (the row/field report of a refused file on the page), calculation runs, their approval
with the approver's comment, the figures of record with charts and the Excel export. The plan, output,
factors and baselines are in `accounting_setup` and `accounting_baselines`.

A page about a site takes it from `?site=` (default: the first site where the user may act); a form
that acts at a site posts to its page's URL, `?site=` included, so the route's permission is decided
on the same site before the form is read, and the posted `site` must agree with it."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.accounting import charts, results_workbook
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service
from cms_workflows.accounting.factors import Options, categories
from cms_workflows.accounting.plausibility import parse_rows
from cms_workflows.accounting.states import RUN
from cms_workflows.core.errors import AccessDenied, CmsError, NotFound, ValidationFailed, problem
from cms_workflows.core.i18n import current_locale, pick, t
from cms_workflows.org import queries as org_queries
from cms_workflows.web.authorization import requires
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer, signed_in_viewer

pages = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_SUFFIXES = (".xlsx", ".csv")
CHARTS = ("monthly_trend", "categories")


# ------------------------------------------------------------------ sites and permission loaders

def chosen_site(uow, request: Request, object_type: str, action: str) -> str:
    """`?site=`, else company-wide for a company-wide user, else the first site where the user may act."""
    site = request.query_params.get("site")
    if site:
        return site
    username = signed_in_viewer(request).username
    if access.can(uow, username, action, Resource(object_type, site=COMPANY_WIDE)):
        return COMPANY_WIDE
    for s in org_queries.list_sites(uow):
        if access.can(uow, username, action, Resource(object_type, site=s.code)):
            return s.code
    return COMPANY_WIDE


def at_site(object_type: str, action: str):
    """A resource loader: the object type at the page's site (`chosen_site`)."""
    def loader(uow, request: Request) -> Resource:
        return Resource(object_type, site=chosen_site(uow, request, object_type, action))
    return loader


def run_resource(uow, run_id: int) -> Resource:
    """A run as the access module sees it: at its (first) site, authored by whoever started it."""
    run = q.get_run(uow, run_id)
    sites = q.run_site_map(uow).get(run.id) or [COMPANY_WIDE]
    return Resource("calculation", site=sites[0], id=run.id, authors=frozenset({run.created_by}))


def the_run(uow, request: Request) -> Resource:
    """The resource loader of a route about one run (`{run_id}` in the path)."""
    try:
        run_id = int(request.path_params["run_id"])
    except (KeyError, ValueError):
        raise NotFound("accounting.unknown_run", run_id=request.path_params.get("run_id", "")) from None
    return run_resource(uow, run_id)


def site_choices(uow, username: str, object_type: str, action: str) -> list[tuple[str, str]]:
    """The sites where the user may take the action: (code, code and name in the user's language)."""
    return [(s.code, f"{s.code} {pick(s.name_zh, s.name_en)}") for s in org_queries.list_sites(uow)
            if access.can(uow, username, action, Resource(object_type, site=s.code))]


def all_sites(uow) -> list[tuple[str, str]]:
    return [(s.code, f"{s.code} {pick(s.name_zh, s.name_en)}") for s in org_queries.list_sites(uow)]


def one_site(site: str) -> str | None:
    return None if site in ("", COMPANY_WIDE) else site


def category_name(code: str) -> str:
    info = categories().get(code) or {}
    return pick(info.get("name_zh"), info.get("name_en")) or code


def year_of(uow, request: Request, site: str | None) -> int:
    """`?year=`, else the latest year with figures of record, else this year."""
    raw = request.query_params.get("year", "")
    if raw.isdigit() and len(raw) == 4:
        return int(raw)
    if raw:
        raise ValidationFailed("web.accounting.bad_year", problems=[problem("year", "web.accounting.bad_year")])
    closed = q.locks(uow, "0001-01", "9999-12", [site] if site else None)
    return max((int(p[:4]) for _s, p in closed), default=uow.clock.today().year)


def check_site(data: dict, site: str) -> None:
    """The posted site must be the one whose permission the route decided (`?site=` of the form's URL)."""
    if data.get("site") != site:
        raise ValidationFailed("web.form.invalid", form="", problems=[problem("site", "web.accounting.site_changed")])


def problem_rows(exc: CmsError) -> list[dict]:
    """A refused file's report: row, field (named in the user's language) and message."""
    out = []
    for p in getattr(exc, "problems", []) or []:
        name = p.get("field") or ""
        label = t(f"web.accounting.field.{name}") if name else ""
        out.append({"row": p.get("row"), "field": name, "label": label if not label.startswith("web.") else name,
                    "message": t(p["key"], **p.get("params", {})) if "key" in p else p.get("message", "")})
    return out


# ------------------------------------------------------------------ overview and template

@pages.get("/accounting", dependencies=[requires("calculation", "read", resource=at_site("calculation", "read"))])
def overview(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "calculation", "read")
        runs = q.list_runs(uow, viewer.username, one_site(site))[:10]
        sites = all_sites(uow)
        may_upload = site_choices(uow, viewer.username, "activity_data", "submit")
        may_run = site_choices(uow, viewer.username, "calculation", "run")
    return page(request, "accounting_overview.html", title=t("web.accounting.title"), site=site, sites=sites,
                runs=runs, may_upload=may_upload, may_run=may_run)


def last_month(request: Request) -> str:
    today = request.app.state.db.clock.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"


@pages.get("/accounting/template", dependencies=[requires("activity_data", "read",
                                                          resource=at_site("activity_data", "read"))])
def template_download(request: Request, viewer: Viewer = Depends(current_viewer)):
    """The import template of a site's plan lines for the months asked (`?period=YYYY-MM`, repeatable)."""
    periods = request.query_params.getlist("period") or [last_month(request)]
    fmt = "csv" if request.query_params.get("format") == "csv" else "xlsx"
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "activity_data", "read")
        data = q.template(uow, viewer.username, periods, one_site(site), fmt)
    name = f"activity_template_{site if one_site(site) else 'all'}_{periods[0]}.{fmt}"
    media = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ------------------------------------------------------------------ upload

def _upload_page(request: Request, viewer: Viewer, site: str, status_code: int = 200, **context):
    with viewer.reading() as uow:
        choices = site_choices(uow, viewer.username, "activity_data", "submit")
    context.setdefault("errors", {})
    context.setdefault("report", [])
    context.setdefault("outcome", None)
    return page(request, "accounting_upload.html", status_code=status_code, title=form("accounting_upload").title,
                form=form("accounting_upload"), site=site, choices={"site": choices}, values={"site": site},
                this_month=last_month(request), **context)


@pages.get("/accounting/upload", dependencies=[requires("activity_data", "submit",
                                                        resource=at_site("activity_data", "submit"))])
def upload_form(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "activity_data", "submit")
    return _upload_page(request, viewer, site)


async def read_upload(posted, definition) -> tuple[bytes, str]:
    """The uploaded file's bytes and name; a missing file or another kind of file is the field's problem."""
    upload = posted.get("file")
    name = getattr(upload, "filename", "") or ""
    if not name:
        raise ValidationFailed("web.form.invalid", form=definition.title, problems=[
            problem("file", "web.form.required", label=definition.field("file").label)])
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        raise ValidationFailed("web.form.invalid", form=definition.title, problems=[
            problem("file", "web.accounting.bad_suffix", suffixes=", ".join(UPLOAD_SUFFIXES))])
    return await upload.read(), name


@pages.post("/accounting/upload", dependencies=[requires("activity_data", "submit",
                                                         resource=at_site("activity_data", "submit"))])
async def upload(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    definition = form("accounting_upload")
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "activity_data", "submit")
        choices = site_choices(uow, viewer.username, "activity_data", "submit")
    try:
        data = definition.parse(posted, choices={"site": choices})
        check_site(data, site)
        content, name = await read_upload(posted, definition)
        confirmed = parse_rows(data.get("accept_outliers"))  # implausible rows the user confirms (issue 15)
        outcome = await run_in_threadpool(viewer.act, service.import_activity, content, name,
                                          replace=bool(data.get("replace")), accept_outliers=confirmed,
                                          reason=data.get("reason") or "")
    except ValidationFailed as exc:
        if exc.key in ("web.form.invalid", "accounting.invalid_accept_outliers"):  # the form: beside its fields
            return _upload_page(request, viewer, site, 422, errors=field_errors(exc))
        return _upload_page(request, viewer, site, 422, report=problem_rows(exc), refusal=t(exc.key, **exc.params))
    except AccessDenied:
        raise
    except CmsError as exc:
        return _upload_page(request, viewer, site, exc.http_status, report=problem_rows(exc),
                            refusal=t(exc.key, **exc.params))
    warnings = [{"row": w["row"], "field": w["field"], "label": t(f"web.accounting.field.{w['field']}"),
                 "message": t(w["key"], **w.get("params", {}))} for w in outcome.warnings[:200]]
    return _upload_page(request, viewer, site, outcome=outcome, warnings=warnings)


# ------------------------------------------------------------------ runs

def _runs_page(request: Request, viewer: Viewer, site: str, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        runs = q.list_runs(uow, viewer.username, one_site(site))
        sites = all_sites(uow)
        choices = site_choices(uow, viewer.username, "calculation", "run")
    run_site = site if site in {c for c, _ in choices} else (choices[0][0] if choices else "")
    return page(request, "accounting_runs.html", status_code=status_code, title=t("web.accounting.runs_title"),
                site=site, sites=sites, runs=runs, form=form("accounting_run"), run_site=run_site,
                choices={"site": choices}, values=values or {"site": run_site, "electricity_kind": "statistical",
                                                             "gwp_set": "AR5"}, errors=errors or {})


@pages.get("/accounting/runs", dependencies=[requires("calculation", "read", resource=at_site("calculation", "read"))])
def runs_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "calculation", "read")
    return _runs_page(request, viewer, site)


@pages.post("/accounting/runs", dependencies=[requires("calculation", "run", resource=at_site("calculation", "run"))])
def start_run(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    definition = form("accounting_run")
    with viewer.reading() as uow:
        site = chosen_site(uow, request, "calculation", "run")
        choices = site_choices(uow, viewer.username, "calculation", "run")
    values = {k: str(posted.get(k, "")) for k in ("site", "first", "last", "electricity_kind", "gwp_set")}
    try:
        data = definition.parse(posted, choices={"site": choices})
        check_site(data, site)
        options = Options(electricity_kind=data["electricity_kind"], gwp_set=data["gwp_set"],
                          carbonate_table=data.get("carbonate_table") or None)
        outcome = viewer.act(service.calculate, data["first"], data["last"], [site], options)
    except ValidationFailed as exc:
        return _runs_page(request, viewer, site, 422, values, field_errors(exc))
    except AccessDenied:
        raise
    except CmsError as exc:
        return _runs_page(request, viewer, site, exc.http_status, values, {"": exc.message()})
    return RedirectResponse(f"/accounting/runs/{outcome.run_id}", status_code=303)


def run_detail(uow, username: str, run_id: int) -> dict:
    """A run with its results by category and by facility and, while it awaits approval as a
    recalculation, its differences against the locked figures."""
    run = q.get_run(uow, run_id)
    sites = q.run_site_map(uow).get(run.id, [])
    parts = [q.results_for(uow, username, run_id, site=s) for s in sites]  # read permission at each site
    results = pd.concat(parts, ignore_index=True) if parts else q.run_results(uow, run_id)
    by_category = results.groupby("category")["tco2e"].sum().sort_values(ascending=False)
    by_facility = results.groupby(["site", "production_unit", "facility", "category"])["tco2e"].sum().reset_index()
    diff = None
    if run.is_recalculation and RUN.allows(run.status, "approve_run"):
        locked = q.locks(uow, run.first_period, run.last_period, q.run_sites(run))
        diff = q.differences(uow, sorted(set(locked.values())), run.id, locked).to_dict("records")
    return {"run": run, "sites": sites,
            "by_category": [{"category": c, "tco2e": float(v)} for c, v in by_category.items()],
            "by_facility": by_facility.to_dict("records"), "differences": diff}


def _run_page(request: Request, viewer: Viewer, run_id: int, status_code: int = 200, errors=None, values=None):
    with viewer.reading() as uow:
        detail = run_detail(uow, viewer.username, run_id)
        run = detail["run"]
        approval = q.approvals(uow, viewer.username, "acc_run", run_id, site=(detail["sites"] or [None])[0]).get(run_id)
        approvable = RUN.allows(run.status, "approve_run")
        may_approve = approvable and access.can(uow, viewer.username, "approve", run_resource(uow, run_id))
    warnings = []
    if approvable and run.created_by == viewer.username:
        warnings.append(t("web.accounting.warn_own_run"))
    if approvable and run.is_recalculation:
        warnings.append(t("web.accounting.warn_recalculation"))
    if approvable and not detail["by_facility"]:
        warnings.append(t("web.accounting.warn_empty"))
    return page(request, "accounting_run.html", status_code=status_code,
                title=t("web.accounting.run_title", run_id=run_id), **detail, category_name=category_name,
                approvable=approvable, may_approve=may_approve, warnings=warnings, form=form("accounting_approve"),
                errors=errors or {}, values=values or {}, approval=approval)


@pages.get("/accounting/runs/{run_id}", dependencies=[requires("calculation", "read", resource=the_run)])
def run_page(request: Request, run_id: int, viewer: Viewer = Depends(current_viewer)):
    return _run_page(request, viewer, run_id)


@pages.post("/accounting/runs/{run_id}/approve",
            dependencies=[requires("calculation", "approve", resource=the_run)])
def approve(request: Request, run_id: int, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    try:
        data = form("accounting_approve").parse(posted)
        confirmed(data)
        viewer.act(service.approve_run, run_id, comment=data.get("comment") or "",
                   accept_gaps=bool(data.get("accept_gaps")))
    except ValidationFailed as exc:
        errors = field_errors(exc)
        if exc.key.startswith("accounting.approval_gaps"):  # what to do about the gaps listed at the checkbox
            errors = {"": exc.message(), **errors}
        return _run_page(request, viewer, run_id, 422, errors, _typed(posted))
    except AccessDenied:
        raise
    except CmsError as exc:
        return _run_page(request, viewer, run_id, exc.http_status, {"": exc.message()})
    return RedirectResponse(f"/accounting/runs/{run_id}", status_code=303)


def _typed(posted) -> dict:
    """What the approver typed, shown again with the form's problems."""
    return {"confirm": bool(posted.get("confirm")), "comment": str(posted.get("comment") or ""),
            "accept_gaps": bool(posted.get("accept_gaps"))}


def confirmed(data: dict, name: str = "accounting_approve") -> None:
    """An approval is evidence: the approver says they checked what they approve (the results and
    differences of a run, the reference values of a baseline)."""
    if not data.get("confirm"):
        raise ValidationFailed("web.form.invalid", form=form(name).title, problems=[
            problem("confirm", "web.accounting.confirm_required")])


# ------------------------------------------------------------------ figures of record, charts, export

def official(uow, username: str, request: Request) -> tuple[str, int, object]:
    site = chosen_site(uow, request, "calculation", "read")
    year = year_of(uow, request, one_site(site))
    return site, year, q.official_results(uow, username, f"{year}-01", f"{year}-12", one_site(site))


@pages.get("/accounting/results", dependencies=[requires("calculation", "read",
                                                         resource=at_site("calculation", "read"))])
def results_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        site, year, frame = official(uow, viewer.username, request)
        sites = all_sites(uow)
    by_month = frame.groupby("period")["tco2e"].sum().sort_index() if len(frame) else None
    by_category = frame.groupby("category")["tco2e"].sum().sort_values(ascending=False) if len(frame) else None
    return page(request, "accounting_results.html", title=t("web.accounting.results_title"), site=site, year=year,
                sites=sites, by_month=list(by_month.items()) if by_month is not None else [],
                by_category=list(by_category.items()) if by_category is not None else [],
                total=float(frame["tco2e"].sum()) if len(frame) else 0.0, category_name=category_name,
                charts=CHARTS + (("sources",) if results_workbook.has_sources(frame) else ()),
                query=urlencode({"site": site, "year": year}))


@pages.get("/accounting/charts/{name}.png", dependencies=[requires("calculation", "read",
                                                                   resource=at_site("calculation", "read"))])
def chart(request: Request, name: str, viewer: Viewer = Depends(current_viewer)):
    draw = {"monthly_trend": charts.monthly_trend, "categories": charts.category_breakdown,
            "sources": charts.source_breakdown}.get(name)  # sources: by material, where results record it
    if draw is None:
        raise NotFound("web.accounting.unknown_chart", name=name)
    with viewer.reading() as uow:
        _site, year, frame = official(uow, viewer.username, request)
    if not len(frame):
        raise NotFound("web.accounting.no_results", year=year)
    png = draw(frame, locale=current_locale())  # titles, axes and names in the viewer's language
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@pages.get("/accounting/results.xlsx", dependencies=[requires("calculation", "read",
                                                              resource=at_site("calculation", "read"))])
def results_xlsx(request: Request, viewer: Viewer = Depends(current_viewer)):
    """The results workbook of a year's figures of record in the viewer's language (sheets by site,
    category, month, facility and source), as the CLI's `results --out x.xlsx`."""

    with viewer.reading() as uow:
        site = chosen_site(uow, request, "calculation", "read")
        year = year_of(uow, request, one_site(site))
        data = results_workbook.for_request(uow, viewer.username, first=f"{year}-01", last=f"{year}-12",
                                            site=one_site(site), locale=current_locale())
    name = f"emissions_{site if one_site(site) else 'all'}_{year}_{current_locale()}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

