"""Document control commands (R-7.5, X-4): register, revisions, approval routes, release, periodic review.

Each command runs inside the caller's unit of work: authorize → check the state → change →
audit, so a refused or failed command changes nothing. The lifecycle of a revision:
draft → in_review → approved → effective → superseded | obsolete; a rejection returns it to
draft. The effective revision of a document stays effective and downloadable while its
successor is drafted and reviewed, and is superseded in the transaction that releases the
successor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlmodel import select

from cms_workflows import access, audit
from cms_workflows.access import COMPANY_WIDE, Grant, Resource
from cms_workflows.core.db import utcnow
from cms_workflows.documents import numbering, output, registry, rendering
from cms_workflows.documents.models import (
    APPROVED,
    DRAFT,
    EFFECTIVE,
    IN_REVIEW,
    OBSOLETE,
    OPEN_STATES,
    SUPERSEDED,
    WITHDRAWN,
    Decision,
    Distribution,
    Document,
    PeriodicReview,
    Revision,
    RouteStep,
    StepReviewer,
)
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, ValidationFailed
from cms_workflows.org.models import Department, Site, User

MAX_TITLE = 300
ADDED_REVIEWER = "reviewer"  # the position recorded for a reviewer added by name


# ------------------------------------------------------------------ lookups

def get_document(session, number: str, *, lock: bool = False) -> Document:
    q = select(Document).where(Document.number == number)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    doc = session.exec(q).first()
    if doc is None:
        raise NotFound("documents.unknown_document", number=number)
    return doc


def revisions(session, doc: Document) -> list[Revision]:
    return list(session.exec(select(Revision).where(Revision.document_id == doc.id).order_by(Revision.seq)))


def open_revision(session, doc: Document, *, lock: bool = False) -> Revision | None:
    q = select(Revision).where(Revision.document_id == doc.id, Revision.status.in_(OPEN_STATES))
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    return session.exec(q).first()


def effective_revision(session, doc: Document) -> Revision | None:
    return session.get(Revision, doc.effective_revision_id) if doc.effective_revision_id else None


def resource_of(doc: Document, rev: Revision | None = None) -> Resource:
    return Resource(registry.doc_type(doc.doc_type).object_type, site=doc.site, id=doc.number,
                    authors=frozenset({rev.author}) if rev else frozenset())


def require_read(session, username: str, doc: Document) -> Grant:
    """Read at the document's site; a company document is also readable wherever the user holds a position."""
    result = access.get_access().check(session, username, "read", resource_of(doc))
    if isinstance(result, Grant):
        return result
    if doc.site == COMPANY_WIDE:
        from cms_workflows.org.queries import active_assignments

        for site in sorted({s for u, _p, s in active_assignments(session) if u == username}):
            grant = access.get_access().check(session, username, "read", Resource(resource_of(doc).type, site=site))
            if isinstance(grant, Grant):
                return grant
    raise result


def _the_open_revision(session, doc: Document, action: str, *, lock: bool = False) -> Revision:
    rev = open_revision(session, doc, lock=lock)
    if rev is None:
        raise InvalidTransition("documents.no_open_revision", number=doc.number, action=action)
    return rev


class StateName:
    """A state named in a message, in the reader's locale when the message is shown."""

    def __init__(self, group: str, code: str) -> None:
        self.group, self.code = group, code

    def __format__(self, spec: str) -> str:
        from cms_workflows.core.i18n import t

        return t(f"documents.{self.group}.{self.code}")


def _wrong_state(action: str, doc: Document, rev: Revision) -> InvalidTransition:
    return InvalidTransition("documents.wrong_state", action=action, number=doc.number, revision=rev.label,
                             state=StateName("state", rev.status))


def record(session, grant: Grant, action: str, doc: Document, rev: Revision | None, payload: dict | None = None) -> None:
    """The audit event of a document command, in the command's transaction (`documents.<action>` on the document)."""
    body = {"number": doc.number, **({"revision": rev.label, "revision_id": rev.id} if rev else {}), **(payload or {})}
    audit.record(session, grant, f"documents.{action}", "doc_document", doc.id, body)


