"""Existing documents (X-4): a company starts with its own Word files, and external documents
(laws, standards) arrive as files. An upload becomes a revision with the same lifecycle as a
rendered one; its hash is recorded on import and kept as the revision's source.

Approved, an imported Word file is stored as a controlled copy (issue 13 item 2;
documents.controlled_copy): the company's page setup, control header and footer, revision history and
approval block applied to a copy, the upload unchanged beside it. An external document keeps its issuer's
identity (standard number, edition, issuer, publication and implementation dates), which its copy and
cover sheet show instead of an internal revision letter (`shown_revision`)."""

from __future__ import annotations

from datetime import date


from cms_workflows.access import Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import InvalidTransition, ValidationFailed, problem
from cms_workflows.documents import numbering, output, registry, rendering
from cms_workflows.documents.controlled_copy import EXTERNAL
from cms_workflows.documents.models import Revision
from cms_workflows.documents.queries import get_document, open_revision, resource_of, revisions
from cms_workflows.documents.service import check_register_fields, new_document, record_on, require_active
from cms_workflows.documents.states import REVISION

# an external document's identity: the import's keyword -> the document's column
EXTERNAL_FIELDS = {"issuer": "issuer", "external_version": "external_version",
                   "external_effective_date": "external_effective_date", "external_number": "external_number",
                   "external_published_date": "external_published_date", "applies_to": "applies_to"}


def _import_target(uow, *_args, number: str | None = None, doc_type: str | None = None, site: str | None = None,
                   **_kwargs) -> Resource:
    """The document the file is the next revision of, or the type and site of the new document
    (without them there is nothing to authorize against)."""
    if number is not None:
        doc = get_document(uow, number)
        return resource_of(doc, subject=doc)
    missing = [f for f, v in (("doc_type", doc_type), ("site", site)) if not v]
    if missing:
        raise ValidationFailed("documents.bad_register_entry",
                               problems=[problem(f, "documents.problem.required") for f in missing])
    return Resource(registry.doc_type(doc_type).object_type, site=site)


@command("documents.revision.import", action="draft", resource=_import_target, audit_object="doc_document")
def import_file(cmd: Command, data: bytes, filename: str, *, number: str | None = None,
                doc_type: str | None = None, site: str | None = None, title: str | None = None,
                owner_department: str | None = None, label: str | None = None, legacy_number: str | None = None,
                change_reason: str = "", review_months: int | None = None, issuer: str | None = None,
                external_version: str | None = None, external_effective_date: date | None = None,
                applies_to: str | None = None, external_number: str | None = None,
                external_published_date: date | None = None, today: date | None = None) -> Revision:
    """Register an uploaded file: with `number`, as the next revision of that document; else as a new document.

    Word files of the company's own documents must be readable .docx; an external document (a standard's
    PDF, say) may be any file. An external document's identity (`issuer`, `external_version`: the edition,
    `external_number`: the standard number, `external_published_date`, `external_effective_date`,
    `applies_to`) is given with it; a new edition, imported as its next revision, gives its own.
    """
    identity = {k: v for k, v in (("issuer", issuer), ("external_version", external_version),
                                  ("external_effective_date", external_effective_date), ("applies_to", applies_to),
                                  ("external_number", external_number),
                                  ("external_published_date", external_published_date)) if v not in (None, "")}
    uow = cmd.uow
    if number is not None:
        doc = cmd.subject
        require_active(doc)
        dt = registry.doc_type(doc.doc_type)
        _check_file(dt.code, data, filename)
        opened = open_revision(uow, doc)
        if opened is not None:
            raise InvalidTransition("documents.open_revision_exists", number=number, revision=opened.label,
                                    state=REVISION.label(opened.status))
        if not change_reason.strip():
            raise ValidationFailed("documents.change_reason_required", number=number)
        earlier = revisions(uow, doc)
        last = earlier[-1]
        label = numbering.next_label(dt.revision_labels, last.label) if label is None else numbering.check_label(dt.revision_labels, label)
        if label in {r.label for r in earlier}:
            raise ValidationFailed("documents.label_taken", number=number, revision=label)
        seq = last.seq + 1
        if dt.code == EXTERNAL:  # a new edition: the document's identity is the edition it now registers
            for field, value in identity.items():
                setattr(doc, EXTERNAL_FIELDS[field], value)
            uow.add(doc)
    else:
        dt = registry.doc_type(doc_type)
        missing = [f for f, v in (("title", title), ("owner_department", owner_department)) if not v]
        if missing:
            raise ValidationFailed("documents.bad_register_entry",
                                   problems=[problem(f, "documents.problem.required") for f in missing])
        _check_file(dt.code, data, filename)
        check_register_fields(uow, site, title, owner_department, review_months)
        if dt.code == EXTERNAL and not (issuer and external_version):
            raise ValidationFailed("documents.bad_register_entry",
                                   problems=[problem(f, "documents.problem.required_external")
                                             for f, v in (("issuer", issuer), ("version", external_version)) if not v])
        label = numbering.first_label(dt.revision_labels) if label is None else numbering.check_label(dt.revision_labels, label)
        doc = new_document(cmd, dt, site=site, title=title, owner_department=owner_department,
                           language="zh-CN", template=None, review_months=review_months,
                           today=output.today_or(uow, today), legacy_number=legacy_number, **identity)
        seq = 1
    # the upload is the revision's source; until approval (which stores the controlled copy) it is its file too
    stored = output.store(uow).put(data)
    rev = Revision(document_id=doc.id, seq=seq, label=label, author=cmd.actor, author_position=cmd.grant.position,
                   change_reason=change_reason.strip(), source="imported", source_filename=filename,
                   file_sha256=stored.sha256, file_size=stored.size, source_sha256=stored.sha256,
                   source_size=stored.size)
    uow.add(rev)
    uow.flush()
    record_on(cmd, doc, rev, {"filename": filename, "sha256": stored.sha256, "size": stored.size,
                              "legacy_number": legacy_number, "issuer": issuer,
                              "version": external_version, "applies_to": applies_to,
                              **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in identity.items()
                                 if k in ("external_number", "external_published_date", "external_effective_date")}})
    return rev


def _check_file(doc_type: str, data: bytes, filename: str) -> None:
    (rendering.check_upload if doc_type == EXTERNAL else rendering.check_docx)(data, filename)
