"""Reads of the document register (R-7.5, X-4): documents, revisions, route steps, due reviews, files.

Nothing here changes state. Reads that show a document to a user check that the user may read it:
at the document's site, and a company document (site "*") wherever the user holds a position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import String, and_, bindparam, exists, func, or_, text
from sqlalchemy import select as core_select
from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Grant, Resource
from cms_workflows.core.errors import AccessDenied, NotFound
from cms_workflows.core.i18n import t
from cms_workflows.documents import registry
from cms_workflows.documents.models import Decision, Document, PeriodicReview, Revision, RouteStep, StepReviewer
from cms_workflows.documents.states import OPEN_STATES, REVISION, DocumentStatus


# ------------------------------------------------------------------ lookups

def get_document(uow, number: str, *, lock: bool = False) -> Document:
    q = select(Document).where(Document.number == number)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    doc = uow.exec(q).first()
    if doc is None:
        raise NotFound("documents.unknown_document", number=number)
    return doc


def document_number(uow, document_id: int) -> str:
    """The register number of a document by its id (e.g. for a revision just created)."""
    doc = uow.get(Document, document_id)
    if doc is None:
        raise NotFound("documents.unknown_document", number=document_id)
    return doc.number


def revisions(uow, doc: Document) -> list[Revision]:
    return list(uow.exec(select(Revision).where(Revision.document_id == doc.id).order_by(Revision.seq)))


def open_revision(uow, doc: Document, *, lock: bool = False) -> Revision | None:
    q = select(Revision).where(Revision.document_id == doc.id, Revision.status.in_(OPEN_STATES))
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    return uow.exec(q).first()


def effective_revision(uow, doc: Document) -> Revision | None:
    return uow.get(Revision, doc.effective_revision_id) if doc.effective_revision_id else None


def route_steps(uow, rev: Revision) -> list[RouteStep]:
    """The steps of the revision's current round."""
    return list(uow.exec(select(RouteStep).where(RouteStep.revision_id == rev.id, RouteStep.round == rev.round)
                         .order_by(RouteStep.step_no)))


def step_decisions(uow, step: RouteStep) -> list[Decision]:
    return list(uow.exec(select(Decision).where(Decision.step_id == step.id).order_by(Decision.id)))


def added_reviewers(uow, step: RouteStep) -> list[str]:
    return list(uow.exec(select(StepReviewer.username).where(StepReviewer.step_id == step.id).order_by(StepReviewer.id)))


def review_months(doc: Document) -> int:
    return doc.review_months if doc.review_months is not None else registry.doc_type(doc.doc_type).review_months


def end_text(rev: Revision, locale: str | None = None) -> str:
    """Why a revision ended, in the reader's language ("" while it is in use)."""
    if rev.superseded_by:
        return t("documents.superseded_by", locale=locale, revision=rev.superseded_by)
    return rev.end_reason or ""


# ------------------------------------------------------------------ access

def resource_of(doc: Document, rev: Revision | None = None, *, subject=None) -> Resource:
    """The document as access sees it: its type's object type at its site; the revision's author is its author."""
    return Resource(registry.doc_type(doc.doc_type).object_type, site=doc.site, id=doc.number,
                    authors=frozenset({rev.author}) if rev else frozenset(), subject=subject)


def require_read(uow, username: str, doc: Document) -> Grant:
    """Read at the document's site; a company document is also readable wherever the user holds a position."""
    control = access.get_access()
    result = control.check(uow, username, "read", resource_of(doc))
    if isinstance(result, Grant):
        return result
    if doc.site == COMPANY_WIDE:
        held = {s for _p, s in control.table(uow, username).assignments}
        for site in sorted(held):
            grant = control.check(uow, username, "read", Resource(resource_of(doc).type, site=site))
            if isinstance(grant, Grant):
                return grant
    raise result


# ------------------------------------------------------------------ periodic review

@dataclass
class DueReview:
    document: Document
    revision: Revision
    due: date
    in_progress: Revision | None = None

    @property
    def revision_in_progress(self) -> str | None:
        """The revision in progress and its state, in the reader's language."""
        if self.in_progress is None:
            return None
        return t("documents.in_progress", revision=self.in_progress.label,
                 state=REVISION.label(self.in_progress.status))