def _review_months(doc: Document) -> int:
    return doc.review_months if doc.review_months is not None else registry.doc_type(doc.doc_type).review_months


# ------------------------------------------------------------------ register: new documents

def check_register_fields(session, site: str, title: str, owner_department: str, review_months: int | None) -> None:
    problems = []
    if site != COMPANY_WIDE and session.exec(select(Site).where(Site.code == site)).first() is None:
        problems.append({"field": "site", "message": f"unknown site {site} (or * for the whole company)"})
    if not title or not title.strip() or len(title) > MAX_TITLE:
        problems.append({"field": "title", "message": f"1 to {MAX_TITLE} characters"})
    if session.exec(select(Department).where(Department.code == owner_department)).first() is None:
        known = ", ".join(d.code for d in session.exec(select(Department)))
        problems.append({"field": "owner_department", "message": f"unknown department {owner_department} ({known})"})
    if review_months is not None and not 0 <= review_months <= 120:
        problems.append({"field": "review_months", "message": "0 to 120"})
    if problems:
        raise ValidationFailed("documents.bad_register_entry", problems=problems)


def new_document(session, grant: Grant, dt: registry.DocType, *, site: str, title: str, owner_department: str,
                  language: str, template: str | None, review_months: int | None, today: date, **extra) -> Document:
    doc = Document(number=numbering.allocate(session, dt, site, today), doc_type=dt.code, site=site, title=title.strip(),
                   owner_department=owner_department, language=language, template=template,
                   review_months=review_months, created_by=grant.username, **extra)
    session.add(doc)
    session.flush()
    return doc


def create(session, username: str, *, doc_type: str, site: str, title: str, owner_department: str,
           content: dict | None = None, template: str | None = None, language: str = "zh-CN",
           review_months: int | None = None, today: date | None = None) -> Revision:
    """A new document in the register with its first revision, a draft of the type's template."""
    dt = registry.doc_type(doc_type)
    grant = access.require(session, username, "draft", Resource(dt.object_type, site=site))
    template = template or dt.template
    if template is None:
        raise ValidationFailed("documents.import_only", doc_type=doc_type)
    tpl = registry.template(template)
    check_register_fields(session, site, title, owner_department, review_months)
    content = output.validate_content(tpl, content or {}, complete=False)
    doc = new_document(session, grant, dt, site=site, title=title, owner_department=owner_department,
                        language=_language(language), template=template, review_months=review_months,
                        today=output.today_or(session, today))
    rev = Revision(document_id=doc.id, seq=1, label=numbering.first_label(dt.revision_labels), author=username,
                   author_position=grant.position, content=output.canonical(content))
    session.add(rev)
    session.flush()
    record(session, grant, "create", doc, rev, {"doc_type": doc_type, "site": site, "title": doc.title,
                                                  "owner_department": owner_department, "template": template})
    return rev


def _language(language: str) -> str:
    from cms_workflows.core.i18n import LOCALES, normalize

    value = normalize(language)
    if value not in LOCALES:
        raise ValidationFailed("documents.bad_register_entry", problems=[{"field": "language", "message": ", ".join(LOCALES)}])
    return value


# ------------------------------------------------------------------ drafting

def edit(session, username: str, number: str, *, title: str | None = None, content: dict | None = None,
         change_reason: str | None = None, major: bool = False) -> Revision:
    """Change the draft; on a document with no draft, open the next revision from the effective one."""
    doc = get_document(session, number)
    require_active(doc)
    rev = open_revision(session, doc)
    if rev is None:
        return _revise(session, username, doc, content=content, change_reason=change_reason, major=major, title=title)
    if rev.status != DRAFT:
        raise _wrong_state("edit", doc, rev)
    grant = _require_author(session, username, doc, rev, "draft")
    changed: dict = {}
    if content:
        if rev.source != "rendered":
            raise ValidationFailed("documents.imported_content", number=number)
        merged = {**json.loads(rev.content), **content}
        rev.content = output.canonical(output.validate_content(registry.template(doc.template), merged, complete=False))
        changed["content"] = sorted(content)
    if change_reason is not None:
        rev.change_reason = change_reason.strip()
        changed["change_reason"] = rev.change_reason
    if title is not None:
        changed["title"] = [doc.title, title.strip()]
        _retitle(session, doc, title)
    if not changed:
        raise ValidationFailed("documents.nothing_to_change", number=number)
    session.add(rev)
    session.flush()
    record(session, grant, "edit", doc, rev, changed)
    return rev


