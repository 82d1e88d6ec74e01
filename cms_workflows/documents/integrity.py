"""The document register checked against the audit trail (`cms verify --deep`; R-7.5, X-1, X-4).

- every approved revision's controlled file is the one its approval event names (a hash pointed at
  another file in the store leaves the store itself intact, so plain `cms verify` cannot see it);
- every imported revision's file is the one its import event names;
- every route decision says who decided, in which capacity, what and with which comment, as its event
  says, and every decision event has its row.

Each check reads its table and its event kind once (`audit.deep.trail`) and compares them in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

from sqlalchemy import or_, select

from cms_workflows.core.i18n import Message
from cms_workflows.audit.deep import Disagreement, trail
from cms_workflows.audit.recording import events_for
from cms_workflows.documents.models import Decision, Document, Revision, RouteStep
from cms_workflows.documents.states import RevisionStatus

APPROVED_STATES = (RevisionStatus.APPROVED, RevisionStatus.EFFECTIVE, RevisionStatus.SUPERSEDED, RevisionStatus.OBSOLETE)


def approval_events(uow) -> dict[tuple[str, str], tuple[int, str | None]]:
    """(document id, revision label) -> (event seq, approved file hash); a later event of the same revision wins."""
    return {(e.object_id, e.payload.get("revision")): (e.seq, e.payload.get("file_sha256"))
            for e in trail(uow, "documents.revision.approve", "doc_document")}


def recorded_file(uow, doc: Document, rev: Revision) -> tuple[int, str | None] | None:
    """(seq, file hash) of the event that fixed a revision's file: its approval once approved, its import before;
    None when the trail has none. One document's events (one indexed query), for a download."""
    event = "documents.revision.approve" if rev.approved_at is not None or rev.status in APPROVED_STATES \
        else "documents.revision.import"
    found = None
    for e in events_for(uow, "doc_document", doc.id, event=event):
        payload = json.loads(e.payload)
        if payload.get("revision") == rev.label:
            found = (e.seq, payload.get("file_sha256" if event.endswith("approve") else "sha256"))
    return found


def check_revisions(uow) -> Iterator[Disagreement]:
    """Approved (and imported) revisions' file hashes against their approval (and import) events."""
    approved = approval_events(uow)
    imported = {(e.object_id, e.payload.get("revision")): (e.seq, e.payload.get("sha256"))
                for e in trail(uow, "documents.revision.import", "doc_document")}
    q = select(Revision.id, Revision.document_id, Revision.label, Revision.status, Revision.source,
               Revision.file_sha256, Revision.approved_at, Document.number, Revision.source_sha256) \
        .join(Document, Document.id == Revision.document_id) \
        .where(or_(Revision.approved_at != None, Revision.status.in_(APPROVED_STATES),  # noqa: E711
                   Revision.source == "imported")) \
        .order_by(Revision.id)
    seen: set[tuple[str, str]] = set()
    count = 0
    for _id, doc_id, label, status, source, sha, approved_at, number, source_sha in uow.execute(q):
        key = (str(doc_id), label)
        names = {"number": number, "revision": label}
        if source == "imported":
            # the import event names the upload, kept as the source once approval stored its controlled copy
            uploaded = source_sha or sha
            event = imported.get(key)
            if event is None:
                yield Disagreement("documents.deep.no_import_event", {**names, "sha256": uploaded or "—"})
                return
            if event[1] != uploaded:
                yield Disagreement("documents.deep.import_hash", {**names, "stored": uploaded or "—",
                                                                  "recorded": event[1], "seq": event[0]})
                return
        if approved_at is None and status not in APPROVED_STATES:
            continue  # an imported draft: its file was checked against its import above
        count += 1
        seen.add(key)
        event = approved.get(key)
        if event is None:
            yield Disagreement("documents.deep.no_approval_event", {**names, "state": status})
            return
        if event[1] != sha:
            yield Disagreement("documents.deep.file_hash", {**names, "stored": sha or "—", "approved": event[1] or "—",
                                                            "seq": event[0]})
            return
    for key, (seq, _sha) in sorted(approved.items(), key=lambda kv: kv[1][0]):
        if key not in seen:  # approved in the trail, not (any more) in the register
            yield Disagreement("documents.deep.approval_without_revision", {"seq": seq, "revision": key[1] or "—",
                                                                            "document_id": key[0]})
            return
    return {"documents.deep.count_revisions": count}


def _moment(value) -> str:
    """A stored moment as naive UTC to the second's fraction, whatever the database's time zone handling."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat()


def check_decisions(uow) -> Iterator[Disagreement]:
    """Every route decision against its event: who, in which capacity, the verdict and comment (and, in events
    written since issue 14, the site and the moment); a decision event without its row is named too."""
    events: dict[tuple, object] = {}
    for e in trail(uow, "documents.revision.decide", "doc_document"):
        p = e.payload
        events[(e.object_id, p.get("revision"), p.get("round"), p.get("step_no"), e.actor)] = e
    q = select(Decision.id, Decision.username, Decision.position, Decision.site, Decision.decision, Decision.comment,
               Decision.decided_at, RouteStep.round, RouteStep.step_no, RouteStep.name, Revision.label,
               Revision.document_id, Document.number) \
        .join(RouteStep, RouteStep.id == Decision.step_id) \
        .join(Revision, Revision.id == Decision.revision_id) \
        .join(Document, Document.id == Revision.document_id) \
        .order_by(Decision.id)
    seen: set[tuple] = set()
    count = 0
    for (row_id, username, position, site, verdict, comment, decided_at, round_, step_no, step, label, doc_id,
         number) in uow.execute(q):
        count += 1
        key = (str(doc_id), label, round_, step_no, username)
        seen.add(key)
        names = {"number": number, "revision": label, "step": step, "round": round_, "username": username, "id": row_id}
        e = events.get(key)
        if e is None:
            yield Disagreement("documents.deep.decision_without_event", names)
            return
        p = e.payload
        recorded = {"decision": p.get("decision"), "comment": p.get("comment", ""), "position": p.get("in_capacity"),
                    "step": p.get("step")}
        actual = {"decision": verdict, "comment": comment, "position": position, "step": step}
        if "site" in p:  # fields recorded by events written since issue 14
            recorded["site"], actual["site"] = p["site"], site
        if "decided_at" in p:
            recorded["decided_at"], actual["decided_at"] = _moment(p["decided_at"]), _moment(decided_at)
        differs = [f for f in recorded if recorded[f] != actual[f]]
        if differs:
            f = differs[0]
            yield Disagreement("documents.deep.decision_differs", {**names, "field": Message(f"documents.deep.field.{f}"),
                                                                   "stored": actual[f], "recorded": recorded[f], "seq": e.seq})
            return
    for key, e in sorted(events.items(), key=lambda kv: kv[1].seq):
        if key not in seen:
            yield Disagreement("documents.deep.decision_event_without_row", {
                "seq": e.seq, "number": e.payload.get("number", "—"), "revision": key[1] or "—",
                "username": e.actor, "step": e.payload.get("step", "—")})
            return
    return {"documents.deep.count_decisions": count}