def due(uow, username: str, by: date | None = None) -> list[DueReview]:
    """Active documents whose periodic review falls on or before `by` (default today) that the user may read."""
    from cms_workflows.documents import output  # here: it brings the Word rendering, which most reads never need

    by = output.today_or(uow, by)
    out = []
    q = select(Document).where(Document.status == DocumentStatus.ACTIVE, Document.next_review_due != None,  # noqa: E711
                               Document.next_review_due <= by).order_by(Document.next_review_due, Document.number)
    for doc in uow.exec(q):
        if not access.can(uow, username, "read", resource_of(doc)):
            continue
        out.append(DueReview(doc, effective_revision(uow, doc), doc.next_review_due, open_revision(uow, doc)))
    return out


# ------------------------------------------------------------------ reading

@dataclass
class DocumentView:
    document: Document
    revisions: list[Revision]
    steps: list[RouteStep] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    reviewers: list[StepReviewer] = field(default_factory=list)
    reviews: list[PeriodicReview] = field(default_factory=list)


def show(uow, username: str, number: str) -> DocumentView:
    doc = get_document(uow, number)
    require_read(uow, username, doc)
    revs = revisions(uow, doc)
    ids = [r.id for r in revs] or [-1]
    steps = list(uow.exec(select(RouteStep).where(RouteStep.revision_id.in_(ids)).order_by(RouteStep.id)))
    return DocumentView(
        doc, revs, steps,
        list(uow.exec(select(Decision).where(Decision.revision_id.in_(ids)).order_by(Decision.id))),
        list(uow.exec(select(StepReviewer).where(StepReviewer.step_id.in_([s.id for s in steps] or [-1])))),
        list(uow.exec(select(PeriodicReview).where(PeriodicReview.document_id == doc.id).order_by(PeriodicReview.id))))