def _revise(session, username: str, doc: Document, *, content: dict | None, change_reason: str | None,
            major: bool, title: str | None) -> Revision:
    current = effective_revision(session, doc)
    if current is None:
        raise InvalidTransition("documents.no_open_revision", number=doc.number, action="edit")
    dt = registry.doc_type(doc.doc_type)
    grant = access.require(session, username, "draft", resource_of(doc))
    if not (change_reason or "").strip():
        raise ValidationFailed("documents.change_reason_required", number=doc.number)
    if current.source != "rendered":  # the company's own file: its next revision is the next upload
        raise ValidationFailed("documents.imported_content", number=doc.number)
    merged = output.validate_content(registry.template(doc.template), {**json.loads(current.content), **(content or {})},
                                     complete=False)
    if title is not None:
        _retitle(session, doc, title)
    last = revisions(session, doc)[-1]
    rev = Revision(document_id=doc.id, seq=last.seq + 1, label=numbering.next_label(dt.revision_labels, last.label, major),
                   author=username, author_position=grant.position, change_reason=change_reason.strip(),
                   content=output.canonical(merged))
    session.add(rev)
    session.flush()
    record(session, grant, "revise", doc, rev, {"from_revision": current.label, "change_reason": rev.change_reason,
                                                 "content": sorted(content or {})})
    return rev


def _retitle(session, doc: Document, title: str) -> None:
    check_register_fields(session, doc.site, title, doc.owner_department, None)
    doc.title = title.strip()
    session.add(doc)


def require_active(doc: Document) -> None:
    if doc.status != "active":
        raise InvalidTransition("documents.not_active", number=doc.number, state=StateName("doc_status", doc.status))


def _require_author(session, username: str, doc: Document, rev: Revision, action: str) -> Grant:
    if username != rev.author:
        raise AccessDenied("documents.not_author", username=username, number=doc.number, author=rev.author)
    return access.require(session, username, action, resource_of(doc))


# ------------------------------------------------------------------ the approval route

def submit(session, username: str, number: str, *, change_reason: str | None = None) -> Revision:
    """Send the draft along its type's route (a new round of decisions; earlier rounds stay on record)."""
    doc = get_document(session, number)
    require_active(doc)
    rev = _the_open_revision(session, doc, "submit", lock=True)
    if rev.status != DRAFT:
        raise _wrong_state("submit", doc, rev)
    grant = _require_author(session, username, doc, rev, "submit")
    if change_reason is not None:
        rev.change_reason = change_reason.strip()
    if rev.seq > 1 and not rev.change_reason:
        raise ValidationFailed("documents.change_reason_required", number=number)
    if rev.source == "rendered":
        content = json.loads(rev.content)
        output.validate_content(registry.template(doc.template), content, complete=True)
        tpl_data, _sha = output.template_bytes(session, doc)
        missing = sorted(rendering.template_variables(tpl_data) - registry.CONTROL_VARIABLES - set(content))
        if missing:
            raise rendering.RenderError("documents.missing_variables", variables=", ".join(missing))
    route = registry.route(doc.doc_type)
    rev.round += 1
    rev.status, rev.submitted_at = IN_REVIEW, utcnow()
    for i, step in enumerate(route, start=1):
        session.add(RouteStep(revision_id=rev.id, round=rev.round, step_no=i, name=step.name, action=step.action,
                              mode=step.mode, positions=",".join(step.positions), status="active" if i == 1 else "waiting"))
    session.add(rev)
    session.flush()
    record(session, grant, "submit", doc, rev, {"round": rev.round, "change_reason": rev.change_reason,
                                                 "route": [f"{s.name}:{s.mode}:{'+'.join(s.positions)}" for s in route]})
    return rev


