"""Word files into the document register (R-7.5, X-4): importing an existing .docx as a new controlled
document (`cms doc import`), and the company's own templates: document control registers one for a type
(`cms doc template`), the general manager approves it (`cms doc approve-template`), a second person as
X-2 requires.

Listed in app.MODULES before `documents`, so that /documents/import and /documents/templates are not
taken for a document number. Route permissions: importing is drafting (as a new document); the templates
page reads the register; registering and approving are the register's own actions.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.core.errors import CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import t
from cms_workflows.web.authorization import requires
from cms_workflows.web.documents import drafting, form_errors, new_choices
from cms_workflows.web.forms import form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)

REGISTER = Resource("document_register")


async def uploaded(posted, form_name: str) -> tuple[bytes, str]:
    """The posted .docx and its name; no file or another kind of file is the file field's problem."""
    upload = posted.get("file")
    name = getattr(upload, "filename", "") or ""
    if not name:
        raise ValidationFailed("web.form.invalid", form=form(form_name).title,
                               problems=[problem("file", "web.form.required", label=form(form_name).field("file").label)])
    if not name.lower().endswith(".docx"):
        raise ValidationFailed("web.form.invalid", form=form(form_name).title,
                               problems=[problem("file", "web.documents.docx_only")])
    return await upload.read(), name


def _posted_values(definition, posted) -> dict:
    return {f.name: posted.get(f.name, "") for f in definition.fields if f.type != "file"}


def import_choices(uow) -> dict[str, list[tuple[str, str]]]:
    """The register's choices, every type but external documents (which are not Word files of the company)."""
    from cms_workflows.documents import registry

    choices = new_choices(uow)
    choices["doc_type"] = [(dt.code, dt.name()) for dt in registry.doc_types().values() if dt.code != "external"]
    return choices


def _import_page(request: Request, viewer: Viewer, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        choices = import_choices(uow)
    return page(request, "documents_import.html", status_code=status_code, title=form("document_import").title,
                form=form("document_import"), values=values or {}, errors=errors or {}, choices=choices)


@pages.get("/documents/import", dependencies=[requires("doc.*", "draft", resource=drafting)])
def import_form(request: Request, viewer: Viewer = Depends(current_viewer)):
    return _import_page(request, viewer)


@pages.post("/documents/import", dependencies=[requires("doc.*", "draft", resource=drafting)])
async def import_document(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import imports, queries

    definition = form("document_import")
    values = _posted_values(definition, posted)
    try:
        with viewer.reading() as uow:
            choices = import_choices(uow)
        data = definition.parse(posted, choices=choices)
        content, filename = await uploaded(posted, "document_import")
        rev = viewer.act(imports.import_file, content, filename, doc_type=data["doc_type"], site=data["site"],
                         title=data["title"], owner_department=data["owner_department"], label=data.get("label"),
                         legacy_number=data.get("legacy_number"))
    except ValidationFailed as exc:
        return _import_page(request, viewer, 422, values, form_errors(exc, definition, "file"))
    with viewer.reading() as uow:
        number = queries.document_number(uow, rev.document_id)
    return RedirectResponse(f"/documents/{quote(number)}", status_code=303)


def _template_choices() -> dict[str, list[tuple[str, str]]]:
    from cms_workflows.documents import registry

    return {"doc_type": [(dt.code, dt.name()) for dt in registry.doc_types().values() if dt.template]}


def _templates_page(request: Request, viewer: Viewer, status_code: int = 200, values=None, errors=None):
    from cms_workflows.documents import output, registry

    with viewer.reading() as uow:
        rows = output.company_templates(uow, viewer.username)
        may_register = access.can(uow, viewer.username, "register_template", REGISTER)
        may_approve = access.can(uow, viewer.username, "approve_template", REGISTER)
    return page(request, "documents_templates.html", status_code=status_code, title=t("web.documents.templates_title"),
                rows=rows, may_register=may_register, may_approve=may_approve, values=values or {},
                errors=errors or {}, choices=_template_choices(), register_form=form("document_template_register"),
                approve_form=form("document_template_approve"),
                type_name=lambda code: registry.doc_type(code).name() if code in registry.doc_types() else code)


@pages.get("/documents/templates", dependencies=[requires("document_register", "read")])
def templates(request: Request, viewer: Viewer = Depends(current_viewer)):
    return _templates_page(request, viewer)


@pages.post("/documents/templates", dependencies=[requires("document_register", "register_template")])
async def register_template(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import output

    definition = form("document_template_register")
    values = _posted_values(definition, posted)
    try:
        data = definition.parse(posted, choices=_template_choices())
        content, filename = await uploaded(posted, "document_template_register")
        viewer.act(output.register_template, data["doc_type"], content, filename)
    except ValidationFailed as exc:
        return _templates_page(request, viewer, 422, {"register": values},
                               {"register": form_errors(exc, definition, "file")})
    return RedirectResponse("/documents/templates", status_code=303)


@pages.post("/documents/templates/{template_id}/approve",
            dependencies=[requires("document_register", "approve_template")])
def approve_template(request: Request, template_id: int, viewer: Viewer = Depends(current_viewer),
                     posted=Depends(checked_form)):
    from cms_workflows.documents import output

    definition = form("document_template_approve")
    try:
        if not definition.parse(posted).get("confirmed"):
            raise ValidationFailed("web.form.invalid", form=definition.title,
                                   problems=[problem("confirmed", "web.documents.confirm_required")])
        viewer.act(output.approve_template, template_id)
    except (ValidationFailed, CmsError) as exc:
        if not isinstance(exc, ValidationFailed) and exc.http_status != 422:
            raise
        return _templates_page(request, viewer, 422, {template_id: {}},
                               {template_id: form_errors(exc, definition, "confirmed")})
    return RedirectResponse("/documents/templates", status_code=303)
