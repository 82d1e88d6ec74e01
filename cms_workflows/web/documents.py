"""Controlled documents (R-7.5, X-4) as pages: the register, a document with its revisions and approval
route, and the forms of its lifecycle (create, edit, submit, decide, make effective, distribute,
acknowledge). Every change is one command of `cms_workflows.documents`, as `cms doc …` runs it; the
JSON API over the same commands is in `documents_api.py`.

Route permissions: reads (and a decision or an acknowledgement, whose command decides the step or
the distribution itself) need `read` on the document, at the site where the user reads it (a company
document is read wherever the user holds a position, as `documents.queries.require_read` says);
drafting, submission, release and distribution need the command's own action on the document.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.access.roles import position_labels
from cms_workflows.core.errors import AccessDenied, CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import pick, t
from cms_workflows.web.authorization import requires
from cms_workflows.web.documents_content import as_values, content_form, content_of
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)

READ_TYPE = "doc.policy"  # every internal position reads every document type (policy.csv); the policy is read by all
DETAIL_FORMS = ("document_decision", "document_submit", "document_acknowledge", "document_make_effective",
                "document_distribute")


# ------------------------------------------------------------------ who may open what (route loaders)

def _username(request: Request) -> str:
    return request.state.viewer.username  # set by signed_in_viewer, which every Requires calls first


def _held_sites(uow, username: str) -> list[str]:
    """The sites where the user holds a position, company-wide first."""
    held = {site for _position, site in access.held_positions(uow, username)}
    return sorted(held, key=lambda s: (s != COMPANY_WIDE, s))


def register_reader(uow, request: Request) -> Resource:
    """The register: documents are read where the user holds a position; the list then shows only the
    documents each user may read (documents.queries.register_page)."""
    username = _username(request)
    for site in _held_sites(uow, username):
        resource = Resource(READ_TYPE, site=site)
        if access.can(uow, username, "read", resource):
            return resource
    return Resource(READ_TYPE, site=COMPANY_WIDE)


def document_at(uow, request: Request) -> Resource:
    """The document of the path, as its commands see it (its type at its site)."""
    from cms_workflows.documents.queries import get_document, resource_of

    return resource_of(get_document(uow, request.path_params["number"]))


def document_reader(uow, request: Request) -> Resource:
    """The document of the path at the site where the user reads it: a company document ("*") is read
    wherever the user holds a reading position (documents.queries.require_read)."""
    from cms_workflows.documents.queries import get_document, require_read, resource_of

    doc = get_document(uow, request.path_params["number"])
    resource = resource_of(doc)
    if doc.site != COMPANY_WIDE:
        return resource
    try:
        grant = require_read(uow, _username(request), doc)
    except AccessDenied:
        return resource  # refused by the route's check, naming the positions
    return Resource(resource.type, site=grant.site, id=doc.number)


def drafting(uow, request: Request) -> Resource:
    """Creating a document: the type and site asked for (?type=&site=), else the first type and site
    where the user may draft; the command then authorizes the type and site actually chosen."""
    from cms_workflows.documents import registry

    username = _username(request)
    types = [dt for dt in registry.doc_types().values() if dt.template]
    wanted = request.query_params.get("type")
    if wanted in registry.doc_types():
        return Resource(registry.doc_type(wanted).object_type, site=request.query_params.get("site") or COMPANY_WIDE)
    for site in _held_sites(uow, username):
        for dt in types:
            if access.can(uow, username, "draft", Resource(dt.object_type, site=site)):
                return Resource(dt.object_type, site=site)
    return Resource(types[0].object_type, site=COMPANY_WIDE)


# ------------------------------------------------------------------ shared by the pages and the API

def form_errors(exc: CmsError, definition, default: str = "") -> dict[str, str]:
    """A command's refusal beside the fields of the form it came from: problems naming a field of the
    form go there, others (a template variable, a whole-form rule) beside `default`."""
    names = {f.name for f in definition.fields}
    out: dict[str, str] = {}
    problems = field_errors(exc) if isinstance(exc, ValidationFailed) and exc.problems else {"": exc.message()}
    for name, text in problems.items():
        target = name if name in names else default
        if name and target != name:
            text = f"{name}: {text}"
        out[target] = f"{out[target]}; {text}" if target in out else text
    return out


def new_choices(uow) -> dict[str, list[tuple[str, str]]]:
    from cms_workflows.documents import registry
    from cms_workflows.org.queries import list_departments, list_sites

    return {
        "doc_type": [(dt.code, dt.name()) for dt in registry.doc_types().values() if dt.template],
        "site": [(COMPANY_WIDE, t("web.documents.company_wide"))]
                + [(s.code, f"{s.code} {pick(s.name_zh, s.name_en)}") for s in list_sites(uow)],
        "owner_department": [(d.code, pick(d.name_zh, d.name_en)) for d in list_departments(uow)],
    }


def distribute_choices(uow) -> dict[str, list[tuple[str, str]]]:
    sites = new_choices(uow)["site"]
    return {"positions": [(code, pick(*names)) for code, names in position_labels().items()], "site": sites}


def create_document(viewer: Viewer, data: dict, content: dict | None = None) -> str:
    """`cms doc new`: the new document's number."""
    from cms_workflows.documents import queries, registry, service

    content = dict(content or {})
    if not content and data.get("example"):
        content = dict(registry.template(registry.doc_type(data["doc_type"]).template).example)
    rev = viewer.act(service.create, doc_type=data["doc_type"], site=data["site"], title=data["title"],
                     owner_department=data["owner_department"], content=content,
                     language=data.get("language") or "zh-CN", review_months=data.get("review_months"))
    with viewer.reading() as uow:
        return queries.document_number(uow, rev.document_id)


