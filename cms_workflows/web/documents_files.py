"""Word files into the document register (R-7.5, X-4): importing an existing .docx as a new controlled
document (`cms doc import`), and the company's own templates: document control registers one for a type
(`cms doc template`), the general manager approves it (`cms doc approve-template`), a second person as
X-2 requires.

And Word files out of it (documents.renditions, issue 13 item 1): a revision's .docx is the stored
controlled original for the effective revision (its hash the register's); any other revision, and a
distributed copy (by its 分发号), is handed out as a stamped copy recorded with its event.

Listed in app.MODULES before `documents`, so that /documents/import and /documents/templates are not
taken for a document number, and before `documents` and `documents_api` so that the downloads here are
the ones served. Route permissions: importing is drafting (as a new document); the templates page reads
the register; registering and approving are the register's own actions; a download reads the document
(a distributed copy: its holders, or who distributes; decided by the command).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.core.errors import CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import t
from cms_workflows.web.authorization import requires
from cms_workflows.web.documents import document_reader, drafting, form_errors, new_choices
from cms_workflows.web.forms import form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["documents"])

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


# ------------------------------------------------------------------ downloads

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def handed_out(viewer: Viewer, number: str, label: str | None, copy_no: int | None = None) -> Response:
    """The .docx a download gives (documents.renditions.hand_out), named by number, revision, title and, for a
    marked copy, what it is (RFC 6266: an ASCII name and a UTF-8 one); its SHA-256, and the original's."""
    from cms_workflows.documents import queries, renditions

    handout = viewer.act(renditions.hand_out, number, label, copy_no=copy_no)
    with viewer.reading() as uow:
        title = queries.get_document(uow, number).title
    rev, row = handout.revision, handout.rendition
    marked = f"_{t(f'documents.rendition.kind.{handout.kind}')}" if row else ""
    tag = f"_{handout.kind}{row.copy_no or ''}" if row else ""
    headers = {"Content-Disposition": f"attachment; filename=\"{number}_{rev.label}{tag}.docx\"; "
                                      f"filename*=UTF-8''{quote(f'{number}_{rev.label}_{title}{marked}.docx')}",
               "X-Content-SHA256": handout.sha256,
               "X-Original-SHA256": row.original_sha256 if row else handout.sha256,
               "X-CMS-Copy": handout.kind}
    return Response(handout.data, media_type=DOCX, headers=headers)


@pages.get("/documents/{number}/revisions/{label}.docx",
           dependencies=[requires("doc.*", "read", resource=document_reader)])
def revision_handout(number: str, label: str, viewer: Viewer = Depends(current_viewer)):
    return handed_out(viewer, number, label)


@pages.get("/documents/{number}/copies/{copy_no}.docx",
           dependencies=[requires("doc.*", "read", resource=document_reader)])
def copy_handout(number: str, copy_no: int, viewer: Viewer = Depends(current_viewer)):
    return handed_out(viewer, number, None, copy_no)


@api.get("/documents/{number}/revisions/{label}/file",
         dependencies=[requires("doc.*", "read", resource=document_reader)])
def revision_file_handout(number: str, label: str, viewer: Viewer = Depends(current_viewer)):
    """The revision's .docx: the effective revision's controlled file as stored (X-Content-SHA256 is the
    register's); any other revision a stamped copy (作废 / 已替代, 草稿 / 未受控), recorded, its own SHA-256 in
    X-Content-SHA256 and the original's in X-Original-SHA256; X-CMS-Copy says which."""
    return handed_out(viewer, number, label)


@api.get("/documents/{number}/copies/{copy_no}/file",
         dependencies=[requires("doc.*", "read", resource=document_reader)])
def copy_file_handout(number: str, copy_no: int, viewer: Viewer = Depends(current_viewer)):
    """A distributed copy of the effective revision, stamped with its 分发号 and holder, recorded: for the
    holders it reached and for document control."""
    return handed_out(viewer, number, None, copy_no)
