"""The scope and boundary page (R-4.3): the version in force and the open draft with their elements, and the
forms of its lifecycle — draft a new version, add or change an element, remove one, submit, approve.

The carbon management team drafts (`draft` on `scope`, company level); top management approves (`approve`),
never a draft they drafted or submitted (the command's own-work rule; the approve form is offered only to a
user the access module would let approve this draft). Each post runs the command `cms registers scope …` runs.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows.access import COMPANY_WIDE, Resource, can
from cms_workflows.core.errors import AccessDenied, CmsError, NotFound, ValidationFailed
from cms_workflows.core.i18n import current_locale, t
from cms_workflows.org.queries import site_codes
from cms_workflows.registers import queries, scope, tabular
from cms_workflows.web.authorization import requires
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.registers import choices_for
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)
VERBS = {"draft": (scope.draft, "draft"), "add": (scope.add_element, "draft"),
         "remove": (scope.remove_element, "draft"), "submit": (scope.submit, "draft"),
         "approve": (scope.approve, "approve")}


def _readable(uow, request: Request) -> Resource:
    """?site, else the company level or the first site where the user may read the scope."""
    site = request.query_params.get("site")
    if site:
        return Resource("scope", site=site)
    for candidate in [COMPANY_WIDE, *sorted(site_codes(uow))]:
        if can(uow, str(request.state.viewer.actor), "read", Resource("scope", site=candidate)):
            return Resource("scope", site=candidate)
    return Resource("scope", site=COMPANY_WIDE)


def _elements(items) -> list[list]:
    locale = current_locale()
    return [[tabular.shown_value(scope.ELEMENTS, c, getattr(e, c.name), locale, csv_out=False)
             for c in scope.ELEMENTS.columns] for e in items]


def _version(uow, username: str, draft: bool):
    try:
        found, items = queries.scope_draft(uow, username) if draft else queries.scope_version(uow, username)
    except NotFound:
        return None
    return {"version": found, "elements": _elements(items), "status": t(f"registers.scope.state.{found.status}")}


def scope_forms(uow, username: str, draft) -> list[str]:
    """The verbs of the forms the user may use now, as the draft's state and access allow."""
    may_draft = can(uow, username, "draft", Resource("scope", site=COMPANY_WIDE))
    if draft is None:
        return ["draft"] if may_draft else []
    version = draft["version"]
    if version.status == "draft":
        return ["add", "remove", "submit"] if may_draft else []
    authors = frozenset(a for a in (version.drafted_by, version.submitted_by) if a)
    approver = can(uow, username, "approve", Resource("scope", site=COMPANY_WIDE, id=version.id, authors=authors))
    return ["approve"] if approver else []


def render_scope(request: Request, viewer: Viewer, *, status_code: int = 200, failed=("", {}, {})):
    with viewer.reading() as uow:
        current, draft = _version(uow, viewer.username, False), _version(uow, viewer.username, True)
        verbs = scope_forms(uow, viewer.username, draft)
        choices = choices_for(uow, form("register_scope_add"))
    done = request.query_params.get("done")
    flash = t(f"web.registers.scope.done.{done}") if done in VERBS else ""
    return page(request, "register_scope.html", status_code=status_code, title=t("registers.scope.title"),
                header=tabular.header(scope.ELEMENTS, current_locale()), current=current, draft=draft,
                forms=[(v, form(f"register_scope_{v}")) for v in verbs], failed=failed, flash=flash, choices=choices)


@pages.get("/registers/scope", dependencies=[requires("scope", "read", resource=_readable)])
def scope_page(request: Request, viewer: Viewer = Depends(current_viewer)):
    return render_scope(request, viewer)


def _route(verb: str) -> None:
    fn, action = VERBS[verb]
    definition = form(f"register_scope_{verb}")

    def post(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
        try:
            with viewer.reading() as uow:
                values = definition.parse(posted, choices=choices_for(uow, definition))
            viewer.act(fn, **values)
        except AccessDenied:
            raise
        except CmsError as exc:
            errors = field_errors(exc) if isinstance(exc, ValidationFailed) else {}
            if not set(errors) & {f.name for f in definition.fields}:
                errors[""] = exc.message()
            typed = {k: v for k, v in posted.items() if isinstance(v, str)}
            status = 422 if isinstance(exc, ValidationFailed) else exc.http_status
            return render_scope(request, viewer, status_code=status, failed=(definition.name, typed, errors))
        return RedirectResponse(f"/registers/scope?done={verb}", status_code=303)

    pages.add_api_route(f"/registers/scope/{verb}", post, methods=["POST"], dependencies=[requires("scope", action)],
                        name=f"register_scope_{verb}")


for _verb in VERBS:
    _route(_verb)
