"""The approval route of a revision (R-7.5, X-2): decisions on the running step and reviewers added to it.

Who may decide a step is segregation of duties' rule (`access.sod.step_capacity`): a holder of one
of the step's positions counting at the document's site, not the author, each position of a
committee step filled once, and one person decides at most one step of the route (this revision and
round), whichever positions they hold, unless the step says `same_decider_allowed` in
approval_routes.yaml (X-2); a reviewer added by name by document control decides as "reviewer".
A decision that completes the last step approves the revision and fixes its controlled file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select

from cms_workflows.access import Grant, Resource, get_access
from cms_workflows.access.sod import route_refusal, step_capacity
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import AccessDenied, CmsError, Conflict, InvalidTransition, NotFound, ValidationFailed
from cms_workflows.documents import output, registry
from cms_workflows.documents.models import Decision, Document, Revision, RouteStep, StepReviewer
from cms_workflows.documents.queries import (
    added_reviewers, effective_revision, get_document, open_revision, require_read, resource_of, route_steps,
    step_decisions,
)
from cms_workflows.documents.service import event_body, record_on, revision_target
from cms_workflows.documents.states import REVISION, STEP, RevisionStatus, StepStatus
from cms_workflows.org.models import User

ADDED_REVIEWER = "reviewer"  # the position recorded for a reviewer added by name
DECISIONS = ("approve", "reject")


@dataclass
class RunningStep:
    """What a decision acts on, loaded (the revision row locked) before the decider is authorized."""

    doc: Document
    rev: Revision | None
    expect: str | None = None
    steps: list[RouteStep] = field(default_factory=list)
    step: RouteStep | None = None
    decided: list[Decision] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    earlier: dict[str, str] = field(default_factory=dict)  # who decided an earlier step of this round -> its name
    capacity: str = ""  # set by the authorization: the position the decider acts in
    also_decided: str | None = None  # set when a relaxed step lets the decider of an earlier step decide again


def _running_step(uow, number: str, *_args, expect: str | None = None, **_kwargs) -> Resource:
    # the revision row is locked first: of two approvers deciding at once one wins, the other gets a
    # Conflict (PostgreSQL row lock; SQLite serialises writers)
    doc = get_document(uow, number)
    rev = open_revision(uow, doc, lock=True)
    running = RunningStep(doc, rev, expect)
    if rev is not None and REVISION.allows(rev.status, "decide"):
        running.steps = route_steps(uow, rev)
        running.step = next(s for s in running.steps if s.status == StepStatus.ACTIVE)
        running.decided = step_decisions(uow, running.step)
        running.reviewers = added_reviewers(uow, running.step)
        running.earlier = _earlier_deciders(uow, running.steps, running.step)
    return resource_of(doc, rev, subject=running)


def _earlier_deciders(uow, steps: list[RouteStep], current: RouteStep) -> dict[str, str]:
    """Who decided an earlier step of this route (revision and round), in any capacity: username -> step name."""
    return {d.username: s.name for s in steps if s.step_no < current.step_no for d in step_decisions(uow, s)}


def _same_decider_allowed(doc: Document, step: RouteStep, directory=None) -> bool:
    """Whether the routes in force let one person decide this step after an earlier one. The step must still
    be the route's step as submitted; a step changed or gone since is strict (X-2)."""
    steps = registry.routes(directory).get(doc.doc_type, ())
    if step.step_no > len(steps):
        return False
    now = steps[step.step_no - 1]
    same = (now.name, now.action, now.mode, ",".join(now.positions)) == (step.name, step.action, step.mode, step.positions)
    return same and now.same_decider_allowed


