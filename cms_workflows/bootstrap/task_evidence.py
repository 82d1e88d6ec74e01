"""The document revisions a task may cite as evidence (tasks.evidence, R-7.5): wired here because
tasks do not import the document register."""

from __future__ import annotations

from cms_workflows.core.errors import NotFound


def document_revision(uow, actor: str, reference: str) -> str:
    """"NUMBER" (its effective revision, else its newest) or "NUMBER@LABEL": the revision as
    "NUMBER@LABEL", for a user who may read the document."""
    from cms_workflows.documents.queries import effective_revision, get_document, require_read, revisions

    number, _, label = (reference or "").strip().partition("@")
    doc = get_document(uow, number)
    require_read(uow, actor, doc)
    found = revisions(uow, doc)
    if label:
        rev = next((r for r in found if r.label == label), None)
    else:
        rev = effective_revision(uow, doc) or (found[-1] if found else None)
    if rev is None:
        raise NotFound("tasks.unknown_revision", number=doc.number, label=label or "-")
    return f"{doc.number}@{rev.label}"
