"""Document control commands (R-7.5, X-4): register, drafting, submission, release, end of life, periodic review.

Every command goes through the command pipeline (`audit.commands`): the document (and its open
revision) is loaded to know its site and author, the user is authorized, then the state is checked
against the lifecycle tables (`states.py`), the change made and the event appended, all in the
caller's unit of work, so a refused or failed command changes nothing. The approval route's
decisions are in `approval.py`; reads in `queries.py`.
"""

from __future__ import annotations

import json
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, ValidationFailed, problem
from cms_workflows.core.text import check_text, shown, text_problems
from cms_workflows.documents import numbering, output, registry, rendering
from cms_workflows.documents.models import Distribution, Document, PeriodicReview, Revision, RouteStep
from cms_workflows.documents.queries import (
    effective_revision, get_document, open_revision, resource_of, review_months, revisions,
)
from cms_workflows.documents.states import DOCUMENT, REVISION, STEP, RevisionStatus
from cms_workflows.org.queries import list_departments, site_codes

MAX_TITLE = 300
MAX_REVIEW_MONTHS = 120
REVIEW_OUTCOMES = ("no_change", "revise")


# ------------------------------------------------------------------ shared by the document commands

def document_loader(*, lock_document: bool = False, lock_revision: bool = False):
    """A resource loader for commands called as `(uow, actor, number, ...)`: the document and its open
    revision (whose author is the resource's author), locked when the command must serialise."""

    def load(uow, number: str, *_args, **_kwargs) -> Resource:
        doc = get_document(uow, number, lock=lock_document)
        rev = open_revision(uow, doc, lock=lock_revision)
        return resource_of(doc, rev, subject=(doc, rev))

    return load


def event_body(doc: Document, rev: Revision | None, payload: dict) -> dict:
    """What a document event records: the document (and revision) it acted on, then the command's own fields."""
    return {"number": doc.number, **({"revision": rev.label, "revision_id": rev.id} if rev else {}), **payload}


def record_on(cmd: Command, doc: Document, rev: Revision | None, payload: dict) -> None:
    """The command's event is on the document (`doc_document`, its id)."""
    cmd.object_id = doc.id
    cmd.payload = event_body(doc, rev, payload)


def require_active(doc: Document, command: str = "change") -> None:
    if not DOCUMENT.allows(doc.status, command):
        raise InvalidTransition("documents.not_active", number=doc.number, state=DOCUMENT.label(doc.status))


def revision_target(doc: Document, rev: Revision | None, command: str) -> RevisionStatus:
    """The state `command` moves the open revision to, or a clear refusal naming the document."""
    if rev is None:
        raise InvalidTransition("documents.no_open_revision", number=doc.number, action=REVISION.command_label(command))
    if not REVISION.allows(rev.status, command):
        raise InvalidTransition("documents.wrong_state", action=REVISION.command_label(command), number=doc.number,
                                revision=rev.label, state=REVISION.label(rev.status))
    return REVISION.target(rev.status, command)


def require_author(cmd: Command, doc: Document, rev: Revision | None) -> None:
    """Only the author drafts and submits their revision."""
    if rev is not None and cmd.actor != rev.author:
        raise AccessDenied("documents.not_author", username=cmd.actor, number=doc.number, author=rev.author)


# ------------------------------------------------------------------ register: new documents

def check_register_fields(uow, site: str, title: str, owner_department: str, review_months: int | None) -> None:
    problems = []
    if site != COMPANY_WIDE and site not in site_codes(uow):
        problems.append(problem("site", "documents.problem.unknown_site", site=site))
    if not title or not title.strip() or len(title) > MAX_TITLE:
        problems.append(problem("title", "documents.problem.title_length", max=MAX_TITLE))
    problems += text_problems({"title": title})
    departments = [d.code for d in list_departments(uow)]
    if owner_department not in departments:
        known = ", ".join(departments)
        problems.append(problem("owner_department", "documents.problem.unknown_department",
                                department=owner_department, known=known))
    if review_months is not None and not 0 <= review_months <= MAX_REVIEW_MONTHS:
        problems.append(problem("review_months", "documents.problem.review_months", max=MAX_REVIEW_MONTHS))
    if problems:
        raise ValidationFailed("documents.bad_register_entry", problems=problems)


