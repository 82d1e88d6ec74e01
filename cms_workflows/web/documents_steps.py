"""The later steps of a controlled document (R-7.5) as forms of its page: document control adds a named
reviewer to the running step, records a periodic review, makes the document obsolete and, after its
retention period, asks to archive or destroy it, which the general manager approves or rejects.
Each is one command of `cms_workflows.documents`, as `cms doc add-reviewer|periodic|obsolete|dispose|
dispose-decide` runs it.

Route permissions: the command's own action on the document (at its site), or on the register for an
added reviewer (`document_register add_reviewer`, company-wide).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.web.authorization import requires
from cms_workflows.web.documents import act_on, document_at
from cms_workflows.web.documents_step_context import reviewer_choices
from cms_workflows.web.forms import form
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)


@pages.post("/documents/{number}/reviewers", dependencies=[requires("document_register", "add_reviewer")])
def add_reviewer(request: Request, number: str, viewer: Viewer = Depends(current_viewer),
                 posted=Depends(checked_form)):
    from cms_workflows.documents import approval

    with viewer.reading() as uow:
        choices = reviewer_choices(uow)
    return act_on(request, viewer, number, "document_add_reviewer", posted, lambda data: viewer.act(
        approval.add_reviewer, number, data["reviewer"], data.get("reason") or ""), default="reviewer",
        choices=choices)


@pages.post("/documents/{number}/periodic-review",
            dependencies=[requires("doc.*", "periodic_review", resource=document_at)])
def periodic_review(request: Request, number: str, viewer: Viewer = Depends(current_viewer),
                    posted=Depends(checked_form)):
    from cms_workflows.documents import service

    return act_on(request, viewer, number, "document_periodic_review", posted, lambda data: viewer.act(
        service.periodic_review, number, data["outcome"], data.get("comment") or ""), default="comment")


@pages.post("/documents/{number}/obsolete", dependencies=[requires("doc.*", "obsolete", resource=document_at)])
def obsolete(request: Request, number: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.documents import service

    return act_on(request, viewer, number, "document_obsolete", posted, lambda data: viewer.act(
        service.obsolete, number, data["reason"]), default="reason")


@pages.post("/documents/{number}/disposal", dependencies=[requires("doc.*", "dispose", resource=document_at)])
def request_disposal(request: Request, number: str, viewer: Viewer = Depends(current_viewer),
                     posted=Depends(checked_form)):
    from cms_workflows.documents import retention

    return act_on(request, viewer, number, "document_dispose", posted, lambda data: viewer.act(
        retention.request, number, data["method"], data["reason"]), default="reason")


@pages.post("/documents/{number}/disposal/decision",
            dependencies=[requires("doc.*", "approve_disposal", resource=document_at)])
def decide_disposal(request: Request, number: str, viewer: Viewer = Depends(current_viewer),
                    posted=Depends(checked_form)):
    from cms_workflows.documents import queries, retention

    def run(data):
        with viewer.reading() as uow:
            pending = queries.pending_disposition(uow, queries.get_document(uow, number))
        if pending is None:
            raise ValidationFailed("web.form.invalid", form=form("document_disposal_decision").title,
                                   problems=[problem("decision", "web.documents.no_disposition")])
        viewer.act(retention.decide, pending.id, data["decision"] == "approve", data.get("comment") or "")

    return act_on(request, viewer, number, "document_disposal_decision", posted, run, default="decision")
