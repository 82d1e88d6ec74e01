"""External documents into the register from the browser (issue 13 item 2; R-7.5, X-4): a law or a standard,
as a PDF or a Word file, registered with its issuer's identity (standard number, edition, issuer, publication
and implementation dates). The page runs the same command as `cms doc import --type external`
(documents.imports.import_file, event documents.revision.import), so the registration is authorized and
audited as the CLI's; a refusal is shown beside the fields it concerns.

Listed in app.MODULES before `documents`, so that /documents/import-external is not taken for a document number.
The route requires drafting an external document (policy.csv: doc.external, draft), at any site.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.web.authorization import requires
from cms_workflows.web.documents import form_errors, new_choices
from cms_workflows.web.forms import form
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)

FORM = "document_import_external"
EXTERNAL = "external"
ACCEPTED = (".pdf", ".docx")


def _choices(uow) -> dict[str, list[tuple[str, str]]]:
    choices = new_choices(uow)
    return {"site": choices["site"], "owner_department": choices["owner_department"]}


def _page(request: Request, viewer: Viewer, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        choices = _choices(uow)
    return page(request, "documents_import_external.html", status_code=status_code, title=form(FORM).title,
                form=form(FORM), values=values or {}, errors=errors or {}, choices=choices)


async def _upload(posted) -> tuple[bytes, str]:
    """The posted file and its name: a PDF or a Word file (the service checks a Word file further)."""
    upload = posted.get("file")
    name = getattr(upload, "filename", "") or ""
    if not name:
        raise ValidationFailed("web.form.invalid", form=form(FORM).title,
                               problems=[problem("file", "web.form.required", label=form(FORM).field("file").label)])
    if not name.lower().endswith(ACCEPTED):
        raise ValidationFailed("web.form.invalid", form=form(FORM).title,
                               problems=[problem("file", "web.documents_layout.pdf_or_docx")])
    return await upload.read(), name


@pages.get("/documents/import-external", dependencies=[requires("doc.external", "draft")])
def import_external_form(request: Request, viewer: Viewer = Depends(current_viewer)):
    return _page(request, viewer)


@pages.post("/documents/import-external", dependencies=[requires("doc.external", "draft")])
async def import_external(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import imports, queries

    definition = form(FORM)
    values = {f.name: posted.get(f.name, "") for f in definition.fields if f.type != "file"}
    try:
        with viewer.reading() as uow:
            choices = _choices(uow)
        data = definition.parse(posted, choices=choices)
        content, filename = await _upload(posted)
        # the Word work (control block, hashes) off the event loop, as the accounting upload does
        rev = await run_in_threadpool(
            viewer.act, imports.import_file, content, filename, doc_type=EXTERNAL, site=data["site"],
            title=data["title"], owner_department=data["owner_department"], issuer=data["issuer"],
            external_version=data["edition"], external_number=data["standard_number"],
            external_published_date=data["published"], external_effective_date=data.get("implemented"),
            applies_to=data.get("applies_to") or None)
    except ValidationFailed as exc:
        return _page(request, viewer, 422, values, form_errors(exc, definition, "file"))
    with viewer.reading() as uow:
        number = queries.document_number(uow, rev.document_id)
    return RedirectResponse(f"/documents/{quote(number)}", status_code=303)