def route_steps(session, rev: Revision) -> list[RouteStep]:
    return list(session.exec(select(RouteStep).where(RouteStep.revision_id == rev.id, RouteStep.round == rev.round)
                             .order_by(RouteStep.step_no)))


def _active_step(session, rev: Revision) -> RouteStep:
    return next(s for s in route_steps(session, rev) if s.status == "active")


def _step_decisions(session, step: RouteStep) -> list[Decision]:
    return list(session.exec(select(Decision).where(Decision.step_id == step.id).order_by(Decision.id)))


def _added_reviewers(session, step: RouteStep) -> list[str]:
    return list(session.exec(select(StepReviewer.username).where(StepReviewer.step_id == step.id).order_by(StepReviewer.id)))


def _held_positions(session, username: str, site: str) -> set[str]:
    """Positions the user holds at the document's site today; company documents count company-wide holders only."""
    from cms_workflows.org.queries import active_assignments

    sites = {COMPANY_WIDE} if site == COMPANY_WIDE else {site, COMPANY_WIDE}
    return {p for u, p, s in active_assignments(session) if u == username and s in sites}


def _capacity(session, username: str, doc: Document, step: RouteStep, decided: list[Decision],
              reviewers: list[str]) -> str:
    """The position (or ADDED_REVIEWER) the user decides this step in; clear refusals otherwise."""
    if any(d.username == username for d in decided):
        raise Conflict("documents.already_decided", username=username, number=doc.number, step=step.name)
    if username in reviewers:
        return ADDED_REVIEWER
    # in a committee each position is filled once; in an `any` step a further holder may still add a decision
    taken = {d.position for d in decided} if step.mode == "all" else set()
    candidates = sorted((_held_positions(session, username, doc.site) & set(step.positions.split(","))) - taken)
    if not candidates:
        raise AccessDenied("documents.not_a_decider", username=username, number=doc.number, step=step.name,
                           positions=access.PositionNames(step.positions.split(",")), site=doc.site)
    return candidates[0]


def _step_complete(step: RouteStep, decided: list[Decision], reviewers: list[str]) -> bool:
    approved = {d.position for d in decided if d.decision == "approve"}
    approvers = {d.username for d in decided if d.decision == "approve"}
    positions = set(step.positions.split(","))
    by_positions = positions <= approved if step.mode == "all" else bool(positions & approved)
    return by_positions and set(reviewers) <= approvers


