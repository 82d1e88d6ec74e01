"""The document register's part of an evidence pack (X-1, R-7.5): which events a scope's site or
document numbers name, and for the documents in a pack their register entry, revisions and route
decisions, with the controlled files (and the templates they were rendered from) those revisions name.
"""

from __future__ import annotations

import json

from sqlmodel import select

from cms_workflows.documents.models import Decision, Document, Revision
from cms_workflows.documents.queries import get_document

OBJECT = "doc_document"  # the audit object of every document event


def objects(uow, filter_name: str, value) -> set[tuple[str, str]]:
    if filter_name == "site":
        ids = uow.exec(select(Document.id).where(Document.site == value))
    elif filter_name == "documents":
        ids = [get_document(uow, number).id for number in value]  # an unknown number: a clear message
    else:
        return set()
    return {(OBJECT, str(i)) for i in ids}


def records(uow, keys: set[tuple[str, str]]) -> tuple[dict[str, bytes], set[str]]:
    ids = sorted(int(oid) for otype, oid in keys if otype == OBJECT and oid.isdigit())
    members: dict[str, bytes] = {}
    files: set[str] = set()
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):  # a few queries per 500 documents
        revisions: dict[int, list[Revision]] = {}
        for r in uow.exec(select(Revision).where(Revision.document_id.in_(chunk)).order_by(Revision.document_id, Revision.seq)):
            revisions.setdefault(r.document_id, []).append(r)
            if r.file_sha256 and r.file_destroyed_at is None:
                files.add(r.file_sha256)
            if r.template_sha256:
                files.add(r.template_sha256)
        decisions: dict[int, list[Decision]] = {}
        revision_ids = [r.id for rs in revisions.values() for r in rs]
        for d in uow.exec(select(Decision).where(Decision.revision_id.in_(revision_ids)).order_by(Decision.id)) if revision_ids else ():
            decisions.setdefault(d.revision_id, []).append(d)
        for doc in uow.exec(select(Document).where(Document.id.in_(chunk)).order_by(Document.id)):
            mine = revisions.get(doc.id, [])
            entry = {"document": doc.model_dump(mode="json"), "revisions": [r.model_dump(mode="json") for r in mine],
                     "decisions": [d.model_dump(mode="json") for r in mine for d in decisions.get(r.id, [])]}
            members[f"documents/{doc.number}.json"] = json.dumps(entry, ensure_ascii=False, indent=1,
                                                                  sort_keys=True).encode("utf-8")
    return members, files