def register_rows(uow, username: str, doc_type: str | None, site: str | None, state: str | None) -> list[tuple]:
    """(document, effective revision, open revision) the user may read, the whole register in one statement as
    the API's pages (documents.queries.register_page); `state` is a document state or the state of its
    effective or open revision."""
    from cms_workflows.documents import queries

    rows, _total = queries.register_page(uow, username, doc_type=doc_type or None, site=site or None,
                                         state=state or None, limit=None)
    return rows


def route_of(uow, view, current) -> list[dict]:
    """The current round of a revision's route: each step with its positions, decisions and who is still pending."""
    from cms_workflows.documents.queries import added_reviewers
    from cms_workflows.documents.states import StepStatus

    if current is None:
        return []
    labels = position_labels()
    out = []
    for step in (s for s in view.steps if s.revision_id == current.id and s.round == current.round):
        decided = [d for d in view.decisions if d.step_id == step.id]
        positions = step.positions.split(",")
        pending = []
        if step.status == StepStatus.ACTIVE:
            done = {d.username for d in decided}
            taken = {d.position for d in decided} if step.mode == "all" else set()
            open_positions = [p for p in positions if p not in taken] if step.mode == "all" or not decided else []
            for p in open_positions:
                people = [u for u in access.holders(uow, p, view.document.site) if u not in done and u != current.author]
                pending.append({"position": p, "name": pick(*labels.get(p, (p, p))), "users": people})
            pending += [{"position": "reviewer", "name": t("web.documents.added_reviewer"), "users": [u]}
                        for u in added_reviewers(uow, step) if u not in done]
        out.append({"step": step, "positions": [(p, pick(*labels.get(p, (p, p)))) for p in positions],
                    "decisions": decided, "pending": pending})
    return out


def detail(uow, username: str, number: str) -> dict:
    """Everything the document page shows, and which of its forms this user may use now."""
    from cms_workflows.documents import approval, distribution, queries
    from cms_workflows.org.queries import list_departments
    from cms_workflows.web.documents_step_context import step_context

    view = queries.show(uow, username, number)
    doc = view.document
    opened, effective = queries.open_revision(uow, doc), queries.effective_revision(uow, doc)
    current = opened or effective or (view.revisions[-1] if view.revisions else None)
    waiting = next((a for a in approval.awaiting(uow, username) if a.doc.id == doc.id), None)
    unacknowledged, holders, copies = [], [], []
    if effective is not None and doc.status == "active":
        _rev, unacknowledged = distribution.pending(uow, username, number)
        holders = distribution.holders(uow, effective)
        _rev, copies = distribution.copies(uow, username, number)  # 分发号, recipient, date (issue 13)
    resource = queries.resource_of(doc)
    labels = position_labels()
    return {**step_context(uow, username, doc, opened, effective),
        "department": next((pick(d.name_zh, d.name_en) for d in list_departments(uow) if d.code == doc.owner_department),
                           doc.owner_department),
        "position_name": lambda code: pick(*labels[code]) if code in labels else t("web.documents.added_reviewer"),
        "doc": doc, "revisions": view.revisions, "current": current, "opened": opened, "effective": effective,
        "route": route_of(uow, view, current), "awaiting": waiting,
        "type_name": _type_name(doc.doc_type),
        "may_edit": (opened is not None and opened.status == "draft" and opened.author == username)
                    or (opened is None and effective is not None and access.can(uow, username, "draft", resource)),
        "may_submit": opened is not None and opened.status == "draft" and opened.author == username,
        "may_make_effective": opened is not None and opened.status == "approved"
                              and access.can(uow, username, "make_effective", resource),
        "may_distribute": effective is not None and doc.status == "active"
                          and access.can(uow, username, "distribute", resource),
        "must_acknowledge": any(h.username == username for h in unacknowledged),
        "unacknowledged": unacknowledged, "holders": holders, "copies": copies,
    }


