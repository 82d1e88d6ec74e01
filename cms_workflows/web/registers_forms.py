"""The registers' forms (R-4.1, R-4.2, R-6.2–R-6.4, R-7.2–R-7.4, R-8.6, R-8.7, R-9.1): add a row, change a row,
import a file, and the registers' own commands (calibrate an instrument, report an action plan's progress,
move a carbon asset, raise a review for a planned change), as pages and as the JSON API.

Forms are data: `forms/register_<name>_add|change|import.yaml`, generated once from the registers' column
declarations (`tabular.Register`), and `forms/register_<name>_<verb>.yaml` for the own commands. Each post
runs the register's own service command as the user, exactly as `cms registers <name> add|change|import`
does; an import is all or nothing (`registers.service.import_file`).

Permissions: a register kept at its sites (instruments, parameters…) is managed at a site — the page's ?site
(else the first site the user may manage it at) for adding, the row's site for a row; a company-level register
(SWOT, parties, risks…) at the company level, as its commands decide.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Callable, Mapping
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows.access import COMPANY_WIDE, Resource, can
from cms_workflows.core.errors import AccessDenied, CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import current_locale, t
from cms_workflows.org.queries import site_codes
from cms_workflows.registers import queries, service, tabular
from cms_workflows.web import registers
from cms_workflows.web.authorization import requires
from cms_workflows.web.forms import FormDefinition, field_errors, form
from cms_workflows.web.paging import Paging, as_json, paging
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, check_api_csrf, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["registers"])
# the registers' own commands: register -> (verb, object type's action)
OWN_VERBS = {"instruments": ("calibrate", "calibrate"), "actions": ("progress", "record_progress"),
             "assets": ("move", "manage"), "changes": ("raise_review", "raise_review")}


@lru_cache(maxsize=1)
def commands() -> dict[str, Callable]:
    """The registers' commands by their event name (the name a form's `command` gives)."""
    from cms_workflows.registers import (actions, assets, changes, communication, competence, instruments,
                                         objectives, obligations, parameters, parties, quality, risks, swot)

    out = {}
    for module in (actions, assets, changes, communication, competence, instruments, objectives, obligations,
                   parameters, parties, quality, risks, swot):
        for value in vars(module).values():
            event = getattr(getattr(value, "command", None), "event", None)
            if event:
                out[event] = value
    return out


def form_of(name: str, verb: str) -> FormDefinition:
    return form(f"register_{name}_{verb}")


# ---------------------------------------------------------------- permissions of the routes

def _anywhere(object_type: str, action: str) -> Callable:
    """The page's ?site, else the company level or the first site where the user may (nowhere: the company
    level, whose refusal names the positions)."""

    def load(uow, request: Request) -> Resource:
        site = request.query_params.get("site")
        if site:
            return Resource(object_type, site=site)
        for candidate in [COMPANY_WIDE, *sorted(site_codes(uow))]:
            if can(uow, str(request.state.viewer.actor), action, Resource(object_type, site=candidate)):
                return Resource(object_type, site=candidate)
        return Resource(object_type, site=COMPANY_WIDE)

    return load


def _row(name: str) -> Callable:
    object_type = queries.spec(name).object_type

    def load(uow, request: Request) -> Resource:
        return Resource(object_type, site=queries.row_site(uow, name, request.path_params["row_id"]))

    return load


def adding(name: str, action: str = "manage"):
    """The permission to add to (or import into) a register."""
    spec = queries.spec(name)
    if spec.site_field:
        return requires(spec.object_type, action, resource=_anywhere(spec.object_type, action))
    return requires(spec.object_type, action)


def on_row(name: str, action: str):
    """The permission to take an action on one row: at the row's site, or at the company level."""
    spec = queries.spec(name)
    if spec.site_field:
        return requires(spec.object_type, action, resource=_row(name))
    return requires(spec.object_type, action)


def reading_row(name: str):
    spec = queries.spec(name)
    if spec.site_field:
        return requires(spec.object_type, "read", resource=_row(name))
    return requires(spec.object_type, "read", resource=registers.reader_resource(name))


# ---------------------------------------------------------------- values

def parsed(viewer: Viewer, definition: FormDefinition, data: Mapping, *, api: bool = False) -> dict[str, Any]:
    """A posted form (or JSON body) checked by the form, its dynamic choices the ones the page offers."""
    with viewer.reading() as uow:
        choices = registers.choices_for(uow, definition)
    return definition.parse(data, choices=choices, api=api)


def typed(posted: Mapping) -> dict[str, str]:
    return {k: v for k, v in posted.items() if isinstance(v, str)}


def upload(posted: Mapping, field: str = "file") -> tuple[str, bytes] | None:
    found = posted.get(field)
    if found is None or isinstance(found, str) or not getattr(found, "filename", ""):
        return None
    return found.filename, found.file.read()


def row_form_values(row: dict) -> dict[str, Any]:
    """A row's stored values as a form shows them (dates as ISO text, nothing as empty)."""
    return {k: (v.isoformat() if isinstance(v, date) else "" if v is None else v) for k, v in row.items()}