def _authorize_decider(control, uow, actor: str, _action: str, resource: Resource) -> Grant:
    """The position the user decides the running step in, or the refusal; without a running step (or when
    the caller signs another kind of step) the action the caller means, so the body can name the state."""
    running: RunningStep = resource.subject
    step = running.step
    if step is None or (running.expect is not None and running.expect != step.action):
        if running.expect is None:
            return require_read(uow, actor, running.doc)
        return control.decide(uow, actor, running.expect, resource)
    decided_by = {d.username for d in running.decided}
    relaxed = actor in running.earlier and _same_decider_allowed(running.doc, step, control.policy.directory)
    running.also_decided = running.earlier.get(actor) if relaxed else None
    if actor in running.reviewers:
        if actor in decided_by:
            raise Conflict("access.already_decided", username=actor, object_id=resource.id, step=step.name)
        refused = route_refusal(actor, resource, step=step.name, earlier=running.earlier, same_decider_allowed=relaxed)
        if refused is not None:
            raise refused
        running.capacity = ADDED_REVIEWER
        return require_read(uow, actor, running.doc)  # a reviewer added by name reads what they review
    # in a committee each position is filled once; in an `any` step a further holder may still add a decision
    taken = {d.position for d in running.decided} if step.mode == "all" else set()
    running.capacity = step_capacity(control, uow, actor, resource, step=step.name, action=step.action,
                                     positions=step.positions.split(","), taken=taken, decided_by=decided_by,
                                     earlier=running.earlier, same_decider_allowed=relaxed)
    grant = control.decide(uow, actor, step.action, resource)
    return Grant(username=actor, position=running.capacity, site=grant.site)


@command("documents.revision.decide", action="review", resource=_running_step, authorize=_authorize_decider,
         audit_object="doc_document", emits=("documents.revision.return", "documents.revision.approve"))
def decide(cmd: Command, number: str, decision: str, comment: str = "", *, expect: str | None = None,
           effective_date: date | None = None, today: date | None = None) -> Revision:
    """One participant's decision on the running step: approve or reject, with a comment.

    `expect` ("review" / "approve") is the step kind the caller thinks it decides, so `cms doc approve`
    at a review step is refused instead of counting as a review.
    """
    uow = cmd.uow
    running: RunningStep = cmd.subject
    doc, rev, step = running.doc, running.rev, running.step
    if decision not in DECISIONS:
        raise ValidationFailed("documents.bad_decision", decision=decision)
    comment = (comment or "").strip()
    if decision == "reject" and not comment:
        raise ValidationFailed("documents.reject_needs_reason", number=number)
    if rev is None or REVISION.allows(rev.status, "make_effective"):  # approved meanwhile, or released
        last = rev or effective_revision(uow, doc)
        if last is not None and last.approved_by:
            raise Conflict("documents.decided_meanwhile", number=number, revision=last.label, approver=last.approved_by)
    revision_target(doc, rev, "decide")
    if expect is not None and expect != step.action and decision == "approve":
        raise InvalidTransition("documents.step_is_other", number=number, step=step.name, action=step.action,
                                command=expect)
    if effective_date is not None:
        _keep_effective_date(running, decision, effective_date, output.today_or(uow, today))
    now = uow.clock.now()
    row = Decision(revision_id=rev.id, step_id=step.id, username=cmd.actor, position=running.capacity, site=doc.site,
                   decision=decision, comment=comment, decided_at=now)
    uow.add(row)
    uow.flush()
    body = {"round": rev.round, "step": step.name, "step_no": step.step_no,
            "decision": decision, "comment": comment, "in_capacity": running.capacity,
            "site": row.site, "decided_at": now}  # site and moment: for `cms verify --deep` (issue 14)
    if effective_date is not None:
        body["effective_date"] = effective_date.isoformat()
    if running.also_decided is not None:  # the trail shows where a relaxed step let one person decide twice
        body["also_decided_step"] = running.also_decided
    record_on(cmd, doc, rev, body)
    if decision == "reject":
        _return(cmd, running, comment)
    elif _step_complete(step, [*running.decided, row], running.reviewers):
        _complete_step(cmd, running, row, now, effective_date, today)
    return rev


def _keep_effective_date(running: RunningStep, decision: str, effective_date: date, today: date) -> None:
    """The approver's effective date is their decision's option: refused at once where it cannot apply, else kept
    on the revision until the route completes, whoever decides last (an added reviewer may; issue 15)."""
    doc, rev, step = running.doc, running.rev, running.step
    if decision != "approve":
        raise ValidationFailed("documents.effective_date_with_reject", number=doc.number)
    if any(s.step_no > step.step_no for s in running.steps):
        raise ValidationFailed("documents.effective_date_not_last_step", number=doc.number, step=step.name)
    if running.capacity == ADDED_REVIEWER:
        raise ValidationFailed("documents.effective_date_by_approver", number=doc.number, step=step.name)
    if effective_date < today:
        raise ValidationFailed("documents.effective_in_past", date=effective_date.isoformat())
    rev.effective_date = effective_date


