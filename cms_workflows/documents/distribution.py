"""Distribution and read acknowledgement (R-5.2 communication, R-7.5 availability).

An effective revision is distributed to positions at sites; every holder acknowledges having
read exactly that revision (its file hash is part of the acknowledgement). Releasing a new
revision distributes it to the same holders, who are asked again.

Each distributed copy has its 分发号 (`copy_no`): one sequence per document, and a position@site keeps
its number from revision to revision, as a controlled copy holder keeps theirs when pages are replaced.
A distributed copy downloaded or printed carries it (documents.renditions).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Grant, Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, ValidationFailed, problem
from cms_workflows.documents.models import Acknowledgement, Distribution, Document, Revision
from cms_workflows.documents.queries import effective_revision, get_document, require_read, resource_of
from cms_workflows.documents.service import record_on
from cms_workflows.documents.states import DOCUMENT


@dataclass(frozen=True)
class Holder:
    username: str
    position: str
    site: str  # where the user holds the position


def _effective(uow, number: str, *_args, **_kwargs) -> Resource:
    doc = get_document(uow, number)
    return resource_of(doc, subject=(doc, effective_revision(uow, doc)))


def _current(doc: Document, rev: Revision | None) -> Revision:
    if not DOCUMENT.allows(doc.status, "change") or rev is None:
        raise InvalidTransition("documents.no_effective_revision", number=doc.number)
    return rev


@command("documents.distribution.create", action="distribute", resource=_effective, audit_object="doc_document")
def distribute(cmd: Command, number: str, targets: list[tuple[str, str]]) -> list[Distribution]:
    """Hand the effective revision to the holders of each (position, site); site "*" = wherever the position is held."""
    from cms_workflows.access.roles import known_position_codes
    from cms_workflows.org.queries import list_sites

    uow = cmd.uow
    doc, rev = cmd.subject
    rev = _current(doc, rev)
    sites = {s.code for s in list_sites(uow)} | {COMPANY_WIDE}
    positions = known_position_codes()
    problems = [problem(f"{p}@{s}", "documents.problem.unknown_position" if p not in positions
                        else "documents.problem.unknown_site_code", position=p, site=s)
                for p, s in targets if p not in positions or s not in sites]
    if not targets or problems:
        raise ValidationFailed("documents.bad_distribution",
                               problems=problems or [problem("to", "documents.problem.distribution_target")])
    get_document(uow, number, lock=True)  # one distribution at a time numbers the document's copies
    existing = {(d.position, d.site) for d in uow.exec(select(Distribution).where(Distribution.revision_id == rev.id))}
    added = []
    for position, site in dict.fromkeys(targets):
        if (position, site) in existing:
            continue
        row = Distribution(revision_id=rev.id, position=position, site=site, distributed_by=cmd.actor)
        uow.add(row)
        added.append(row)
    if not added:
        raise Conflict("documents.already_distributed", number=number, revision=rev.label)
    uow.flush()
    assign_copy_numbers(uow, doc, rev)
    record_on(cmd, doc, rev, {"to": [f"{d.position}@{d.site}" for d in added], "file_sha256": rev.file_sha256,
                              "copy_numbers": {f"{d.position}@{d.site}": d.copy_no for d in added}})
    return added


def assign_copy_numbers(uow, doc: Document, rev: Revision) -> dict[str, int]:
    """Give each distribution of `rev` that has none its 分发号: the number its position@site had for an earlier
    revision of the document, else the document's next. The caller holds the document's lock (so two
    transactions never hand out one number) and records the numbers given (returned as position@site: no)
    in its event."""
    mine = list(uow.exec(select(Distribution).where(Distribution.revision_id == rev.id).order_by(Distribution.id)))
    missing = [d for d in mine if d.copy_no is None]
    if not missing:
        return {}
    numbered = uow.exec(select(Distribution.position, Distribution.site, Distribution.copy_no)
                        .join(Revision, Revision.id == Distribution.revision_id)
                        .where(Revision.document_id == doc.id, Distribution.copy_no != None)  # noqa: E711
                        .order_by(Distribution.id))
    known: dict[tuple[str, str], int] = {}
    for position, site, copy_no in numbered:
        known.setdefault((position, site), copy_no)
    last = max(known.values(), default=0)
    given = {}
    for row in missing:
        if (row.position, row.site) not in known:
            last += 1
            known[(row.position, row.site)] = last
        row.copy_no = known[(row.position, row.site)]
        uow.add(row)
        given[f"{row.position}@{row.site}"] = row.copy_no
    uow.flush()
    return given


def distributed_copy(uow, doc: Document, rev: Revision, copy_no: int) -> Distribution:
    """The distribution of `rev` that is copy `copy_no` (a copy without its number yet has none: see
    assign_copy_numbers)."""
    row = uow.exec(select(Distribution).where(Distribution.revision_id == rev.id,
                                              Distribution.copy_no == copy_no)).first()
    if row is None:
        raise NotFound("documents.rendition.unknown_copy", number=doc.number, revision=rev.label, copy_no=copy_no)
    return row


def copies(uow, username: str, number: str) -> tuple[Revision, list[Distribution]]:
    """The distributed copies of the effective revision, by 分发号 (one not yet numbered last)."""
    doc = get_document(uow, number)
    require_read(uow, username, doc)
    rev = _current(doc, effective_revision(uow, doc))
    rows = uow.exec(select(Distribution).where(Distribution.revision_id == rev.id))
    return rev, sorted(rows, key=lambda d: (d.copy_no is None, d.copy_no or 0, d.id))


def reaches(uow, distribution: Distribution, username: str) -> bool:
    """Whether the user holds, today, the position this distributed copy went to (at its site)."""
    for user, position, held_at in access.directory().assignments(uow, uow.clock.today()):
        if user == username and position == distribution.position and (
                distribution.site == COMPANY_WIDE or access.counts_at(held_at, distribution.site)):
            return True
    return False


def holders(uow, rev: Revision) -> list[Holder]:
    """Everyone the revision is distributed to, today: a target (position, site) reaches the holders whose
    assignment counts at that site (access's one site rule: held there or company-wide); a target at
    "*" reaches every holder of the position."""
    targets = {(d.position, d.site) for d in uow.exec(select(Distribution).where(Distribution.revision_id == rev.id))}
    everywhere = {p for p, s in targets if s == COMPANY_WIDE}
    out = set()
    for user, position, held_at in access.directory().assignments(uow, uow.clock.today()):
        reached = position in everywhere or any(access.counts_at(held_at, site)
                                                for target, site in targets if target == position)
        if reached:
            out.add(Holder(user, position, held_at))
    return sorted(out, key=lambda h: (h.username, h.position, h.site))


def _authorize_holder(control, uow, actor: str, _action: str, resource: Resource) -> Grant:
    """Acknowledge where the user holds a position the revision was distributed to."""
    doc, rev = resource.subject
    if rev is None or not DOCUMENT.allows(doc.status, "change"):
        return require_read(uow, actor, doc)  # the body then names the state
    mine = [h for h in holders(uow, rev) if h.username == actor]
    if not mine:
        raise AccessDenied("documents.not_distributed_to", username=actor, number=doc.number, revision=rev.label)
    return control.decide(uow, actor, "acknowledge", Resource(resource.type, site=mine[0].site, id=resource.id))


@command("documents.acknowledgement.create", action="acknowledge", resource=_effective, authorize=_authorize_holder,
         audit_object="doc_document")
def acknowledge(cmd: Command, number: str) -> Acknowledgement:
    """The user confirms having read the effective revision (the one whose hash is recorded)."""
    uow = cmd.uow
    doc, rev = cmd.subject
    rev = _current(doc, rev)
    if uow.exec(select(Acknowledgement).where(Acknowledgement.revision_id == rev.id,
                                              Acknowledgement.username == cmd.actor)).first():
        raise Conflict("documents.already_acknowledged", username=cmd.actor, number=number, revision=rev.label)
    row = Acknowledgement(revision_id=rev.id, username=cmd.actor, file_sha256=rev.file_sha256)
    uow.add(row)
    uow.flush()
    record_on(cmd, doc, rev, {"file_sha256": rev.file_sha256})
    return row


def pending(uow, username: str, number: str) -> tuple[Revision, list[Holder]]:
    """Holders who have not yet acknowledged the effective revision."""
    doc = get_document(uow, number)
    require_read(uow, username, doc)
    rev = _current(doc, effective_revision(uow, doc))
    done = set(uow.exec(select(Acknowledgement.username).where(Acknowledgement.revision_id == rev.id)))
    return rev, [h for h in holders(uow, rev) if h.username not in done]