def _type_name(code: str) -> str:
    from cms_workflows.documents import registry

    return registry.doc_type(code).name()


# ------------------------------------------------------------------ pages

@pages.get("/documents", dependencies=[requires(READ_TYPE, "read", resource=register_reader)])
def register(request: Request, viewer: Viewer = Depends(current_viewer)):
    from cms_workflows.documents import registry
    from cms_workflows.documents.states import DocumentStatus, RevisionStatus

    q = request.query_params
    chosen = {k: q.get(k) or "" for k in ("type", "site", "state")}
    with viewer.reading() as uow:
        rows = register_rows(uow, viewer.username, chosen["type"], chosen["site"], chosen["state"])
        sites = new_choices(uow)["site"]
    types = [(code, dt.name()) for code, dt in registry.doc_types().items()]
    states = [(s.value, t(f"documents.doc_status.{s.value}")) for s in DocumentStatus] \
        + [(s.value, t(f"documents.state.{s.value}")) for s in RevisionStatus if s.value not in set(DocumentStatus)]
    return page(request, "documents_register.html", title=t("web.documents.register_title"), rows=rows,
                chosen=chosen, types=types, sites=sites, states=states, type_name=_type_name)


def _template_of(doc_type: str | None) -> str | None:
    from cms_workflows.documents import registry

    return registry.doc_type(doc_type).template if doc_type in registry.doc_types() else None


def _new_page(request: Request, viewer: Viewer, status_code: int = 200, values=None, errors=None,
              doc_type: str | None = None):
    """Step one asks the type (a GET form); with ?type= the register fields and the template's variables."""
    from cms_workflows.documents import registry

    with viewer.reading() as uow:
        choices = new_choices(uow)
    doc_type = doc_type or request.query_params.get("type")
    template = _template_of(doc_type)
    values = dict(values or {})
    if template and not values:
        values = {"doc_type": doc_type, "site": request.query_params.get("site", "")}
    return page(request, "documents_new.html", status_code=status_code, title=form("document_new").title,
                form=content_form(form("document_new"), template), values=values, errors=errors or {},
                choices=choices, doc_type=doc_type if template else None,
                type_name=registry.doc_type(doc_type).name() if template else "")


@pages.get("/documents/new", dependencies=[requires("doc.*", "draft", resource=drafting)])
def new_form(request: Request, viewer: Viewer = Depends(current_viewer)):
    return _new_page(request, viewer)