def new_document(cmd: Command, dt: registry.DocType, *, site: str, title: str, owner_department: str,
                 language: str, template: str | None, review_months: int | None, today: date, **extra) -> Document:
    doc = Document(number=numbering.allocate(cmd.uow, dt, site, today), doc_type=dt.code, site=site,
                   title=title.strip(), owner_department=owner_department, language=language, template=template,
                   review_months=review_months, created_by=cmd.actor, **extra)
    cmd.uow.add(doc)
    cmd.uow.flush()
    return doc


def _new_document_at(uow, *_args, doc_type: str, site: str, **_kwargs) -> Resource:
    return Resource(registry.doc_type(doc_type).object_type, site=site)


@command("documents.document.create", action="draft", resource=_new_document_at, audit_object="doc_document")
def create(cmd: Command, *, doc_type: str, site: str, title: str, owner_department: str,
           content: dict | None = None, template: str | None = None, language: str = "zh-CN",
           review_months: int | None = None, today: date | None = None) -> Revision:
    """A new document in the register with its first revision, a draft of the type's template."""
    uow = cmd.uow
    dt = registry.doc_type(doc_type)
    template = template or dt.template
    if template is None:
        raise ValidationFailed("documents.import_only", doc_type=doc_type)
    tpl = registry.template(template)
    check_register_fields(uow, site, title, owner_department, review_months)
    content = output.validate_content(tpl, content or {}, complete=False)
    doc = new_document(cmd, dt, site=site, title=title, owner_department=owner_department,
                       language=_language(language), template=template, review_months=review_months,
                       today=output.today_or(uow, today))
    rev = Revision(document_id=doc.id, seq=1, label=numbering.first_label(dt.revision_labels), author=cmd.actor,
                   author_position=cmd.grant.position, content=output.canonical(content))
    uow.add(rev)
    uow.flush()
    record_on(cmd, doc, rev, {"doc_type": doc_type, "site": site, "title": doc.title,
                              "owner_department": owner_department, "template": template})
    return rev


def _language(language: str) -> str:
    from cms_workflows.core.i18n import LOCALES, normalize

    value = normalize(language)
    if value not in LOCALES:
        raise ValidationFailed("documents.bad_register_entry",
                               problems=[problem("language", "documents.problem.language", known=", ".join(LOCALES))])
    return value


# ------------------------------------------------------------------ drafting

def edit(uow, username: str, number: str, *, title: str | None = None, content: dict | None = None,
         change_reason: str | None = None, major: bool = False) -> Revision:
    """Change the draft; on a document with no revision in progress, open the next revision from the
    effective one. Both commands authorize the same action on the same document."""
    if open_revision(uow, get_document(uow, number)) is None:
        return revise(uow, username, number, content=content, change_reason=change_reason, major=major, title=title)
    return edit_draft(uow, username, number, title=title, content=content, change_reason=change_reason)


@command("documents.revision.edit", action="draft", resource=document_loader(), audit_object="doc_document")
def edit_draft(cmd: Command, number: str, *, title: str | None = None, content: dict | None = None,
               change_reason: str | None = None) -> Revision:
    doc, rev = cmd.subject
    require_author(cmd, doc, rev)
    require_active(doc)
    revision_target(doc, rev, "edit")
    check_text("documents.bad_text", multiline=True, change_reason=change_reason)
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
        _retitle(cmd.uow, doc, title)
    if not changed:
        raise ValidationFailed("documents.nothing_to_change", number=number)
    cmd.uow.add(rev)
    cmd.uow.flush()
    record_on(cmd, doc, rev, changed)
    return rev