def _return(cmd: Command, running: RunningStep, reason: str) -> None:
    """A rejection ends this round: the step is rejected, the waiting ones cancelled, the revision back to draft."""
    for s in running.steps:
        if s.id == running.step.id:
            s.status = STEP.target(s.status, "reject")
        elif s.status == StepStatus.WAITING:
            s.status = STEP.target(s.status, "cancel")
        cmd.uow.add(s)
    rev = running.rev
    rev.status = REVISION.target(rev.status, "return")
    rev.effective_date = None  # an effective date kept for this round goes with it
    cmd.uow.add(rev)
    cmd.also("documents.revision.return", event_body(running.doc, rev, {"round": rev.round, "reason": reason}))


def _step_complete(step: RouteStep, decided: list[Decision], reviewers: list[str]) -> bool:
    approved = {d.position for d in decided if d.decision == "approve"}
    approvers = {d.username for d in decided if d.decision == "approve"}
    positions = set(step.positions.split(","))
    by_positions = positions <= approved if step.mode == "all" else bool(positions & approved)
    return by_positions and set(reviewers) <= approvers


def _complete_step(cmd: Command, running: RunningStep, row: Decision, now, effective_date: date | None,
                   today: date | None) -> None:
    step = running.step
    step.status = STEP.target(step.status, "complete")
    cmd.uow.add(step)
    following = [s for s in running.steps if s.step_no > step.step_no]
    if following:
        following[0].status = STEP.target(following[0].status, "activate")
        cmd.uow.add(following[0])
        return
    # the approver of record holds the approving position (an added reviewer may have signed last)
    approver = next(d.username for d in [*running.decided, row] if d.decision == "approve" and d.position != ADDED_REVIEWER)
    today = output.today_or(cmd.uow, today)
    # the approver's date, given now or kept from their decision before an added reviewer's
    requested = effective_date or running.rev.effective_date
    _approve(cmd, running.doc, running.rev, approver, now, requested, today)


def _approve(cmd: Command, doc: Document, rev: Revision, approver: str, now, requested: date | None,
             today: date) -> None:
    """The last step is done: the revision is approved and its controlled file fixed and hashed. A date kept
    from an earlier decision that has passed meanwhile becomes today, and the event says what was asked."""
    effective_date = requested if requested is not None and requested >= today else today
    rev.status = REVISION.target(rev.status, "approve")
    rev.approved_by, rev.approved_at, rev.effective_date = approver, now, effective_date
    cmd.uow.flush()
    if rev.source == "rendered":
        output.render_controlled(cmd.uow, doc, rev)
    else:  # an imported file gets the company's control on a copy; the upload stays its source (issue 13)
        output.control_imported(cmd.uow, doc, rev)
    cmd.uow.add(rev)
    cmd.uow.flush()
    body = {"effective_date": effective_date.isoformat(), "file_sha256": rev.file_sha256,
            "template_sha256": rev.template_sha256}
    if requested is not None and requested != effective_date:
        body["requested_effective_date"] = requested.isoformat()
    cmd.also("documents.revision.approve", event_body(doc, rev, body))


def _register_revision(uow, number: str, *_args, **_kwargs) -> Resource:
    doc = get_document(uow, number)
    return Resource("document_register", id=number, subject=(doc, open_revision(uow, doc, lock=True)))


@command("documents.route.add_reviewer", action="add_reviewer", resource=_register_revision, audit_object="doc_document")
def add_reviewer(cmd: Command, number: str, reviewer: str, reason: str = "") -> StepReviewer:
    """The document controller adds a named reviewer to the running step, without restarting the route."""
    uow = cmd.uow
    doc, rev = cmd.subject
    revision_target(doc, rev, "add_reviewer")
    user = uow.exec(select(User).where(User.username == reviewer)).first()
    if user is None or not user.active:
        raise NotFound("org.unknown_user", username=reviewer)
    if reviewer == rev.author:  # segregation of duties, for the person added (the actor is document control)
        raise AccessDenied("access.sod_own_work", username=reviewer, action="review", object_type=doc.doc_type)
    require_read(uow, reviewer, doc)  # a reviewer must be allowed to read what they review
    steps = route_steps(uow, rev)
    step = next(s for s in steps if s.status == StepStatus.ACTIVE)
    earlier = _earlier_deciders(uow, steps, step)  # refused now rather than leaving a step nobody can complete
    refused = route_refusal(reviewer, resource_of(doc, rev), step=step.name, earlier=earlier,
                            same_decider_allowed=_same_decider_allowed(doc, step))
    if refused is not None:
        raise refused
    if reviewer in added_reviewers(uow, step):
        raise Conflict("documents.reviewer_already_added", username=reviewer, number=number)
    row = StepReviewer(step_id=step.id, username=reviewer, added_by=cmd.actor, reason=reason.strip())
    uow.add(row)
    uow.flush()
    record_on(cmd, doc, rev, {"step": step.name, "round": rev.round, "reviewer": reviewer, "reason": row.reason})
    return row