def list_documents(uow, username: str, *, doc_type: str | None = None, site: str | None = None,
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
    pairs = set(readable_pairs(uow, username))  # decided per (type, site): the register's documents share a few
    readable = [doc for doc in uow.exec(q) if (doc.doc_type, doc.site) in pairs]
    # the revisions of all of them in one query, not two per document (the register is the web app's hot page)
    ids = [d.id for d in readable] or [-1]
    wanted = {d.effective_revision_id for d in readable if d.effective_revision_id}
    by_id, opened = {}, {}
    for rev in uow.exec(select(Revision).where(Revision.document_id.in_(ids),
                                               Revision.id.in_(wanted) | Revision.status.in_(OPEN_STATES))):
        by_id[rev.id] = rev
        if rev.status in OPEN_STATES:
            opened[rev.document_id] = rev
    return [(doc, by_id.get(doc.effective_revision_id), opened.get(doc.id)) for doc in readable]


# The register's page, cut by the database in ONE statement: the permission becomes a WHERE on the (type, site) pairs
# the user may read (decided once per pair through require_read, and remembered with the user's access decisions:
# access.derived), the page LIMIT/OFFSET with the total counted in the same statement, each document's effective
# and open revision joined to it. Only the columns the register shows are read (a revision's content and rendered
# context are most of its bytes), and the statements are built once (bench/web.py: building them, reading the
# whole revision rows in a second statement and deciding every pair on every request were most of a page's cost).

class RegisterDocument(NamedTuple):
    """A document as the register shows it (read-only, the model's attribute names)."""

    id: int
    number: str
    title: str
    doc_type: str
    site: str
    owner_department: str
    status: str
    next_review_due: date | None
    effective_revision_id: int | None


class RegisterRevision(NamedTuple):
    """A revision as the register shows it (read-only, the model's attribute names)."""

    id: int
    document_id: int
    label: str
    status: str
    author: str
    change_reason: str
    round: int
    submitted_at: object
    approved_by: str | None
    approved_at: object
    effective_date: date | None
    file_sha256: str | None


_DOCUMENTS = Document.__table__
_EFFECTIVE = Revision.__table__.alias("effective")
_OPENED = Revision.__table__.alias("opened")
_REGISTER_COLUMNS = (
    [_DOCUMENTS.c[name] for name in RegisterDocument._fields]
    + [_EFFECTIVE.c[name].label(f"effective_{name}") for name in RegisterRevision._fields]
    + [_OPENED.c[name].label(f"opened_{name}") for name in RegisterRevision._fields])
_DOC_END = len(RegisterDocument._fields)
_EFFECTIVE_END = _DOC_END + len(RegisterRevision._fields)
_OPENED_END = _EFFECTIVE_END + len(RegisterRevision._fields)
_REGISTER_PAIRS = core_select(Document.doc_type, Document.site).distinct()
_REVISION_IN_STATE = exists().where(
    Revision.document_id == Document.id, Revision.status == bindparam("state"),
    or_(Revision.id == Document.effective_revision_id, Revision.status.in_(OPEN_STATES)))


def _readable(slots: int):
    """The documents of `slots` (type, site) pairs, as plain parameters type_0, site_0, …: an expanding IN list
    was rendered into the statement again on every execution, and the same test as ORs of pairs made SQLite
    search an index per pair (three times slower). `(a, b) IN (VALUES …)` is SQLite's and PostgreSQL's."""
    rows = ", ".join(f"(:type_{i}, :site_{i})" for i in range(slots))
    table = Document.__tablename__
    return text(f"({table}.doc_type, {table}.site) IN (VALUES {rows})").bindparams(
        *(bindparam(f"{name}_{i}", type_=String) for i in range(slots) for name in ("type", "site")))


def _pair_slots(pairs: list[tuple[str, str]]) -> tuple[int, dict[str, str]]:
    """The pairs as the parameters of `_readable`: the number of slots a power of two (a few statement shapes
    whatever the register holds), the last pair repeated in the spare ones; none: a pair no document has."""
    pairs = pairs or [("", "")]
    slots = 1 << (len(pairs) - 1).bit_length()
    params = {}
    for i in range(slots):
        params[f"type_{i}"], params[f"site_{i}"] = pairs[min(i, len(pairs) - 1)]
    return slots, params


def _register_conditions(filters: tuple[str, ...], slots: int) -> list:
    conditions = [_readable(slots)]
    if "doc_type" in filters:
        conditions.append(Document.doc_type == bindparam("doc_type"))
    if "site" in filters:
        conditions.append(Document.site == bindparam("site"))
    if "status" in filters:
        conditions.append(Document.status == bindparam("status"))
    if "revision_state" in filters:
        conditions.append(_REVISION_IN_STATE)
    return conditions


def _register_statement(filters: tuple[str, ...], slots: int):
    """The page statement for a set of filters (a few shapes, each built once); "unpaged": the whole register.
    The page is cut on the documents alone, then its rows are joined to their revisions; the total is a scalar
    subquery, computed once (a window count made SQLite carry the rows through a sorter: twice as slow)."""
    statement = _REGISTER_STATEMENTS.get((filters, slots))
    if statement is None:
        conditions = _register_conditions(filters, slots)
        page = core_select(_DOCUMENTS.c.id, _DOCUMENTS.c.number).where(and_(*conditions)).order_by(_DOCUMENTS.c.number)
        if "unpaged" not in filters:
            page = page.limit(bindparam("limit")).offset(bindparam("offset"))
        page = page.subquery("page")
        total = (core_select(func.count()).select_from(_DOCUMENTS).where(and_(*conditions))
                 .correlate(None).scalar_subquery().label("total"))
        joined = (page.join(_DOCUMENTS, _DOCUMENTS.c.id == page.c.id)
                  .outerjoin(_EFFECTIVE, _EFFECTIVE.c.id == _DOCUMENTS.c.effective_revision_id)
                  # a document has at most one open revision: a second is refused (documents.open_revision_exists)
                  .outerjoin(_OPENED, and_(_OPENED.c.document_id == _DOCUMENTS.c.id,
                                           or_(*(_OPENED.c.status == s for s in OPEN_STATES)))))
        statement = core_select(*_REGISTER_COLUMNS, total).select_from(joined).order_by(page.c.number)
        _REGISTER_STATEMENTS[(filters, slots)] = statement
    return statement


_REGISTER_STATEMENTS: dict[tuple[tuple[str, ...], int], object] = {}


class _Pair(NamedTuple):
    """A (type, site) pair of the register, as require_read sees a document of it."""

    doc_type: str
    site: str
    number: str = ""


def readable_pairs(uow, username: str) -> list[tuple[str, str]]:
    """The register's (type, site) pairs the user may read. Each is decided by require_read (the access module),
    once per user's decision table: the answer is kept with it (access.derived), so it goes when the org
    changes (assignments, deactivations), on a new day or with another policy. A refusal other than a plain
    "no position grants it" (an unknown site, say) is not kept: it is decided again next time."""
    remembered = access.derived(uow, username)
    pairs = []
    for doc_type, site in uow.connection().execute(_REGISTER_PAIRS):  # a few, whatever the register holds
        key = ("documents.read", doc_type, site)
        may = remembered.get(key)
        if may is None:
            try:
                require_read(uow, username, _Pair(doc_type, site))
                may = remembered[key] = True
            except AccessDenied as refused:
                may = False
                if refused.key == "access.denied":
                    remembered[key] = False
        if may:
            pairs.append((doc_type, site))
    return pairs


def _register_row(row) -> tuple:
    """(document, effective revision, open revision) of one row of the register statement."""
    return (RegisterDocument._make(row[:_DOC_END]),
            RegisterRevision._make(row[_DOC_END:_EFFECTIVE_END]) if row[_DOC_END] is not None else None,
            RegisterRevision._make(row[_EFFECTIVE_END:_OPENED_END]) if row[_EFFECTIVE_END] is not None else None)


def register_page(uow, username: str, *, doc_type: str | None = None, site: str | None = None,
                  state: str | None = None, offset: int = 0, limit: int | None = 50
                  ) -> tuple[list[tuple], int]:
    """One page of list_documents (`state`: a document state, or the state of the effective or open revision;
    `limit` None: every row) and the number of such documents in all. The documents and revisions are read-only
    rows with the models' attribute names (RegisterDocument, RegisterRevision: no ORM objects, a page is only
    shown)."""
    if doc_type:
        registry.doc_type(doc_type)
    slots, params = _pair_slots(readable_pairs(uow, username))
    if limit is not None:
        params.update(limit=limit, offset=offset)
    if doc_type:
        params["doc_type"] = doc_type
    if site:
        params["site"] = site
    if state in {s.value for s in DocumentStatus}:
        params["status"] = state
    elif state:
        params["state"] = state
    filters = (tuple(k for k in ("doc_type", "site", "status") if k in params)
               + (("revision_state",) if "state" in params else ()) + (("unpaged",) if limit is None else ()))
    found = uow.connection().execute(_register_statement(filters, slots), params).all()
    if not found:
        total = 0 if offset == 0 or limit is None else register_count(uow, params, filters, slots)
        return [], total
    return [_register_row(row) for row in found], found[0].total


def register_count(uow, params: dict, filters: tuple[str, ...], slots: int) -> int:
    """The total of a page past the end (the page statement counts only when it returns a row)."""
    counted = core_select(func.count()).select_from(_DOCUMENTS).where(and_(*_register_conditions(filters, slots)))
    return uow.connection().execute(counted, {k: v for k, v in params.items() if k not in ("limit", "offset")}).scalar_one()


def revision_file(uow, username: str, number: str, label: str | None = None) -> tuple[Revision, bytes]:
    """The file of a revision: the stored controlled file once approved, an uncontrolled preview before.
    Without a label: the effective revision, else the newest."""
    from cms_workflows.documents import output  # here: it brings the Word rendering, which most reads never need

    doc = get_document(uow, number)
    require_read(uow, username, doc)
    revs = revisions(uow, doc)
    if label is not None:
        rev = next((r for r in revs if r.label == label.upper() or r.label == label), None)
        if rev is None:
            raise NotFound("documents.unknown_revision", number=number, revision=label)
    else:
        rev = effective_revision(uow, doc) or revs[-1]
    if rev.file_sha256 is not None:
        return rev, output.stored_file(uow, doc, rev)
    if rev.source != "rendered":
        raise NotFound("documents.no_file", number=number, revision=rev.label)
    return rev, output.preview(uow, doc, rev)


def pending_disposition(uow, doc: Document):
    """The document's disposition request still awaiting its second person, if any."""
    from cms_workflows.documents.models import Disposition
    from cms_workflows.documents.states import DispositionStatus

    return uow.exec(select(Disposition).where(Disposition.document_id == doc.id,
                                              Disposition.status == DispositionStatus.REQUESTED)).first()