@command("documents.revision.open", action="draft", resource=document_loader(), audit_object="doc_document")
def revise(cmd: Command, number: str, *, content: dict | None = None, change_reason: str | None = None,
           major: bool = False, title: str | None = None) -> Revision:
    """Open the next revision of a document from its effective one (the effective one stays in use meanwhile)."""
    uow = cmd.uow
    doc, opened = cmd.subject
    require_active(doc)
    if opened is not None:
        raise InvalidTransition("documents.open_revision_exists", number=number, revision=opened.label,
                                state=REVISION.label(opened.status))
    current = effective_revision(uow, doc)
    if current is None:
        raise InvalidTransition("documents.no_open_revision", number=number, action=REVISION.command_label("edit"))
    if not (change_reason or "").strip():
        raise ValidationFailed("documents.change_reason_required", number=number)
    check_text("documents.bad_text", multiline=True, change_reason=change_reason)
    if current.source != "rendered":  # the company's own file: its next revision is the next upload
        raise ValidationFailed("documents.imported_content", number=number)
    merged = output.validate_content(registry.template(doc.template), {**json.loads(current.content), **(content or {})},
                                     complete=False)
    if title is not None:
        _retitle(uow, doc, title)
    dt = registry.doc_type(doc.doc_type)
    last = revisions(uow, doc)[-1]
    rev = Revision(document_id=doc.id, seq=last.seq + 1, label=numbering.next_label(dt.revision_labels, last.label, major),
                   author=cmd.actor, author_position=cmd.grant.position, change_reason=change_reason.strip(),
                   content=output.canonical(merged))
    uow.add(rev)
    uow.flush()
    record_on(cmd, doc, rev, {"from_revision": current.label, "change_reason": rev.change_reason,
                              "content": sorted(content or {})})
    return rev


def _retitle(uow, doc: Document, title: str) -> None:
    check_register_fields(uow, doc.site, title, doc.owner_department, None)
    doc.title = title.strip()
    uow.add(doc)


# ------------------------------------------------------------------ submission

@command("documents.revision.submit", action="submit", resource=document_loader(lock_revision=True),
         audit_object="doc_document")
def submit(cmd: Command, number: str, *, change_reason: str | None = None) -> Revision:
    """Send the draft along its type's route (a new round of decisions; earlier rounds stay on record)."""
    uow = cmd.uow
    doc, rev = cmd.subject
    require_author(cmd, doc, rev)
    require_active(doc)
    target = revision_target(doc, rev, "submit")
    check_text("documents.bad_text", multiline=True, change_reason=change_reason)
    if change_reason is not None:
        rev.change_reason = change_reason.strip()
    if rev.seq > 1 and not rev.change_reason:
        raise ValidationFailed("documents.change_reason_required", number=number)
    if rev.source == "rendered":
        _check_complete(uow, doc, rev)
    route = registry.route(doc.doc_type)
    rev.round += 1
    rev.status, rev.submitted_at = target, uow.clock.now()
    running = STEP.target(STEP.initial, "activate")
    for i, step in enumerate(route, start=1):
        uow.add(RouteStep(revision_id=rev.id, round=rev.round, step_no=i, name=step.name, action=step.action,
                          mode=step.mode, positions=",".join(step.positions),
                          status=running if i == 1 else STEP.initial))
    uow.add(rev)
    uow.flush()
    record_on(cmd, doc, rev, {"round": rev.round, "change_reason": rev.change_reason,
                              "route": [f"{s.name}:{s.mode}:{'+'.join(s.positions)}" for s in route]})
    return rev


def _check_complete(uow, doc: Document, rev: Revision) -> None:
    """A rendered revision goes for review only with every variable its template needs."""
    content = json.loads(rev.content)
    tpl = registry.template(doc.template)
    output.validate_content(tpl, content, complete=True)
    tpl_data, _sha = output.template_bytes(uow, doc)
    # an optional variable left out is rendered empty (output._with_optional)
    missing = sorted(rendering.template_variables(tpl_data) - registry.CONTROL_VARIABLES - set(content) - tpl.optional)
    if missing:
        raise rendering.RenderError("documents.missing_variables", variables=", ".join(missing))


# ------------------------------------------------------------------ release and end of life

@command("documents.revision.make_effective", action="make_effective",
         resource=document_loader(lock_document=True, lock_revision=True), audit_object="doc_document")
