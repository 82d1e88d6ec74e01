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

from cms_workflows.access import Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, ValidationFailed
from cms_workflows.documents import output, registry
from cms_workflows.documents.models import Disposition, Document
from cms_workflows.documents.queries import resource_of, revisions
from cms_workflows.documents.service import document_loader, record_on
from cms_workflows.documents.states import DISPOSITION, DOCUMENT, DispositionStatus

METHODS = ("archive", "destroy")  # each is a transition of the document's lifecycle


def retention_ends(doc) -> date | None:
    if doc.obsoleted_at is None:
        return None
    return doc.obsoleted_at.date() + relativedelta(years=registry.doc_type(doc.doc_type).retention_years)


@command("documents.disposition.request", action="dispose", resource=document_loader(lock_document=True),
         audit_object="doc_document")
def request(cmd: Command, number: str, method: str, reason: str, *, today: date | None = None) -> Disposition:
    uow = cmd.uow
    doc, _open = cmd.subject
    if method not in METHODS:
        raise ValidationFailed("documents.bad_disposition", method=method)
    if not (reason or "").strip():
        raise ValidationFailed("documents.reason_required", number=number)
    if not DOCUMENT.allows(doc.status, method):
        raise InvalidTransition("documents.not_obsolete", number=number, state=DOCUMENT.label(doc.status))
    ends = retention_ends(doc)
    if output.today_or(uow, today) < ends:
        raise InvalidTransition("documents.retention_running", number=number, until=ends.isoformat())
    if uow.exec(select(Disposition).where(Disposition.document_id == doc.id,
                                          Disposition.status == DISPOSITION.initial)).first():
        raise Conflict("documents.disposition_pending", number=number)
    hashes = sorted({sha for r in revisions(uow, doc) for sha in _files_of(r) if sha})
    row = Disposition(document_id=doc.id, method=method, reason=reason.strip(), requested_by=cmd.actor,
                      file_hashes=json.dumps(hashes))
    uow.add(row)
    uow.flush()
    record_on(cmd, doc, None, {"disposition_id": row.id, "method": method, "reason": row.reason,
                               "file_hashes": hashes, "retention_ended": ends.isoformat()})
    return row


def _disposition(uow, disposition_id: int, *_args, **_kwargs) -> Resource:
    row = uow.exec(select(Disposition).where(Disposition.id == disposition_id).with_for_update()).first()
    if row is None:
        raise NotFound("documents.unknown_disposition", id=disposition_id)
    doc = uow.get(Document, row.document_id)
    return resource_of(doc, subject=(doc, row))


@command("documents.disposition.decide", action="approve_disposal", resource=_disposition, audit_object="doc_document")
def decide(cmd: Command, disposition_id: int, approve: bool, comment: str = "") -> Disposition:
    """A second person approves or rejects the disposition; approving archives or destroys the document."""
    uow = cmd.uow
    doc, row = cmd.subject
    # the second-person rule: approve_disposal is not an own-work action of the policy, so it is checked here
    if cmd.actor == row.requested_by:
        raise AccessDenied("access.sod_own_work", username=cmd.actor, action="approve_disposal",
                           object_type=doc.doc_type)
    verdict = "approve_disposal" if approve else "reject_disposal"
    if not DISPOSITION.allows(row.status, verdict):
        raise Conflict("documents.disposition_decided", id=disposition_id, state=DISPOSITION.label(row.status))
    now = uow.clock.now()
    row.status, row.decided_by, row.decided_at = DISPOSITION.target(row.status, verdict), cmd.actor, now
    uow.add(row)
    deleted = []
    if row.status == DispositionStatus.APPROVED:
        doc.status = DOCUMENT.target(doc.status, row.method)
        uow.add(doc)
        if row.method == "destroy":
            for rev in revisions(uow, doc):
                if rev.file_sha256 and rev.file_destroyed_at is None:
                    rev.file_destroyed_at = now
                    uow.add(rev)
                    deleted += [sha for sha in dict.fromkeys(_files_of(rev)) if sha and sha not in deleted]
    uow.flush()
    record_on(cmd, doc, None, {"disposition_id": row.id, "method": row.method, "approved": approve,
                               "comment": comment.strip(), "files_destroyed": deleted})
    if deleted:
        _delete_after_commit(uow, deleted)
    return row


def _files_of(rev) -> tuple[str | None, ...]:
    """A revision's stored files: its file, and for an imported one the upload kept as its source and an external
    document's cover sheet; destroyed together (issue 13)."""
    return rev.file_sha256, rev.source_sha256, rev.cover_sha256


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
