"""What a document's page offers of its later steps (documents_steps.py): which forms the user may use
now, the pending disposal request and the choices of its forms. Kept apart from the routes so that
documents.py can build its page from it without importing the routes that use its helpers."""

from __future__ import annotations

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.web.forms import form

STEP_FORMS = ("document_add_reviewer", "document_periodic_review", "document_obsolete", "document_dispose",
              "document_disposal_decision")


def reviewer_choices(uow) -> dict[str, list[tuple[str, str]]]:
    from cms_workflows.org.queries import list_users

    return {"reviewer": [(u.username, f"{u.username} {u.display_name or ''}".strip())
                         for u in list_users(uow, include_inactive=False)]}


def step_context(uow, username: str, doc, opened, effective) -> dict:
    """Which of these steps the user may take on the document now (the page offers only those forms)."""
    from cms_workflows.documents import queries, retention

    resource = queries.resource_of(doc)
    pending = queries.pending_disposition(uow, doc)
    active = doc.status == "active"
    return {
        "may_add_reviewer": opened is not None and opened.status == "in_review"
                            and access.can(uow, username, "add_reviewer", Resource("document_register")),
        "may_review": active and effective is not None and access.can(uow, username, "periodic_review", resource),
        "may_obsolete": active and access.can(uow, username, "obsolete", resource),
        "may_request_disposal": doc.status == "obsolete" and pending is None
                                and access.can(uow, username, "dispose", resource),
        "disposition": pending, "retention_ends": retention.retention_ends(doc),
        "may_decide_disposal": pending is not None and pending.requested_by != username
                               and access.can(uow, username, "approve_disposal", resource),
        "reviewer_choices": reviewer_choices(uow) if opened is not None and opened.status == "in_review" else {},
    }


def method_name(code: str) -> str:
    return next((c.label for c in form("document_dispose").field("method").choices if c.value == code), code)
