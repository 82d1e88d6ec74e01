"""Distribution and read acknowledgement (R-5.2 communication, R-7.5 availability).

An effective revision is distributed to positions at sites; every holder acknowledges having
read exactly that revision (its file hash is part of the acknowledgement). Releasing a new
revision distributes it to the same holders, who are asked again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.documents import registry
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import Acknowledgement, Distribution, Revision
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, ValidationFailed


@dataclass(frozen=True)
class Holder:
    username: str
    position: str
    site: str  # where the user holds the position


def _current(session, number: str) -> tuple:
    doc = docs.get_document(session, number)
    rev = docs.effective_revision(session, doc)
    if doc.status != "active" or rev is None:
        raise InvalidTransition("documents.no_effective_revision", number=number)
    return doc, rev


def distribute(session, username: str, number: str, targets: list[tuple[str, str]]) -> list[Distribution]:
    """Hand the effective revision to the holders of each (position, site); site "*" = wherever the position is held."""
    from cms_workflows.access.roles import known_position_codes
    from cms_workflows.org.queries import list_sites

    doc, rev = _current(session, number)
    grant = access.require(session, username, "distribute", docs.resource_of(doc))
    sites = {s.code for s in list_sites(session)} | {COMPANY_WIDE}
    positions = known_position_codes()
    problems = [{"field": f"{p}@{s}", "message": "unknown position" if p not in positions else "unknown site"}
                for p, s in targets if p not in positions or s not in sites]
    if not targets or problems:
        raise ValidationFailed("documents.bad_distribution", problems=problems or [{"field": "to", "message": "position@site"}])
    existing = {(d.position, d.site) for d in session.exec(select(Distribution).where(Distribution.revision_id == rev.id))}
    added = []
    for position, site in dict.fromkeys(targets):
        if (position, site) in existing:
            continue
        row = Distribution(revision_id=rev.id, position=position, site=site, distributed_by=username)
        session.add(row)
        added.append(row)
    if not added:
        raise Conflict("documents.already_distributed", number=number, revision=rev.label)
    session.flush()
    docs.record(session, grant, "distribute", doc, rev, {"to": [f"{d.position}@{d.site}" for d in added],
                                                          "file_sha256": rev.file_sha256})
    return added


def holders(session, rev: Revision) -> list[Holder]:
    """Everyone the revision is distributed to, today."""
    from cms_workflows.org.queries import active_assignments

    targets = {(d.position, d.site) for d in session.exec(select(Distribution).where(Distribution.revision_id == rev.id))}
    positions = {p for p, _s in targets}
    out = set()
    for user, position, site in active_assignments(session):
        # a target site reaches that site's holders and the company-wide ones; "*" reaches every holder
        if (position, site) in targets or (position, COMPANY_WIDE) in targets or (site == COMPANY_WIDE and position in positions):
            out.add(Holder(user, position, site))
    return sorted(out, key=lambda h: (h.username, h.position, h.site))


def acknowledge(session, username: str, number: str) -> Acknowledgement:
    """The user confirms having read the effective revision (the one whose hash is recorded)."""
    doc, rev = _current(session, number)
    mine = [h for h in holders(session, rev) if h.username == username]
    if not mine:
        raise AccessDenied("documents.not_distributed_to", username=username, number=number, revision=rev.label)
    object_type = registry.doc_type(doc.doc_type).object_type
    grant = access.require(session, username, "acknowledge", Resource(object_type, site=mine[0].site))
    if session.exec(select(Acknowledgement).where(Acknowledgement.revision_id == rev.id,
                                                  Acknowledgement.username == username)).first():
        raise Conflict("documents.already_acknowledged", username=username, number=number, revision=rev.label)
    row = Acknowledgement(revision_id=rev.id, username=username, file_sha256=rev.file_sha256)
    session.add(row)
    session.flush()
    docs.record(session, grant, "acknowledge", doc, rev, {"file_sha256": rev.file_sha256})
    return row


def pending(session, username: str, number: str) -> tuple[Revision, list[Holder]]:
    """Holders who have not yet acknowledged the effective revision."""
    doc, rev = _current(session, number)
    docs.require_read(session, username, doc)
    done = set(session.exec(select(Acknowledgement.username).where(Acknowledgement.revision_id == rev.id)))
    return rev, [h for h in holders(session, rev) if h.username not in done]