def decide(session, username: str, number: str, decision: str, comment: str = "", *, expect: str | None = None,
           effective_date: date | None = None, today: date | None = None) -> Revision:
    """One participant's decision on the running step: approve or reject, with a comment.

    `expect` ("review" / "approve") is the step kind the caller thinks it decides, so `cms doc approve`
    at a review step is refused instead of counting as a review. The revision row is locked first: of
    two approvers deciding at once one wins and the other gets a Conflict (PostgreSQL row lock;
    SQLite serialises writers).
    """
    if decision not in ("approve", "reject"):
        raise ValidationFailed("documents.bad_decision", decision=decision)
    comment = (comment or "").strip()
    if decision == "reject" and not comment:
        raise ValidationFailed("documents.reject_needs_reason", number=number)
    doc = get_document(session, number)
    rev = open_revision(session, doc, lock=True)
    if rev is None or rev.status == APPROVED:
        last = rev or effective_revision(session, doc)
        if last is not None and last.approved_by:
            raise Conflict("documents.decided_meanwhile", number=number, revision=last.label, approver=last.approved_by)
        raise InvalidTransition("documents.no_open_revision", number=number, action=decision)
    if rev.status != IN_REVIEW:
        raise _wrong_state(expect or decision, doc, rev)
    steps = route_steps(session, rev)
    step = next(s for s in steps if s.status == "active")
    if expect is not None and expect != step.action and decision == "approve":
        raise InvalidTransition("documents.step_is_other", number=number, step=step.name, action=step.action, command=expect)
    decided = _step_decisions(session, step)
    reviewers = _added_reviewers(session, step)
    position = _capacity(session, username, doc, step, decided, reviewers)
    if username == rev.author:
        raise AccessDenied("access.sod_own_work", username=username, action=step.action, object_type=doc.doc_type)
    grant = access.require(session, username, "read" if position == ADDED_REVIEWER else step.action, resource_of(doc, rev))
    grant = Grant(username=username, position=position if position != ADDED_REVIEWER else grant.position, site=grant.site)
    now = utcnow()
    row = Decision(revision_id=rev.id, step_id=step.id, username=username, position=position, site=doc.site,
                   decision=decision, comment=comment, decided_at=now)
    session.add(row)
    session.flush()
    record(session, grant, "decision", doc, rev, {"round": rev.round, "step": step.name, "step_no": step.step_no,
                                                   "decision": decision, "comment": comment, "in_capacity": position})
    if decision == "reject":
        for s in steps:
            s.status = "rejected" if s.id == step.id else ("cancelled" if s.status == "waiting" else s.status)
            session.add(s)
        rev.status = DRAFT
        session.add(rev)
        record(session, grant, "returned", doc, rev, {"round": rev.round, "reason": comment})
        return rev
    if not _step_complete(step, [*decided, row], reviewers):
        return rev
    step.status = "done"
    session.add(step)
    following = [s for s in steps if s.step_no > step.step_no]
    if following:
        following[0].status = "active"
        session.add(following[0])
        return rev
    # the approver of record holds the approving position (an added reviewer may have signed last)
    approver = next(d.username for d in [*decided, row] if d.decision == "approve" and d.position != ADDED_REVIEWER)
    today = output.today_or(session, today)
    _approve(session, grant, doc, rev, approver, now, effective_date or today, today)
    return rev


def _approve(session, grant: Grant, doc: Document, rev: Revision, approver: str, now, effective_date: date,
             today: date) -> None:
    """The last step is done: the revision is approved and its controlled file fixed and hashed."""
    if effective_date < today:
        raise ValidationFailed("documents.effective_in_past", date=effective_date.isoformat())
    rev.status, rev.approved_by, rev.approved_at, rev.effective_date = APPROVED, approver, now, effective_date
    session.flush()
    if rev.source == "rendered":
        output.render_controlled(session, doc, rev)
    session.add(rev)
    session.flush()
    record(session, grant, "approved", doc, rev, {"effective_date": effective_date.isoformat(),
                                                   "file_sha256": rev.file_sha256, "template_sha256": rev.template_sha256})


def add_reviewer(session, username: str, number: str, reviewer: str, reason: str = "") -> StepReviewer:
    """The document controller adds a named reviewer to the running step, without restarting the route."""
    grant = access.require(session, username, "add_reviewer", Resource("document_register"))
    doc = get_document(session, number)
    rev = _the_open_revision(session, doc, "add_reviewer", lock=True)
    if rev.status != IN_REVIEW:
        raise _wrong_state("add_reviewer", doc, rev)
    user = session.exec(select(User).where(User.username == reviewer)).first()
    if user is None or not user.active:
        raise NotFound("org.unknown_user", username=reviewer)
    if reviewer == rev.author:
        raise AccessDenied("access.sod_own_work", username=reviewer, action="review", object_type=doc.doc_type)
    require_read(session, reviewer, doc)  # a reviewer must be allowed to read what they review
    step = _active_step(session, rev)
    if reviewer in _added_reviewers(session, step):
        raise Conflict("documents.reviewer_already_added", username=reviewer, number=number)
    row = StepReviewer(step_id=step.id, username=reviewer, added_by=username, reason=reason.strip())
    session.add(row)
    session.flush()
    record(session, grant, "reviewer_added", doc, rev, {"step": step.name, "round": rev.round, "reviewer": reviewer,
                                                         "reason": row.reason})
    return row


# ------------------------------------------------------------------ release and end of life

