"""Pages and API of the PDCA cases (issue 11, 12): the cases a user may read, one case with its stage, texts,
items, tasks, report and timeline (the audit trail itself), and the human steps of every process as forms.

The steps are the CLI's (`processes.steps.steps()`: every command of every process module); each has its
form `forms/case_<kind>_<step>.yaml` whose `stages` say when the step may be taken. A posted step is parsed by
its form, converted to the command's parameters by the CLI's own `arguments`, run as the user through the command
pipeline (its checks by field, its access decision, its event), then the case is moved on as far as its
conditions allow (`engine.advance`, as `cms cases do` does).

Permissions: a case route needs `read` (or the step's action, or `cancel`) on `case.<kind>` at the case's
site; the lists are the user's own view (`OWN`), filtered case by case by `queries.list_cases`; opening a
case by hand needs `open` on `case.<kind>` at the company level or at one of the sites.
"""

from __future__ import annotations

import inspect
import json
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import RedirectResponse

from cms_workflows.access import COMPANY_WIDE, Grant, Resource, get_access
from cms_workflows.processes.steps import OPEN, arguments, step_of, steps
from cms_workflows.core.errors import AccessDenied, CmsError, NotFound, ValidationFailed
from cms_workflows.core.i18n import t
from cms_workflows.processes import cases, engine, queries
from cms_workflows.processes.registry import processes
from cms_workflows.web.authorization import OWN, Requires, requires
from cms_workflows.web.forms import FormDefinition, field_errors, form
from cms_workflows.web.paging import Paging, json_page, paging
from cms_workflows.web.rendering import page, position_name
from cms_workflows.web.session import Viewer, check_api_csrf, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["cases"])
FINAL = engine.FINAL


# ---------------------------------------------------------------- the steps and their forms

def form_name(kind: str, verb: str) -> str:
    return f"case_{kind}_{verb}"


