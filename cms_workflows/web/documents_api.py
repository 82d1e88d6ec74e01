"""Controlled documents in the JSON API (/api/v1/documents): the register, a document with its revisions
and route, a revision's file, and the decision, acknowledgement and creation commands, validated by the
same form definitions as the pages. Route permissions as in `documents.py`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.web.authorization import OneStep, requires
from cms_workflows.web.documents import (
    READ_TYPE, confirmed, create_document, detail, document_reader, drafting, new_choices,
    register_reader,
)
from cms_workflows.web.forms import form
from cms_workflows.web.paging import ListQuery, one_page, query_parameters
from cms_workflows.web.session import Viewer, check_api_csrf, current_viewer

api = APIRouter(tags=["documents"])


def _revision(number: str, rev) -> dict[str, Any] | None:
    if rev is None:
        return None
    return {"label": rev.label, "status": rev.status, "author": rev.author, "change_reason": rev.change_reason,
            "round": rev.round, "submitted_at": rev.submitted_at, "approved_by": rev.approved_by,
            "approved_at": rev.approved_at, "effective_date": rev.effective_date, "file_sha256": rev.file_sha256,
            "file": f"/api/v1/documents/{number}/revisions/{rev.label}/file"}


def _document(doc, effective=None, opened=None) -> dict[str, Any]:
    return {"number": doc.number, "title": doc.title, "doc_type": doc.doc_type, "site": doc.site,
            "owner_department": doc.owner_department, "status": doc.status, "next_review_due": doc.next_review_due,
            "effective_revision": _revision(doc.number, effective), "open_revision": _revision(doc.number, opened)}


def _route(route: list[dict]) -> list[dict]:
    return [{"step_no": s["step"].step_no, "name": s["step"].name, "action": s["step"].action, "mode": s["step"].mode,
             "status": s["step"].status, "positions": [code for code, _name in s["positions"]],
             "decisions": [{"username": d.username, "position": d.position, "decision": d.decision,
                            "comment": d.comment, "decided_at": d.decided_at} for d in s["decisions"]],
             "pending": [{"position": p["position"], "users": p["users"]} for p in s["pending"]]} for s in route]


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("web.form.invalid_request", problems=[problem("", "web.form.not_an_object")]) from None


class RegisterQuery(ListQuery):
    type: str | None = Field(None, description="only this document type (e.g. policy)")
    state: str | None = Field(None, description="a document state, or the state of its effective or open revision "
                                                "(e.g. in_review)")


@api.get("/documents", openapi_extra=query_parameters(RegisterQuery))
async def list_documents(step: OneStep = requires(READ_TYPE, "read", resource=register_reader, with_read=True)):
    """The register: the documents the user may read, with their effective and open revisions."""
    from cms_workflows.documents import queries

    query = step.query(RegisterQuery)

    def read(uow, viewer: Viewer):  # signing in, the permission and the read: one worker call
        paging = query.paging
        rows, total = queries.register_page(uow, viewer.username, doc_type=query.type or None,
                                            site=query.site or None, state=query.state or None,
                                            offset=(paging.page - 1) * paging.per_page, limit=paging.per_page)
        return one_page(rows, total, paging, lambda row: _document(*row))

    return await step.read(read)


@api.get("/documents/{number}", dependencies=[requires("doc.*", "read", resource=document_reader)])
def get_document(number: str, viewer: Viewer = Depends(current_viewer)):
    """A document: its revisions, the current route with decisions and who is still to decide, and what the
    user may do now."""
    with viewer.reading() as uow:
        view = detail(uow, viewer.username, number)
    return {**_document(view["doc"], view["effective"], view["opened"]),
            "revisions": [_revision(number, r) for r in view["revisions"]], "route": _route(view["route"]),
            "awaiting_my_decision": view["awaiting"] is not None, "must_acknowledge": view["must_acknowledge"],
            "unacknowledged": [h.username for h in view["unacknowledged"]]}


@api.get("/documents/{number}/revisions", dependencies=[requires("doc.*", "read", resource=document_reader)])
def list_revisions(number: str, viewer: Viewer = Depends(current_viewer)):
    from cms_workflows.documents import queries

    with viewer.reading() as uow:
        view = queries.show(uow, viewer.username, number)
    return [_revision(number, r) for r in view.revisions]


# the route-level gate of a decision is reading the document; the step, the position and segregation of
# duties are the decision command's (documents.approval.decide), which names the positions the step needs
@api.post("/documents/{number}/decisions", status_code=201, openapi_extra=form("document_decision").openapi_body(),
          dependencies=[requires("doc.*", "read", resource=document_reader)])
async def decide(number: str, request: Request, viewer: Viewer = Depends(current_viewer)):
    """One decision on the running step of the document's approval route."""
    from cms_workflows.documents import approval

    check_api_csrf(request, viewer)
    data = form("document_decision").parse(await _body(request), api=True)
    rev = viewer.act(approval.decide, number, data["decision"], data.get("comment") or "",
                     effective_date=data.get("effective_date"))
    return _revision(number, rev)


@api.post("/documents/{number}/acknowledgements", status_code=201,
          openapi_extra=form("document_acknowledge").openapi_body(),
          dependencies=[requires("doc.*", "read", resource=document_reader)])
async def acknowledge(number: str, request: Request, viewer: Viewer = Depends(current_viewer)):
    """The user confirms having read the effective revision distributed to them."""
    from cms_workflows.documents import distribution

    check_api_csrf(request, viewer)
    data = form("document_acknowledge").parse(await _body(request), api=True)
    confirmed(data, "document_acknowledge")
    row = viewer.act(distribution.acknowledge, number)
    return {"number": number, "username": row.username, "file_sha256": row.file_sha256,
            "acknowledged_at": row.acknowledged_at}


def _new_body() -> dict:
    """document_new's JSON body, with `content`: the template's variables as a JSON object."""
    body = form("document_new").openapi_body()
    schema = body["requestBody"]["content"]["application/json"]["schema"]
    schema["properties"]["content"] = {
        "type": "object", "description": "The template's content variables: a text variable a string, a list "
                                         "variable a list of strings or of objects (a table's rows)."}
    return body


@api.post("/documents", status_code=201, openapi_extra=_new_body(),
          dependencies=[requires("doc.*", "draft", resource=drafting)])
async def create(request: Request, viewer: Viewer = Depends(current_viewer)):
    """A new document and its first draft (`content`: the template's variables as a JSON object)."""
    check_api_csrf(request, viewer)
    body = await _body(request)
    content = body.pop("content", None) if isinstance(body, dict) else None
    if content is not None and not isinstance(content, dict):
        raise ValidationFailed("web.form.invalid_request", problems=[problem("content", "web.form.not_an_object")])
    with viewer.reading() as uow:
        choices = new_choices(uow)
    number = create_document(viewer, form("document_new").parse(body, choices=choices, api=True), content)
    return JSONResponse({"number": number, "url": f"/api/v1/documents/{number}"}, status_code=201,
                        headers={"Location": f"/api/v1/documents/{number}"})
