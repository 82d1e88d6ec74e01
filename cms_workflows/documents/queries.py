"""Reads of the document register (R-7.5, X-4): documents, revisions, route steps, due reviews, files.

Nothing here changes state. Reads that show a document to a user check that the user may read it:
at the document's site, and a company document (site "*") wherever the user holds a position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import and_, bindparam, exists, func, or_, tuple_
from sqlalchemy import select as core_select
from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Grant, Resource
from cms_workflows.core.errors import AccessDenied, NotFound
from cms_workflows.core.i18n import t
from cms_workflows.documents import output, registry
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
    readable, may_read = [], {}  # one decision per (type, site): the register's documents share a few
    for doc in uow.exec(q):
        key = (doc.doc_type, doc.site)
        if key not in may_read:
            try:
                require_read(uow, username, doc)
                may_read[key] = True
            except AccessDenied:
                may_read[key] = False
        if may_read[key]:
            readable.append(doc)
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


# The register's page, cut by the database: the permission becomes a WHERE on the (type, site) pairs the user may
# read (decided once per pair, as list_documents does), the page LIMIT/OFFSET with the total counted in the same
# statement; the statements are built once (bench/web.py: building them was a large part of a register read).
_REGISTER_PAIRS = core_select(Document.doc_type, Document.site).distinct()
_READABLE = tuple_(Document.doc_type, Document.site).in_(bindparam("pairs", expanding=True))
_REVISION_IN_STATE = exists().where(
    Revision.document_id == Document.id, Revision.status == bindparam("state"),
    or_(Revision.id == Document.effective_revision_id, Revision.status.in_(OPEN_STATES)))
_PAGE_REVISIONS = core_select(Revision.__table__).where(
    Revision.document_id.in_(bindparam("ids", expanding=True)),
    Revision.id.in_(bindparam("effective", expanding=True)) | Revision.status.in_(OPEN_STATES))


def _register_statement(filters: tuple[str, ...]):
    """The page statement for a set of filters (a few shapes, each built once)."""
    statement = _REGISTER_STATEMENTS.get(filters)
    if statement is None:
        conditions = [_READABLE]
        if "doc_type" in filters:
            conditions.append(Document.doc_type == bindparam("doc_type"))
        if "site" in filters:
            conditions.append(Document.site == bindparam("site"))
        if "status" in filters:
            conditions.append(Document.status == bindparam("status"))
        if "revision_state" in filters:
            conditions.append(_REVISION_IN_STATE)
        statement = (core_select(*Document.__table__.c, func.count().over().label("total")).where(and_(*conditions))
                     .order_by(Document.number).limit(bindparam("limit")).offset(bindparam("offset")))
        _REGISTER_STATEMENTS[filters] = statement
    return statement


_REGISTER_STATEMENTS: dict[tuple[str, ...], object] = {}


class _Pair(NamedTuple):
    """A (type, site) pair of the register, as require_read sees a document of it."""

    doc_type: str
    site: str
    number: str = ""


def register_page(uow, username: str, *, doc_type: str | None = None, site: str | None = None,
                  state: str | None = None, offset: int = 0, limit: int = 50
                  ) -> tuple[list[tuple], int]:
    """One page of list_documents (`state`: a document state, or the state of the effective or open revision)
    and the number of such documents in all. The documents and revisions are read-only rows with the models'
    attribute names (no ORM objects: a page is only shown)."""
    if doc_type:
        registry.doc_type(doc_type)
    pairs = []
    connection = uow.connection()
    for pair in connection.execute(_REGISTER_PAIRS):  # the register's (type, site) pairs: a few, each decided once
        try:
            require_read(uow, username, _Pair(*pair))
            pairs.append(tuple(pair))
        except AccessDenied:
            pass
    params = {"pairs": pairs or [("", "")], "limit": limit, "offset": offset}
    if doc_type:
        params["doc_type"] = doc_type
    if site:
        params["site"] = site
    if state in {s.value for s in DocumentStatus}:
        params["status"] = state
    elif state:
        params["state"] = state
    filters = tuple(k for k in ("doc_type", "site", "status") if k in params) + (("revision_state",) if "state" in params else ())
    found = connection.execute(_register_statement(filters), params).all()
    if not found:
        total = 0 if offset == 0 else register_count(uow, params, filters)
        return [], total
    docs = found
    by_id, opened = {}, {}
    revision_params = {"ids": [d.id for d in docs], "effective": [d.effective_revision_id for d in docs
                                                                  if d.effective_revision_id] or [-1]}
    for rev in connection.execute(_PAGE_REVISIONS, revision_params):
        by_id[rev.id] = rev
        if rev.status in OPEN_STATES:
            opened[rev.document_id] = rev
    return [(doc, by_id.get(doc.effective_revision_id), opened.get(doc.id)) for doc in docs], found[0].total


def register_count(uow, params: dict, filters: tuple[str, ...]) -> int:
    """The total of a page past the end (the page statement counts only when it returns a row)."""
    counted = select(func.count()).select_from(_register_statement(filters).limit(None).offset(None)
                                                .with_only_columns(Document.id).subquery())
    return uow.connection().execute(counted, {k: v for k, v in params.items() if k not in ("limit", "offset")}).scalar_one()


def revision_file(uow, username: str, number: str, label: str | None = None) -> tuple[Revision, bytes]:
    """The file of a revision: the stored controlled file once approved, an uncontrolled preview before.
    Without a label: the effective revision, else the newest."""
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