def add_row(viewer: Viewer, name: str, data: Mapping, *, api: bool = False):
    definition = form_of(name, "add")
    values = parsed(viewer, definition, data, api=api)
    return viewer.act(commands()[definition.command], **values)


def change_row(viewer: Viewer, name: str, code: str, data: Mapping, *, api: bool = False):
    """Change a row: the page posts every field (a full edit); the API changes the fields its body names (the
    others keep the row's values, checked by the same form)."""
    definition = form_of(name, "change")
    if api and isinstance(data, dict):
        with viewer.reading() as uow:
            row = row_form_values(queries.shown_row(uow, viewer.username, name, code))
        data = {**{f.name: row.get(f.name) for f in definition.fields}, **data}
    values = parsed(viewer, definition, data, api=api)
    return viewer.act(commands()[definition.command], code, **values)


def import_file(viewer: Viewer, name: str, filename: str, data: bytes) -> service.ImportResult:
    definition = form_of(name, "import")
    now = commands()[definition.command]
    return viewer.act(service.import_file, queries.spec(name), data, filename, now)


def own_verb(viewer: Viewer, name: str, code: str, posted: Mapping, *, api: bool = False):
    """A register's own command on one row, its arguments from its form."""
    verb = OWN_VERBS[name][0]
    definition = form_of(name, verb)
    values = parsed(viewer, definition, posted, api=api)
    for f in definition.fields:
        if f.type in ("text", "textarea") and values.get(f.name) is None:
            values[f.name] = ""
    fn = commands()[definition.command]
    if verb == "calibrate":
        sent = None if api else upload(posted)
        return viewer.act(fn, code, values.pop("calibrated_on"), values.pop("certificate"),
                          file=sent[1] if sent else None, filename=sent[0] if sent else None, note=values["note"])
    if verb == "move":
        values = {k: v for k, v in values.items() if v is not None}
    return viewer.act(fn, code, **values)


def import_report(exc: ValidationFailed) -> list[dict]:
    """A refused file's problems: row, column (its label in the reader's language) and message."""
    locale = current_locale()
    out = []
    for p in exc.problems:
        field = p.get("field", "")
        label = field.localized(locale) if hasattr(field, "localized") else str(field)
        out.append({"row": p.get("row") or "", "field": label,
                    "message": t(p["key"], **p.get("params", {})) if "key" in p else p.get("message", "")})
    return out


# ---------------------------------------------------------------- the row page

def forms_on_row(uow, username: str, name: str, site: str) -> list[tuple[str, FormDefinition]]:
    """(verb, form) of the row's forms the user may use: change, and the register's own command."""
    object_type = queries.spec(name).object_type
    out = []
    if can(uow, username, "manage", Resource(object_type, site=site)):
        out.append(("change", form_of(name, "change")))
    if name in OWN_VERBS:
        verb, action = OWN_VERBS[name]
        if can(uow, username, action, Resource(object_type, site=site)):
            out.append((verb, form_of(name, verb)))
    return out


def render_row(request: Request, viewer: Viewer, name: str, code: str, *, status_code: int = 200,
               failed: tuple[str, dict, dict] = ("", {}, {})):
    spec = queries.spec(name)
    locale = current_locale()
    with viewer.reading() as uow:
        row = queries.shown_row(uow, viewer.username, name, code, locale)
        site = queries.row_site(uow, name, code)
        forms = forms_on_row(uow, viewer.username, name, site)
        choices = {f.name: c for _v, d in forms for f in d.fields for c in [registers.choices_for(uow, d).get(f.name)]
                   if c is not None}
    cells = [(tabular.header(spec.register, locale)[i], tabular.shown_value(spec.register, c, row.get(c.name), locale,
                                                                            csv_out=False))
             for i, c in enumerate(spec.register.columns)]
    return page(request, "register_row.html", status_code=status_code, title=f"{code} · {registers.title(name)}",
                name=name, code=code, cells=cells, forms=forms, values=row_form_values(row), choices=choices,
                failed=failed, flash=registers.flash_text(request))


def _refused(exc: CmsError, form_name: str, posted: Mapping) -> tuple[int, tuple[str, dict, dict]]:
    """A refused post's status and what the page shows beside the form (never a refusal by access)."""
    if isinstance(exc, AccessDenied):
        raise exc
    errors = field_errors(exc) if isinstance(exc, ValidationFailed) else {"": exc.message()}
    if not set(errors) & {"", *(f.name for f in form(form_name).fields)}:  # nothing beside a field: say it above
        errors[""] = exc.message()
    return (422 if isinstance(exc, ValidationFailed) else exc.http_status), (form_name, typed(posted), errors)