def make_effective(session, username: str, number: str, *, today: date | None = None) -> Revision:
    """Release the approved revision: it becomes effective and the previous one superseded, in one transaction."""
    today = output.today_or(session, today)
    doc = get_document(session, number, lock=True)
    require_active(doc)
    grant = access.require(session, username, "make_effective", resource_of(doc))
    rev = open_revision(session, doc, lock=True)
    if rev is None and doc.effective_revision_id is not None:  # e.g. released by a colleague a moment ago
        current = effective_revision(session, doc)
        raise Conflict("documents.already_effective", number=number, revision=current.label)
    if rev is None:
        raise InvalidTransition("documents.no_open_revision", number=number, action="make_effective")
    if rev.status != APPROVED:
        raise _wrong_state("make_effective", doc, rev)
    if rev.effective_date > today:
        raise InvalidTransition("documents.not_yet_effective", number=number, date=rev.effective_date.isoformat())
    now = utcnow()
    previous = effective_revision(session, doc)
    if previous is not None:
        previous.status, previous.ended_at = SUPERSEDED, now
        previous.end_reason = f"superseded by {rev.label}"
        session.add(previous)
    rev.status, rev.effective_at = EFFECTIVE, now
    session.add(rev)
    doc.effective_revision_id = rev.id
    months = _review_months(doc)
    doc.next_review_due = rev.effective_date + relativedelta(months=months) if months else None
    session.add(doc)
    copied = []
    if previous is not None:  # the new revision goes to the same holders, who acknowledge it again
        for d in session.exec(select(Distribution).where(Distribution.revision_id == previous.id)):
            session.add(Distribution(revision_id=rev.id, position=d.position, site=d.site, distributed_by=username))
            copied.append(f"{d.position}@{d.site}")
    session.flush()
    record(session, grant, "effective", doc, rev, {"effective_date": rev.effective_date.isoformat(),
                                                    "superseded": previous.label if previous else None,
                                                    "file_sha256": rev.file_sha256, "distributed_to": copied,
                                                    "next_review_due": doc.next_review_due.isoformat() if doc.next_review_due else None})
    return rev


def obsolete(session, username: str, number: str, reason: str) -> Document:
    """Withdraw a document from use (with the reason); unreleased revisions are withdrawn with it."""
    if not (reason or "").strip():
        raise ValidationFailed("documents.reason_required", number=number)
    doc = get_document(session, number, lock=True)
    require_active(doc)
    grant = access.require(session, username, "obsolete", resource_of(doc))
    now = utcnow()
    ended = []
    for rev in revisions(session, doc):
        if rev.status in (EFFECTIVE, *OPEN_STATES):
            ended.append(f"{rev.label}:{rev.status}")
            rev.status = OBSOLETE if rev.status == EFFECTIVE else WITHDRAWN
            rev.ended_at, rev.end_reason = now, reason.strip()
            session.add(rev)
            for s in session.exec(select(RouteStep).where(RouteStep.revision_id == rev.id, RouteStep.status.in_(("active", "waiting")))):
                s.status = "cancelled"
                session.add(s)
    doc.status, doc.obsolete_reason, doc.obsoleted_at, doc.next_review_due = "obsolete", reason.strip(), now, None
    session.add(doc)
    session.flush()
    record(session, grant, "obsolete", doc, None, {"reason": doc.obsolete_reason, "revisions": ended})
    return doc


# ------------------------------------------------------------------ periodic review

@dataclass
class DueReview:
    document: Document
    revision: Revision
    due: date
    revision_in_progress: str | None = None


def due(session, username: str, by: date | None = None) -> list[DueReview]:
    """Active documents whose periodic review falls on or before `by` (default today) that the user may read."""
    by = output.today_or(session, by)
    out = []
    q = select(Document).where(Document.status == "active", Document.next_review_due != None,  # noqa: E711
                               Document.next_review_due <= by).order_by(Document.next_review_due, Document.number)
    for doc in session.exec(q):
        if not access.can(session, username, "read", resource_of(doc)):
            continue
        opened = open_revision(session, doc)
        out.append(DueReview(doc, effective_revision(session, doc), doc.next_review_due,
                             f"{opened.label}:{opened.status}" if opened else None))
    return out