def make_effective(cmd: Command, number: str, *, today: date | None = None) -> Revision:
    """Release the approved revision: it becomes effective and the previous one superseded, in one transaction."""
    uow = cmd.uow
    doc, rev = cmd.subject
    today = output.today_or(uow, today)
    require_active(doc)
    if rev is None and doc.effective_revision_id is not None:  # e.g. released by a colleague a moment ago
        raise Conflict("documents.already_effective", number=number, revision=effective_revision(uow, doc).label)
    target = revision_target(doc, rev, "make_effective")
    if rev.effective_date > today:
        raise InvalidTransition("documents.not_yet_effective", number=number, date=rev.effective_date.isoformat())
    now = uow.clock.now()
    previous = effective_revision(uow, doc)
    if previous is not None:
        previous.status = REVISION.target(previous.status, "supersede")
        previous.ended_at, previous.superseded_by = now, rev.label
        uow.add(previous)
    rev.status, rev.effective_at = target, now
    uow.add(rev)
    doc.effective_revision_id = rev.id
    months = review_months(doc)
    doc.next_review_due = rev.effective_date + relativedelta(months=months) if months else None
    uow.add(doc)
    copied = []
    if previous is not None:  # the new revision goes to the same holders, who acknowledge it again
        for d in uow.exec(select(Distribution).where(Distribution.revision_id == previous.id)):
            uow.add(Distribution(revision_id=rev.id, position=d.position, site=d.site, distributed_by=cmd.actor))
            copied.append(f"{d.position}@{d.site}")
    uow.flush()
    record_on(cmd, doc, rev, {"effective_date": rev.effective_date.isoformat(),
                              "superseded": previous.label if previous else None,
                              "file_sha256": rev.file_sha256, "distributed_to": copied,
                              "next_review_due": doc.next_review_due.isoformat() if doc.next_review_due else None})
    return rev


@command("documents.document.obsolete", action="obsolete", resource=document_loader(lock_document=True),
         audit_object="doc_document")
def obsolete(cmd: Command, number: str, reason: str) -> Document:
    """Withdraw a document from use (with the reason); unreleased revisions are withdrawn with it."""
    uow = cmd.uow
    doc, _open = cmd.subject
    require_active(doc, "obsolete")
    if not (reason or "").strip():
        raise ValidationFailed("documents.reason_required", number=number)
    check_text("documents.bad_text", multiline=True, reason=reason)
    now = uow.clock.now()
    ended = []
    for rev in revisions(uow, doc):
        command_ = "obsolete" if REVISION.allows(rev.status, "obsolete") else "withdraw"
        if REVISION.allows(rev.status, command_):
            ended.append(f"{rev.label}:{rev.status}")
            rev.status = REVISION.target(rev.status, command_)
            rev.ended_at, rev.end_reason = now, reason.strip()
            uow.add(rev)
            for s in uow.exec(select(RouteStep).where(RouteStep.revision_id == rev.id,
                                                      RouteStep.status.in_(STEP.sources("cancel")))):
                s.status = STEP.target(s.status, "cancel")
                uow.add(s)
    doc.status = DOCUMENT.target(doc.status, "obsolete")
    doc.obsolete_reason, doc.obsoleted_at, doc.next_review_due = reason.strip(), now, None
    uow.add(doc)
    uow.flush()
    record_on(cmd, doc, None, {"reason": doc.obsolete_reason, "revisions": ended})
    return doc


# ------------------------------------------------------------------ periodic review

@command("documents.document.periodic_review", action="periodic_review", resource=document_loader(lock_document=True),
         audit_object="doc_document")
def periodic_review(cmd: Command, number: str, outcome: str, comment: str = "",
                    *, today: date | None = None) -> PeriodicReview:
    """Record a periodic review: `no_change` moves the next due date; `revise` records that a new revision is needed
    (the due date then moves when that revision becomes effective)."""
    uow = cmd.uow
    doc, _open = cmd.subject
    if outcome not in REVIEW_OUTCOMES:
        raise ValidationFailed("documents.bad_review_outcome", outcome=shown(outcome))
    check_text("documents.bad_text", multiline=True, comment=comment)
    today = output.today_or(uow, today)
    require_active(doc)
    current = effective_revision(uow, doc)
    if current is None:
        raise InvalidTransition("documents.no_effective_revision", number=number)
    months = review_months(doc)
    next_due = today + relativedelta(months=months) if outcome == "no_change" and months else None
    if outcome == "no_change":
        doc.next_review_due = next_due
        uow.add(doc)
    row = PeriodicReview(document_id=doc.id, revision_id=current.id, outcome=outcome, comment=comment.strip(),
                         reviewed_by=cmd.actor, next_due=next_due)
    uow.add(row)
    uow.flush()
    record_on(cmd, doc, current, {"outcome": outcome, "comment": row.comment,
                                  "next_due": next_due.isoformat() if next_due else None})
    return row