@lru_cache(maxsize=None)
def form_extras(name: str) -> dict:
    """What a step's form says beyond the form itself: `stages` (when it may be taken), `by_hand`."""
    text = (resources.files("cms_workflows.forms") / f"{name}.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text) or {}
    return {"stages": tuple(raw.get("stages") or ()), "by_hand": raw.get("by_hand", True)}


def step_form(kind: str, verb: str) -> FormDefinition:
    step_of(kind, verb)  # an unknown kind or step: 404, naming the known ones
    return form(form_name(kind, verb))


@lru_cache(maxsize=None)
def _custom_authorize(fn):
    """The command's own `authorize` (a step whose doer is decided beyond the policy line, e.g. the owner
    position of a nonconformity), read from the command pipeline's closure; None for a plain decision."""
    return inspect.getclosurevars(fn).nonlocals.get("authorize")


def authorize_step(uow, username: str, fn, case) -> Grant:
    """The route's decision for a step: the command's action on the case, as the command decides it."""
    control, resource = get_access(), cases.resource_of(case)
    custom = _custom_authorize(fn)
    if custom is not None:
        return custom(control, uow, username, fn.command.action, resource)
    return control.decide(uow, username, fn.command.action, resource)


def may_take(uow, username: str, fn, case) -> bool:
    try:
        authorize_step(uow, username, fn, case)
    except AccessDenied:
        return False
    return True


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def command_arguments(fn, definition: FormDefinition, data: Mapping, *, api: bool = False) -> dict:
    """The posted form (or JSON body) as the command's keyword arguments: validated by the form, then
    converted by the CLI's `arguments` (lists, JSON, dates as the parameters' types); files as (name, bytes)."""
    values = definition.parse(data, api=api)
    pairs = [f"{name}={_as_text(v)}" for name, v in values.items() if v is not None and v != "" and v != []]
    kwargs = arguments(fn, pairs)
    for f in definition.fields:
        upload = data.get(f.name) if f.type == "file" and not api else None
        if upload is not None and getattr(upload, "filename", ""):
            kwargs[f.name] = (upload.filename, upload.file.read())
    return kwargs


def run_step(viewer: Viewer, number: str, verb: str, data: Mapping, *, api: bool = False) -> list[str]:
    """One step of a case as the user, then the case moved on: the automatic steps taken."""
    with viewer.reading() as uow:
        kind = cases.get_case(uow, number).kind
    fn = step_of(kind, verb)
    if verb == OPEN:
        raise NotFound("web.cases.unknown_step", step=verb)
    kwargs = command_arguments(fn, step_form(kind, verb), data, api=api)
    viewer.act(fn, number, **kwargs)
    return engine.advance(viewer.db, number)


# ---------------------------------------------------------------- permissions of the routes

def _case_resource(uow, request: Request) -> Resource:
    return cases.resource_of(cases.get_case(uow, request.path_params["number"]))


class StepRequires(Requires):
    """A step's permission: the step command's action on `case.<kind>` at the case's site (decided as the
    command decides it). The action depends on the step, so the declaration names every case action ("*")."""

    def __init__(self) -> None:
        super().__init__("case.*", "*", _case_resource)

    def __call__(self, request: Request, viewer: Viewer = Depends(current_viewer)) -> Grant:
        with viewer.reading() as uow:
            case = cases.get_case(uow, request.path_params["number"])
            return authorize_step(uow, viewer.username, step_of(case.kind, request.path_params["step"]), case)


def permitted_site(uow, username: str, object_type: str, action: str) -> str | None:
    """The company level, else the first site, at which the user may take the action; None when nowhere."""
    from cms_workflows.org.queries import site_codes

    control = get_access()
    for site in [COMPANY_WIDE, *sorted(site_codes(uow))]:
        if not isinstance(control.check(uow, username, action, Resource(object_type, site=site)), AccessDenied):
            return site
    return None


def _open_resource(uow, request: Request) -> Resource:
    kind = request.query_params.get("kind") or ""
    step_of(kind, OPEN)
    object_type = f"case.{kind}"
    site = permitted_site(uow, str(request.state.viewer.actor), object_type, "open")
    return Resource(object_type, site=site or COMPANY_WIDE)  # nowhere: the refusal names the positions


READ = requires("case.*", "read", resource=_case_resource)
STEP = Depends(StepRequires())
CANCEL = requires("case.*", "cancel", resource=_case_resource)
OPEN_CASE = requires("case.*", "open", resource=_open_resource)


# ---------------------------------------------------------------- shapes

def kind_label(kind: str) -> str:
    return t(f"processes.kind.{kind}")


def stage_label(stage: str) -> str:
    return t(f"processes.state.{stage}")


def case_json(case) -> dict:
    return {"number": case.number, "kind": case.kind, "kind_label": kind_label(case.kind), "site": case.site,
            "stage": case.status, "stage_label": stage_label(case.status), "trigger": case.trigger,
            "trigger_ref": case.trigger_ref, "year": case.year,
            "period_start": case.period_start.isoformat() if case.period_start else None,
            "period_end": case.period_end.isoformat() if case.period_end else None,
            "due": case.due.isoformat() if case.due else None, "report": case.document_number,
            "opened_by": case.opened_by, "opened_at": case.opened_at.isoformat(),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None}


def task_json(task) -> dict:
    from cms_workflows.tasks.queries import title

    return {"id": task.id, "key": task.key, "title": title(task), "status": task.status,
            "status_label": t(f"tasks.state.{task.status}"), "due": task.due.isoformat(), "position": task.position,
            "assignee": task.assignee, "site": task.site}


def view_json(view: queries.CaseView) -> dict:
    items = [{"kind": kind, "seq": item.seq, "status": item.status, "data": data, "task_key": item.task_key}
             for kind, rows in view.items.items() for item, data in rows]
    return {**case_json(view.case), "data": view.data, "texts": view.texts, "items": items,
            "tasks": [task_json(x) for x in view.tasks], "parent": view.parent, "children": view.children}


@lru_cache(maxsize=1)
def _titles_by_command() -> dict[str, str]:
    return {form_name(kind, verb): fn.command.event for kind, known in steps().items() for verb, fn in known.items()}


def event_label(action: str) -> str:
    """An event of the timeline in the reader's language: a step by its form's title, else a message key."""
    for name, event in _titles_by_command().items():
        if event == action:
            return form(name).title
    key = "web.cases.event." + action.replace(".", "_")
    text = t(key)
    return action if text == key else text


def event_json(event) -> dict:
    payload = json.loads(event.payload or "{}")
    moved = {"from": payload.get("from"), "to": payload.get("to")} if payload.get("to") else None
    return {"seq": event.seq, "occurred_at": event.occurred_at, "actor": event.actor, "position": event.position,
            "position_label": position_name(event.position),
            "event": event.action, "label": event_label(event.action),
            "transition": payload.get("transition"), "moved": moved,
            "moved_label": (f"{stage_label(moved['from'])} → {stage_label(moved['to'])}" if moved and moved["from"]
                            else "")}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------- pages

def _list_filters(kind: str | None, site: str | None, stage: str | None) -> dict:
    return {"kind": kind or "", "site": site or "", "stage": stage or ""}


def visible_cases(viewer: Viewer, kind: str | None, site: str | None, stage: str | None) -> list:
    with viewer.reading() as uow:
        found = queries.list_cases(uow, viewer.username, kind=kind or None, site=site or None)
    return [c for c in found if not stage or c.status == stage]


@pages.get("/cases", dependencies=[OWN])
def case_list(request: Request, kind: str | None = None, site: str | None = None, stage: str | None = None,
              viewer: Viewer = Depends(current_viewer)):
    found = visible_cases(viewer, kind, site, stage)
    stages = sorted({s.value for p in processes().values() for s in p.lifecycle.states}, key=stage_label)
    with viewer.reading() as uow:
        openable = [k for k in sorted(steps()) if form_extras(form_name(k, OPEN))["by_hand"]
                    and permitted_site(uow, viewer.username, f"case.{k}", "open") is not None]
    return page(request, "cases.html", title=t("web.cases.title"), cases=found, filters=_list_filters(kind, site, stage),
                kinds=sorted(steps()), stages=stages, kind_label=kind_label, stage_label=stage_label,
                openable=openable)


def step_forms(uow, username: str, case) -> list[tuple[str, FormDefinition]]:
    """(step, form) of the steps the user may take now (the stage allows it, and access does)."""
    if case.status in FINAL:
        return []
    out = []
    for verb, fn in sorted(steps().get(case.kind, {}).items()):
        name = form_name(case.kind, verb)
        if verb != OPEN and case.status in form_extras(name)["stages"] and may_take(uow, username, fn, case):
            out.append((verb, form(name)))
    return out


def render_case(request: Request, viewer: Viewer, number: str, *, status_code: int = 200,
                failed: tuple[str, dict, dict] | None = None):
    """The case page; `failed`: (form name, what was typed, errors by field) of a refused step."""
    from cms_workflows.access import can

    with viewer.reading() as uow:
        view = queries.show(uow, viewer.username, number)
        events = [event_json(e) for e in queries.timeline(uow, viewer.username, number)]
        forms = step_forms(uow, viewer.username, view.case)
        cancellable = view.case.status not in FINAL and can(uow, viewer.username, "cancel",
                                                             cases.resource_of(view.case))
    from cms_workflows.tasks.queries import title

    done = request.query_params.get("done")
    flash = ""
    if done and done in steps().get(view.case.kind, {}):
        flash = t("web.cases.step_done", step=form(form_name(view.case.kind, done)).title,
                  stage=stage_label(view.case.status))
    elif done == "cancel":
        flash = t("web.cases.cancelled", number=number)
    return page(request, "case.html", status_code=status_code, title=f"{number} · {kind_label(view.case.kind)}",
                view=view, events=events, forms=forms, failed=failed or ("", {}, {}), flash=flash,
                cancellable=cancellable, cancel_form=form("case_cancel"), kind_label=kind_label,
                stage_label=stage_label, task_title=title, moment=moment, position_name=position_name)


@pages.get("/cases/new", dependencies=[OPEN_CASE])
def new_case_form(request: Request, kind: str = Query(...), viewer: Viewer = Depends(current_viewer)):
    return _new_case_page(request, kind)


def _new_case_page(request: Request, kind: str, status_code: int = 200, values=None, errors=None):
    definition = step_form(kind, OPEN)
    if not form_extras(definition.name)["by_hand"]:
        raise NotFound("web.cases.not_by_hand", kind=kind_label(kind))
    return page(request, "case_new.html", status_code=status_code, title=definition.title, form=definition,
                kind=kind, values=values or {}, errors=errors or {})


@pages.post("/cases/new", dependencies=[OPEN_CASE])
def new_case(request: Request, kind: str = Query(...), viewer: Viewer = Depends(current_viewer),
             posted=Depends(checked_form)):
    definition = step_form(kind, OPEN)
    if not form_extras(definition.name)["by_hand"]:
        raise NotFound("web.cases.not_by_hand", kind=kind_label(kind))
    typed = {k: v for k, v in posted.items() if isinstance(v, str)}
    fn = step_of(kind, OPEN)
    try:
        case = viewer.act(fn, **command_arguments(fn, definition, posted))
    except ValidationFailed as exc:
        return _new_case_page(request, kind, 422, typed, field_errors(exc))
    engine.advance(viewer.db, case.number)
    return RedirectResponse(f"/cases/{case.number}?done=open", status_code=303)


@pages.get("/cases/{number}", dependencies=[READ])
def case_page(request: Request, number: str, viewer: Viewer = Depends(current_viewer)):
    return render_case(request, viewer, number)


@pages.post("/cases/{number}/steps/{step}", dependencies=[STEP])
def take_step(request: Request, number: str, step: str, viewer: Viewer = Depends(current_viewer),
              posted=Depends(checked_form)):
    typed = {k: v for k, v in posted.items() if isinstance(v, str)}
    try:
        run_step(viewer, number, step, posted)
    except ValidationFailed as exc:
        return render_case(request, viewer, number, status_code=422,
                           failed=(form_name_of(viewer, number, step), typed, field_errors(exc)))
    except AccessDenied:
        raise
    except CmsError as exc:  # the stage moved on meanwhile, a conflict: shown above the step's form
        return render_case(request, viewer, number, status_code=exc.http_status,
                           failed=(form_name_of(viewer, number, step), typed, {"": exc.message()}))
    return RedirectResponse(f"/cases/{number}?done={step}", status_code=303)


def form_name_of(viewer: Viewer, number: str, step: str) -> str:
    with viewer.reading() as uow:
        return form_name(cases.get_case(uow, number).kind, step)


@pages.post("/cases/{number}/cancel", dependencies=[CANCEL])
def cancel(request: Request, number: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    typed = {k: v for k, v in posted.items() if isinstance(v, str)}
    try:
        data = form("case_cancel").parse(posted)
        viewer.act(engine.cancel_case, number, data["reason"])
    except ValidationFailed as exc:
        return render_case(request, viewer, number, status_code=422, failed=("case_cancel", typed, field_errors(exc)))
    return RedirectResponse(f"/cases/{number}?done=cancel", status_code=303)


# ---------------------------------------------------------------- API

@api.get("/cases", dependencies=[OWN])
def api_cases(kind: str | None = None, site: str | None = None, stage: str | None = None,
              page_: Paging = Depends(paging), viewer: Viewer = Depends(current_viewer)):
    """The cases the user may read, newest first (?kind ?site ?stage), paged."""
    return json_page(visible_cases(viewer, kind, site, stage), page_, case_json)


@api.get("/cases/{number}", dependencies=[READ])
def api_case(number: str, viewer: Viewer = Depends(current_viewer)):
    """One case with its plan, texts, items, stage tasks, parent and children."""
    with viewer.reading() as uow:
        return view_json(queries.show(uow, viewer.username, number))


@api.get("/cases/{number}/timeline", dependencies=[READ])
def api_timeline(number: str, viewer: Viewer = Depends(current_viewer)):
    """The case's events, its tasks' and its report's, in order (the audit trail itself)."""
    with viewer.reading() as uow:
        return {"number": number, "events": [event_json(e) for e in queries.timeline(uow, viewer.username, number)]}


@api.post("/cases/{number}/steps/{step}", dependencies=[STEP],
          openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
              "type": "object", "description": "the fields of the step's form (forms/case_<kind>_<step>.yaml)"}}}}})
def api_step(request: Request, number: str, step: str, body: Any = Body(None),
             viewer: Viewer = Depends(current_viewer)):
    """Take one step of a case (its form's fields as a JSON object); the case is then moved on."""
    check_api_csrf(request, viewer)
    moved = run_step(viewer, number, step, body if body is not None else {}, api=True)
    with viewer.reading() as uow:
        case = cases.get_case(uow, number)
    return {**case_json(case), "moved": moved}
