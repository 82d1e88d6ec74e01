"""Controlled files of the register (X-4): the context a template gets, rendering, storing by hash,
company templates, and the hashes `cms verify` checks.

A revision's file is rendered once, at approval, from a context fixed then (`rendered_context`)
and a template stored by its hash (`template_sha256`); rendering that pair again, in any
process, gives the same bytes as the stored file.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.documents import registry, rendering
from cms_workflows.documents.models import CompanyTemplate, Decision, Document, Revision, RouteStep
from cms_workflows.core.errors import Conflict, NotFound, ValidationFailed, problem
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.core.i18n import normalize, pick

# variables a company template must use: a controlled file shows its identity, history and approvals
REQUIRED_IN_TEMPLATE = frozenset({"doc", "history", "approvals"})


def store(uow):
    """The file store joined to the unit of work's transaction."""
    return uow.files


def local_date(moment: datetime | None, session) -> str:
    """A stored UTC moment as the company's local date (documents speak local time)."""
    return local_time(moment, session, "%Y-%m-%d")


def local_time(moment: datetime | None, session, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return session.clock.local(moment).strftime(fmt)


def canonical(context: dict) -> str:
    return json.dumps(context, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------ content

def validate_content(tpl: registry.Template, content: dict, *, complete: bool) -> dict:
    """The template's content variables: known names, the right kind; all filled when `complete`."""
    if not isinstance(content, dict):
        raise ValidationFailed("documents.bad_content", problems=[problem("content", "documents.problem.content_mapping")])
    problems = []
    for name, value in content.items():
        kind = tpl.variables.get(name)
        if kind is None:
            problems.append(problem(name, "documents.problem.unknown_variable", template=tpl.name,
                                    known=", ".join(tpl.variables)))
        elif kind == "text" and not isinstance(value, (str, int, float)):
            problems.append(problem(name, "documents.problem.text_expected"))
        elif kind == "list" and not (isinstance(value, list) and all(isinstance(v, (dict, str)) for v in value)):
            problems.append(problem(name, "documents.problem.list_expected"))
    if complete:
        for name in (n for n in tpl.variables if n not in tpl.optional):
            value = content.get(name)
            if value is None or (isinstance(value, (str, list)) and not value):
                problems.append(problem(name, "documents.problem.required_before_submission"))
    if problems:
        raise ValidationFailed("documents.bad_content", problems=problems)
    return {k: (str(v) if isinstance(v, (int, float)) else v) for k, v in content.items()}


# ------------------------------------------------------------------ templates

def template_bytes(session, doc: Document) -> tuple[bytes, str]:
    """The Word template of a document: the company's own approved one in use for its type, else the packaged one
    (a registration still pending approval is never used)."""
    if not doc.template:
        raise ValidationFailed("documents.not_rendered_type", number=doc.number)
    own = session.exec(select(CompanyTemplate).where(CompanyTemplate.doc_type == doc.doc_type,
                                                     CompanyTemplate.base_template == doc.template,
                                                     CompanyTemplate.active == True)).first()  # noqa: E712
    if own is not None:
        data = store(session).get(own.sha256)
    else:
        data = registry.template(doc.template).path().read_bytes()
    return data, sha256_bytes(data)


@command("documents.template.register", action="register_template", resource="document_register",
         audit_object="doc_company_template")
def register_template(cmd: Command, doc_type: str, data: bytes, filename: str) -> CompanyTemplate:
    """A company's own Word template for a type; refused unless it is a .docx using only known variables.

    Registered, it is pending: the template in use (the approved one, or the packaged one) stays in use
    until a second person approves this one (`approve_template`; R-7.5, X-2)."""
    session = cmd.uow
    dt = registry.doc_type(doc_type)
    if dt.template is None:
        raise ValidationFailed("documents.not_rendered_type", number=dt.code)
    rendering.check_docx(data, filename)
    used = rendering.template_variables(data)
    base = registry.template(dt.template)
    unknown = sorted(used - registry.CONTROL_VARIABLES - set(base.variables))
    missing = sorted(REQUIRED_IN_TEMPLATE - used)
    if unknown or missing:
        known = ", ".join(sorted(registry.CONTROL_VARIABLES | set(base.variables)))
        problems = [problem(v, "documents.problem.unknown_template_variable", known=known) for v in unknown]
        problems += [problem(v, "documents.problem.must_show") for v in missing]
        raise ValidationFailed("documents.bad_template", filename=filename, problems=problems)
    stored = store(session).put(data)
    row = CompanyTemplate(doc_type=doc_type, base_template=dt.template, filename=filename, sha256=stored.sha256,
                          variables=",".join(sorted(used)), registered_by=cmd.actor, active=False)
    session.add(row)
    session.flush()
    cmd.object_id = row.id
    cmd.payload = {"doc_type": doc_type, "filename": filename, "sha256": stored.sha256, "variables": sorted(used)}
    return row


def _template_resource(uow, template_id: int, *_args, **_kwargs) -> Resource:
    """A registered template as a resource: its registrant is its author, who may not approve it (access.sod)."""
    row = uow.exec(select(CompanyTemplate).where(CompanyTemplate.id == template_id).with_for_update()).first()
    if row is None:
        raise NotFound("documents.unknown_company_template", id=template_id)
    return Resource("document_register", id=row.id, authors=frozenset({row.registered_by}), subject=row)


@command("documents.template.approve", action="approve_template", resource=_template_resource,
         audit_object="doc_company_template")
def approve_template(cmd: Command, template_id: int) -> CompanyTemplate:
    """Approve a pending company template: from now on it renders its type's documents (R-7.5, X-2).

    Only the latest registration for a type can be approved (an earlier one was replaced before it was
    approved); the template in use until now stays stored, as revisions rendered with it refer to it."""
    session, row = cmd.uow, cmd.subject
    if row.approved_at is not None:
        raise Conflict("documents.template_already_approved", id=row.id, doc_type=row.doc_type,
                       username=row.approved_by)
    newer = session.exec(select(CompanyTemplate.id).where(CompanyTemplate.doc_type == row.doc_type,
                                                          CompanyTemplate.id > row.id)).first()
    if newer is not None:
        raise Conflict("documents.template_replaced", id=row.id, doc_type=row.doc_type, newer=newer)
    replaced = []
    for old in session.exec(select(CompanyTemplate).where(CompanyTemplate.doc_type == row.doc_type,
                                                          CompanyTemplate.active == True)):  # noqa: E712
        old.active = False
        replaced.append(old.sha256)
        session.add(old)
    row.active, row.approved_by, row.approved_at = True, cmd.actor, session.clock.now()
    session.add(row)
    cmd.payload = {"doc_type": row.doc_type, "filename": row.filename, "sha256": row.sha256,
                   "registered_by": row.registered_by, "replaces": replaced}
    return row


def company_templates(session, username: str) -> list[tuple[CompanyTemplate, str]]:
    """Every registered company template, newest first, with its state: in_use, pending (awaiting approval),
    replaced (a newer registration came before its approval) or retired (approved, since replaced)."""
    access.require(session, username, "read", Resource("document_register"))
    rows = list(session.exec(select(CompanyTemplate).order_by(CompanyTemplate.id.desc())))
    latest: dict[str, int] = {}
    for r in rows:
        latest.setdefault(r.doc_type, r.id)

    def state(r: CompanyTemplate) -> str:
        if r.active:
            return "in_use"
        if r.approved_at is not None:
            return "retired"
        return "pending" if latest[r.doc_type] == r.id else "replaced"

    return [(r, state(r)) for r in rows]


# ------------------------------------------------------------------ context

def _display_names(session, usernames: set[str]) -> dict[str, str]:
    from cms_workflows.org.models import User

    found = dict(session.exec(select(User.username, User.display_name).where(User.username.in_(sorted(usernames)))).all())
    return {u: found.get(u, u) for u in usernames} | {"": ""}


def position_name(code: str, locale: str) -> str:
    """A position's name in the file's language. A code that is no position of the organisation but one the
    route records itself (approval.ADDED_REVIEWER, "reviewer": a reviewer added by name) has a label
    `position_<code>`; it printed as English "reviewer" in Chinese files (issue 13)."""
    from cms_workflows.access.roles import position_labels

    own = rendering.labels(locale).get(f"position_{code}")
    if own:
        return own
    labels = position_labels()
    return pick(*labels[code], locale) if code in labels else code


def site_name(session, site: str, locale: str) -> str:
    from cms_workflows.org.models import Site

    if site == access.COMPANY_WIDE:
        return ""
    row = session.exec(select(Site).where(Site.code == site)).first()
    return pick(row.name_zh, row.name_en, locale) if row else site


def _department_name(session, code: str, locale: str) -> str:
    from cms_workflows.org.models import Department

    row = session.exec(select(Department).where(Department.code == code)).first() if code else None
    return pick(row.name_zh, row.name_en, locale) if row else code


def _drafting_department(session, position: str, locale: str) -> str:
    """编制部门: the department of the position the author drafted in (empty for a revision drafted before the
    position was recorded, or by an added reviewer's pseudo-position)."""
    from cms_workflows.org.models import Position

    row = session.exec(select(Position).where(Position.code == position)).first() if position else None
    return _department_name(session, row.department_code, locale) if row else ""


def _next_review_date(doc: Document, dt: registry.DocType, effective: date | None, labels: dict) -> str:
    """下次评审日期: the effective date plus the review period (the document's own or its type's); a type that is
    not reviewed for currency (a report, review_months 0) says so. The same rule as service.make_effective."""
    from dateutil.relativedelta import relativedelta

    months = doc.review_months if doc.review_months is not None else dt.review_months
    if not months:
        return labels.get("not_reviewed", "")
    return (effective + relativedelta(months=months)).isoformat() if effective else ""


def _history_row(r: Revision, first: bool, names: dict, labels: dict) -> dict:
    """One row of the revision history. 更改单号 / 更改页码: a revision here is the whole change (opened with its
    reason, routed, approved as one), with no separate change-request number and no page-by-page replacement;
    so the change number is a dash, and the changed pages are "all" (the whole document is reissued), a dash
    for the first issue."""
    dash = labels.get("no_entry", "")
    return {"revision": r.label,
            "date": r.effective_date.isoformat() if r.effective_date else "",
            "change": r.change_reason or labels.get("first_issue", ""),
            "change_no": dash, "pages": dash if first else labels.get("all_pages", ""),
            "author": names[r.author], "approver": names[r.approved_by or ""]}


def _with_optional(doc: Document, content: dict) -> dict:
    """The content with its template's optional variables that it does not give as empty (a draft written before
    the template had them renders, with a dash)."""
    if not doc.template or doc.template not in registry.templates():
        return content
    tpl = registry.template(doc.template)
    return {**{name: ([] if tpl.variables[name] == "list" else "") for name in tpl.optional}, **content}


def build_context(session, doc: Document, rev: Revision, *, controlled: bool) -> dict:
    """Everything the template shows: labels, company, the document's identity, history and approvals.

    `controlled` (an approved revision) shows the controlled status and its dates; a draft preview says it
    is uncontrolled, so a printed preview is never mistaken for the released text.

    The control block of a 受控文件 (issue 13 item 3, R-7.5 identification): 发布日期 (`issue_date`, the day it
    was approved and released) and 实施日期 (`implementation_date`, the day it takes effect) apart; 编制部门
    (the author's department) and 归口部门 (the owning department), named in the file's language; the next
    periodic review date; whether the type prints a cover sheet; and for 编制/审核/批准 each person's name,
    position, date and signature (the decision recorded in the system). `effective_date` and `approved_date`
    stay for company templates written against them.
    """
    locale = normalize(doc.language)
    labels = rendering.labels(locale)
    company = session.settings.company_name.strip()
    if not company:
        raise ValidationFailed("documents.company_name_missing")
    dt = registry.doc_type(doc.doc_type)
    earlier = list(session.exec(select(Revision).where(Revision.document_id == doc.id, Revision.seq < rev.seq,
                                                       Revision.approved_at != None).order_by(Revision.seq)))  # noqa: E711
    steps = {s.id: s for s in session.exec(select(RouteStep).where(RouteStep.revision_id == rev.id, RouteStep.round == rev.round))}
    decisions = list(session.exec(select(Decision).where(Decision.revision_id == rev.id, Decision.step_id.in_(list(steps) or [-1]))
                                  .order_by(Decision.id)))
    names = _display_names(session, {r.author for r in [*earlier, rev]} | {r.approved_by or "" for r in [*earlier, rev]}
                           | {d.username for d in decisions})
    history = [_history_row(r, i == 0, names, labels) for i, r in enumerate([*earlier, rev])]
    signed = labels.get("signed_in_system", "")
    submitted = local_date(rev.submitted_at, session)
    approvals = [{"role": labels.get("prepared", ""), "name": names[rev.author],
                  "position": position_name(rev.author_position, locale),
                  "date": submitted, "decision": "", "signature": signed if submitted else ""}]
    for d in decisions:
        step = steps[d.step_id]
        approvals.append({"role": labels.get(f"step_{step.name}", step.name), "name": names[d.username],
                          "position": position_name(d.position, locale), "date": local_date(d.decided_at, session),
                          "decision": labels.get(f"decision_{d.decision}", d.decision),
                          "signature": signed if d.decision == "approve" else ""})
    content = _with_optional(doc, json.loads(rev.content or "{}"))
    effective = rev.effective_date if controlled else None
    issued = local_date(rev.approved_at, session) if controlled else ""
    return {
        **content,
        "L": labels,
        "company": company,
        "doc": {"number": doc.number, "title": doc.title, "type_name": dt.name(locale), "site": doc.site,
                "site_name": site_name(session, doc.site, locale),
                "owner_department": doc.owner_department,
                "owner_department_name": _department_name(session, doc.owner_department, locale),
                "drafting_department_name": _drafting_department(session, rev.author_position, locale),
                "revision": rev.label,
                "status": labels.get("status_controlled" if controlled else "status_draft", ""),
                "effective_date": effective.isoformat() if effective else "",
                "approved_date": issued,
                "issue_date": issued,
                "implementation_date": effective.isoformat() if effective else "",
                "next_review_date": _next_review_date(doc, dt, effective, labels) if controlled else "",
                "cover_page": dt.cover_page},
        "history": history,
        "approvals": approvals,
    }


def file_meta(doc: Document, rev: Revision, moment: datetime) -> rendering.FileMeta:
    return rendering.FileMeta(title=doc.title, number=doc.number, label=rev.label, seq=rev.seq, author=rev.author,
                              last_modified_by=rev.approved_by or rev.author, subject=doc.doc_type,
                              language=doc.language, created=rev.created_at, modified=moment)


def render_controlled(session, doc: Document, rev: Revision) -> None:
    """At approval: fix the context, render, store template and file by hash, record the hashes on the revision."""
    tpl_data, tpl_sha = template_bytes(session, doc)
    context = build_context(session, doc, rev, controlled=True)
    data = rendering.render(tpl_data, context, file_meta(doc, rev, rev.approved_at))
    files = store(session)
    files.put(tpl_data)
    stored = files.put(data)
    rev.rendered_context, rev.template_sha256 = canonical(context), tpl_sha
    rev.file_sha256, rev.file_size = stored.sha256, stored.size


def control_imported(session, doc: Document, rev: Revision) -> None:
    """At approval of an imported revision (issue 13 item 2): the company's control applied to a copy of the
    uploaded file, which stays stored as the revision's source; the copy is the register's file and its hash.
    An external document's PDF stays the file as uploaded; its cover sheet is stored beside it."""
    from cms_workflows.documents import controlled_copy

    # registered: the submission's date (the row's created_at is the server's moment, not the company clock's)
    context = controlled_copy.control_context(doc, rev, build_context(session, doc, rev, controlled=True),
                                              local_date(rev.submitted_at, session))
    rev.rendered_context = canonical(context)
    data, cover = _controlled_bytes(session, doc, rev, context)
    files = store(session)
    if cover is not None:
        rev.cover_sha256 = files.put(cover).sha256
    if data is not None:
        stored = files.put(data)
        rev.file_sha256, rev.file_size = stored.sha256, stored.size


def _controlled_bytes(session, doc: Document, rev: Revision, context: dict) -> tuple[bytes | None, bytes | None]:
    """(controlled file, cover sheet) of an imported revision from its source and fixed context; None for a file
    kept as uploaded (an external PDF) and for no cover sheet."""
    from cms_workflows.documents import controlled_copy

    meta = file_meta(doc, rev, rev.approved_at)
    if not controlled_copy.is_word(rev.source_filename):
        return None, controlled_copy.cover_sheet(context, meta)
    source = store(session).get(rev.source_sha256 or rev.file_sha256)
    if doc.doc_type == controlled_copy.EXTERNAL:
        return controlled_copy.external_copy(source, context, meta), None
    return controlled_copy.controlled_copy(source, context, meta), None


def rerender(session, doc: Document, rev: Revision) -> bytes:
    """Render an approved revision again from its fixed context and stored template (determinism checks); an
    imported one from its stored source (its cover sheet, for a file kept as uploaded)."""
    if rev.source == "imported" and rev.rendered_context:
        data, cover = _controlled_bytes(session, doc, rev, json.loads(rev.rendered_context))
        return data if data is not None else cover
    if not rev.rendered_context or not rev.template_sha256:
        raise ValidationFailed("documents.no_file", number=doc.number, revision=rev.label)
    return rendering.render(store(session).get(rev.template_sha256), json.loads(rev.rendered_context),
                            file_meta(doc, rev, rev.approved_at))


def preview(session, doc: Document, rev: Revision) -> bytes:
    """An uncontrolled rendering of a revision not yet approved (status 'draft' in the header)."""
    tpl_data, _sha = template_bytes(session, doc)
    content = json.loads(rev.content or "{}")
    validate_content(registry.template(doc.template), content, complete=True)
    return rendering.render(tpl_data, build_context(session, doc, rev, controlled=False),
                            file_meta(doc, rev, rev.created_at))


def stored_file(session, doc: Document, rev: Revision) -> bytes:
    if rev.file_sha256 is None:
        raise NotFound("documents.no_file", number=doc.number, revision=rev.label)
    if rev.file_destroyed_at is not None:
        raise NotFound("documents.file_destroyed", number=doc.number, revision=rev.label, sha256=rev.file_sha256,
                       date=rev.file_destroyed_at.date().isoformat())
    # the hash on the row could have been pointed at another stored file: hand out only the file the trail fixed
    from cms_workflows.core.errors import CmsError
    from cms_workflows.documents.integrity import recorded_file

    recorded = recorded_file(session, doc, rev)
    if recorded is None or recorded[1] != rev.file_sha256:
        raise CmsError("documents.file_not_as_recorded", number=doc.number, revision=rev.label, stored=rev.file_sha256,
                       recorded=(recorded or (None, None))[1] or "—")
    return store(session).get(rev.file_sha256)


def stored_document_files(session) -> set[str]:
    """Hashes the register refers to, which the file store must hold (`cms verify`); destroyed files excepted."""
    hashes = set(session.exec(select(Revision.file_sha256).where(Revision.file_sha256 != None,  # noqa: E711
                                                                 Revision.file_destroyed_at == None)))  # noqa: E711
    hashes |= set(session.exec(select(Revision.template_sha256).where(Revision.template_sha256 != None)))  # noqa: E711
    for column in (Revision.source_sha256, Revision.cover_sha256):  # an imported revision's upload, a cover sheet
        hashes |= set(session.exec(select(column).where(column != None, Revision.file_destroyed_at == None)))  # noqa: E711
    hashes |= set(session.exec(select(CompanyTemplate.sha256)))
    return hashes


def today_or(session, day: date | None) -> date:
    """`day`, or today in the company's time zone (an approval at 02:00 in Changsha is dated that day, not UTC's)."""
    return day or session.clock.today()
