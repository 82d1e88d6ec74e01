"""Existing documents (X-4): a company starts with its own Word files, and external documents
(laws, standards) arrive as files. An upload becomes a revision with the same lifecycle as a
rendered one; its hash is recorded on import and is the hash approved."""

from __future__ import annotations

from datetime import date

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.documents import numbering, output, registry, rendering
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import Revision
from cms_workflows.core.errors import InvalidTransition, ValidationFailed

EXTERNAL = "external"


def import_file(session, username: str, data: bytes, filename: str, *, number: str | None = None,
                doc_type: str | None = None, site: str | None = None, title: str | None = None,
                owner_department: str | None = None, label: str | None = None, legacy_number: str | None = None,
                change_reason: str = "", review_months: int | None = None, issuer: str | None = None,
                external_version: str | None = None, external_effective_date: date | None = None,
                applies_to: str | None = None, today: date | None = None) -> Revision:
    """Register an uploaded file: with `number`, as the next revision of that document; else as a new document.

    Word files of the company's own documents must be readable .docx; an external document (a standard's
    PDF, say) may be any file.
    """
    if number is not None:
        doc = docs.get_document(session, number)
        docs.require_active(doc)
        dt = registry.doc_type(doc.doc_type)
        _check_file(dt.code, data, filename)
        grant = access.require(session, username, "draft", docs.resource_of(doc))
        opened = docs.open_revision(session, doc)
        if opened is not None:
            raise InvalidTransition("documents.open_revision_exists", number=number, revision=opened.label,
                                    state=docs.StateName("state", opened.status))
        if not change_reason.strip():
            raise ValidationFailed("documents.change_reason_required", number=number)
        last = docs.revisions(session, doc)[-1]
        label = numbering.next_label(dt.revision_labels, last.label) if label is None else numbering.check_label(dt.revision_labels, label)
        if label in {r.label for r in docs.revisions(session, doc)}:
            raise ValidationFailed("documents.label_taken", number=number, revision=label)
        seq = last.seq + 1
    else:
        missing = [f for f, v in (("doc_type", doc_type), ("site", site), ("title", title),
                                  ("owner_department", owner_department)) if not v]
        if missing:
            raise ValidationFailed("documents.bad_register_entry", problems=[{"field": f, "message": "required"} for f in missing])
        dt = registry.doc_type(doc_type)
        _check_file(dt.code, data, filename)
        grant = access.require(session, username, "draft", Resource(dt.object_type, site=site))
        docs.check_register_fields(session, site, title, owner_department, review_months)
        if dt.code == EXTERNAL and not (issuer and external_version):
            raise ValidationFailed("documents.bad_register_entry",
                                   problems=[{"field": f, "message": "required for an external document"}
                                             for f, v in (("issuer", issuer), ("version", external_version)) if not v])
        label = numbering.first_label(dt.revision_labels) if label is None else numbering.check_label(dt.revision_labels, label)
        doc = docs.new_document(session, grant, dt, site=site, title=title, owner_department=owner_department,
                                 language="zh-CN", template=None, review_months=review_months,
                                 today=output.today_or(session, today), legacy_number=legacy_number, issuer=issuer,
                                 external_version=external_version, external_effective_date=external_effective_date,
                                 applies_to=applies_to)
        seq = 1
    stored = output.store(session).put(data)
    rev = Revision(document_id=doc.id, seq=seq, label=label, author=username, author_position=grant.position,
                   change_reason=change_reason.strip(), source="imported", source_filename=filename,
                   file_sha256=stored.sha256, file_size=stored.size)
    session.add(rev)
    session.flush()
    docs.record(session, grant, "import", doc, rev, {"filename": filename, "sha256": stored.sha256, "size": stored.size,
                                                       "legacy_number": legacy_number, "issuer": issuer,
                                                       "version": external_version, "applies_to": applies_to})
    return rev


def _check_file(doc_type: str, data: bytes, filename: str) -> None:
    (rendering.check_upload if doc_type == EXTERNAL else rendering.check_docx)(data, filename)
