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
        for name in tpl.variables:
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


def _position_name(code: str, locale: str) -> str:
    from cms_workflows.access.roles import position_labels

    labels = position_labels()
    return pick(*labels[code], locale) if code in labels else code


def _site_name(session, site: str, locale: str) -> str:
    from cms_workflows.org.models import Site

    if site == access.COMPANY_WIDE:
        return ""
    row = session.exec(select(Site).where(Site.code == site)).first()
    return pick(row.name_zh, row.name_en, locale) if row else site


def build_context(session, doc: Document, rev: Revision, *, controlled: bool) -> dict:
    """Everything the template shows: labels, company, the document's identity, history and approvals.

    `controlled` (an approved revision) shows the controlled status and effective date; a draft
    preview says it is uncontrolled, so a printed preview is never mistaken for the released text.
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
    history = [{"revision": r.label,
                "date": r.effective_date.isoformat() if r.effective_date else "",
                "change": r.change_reason or labels.get("first_issue", ""),
                "author": names[r.author], "approver": names[r.approved_by or ""]} for r in [*earlier, rev]]
    approvals = [{"role": labels.get("prepared", ""), "name": names[rev.author],
                  "position": _position_name(rev.author_position, locale),
                  "date": local_date(rev.submitted_at, session), "decision": ""}]
    for d in decisions:
        step = steps[d.step_id]
        approvals.append({"role": labels.get(f"step_{step.name}", step.name), "name": names[d.username],
                          "position": _position_name(d.position, locale), "date": local_date(d.decided_at, session),
                          "decision": labels.get(f"decision_{d.decision}", d.decision)})
    content = json.loads(rev.content or "{}")
    return {
        **content,
        "L": labels,
        "company": company,
        "doc": {"number": doc.number, "title": doc.title, "type_name": dt.name(locale), "site": doc.site,
                "site_name": _site_name(session, doc.site, locale),
                "owner_department": doc.owner_department, "revision": rev.label,
                "status": labels.get("status_controlled" if controlled else "status_draft", ""),
                "effective_date": rev.effective_date.isoformat() if controlled and rev.effective_date else "",
                "approved_date": local_date(rev.approved_at, session) if controlled else ""},
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


def rerender(session, doc: Document, rev: Revision) -> bytes:
    """Render an approved revision again from its fixed context and stored template (determinism checks)."""
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
    hashes |= set(session.exec(select(CompanyTemplate.sha256)))
    return hashes


def today_or(session, day: date | None) -> date:
    """`day`, or today in the company's time zone (an approval at 02:00 in Changsha is dated that day, not UTC's)."""
    return day or session.clock.today()