@dataclass(frozen=True)
class Awaiting:
    """A running step the user may decide now."""

    doc: Document
    rev: Revision
    step: RouteStep
    capacity: str


def awaiting(uow, username: str) -> list[Awaiting]:
    """The running steps this user may decide now (their inbox's approvals): each as the decision command
    itself would authorize it, segregation of duties included."""
    control = get_access()
    rows = uow.exec(select(Document, Revision, RouteStep)
                    .join(Revision, Revision.document_id == Document.id)
                    .join(RouteStep, (RouteStep.revision_id == Revision.id) & (RouteStep.round == Revision.round))
                    .where(Revision.status == RevisionStatus.IN_REVIEW, RouteStep.status == StepStatus.ACTIVE)
                    .order_by(Document.number)).all()
    out = []
    for doc, rev, step in rows:
        running = RunningStep(doc, rev, None, route_steps(uow, rev), step, step_decisions(uow, step),
                              added_reviewers(uow, step))
        running.earlier = _earlier_deciders(uow, running.steps, step)
        try:
            _authorize_decider(control, uow, username, step.action, resource_of(doc, rev, subject=running))
        except CmsError:
            continue
        out.append(Awaiting(doc, rev, step, running.capacity))
    return out


@dataclass(frozen=True)
class NextStep:
    """What a document waits for, and who may do it (issue 15: every document command and `doc show` say it).

    kind: "decide" (the running step of the route), "submit" (the author's draft), "release" (an approved
    revision, made effective by document control), or None when nothing is pending."""

    kind: str | None
    revision: Revision | None = None
    step: RouteStep | None = None
    positions: tuple[str, ...] = ()  # positions that may still do it (a committee: the ones not yet filled)
    names: tuple[str, ...] = ()  # users who may do it now, as the command itself would authorize them
    reviewers: tuple[str, ...] = ()  # reviewers added by name to the running step who have not decided yet


def next_step(uow, doc: Document) -> NextStep:
    """What the document's open revision waits for and who may do it now."""
    from cms_workflows.access import holders

    rev = open_revision(uow, doc)
    if rev is None:
        return NextStep(None)
    if rev.status == RevisionStatus.DRAFT:
        return NextStep("submit", rev, names=(rev.author,))
    if REVISION.allows(rev.status, "make_effective"):
        control = get_access()
        target = resource_of(doc, rev)
        positions = tuple(control.policy.holders_of.get((target.type, "make_effective"), ()))
        names = sorted({u for p in positions for u in holders(uow, p, doc.site)
                        if isinstance(control.check(uow, u, "make_effective", target), Grant)})
        return NextStep("release", rev, positions=positions, names=tuple(names))
    if not REVISION.allows(rev.status, "decide"):
        return NextStep(None, rev)
    steps = route_steps(uow, rev)
    step = next(s for s in steps if s.status == StepStatus.ACTIVE)
    decided = step_decisions(uow, step)
    reviewers = added_reviewers(uow, step)
    approved = {d.position for d in decided if d.decision == "approve"}
    positions = step.positions.split(",")
    if step.mode == "all":
        still = tuple(p for p in positions if p not in approved)
    else:
        still = () if approved & set(positions) else tuple(positions)
    decided_by = {d.username for d in decided}
    earlier = _earlier_deciders(uow, steps, step)
    control = get_access()
    names = []
    for candidate in sorted({u for p in still for u in holders(uow, p, doc.site)} - set(reviewers)):
        running = RunningStep(doc, rev, None, steps, step, decided, reviewers, earlier)
        try:
            _authorize_decider(control, uow, candidate, step.action, resource_of(doc, rev, subject=running))
        except CmsError:
            continue
        names.append(candidate)
    return NextStep("decide", rev, step, still, tuple(names), tuple(r for r in reviewers if r not in decided_by))
