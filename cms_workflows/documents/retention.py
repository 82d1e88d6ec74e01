"""Retention and disposition (R-7.5): an obsolete document is kept for its type's retention
period; then it may be archived or destroyed, once a second person approves. Destroying
deletes the files but never the register entry: the hashes stay, so the trail still proves
what existed."""

from __future__ import annotations

import json
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import event
from sqlmodel import select

from cms_workflows import access
from cms_workflows.documents import output, registry
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import Disposition
from cms_workflows.core.db import utcnow
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, ValidationFailed

METHODS = ("archive", "destroy")


def retention_ends(doc) -> date | None:
    if doc.obsoleted_at is None:
        return None
    return doc.obsoleted_at.date() + relativedelta(years=registry.doc_type(doc.doc_type).retention_years)


def request(session, username: str, number: str, method: str, reason: str, *, today: date | None = None) -> Disposition:
    if method not in METHODS:
        raise ValidationFailed("documents.bad_disposition", method=method)
    if not (reason or "").strip():
        raise ValidationFailed("documents.reason_required", number=number)
    doc = docs.get_document(session, number, lock=True)
    grant = access.require(session, username, "dispose", docs.resource_of(doc))
    if doc.status != "obsolete":
        raise InvalidTransition("documents.not_obsolete", number=number, state=docs.StateName("doc_status", doc.status))
    ends = retention_ends(doc)
    if output.today_or(session, today) < ends:
        raise InvalidTransition("documents.retention_running", number=number, until=ends.isoformat())
    if session.exec(select(Disposition).where(Disposition.document_id == doc.id, Disposition.status == "requested")).first():
        raise Conflict("documents.disposition_pending", number=number)
    hashes = sorted({r.file_sha256 for r in docs.revisions(session, doc) if r.file_sha256})
    row = Disposition(document_id=doc.id, method=method, reason=reason.strip(), requested_by=username,
                      file_hashes=json.dumps(hashes))
    session.add(row)
    session.flush()
    docs.record(session, grant, "disposition_requested", doc, None, {"disposition_id": row.id, "method": method,
                                                                      "reason": row.reason, "file_hashes": hashes,
                                                                      "retention_ended": ends.isoformat()})
    return row


def decide(session, username: str, disposition_id: int, approve: bool, comment: str = "") -> Disposition:
    row = session.exec(select(Disposition).where(Disposition.id == disposition_id).with_for_update()).first()
    if row is None:
        raise NotFound("documents.unknown_disposition", id=disposition_id)
    doc = session.get(docs.Document, row.document_id)
    if username == row.requested_by:
        raise AccessDenied("access.sod_own_work", username=username, action="approve_disposal", object_type=doc.doc_type)
    grant = access.require(session, username, "approve_disposal", docs.resource_of(doc))
    if row.status != "requested":
        raise Conflict("documents.disposition_decided", id=disposition_id, state=row.status)
    now = utcnow()
    row.status, row.decided_by, row.decided_at = ("approved" if approve else "rejected"), username, now
    session.add(row)
    deleted = []
    if approve:
        doc.status = "archived" if row.method == "archive" else "destroyed"
        session.add(doc)
        if row.method == "destroy":
            for rev in docs.revisions(session, doc):
                if rev.file_sha256 and rev.file_destroyed_at is None:
                    rev.file_destroyed_at = now
                    session.add(rev)
                    deleted.append(rev.file_sha256)
    session.flush()
    docs.record(session, grant, "disposition_decided", doc, None, {"disposition_id": row.id, "method": row.method,
                                                                    "approved": approve, "comment": comment.strip(),
                                                                    "files_destroyed": deleted})
    if deleted:
        _delete_after_commit(session, deleted)
    return row


def _delete_after_commit(session, hashes: list[str]) -> None:
    """Files go only once the decision is committed, and only if nothing else still refers to the same bytes."""
    database = session.database

    def delete(_committed_session):
        with database.read() as reader:
            still_used = output.stored_document_files(reader)
        for sha in hashes:
            if sha not in still_used:
                database.files.remove(sha)

    event.listen(session, "after_commit", delete, once=True)