@pages.post("/documents/new", dependencies=[requires("doc.*", "draft", resource=drafting)])
def new_document(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    template = _template_of(posted.get("doc_type"))
    definition = content_form(form("document_new"), template)
    values = {f.name: posted.get(f.name, "") for f in definition.fields}
    try:
        with viewer.reading() as uow:
            choices = new_choices(uow)
        data = definition.parse(posted, choices=choices)
        number = create_document(viewer, data, content_of(template, data))
    except ValidationFailed as exc:
        return _new_page(request, viewer, 422, values, form_errors(exc, definition), doc_type=posted.get("doc_type"))
    return RedirectResponse(f"/documents/{quote(number)}", status_code=303)


def _edit_page(request: Request, viewer: Viewer, number: str, status_code: int = 200, values=None, errors=None):
    from cms_workflows.documents import queries

    with viewer.reading() as uow:
        doc = queries.get_document(uow, number)
        queries.require_read(uow, viewer.username, doc)
        base = queries.open_revision(uow, doc) or queries.effective_revision(uow, doc)
    if values is None:
        values = {"title": doc.title, **as_values(doc.template, json.loads(base.content or "{}") if base else {}),
                  "change_reason": base.change_reason if base is not None and base.status == "draft" else ""}
    return page(request, "documents_edit.html", status_code=status_code,
                title=t("web.documents.edit_title", number=doc.number),
                form=content_form(form("document_edit"), doc.template), doc=doc, revision=base, values=values,
                errors=errors or {})


@pages.get("/documents/{number}/edit", dependencies=[requires("doc.*", "draft", resource=document_at)])
def edit_form(request: Request, number: str, viewer: Viewer = Depends(current_viewer)):
    return _edit_page(request, viewer, number)


def edit_document(viewer: Viewer, number: str, template: str | None, data: dict):
    """`cms doc edit`: only what changed is sent (the title, the content variables that differ)."""
    from cms_workflows.documents import queries, service

    content = content_of(template, data, keep_empty=True)
    with viewer.reading() as uow:
        doc = queries.get_document(uow, number)
        base = queries.open_revision(uow, doc) or queries.effective_revision(uow, doc)
        current = json.loads(base.content or "{}") if base is not None else {}
    changed = {k: v for k, v in content.items() if current.get(k, type(v)()) != v}
    return viewer.act(service.edit, number, title=data["title"] if data["title"] != doc.title else None,
                      content=changed or None, change_reason=data.get("change_reason"), major=data.get("major", False))


@pages.post("/documents/{number}/edit", dependencies=[requires("doc.*", "draft", resource=document_at)])
def edit(request: Request, number: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import queries

    with viewer.reading() as uow:
        template = queries.get_document(uow, number).template
    definition = content_form(form("document_edit"), template)
    values = {f.name: posted.get(f.name, "") for f in definition.fields}
    try:
        edit_document(viewer, number, template, definition.parse(posted))
    except ValidationFailed as exc:
        return _edit_page(request, viewer, number, 422, values, form_errors(exc, definition))
    return RedirectResponse(f"/documents/{quote(number)}", status_code=303)


def _detail_page(request: Request, viewer: Viewer, number: str, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        context = detail(uow, viewer.username, number)
        choices = distribute_choices(uow) if context["may_distribute"] else {}
    from cms_workflows.web.documents_step_context import STEP_FORMS, method_name

    forms = {name: form(name) for name in DETAIL_FORMS + STEP_FORMS}
    return page(request, "documents_detail.html", status_code=status_code,
                title=f"{context['doc'].number} {context['doc'].title}", forms=forms, values=values or {},
                errors=errors or {}, distribute_choices=choices, step_name=_step_name, method_name=method_name,
                **context)


def _step_name(name: str) -> str:
    key = f"cli.doc.step.{name}"
    return name if t(key) == key else t(key)


@pages.get("/documents/{number}", dependencies=[requires("doc.*", "read", resource=document_reader)])
def document(request: Request, number: str, viewer: Viewer = Depends(current_viewer)):
    return _detail_page(request, viewer, number)


def act_on(request: Request, viewer: Viewer, number: str, form_name: str, posted, run, default: str = "",
            choices=None):
    """Parse one of the detail page's forms and run its command; a mistake comes back beside its fields (422)."""
    definition = form(form_name)
    values = {f.name: (posted.getlist(f.name) if f.type == "multichoice" else posted.get(f.name, ""))
              for f in definition.fields}
    try:
        run(definition.parse(posted, choices=choices))
    except (ValidationFailed, CmsError) as exc:
        if not isinstance(exc, ValidationFailed) and exc.http_status != 422:
            raise
        return _detail_page(request, viewer, number, 422, {form_name: values},
                            {form_name: form_errors(exc, definition, default)})
    return RedirectResponse(f"/documents/{quote(number)}", status_code=303)


def confirmed(data: dict, form_name: str) -> None:
    if not data.get("confirmed"):
        raise ValidationFailed("web.form.invalid", form=form(form_name).title,
                               problems=[problem("confirmed", "web.documents.confirm_required")])


@pages.post("/documents/{number}/submit", dependencies=[requires("doc.*", "submit", resource=document_at)])
def submit(request: Request, number: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import service

    return act_on(request, viewer, number, "document_submit", posted, lambda data: viewer.act(
        service.submit, number, change_reason=data.get("change_reason")), default="change_reason")


# the route-level gate of a decision is reading the document: which step, in which position, and
# segregation of duties are the decision command's (documents.approval.decide), which refuses with the
# positions the running step needs
@pages.post("/documents/{number}/decide", dependencies=[requires("doc.*", "read", resource=document_reader)])
def decide(request: Request, number: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import approval

    return act_on(request, viewer, number, "document_decision", posted, lambda data: viewer.act(
        approval.decide, number, data["decision"], data.get("comment") or "",
        effective_date=data.get("effective_date")), default="comment")


# like a decision: whether the revision was distributed to the user is the command's
@pages.post("/documents/{number}/acknowledge", dependencies=[requires("doc.*", "read", resource=document_reader)])
def acknowledge(request: Request, number: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import distribution

    def run(data):
        confirmed(data, "document_acknowledge")
        viewer.act(distribution.acknowledge, number)

    return act_on(request, viewer, number, "document_acknowledge", posted, run, default="confirmed")


@pages.post("/documents/{number}/make-effective",
            dependencies=[requires("doc.*", "make_effective", resource=document_at)])
def make_effective(request: Request, number: str, viewer: Viewer = Depends(current_viewer),
                   posted=Depends(checked_form)):
    from cms_workflows.documents import service

    def run(data):
        confirmed(data, "document_make_effective")
        viewer.act(service.make_effective, number)

    return act_on(request, viewer, number, "document_make_effective", posted, run, default="confirmed")


@pages.post("/documents/{number}/distribute", dependencies=[requires("doc.*", "distribute", resource=document_at)])
def distribute(request: Request, number: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import distribution

    with viewer.reading() as uow:
        choices = distribute_choices(uow)
    return act_on(request, viewer, number, "document_distribute", posted, lambda data: viewer.act(
        distribution.distribute, number, [(p, data["site"]) for p in data["positions"]]),
        default="positions", choices=choices)