def _done(name: str, code: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/registers/{name}/{quote(code)}?done={done}&code={quote(code)}", status_code=303)


# ---------------------------------------------------------------- routes, per register

def _page_routes(name: str) -> None:
    """Add, import, the row page, change and the own command of one register, each declaring its permission."""
    manage_new, manage_row, read_row = adding(name), on_row(name, "manage"), reading_row(name)

    def add(request: Request, site: str | None = None, paging_: Paging = Depends(paging),
            viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
        try:
            obj = add_row(viewer, name, posted)
        except CmsError as exc:
            status, failed = _refused(exc, f"register_{name}_add", posted)
            return registers.render_register(request, viewer, name, site, paging_, status_code=status, failed=failed)
        return RedirectResponse(f"/registers/{name}?done=added&code={quote(obj.code)}", status_code=303)

    def import_(request: Request, site: str | None = None, paging_: Paging = Depends(paging),
                viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
        sent = upload(posted)
        try:
            if sent is None:
                raise ValidationFailed("web.registers.no_file", problems=[problem("file", "web.registers.no_file")])
            result = import_file(viewer, name, *sent)
        except CmsError as exc:
            status, failed = _refused(exc, f"register_{name}_import", posted)
            report = import_report(exc) if isinstance(exc, ValidationFailed) else []
            if report and "file" not in failed[2]:  # the rows' problems are in the report: the head above the form
                failed = (failed[0], failed[1], {"": t(exc.key, **exc.params)})
            return registers.render_register(request, viewer, name, site, paging_, status_code=status,
                                             failed=failed, report=report)
        done = "imported" if result.created or result.updated else "unchanged"
        return RedirectResponse(f"/registers/{name}?done={done}&created={len(result.created)}"
                                f"&updated={len(result.updated)}&unchanged={result.unchanged}", status_code=303)

    def row_page(request: Request, row_id: str, viewer: Viewer = Depends(current_viewer)):
        return render_row(request, viewer, name, row_id)

    def change(request: Request, row_id: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
        try:
            change_row(viewer, name, row_id, posted)
        except CmsError as exc:
            status, failed = _refused(exc, f"register_{name}_change", posted)
            return render_row(request, viewer, name, row_id, status_code=status, failed=failed)
        return _done(name, row_id, "changed")

    pages.add_api_route(f"/registers/{name}", add, methods=["POST"], dependencies=[manage_new],
                        name=f"register_{name}_add")
    pages.add_api_route(f"/registers/{name}/import", import_, methods=["POST"], dependencies=[manage_new],
                        name=f"register_{name}_import")
    pages.add_api_route(f"/registers/{name}/{{row_id}}", row_page, methods=["GET"], dependencies=[read_row],
                        name=f"register_{name}_row")
    pages.add_api_route(f"/registers/{name}/{{row_id}}/change", row_page, methods=["GET"], dependencies=[manage_row],
                        name=f"register_{name}_change_form")
    pages.add_api_route(f"/registers/{name}/{{row_id}}/change", change, methods=["POST"], dependencies=[manage_row],
                        name=f"register_{name}_change")
    if name in OWN_VERBS:
        _own_route(name)


def _own_route(name: str) -> None:
    verb, action = OWN_VERBS[name]

    def own(request: Request, row_id: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
        try:
            own_verb(viewer, name, row_id, posted)
        except CmsError as exc:
            status, failed = _refused(exc, f"register_{name}_{verb}", posted)
            return render_row(request, viewer, name, row_id, status_code=status, failed=failed)
        return _done(name, row_id, verb)

    pages.add_api_route(f"/registers/{name}/{{row_id}}/{verb}", own, methods=["POST"],
                        dependencies=[on_row(name, action)], name=f"register_{name}_{verb}")


def _api_routes(name: str) -> None:
    """The JSON API of one register's forms: create, change (and its own command)."""

    def create(request: Request, body: Any = Body(None), viewer: Viewer = Depends(current_viewer)):
        check_api_csrf(request, viewer)
        obj = add_row(viewer, name, body if body is not None else {}, api=True)
        with viewer.reading() as uow:
            return as_json(queries.shown_row(uow, viewer.username, name, obj.code))

    def change(request: Request, row_id: str, body: Any = Body(None), viewer: Viewer = Depends(current_viewer)):
        check_api_csrf(request, viewer)
        body = body if body is not None else {}
        obj = change_row(viewer, name, row_id, body, api=True)
        with viewer.reading() as uow:
            return as_json(queries.shown_row(uow, viewer.username, name, obj.code))

    create.__doc__ = f"Add a row to the register `{name}` (the fields of forms/register_{name}_add.yaml)."
    change.__doc__ = f"Change the named fields of a row of `{name}` (forms/register_{name}_change.yaml)."
    api.add_api_route(f"/registers/{name}", create, methods=["POST"], dependencies=[adding(name)], status_code=201,
                      name=f"api_register_{name}_create", openapi_extra=form_of(name, "add").openapi_body())
    api.add_api_route(f"/registers/{name}/{{row_id}}", change, methods=["POST"], dependencies=[on_row(name, "manage")],
                      name=f"api_register_{name}_change", openapi_extra=form_of(name, "change").openapi_body())


for _name in queries.SPECS:
    _page_routes(_name)
    _api_routes(_name)