def periodic_review(session, username: str, number: str, outcome: str, comment: str = "",
                    *, today: date | None = None) -> PeriodicReview:
    """Record a periodic review: `no_change` moves the next due date; `revise` records that a new revision is needed
    (the due date then moves when that revision becomes effective)."""
    if outcome not in ("no_change", "revise"):
        raise ValidationFailed("documents.bad_review_outcome", outcome=outcome)
    today = output.today_or(session, today)
    doc = get_document(session, number, lock=True)
    require_active(doc)
    grant = access.require(session, username, "periodic_review", resource_of(doc))
    current = effective_revision(session, doc)
    if current is None:
        raise InvalidTransition("documents.no_effective_revision", number=number)
    months = _review_months(doc)
    next_due = today + relativedelta(months=months) if outcome == "no_change" and months else None
    if outcome == "no_change":
        doc.next_review_due = next_due
        session.add(doc)
    row = PeriodicReview(document_id=doc.id, revision_id=current.id, outcome=outcome, comment=comment.strip(),
                         reviewed_by=username, next_due=next_due)
    session.add(row)
    session.flush()
    record(session, grant, "periodic_review", doc, current, {"outcome": outcome, "comment": row.comment,
                                                              "next_due": next_due.isoformat() if next_due else None})
    return row


# ------------------------------------------------------------------ reading

@dataclass
class DocumentView:
    document: Document
    revisions: list[Revision]
    steps: list[RouteStep] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    reviewers: list[StepReviewer] = field(default_factory=list)
    reviews: list[PeriodicReview] = field(default_factory=list)


def show(session, username: str, number: str) -> DocumentView:
    doc = get_document(session, number)
    require_read(session, username, doc)
    revs = revisions(session, doc)
    ids = [r.id for r in revs] or [-1]
    steps = list(session.exec(select(RouteStep).where(RouteStep.revision_id.in_(ids)).order_by(RouteStep.id)))
    return DocumentView(
        doc, revs, steps,
        list(session.exec(select(Decision).where(Decision.revision_id.in_(ids)).order_by(Decision.id))),
        list(session.exec(select(StepReviewer).where(StepReviewer.step_id.in_([s.id for s in steps] or [-1])))),
        list(session.exec(select(PeriodicReview).where(PeriodicReview.document_id == doc.id).order_by(PeriodicReview.id))))


def list_documents(session, username: str, *, doc_type: str | None = None, site: str | None = None,
                   status: str | None = None) -> list[tuple[Document, Revision | None, Revision | None]]:
    """(document, effective revision, open revision) the user may read."""
    q = select(Document).order_by(Document.number)
    if doc_type:
        registry.doc_type(doc_type)
        q = q.where(Document.doc_type == doc_type)
    if site:
        q = q.where(Document.site == site)
    if status:
        q = q.where(Document.status == status)
    out = []
    for doc in session.exec(q):
        try:
            require_read(session, username, doc)
        except AccessDenied:
            continue
        out.append((doc, effective_revision(session, doc), open_revision(session, doc)))
    return out


def revision_file(session, username: str, number: str, label: str | None = None) -> tuple[Revision, bytes]:
    """The file of a revision: the stored controlled file once approved, an uncontrolled preview before.
    Without a label: the effective revision, else the newest."""
    doc = get_document(session, number)
    require_read(session, username, doc)
    revs = revisions(session, doc)
    if label is not None:
        rev = next((r for r in revs if r.label == label.upper() or r.label == label), None)
        if rev is None:
            raise NotFound("documents.unknown_revision", number=number, revision=label)
    else:
        rev = effective_revision(session, doc) or revs[-1]
    if rev.file_sha256 is not None:
        return rev, output.stored_file(session, doc, rev)
    if rev.source != "rendered":
        raise NotFound("documents.no_file", number=number, revision=rev.label)
    return rev, output.preview(session, doc, rev)
