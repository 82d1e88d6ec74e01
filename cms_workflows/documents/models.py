"""Document register tables (R-7.5, X-4).

A Document is the register entry (number, type, site, title, owner); each change is a
Revision with its own status, author, route decisions and stored file. Revisions are
never deleted: superseded and obsolete ones stay retrievable with their hashes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow
from cms_workflows.documents.states import OPEN_STATES, DispositionStatus, DocumentStatus, RevisionStatus, StepStatus

# the states and their transitions: documents/states.py


class NumberCounter(SQLModel, table=True):
    """Last number given per numbering scheme; incremented in the creating transaction (gap-free)."""

    __tablename__ = "doc_number_counter"

    scheme: str = Field(primary_key=True, max_length=120)
    last_seq: int = 0


class Document(SQLModel, table=True):
    __tablename__ = "doc_document"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=120, unique=True, index=True)
    doc_type: str = Field(max_length=32, index=True)
    site: str = Field(max_length=32, index=True)  # a site code, or "*" for company documents
    title: str = Field(max_length=300)
    owner_department: str = Field(max_length=64)
    language: str = Field(default="zh-CN", max_length=8)
    template: str | None = Field(default=None, max_length=64)
    review_months: int | None = None  # None: the type's period
    status: str = Field(default=DocumentStatus.ACTIVE, max_length=16)  # DocumentStatus
    effective_revision_id: int | None = None
    next_review_due: date | None = None
    legacy_number: str | None = Field(default=None, max_length=120)  # number in the company's earlier system
    # external documents (laws, standards): who issued which version, from when, where it applies
    issuer: str | None = Field(default=None, max_length=200)
    external_version: str | None = Field(default=None, max_length=64)  # the edition
    external_effective_date: date | None = None  # 实施日期
    external_number: str | None = Field(default=None, max_length=120)  # 标准编号, e.g. GB/T 32150-2015
    external_published_date: date | None = None  # 发布日期
    applies_to: str | None = Field(default=None, max_length=500)
    obsolete_reason: str | None = Field(default=None, max_length=500)
    obsoleted_at: datetime | None = None
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


# the open states as SQL, for the partial index below (migration 0018 holds the same condition as a literal)
OPEN_REVISION_SQL = "status IN ({})".format(", ".join(f"'{state}'" for state in OPEN_STATES))


class Revision(SQLModel, table=True):
    __tablename__ = "doc_revision"
    __table_args__ = (
        UniqueConstraint("document_id", "seq", name="uq_doc_revision_seq"),
        # at most one open revision (draft, in review, approved) per document: the service refuses a second
        # (documents.open_revision_exists) and the register's one-statement read relies on it (migration 0018)
        Index("uq_doc_revision_one_open", "document_id", unique=True,
              sqlite_where=text(OPEN_REVISION_SQL), postgresql_where=text(OPEN_REVISION_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="doc_document.id", index=True)
    seq: int
    label: str = Field(max_length=16)
    status: str = Field(default=RevisionStatus.DRAFT, max_length=16, index=True)
    author: str = Field(max_length=64)
    author_position: str = Field(default="", max_length=64)  # the position the author drafted in
    change_reason: str = Field(default="", max_length=1000)
    content: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON: the template's variables
    source: str = Field(default="rendered", max_length=16)  # rendered | imported
    source_filename: str | None = Field(default=None, max_length=300)
    # an imported revision's uploaded file, kept and hashed as its source (its import event names this hash); the
    # controlled copy made at approval is `file_sha256` (documents.controlled_copy, issue 13 item 2)
    source_sha256: str | None = Field(default=None, max_length=64)
    source_size: int | None = None
    cover_sha256: str | None = Field(default=None, max_length=64)  # an external PDF's cover sheet (.docx)
    round: int = 0  # incremented by every submission; decisions belong to a round
    submitted_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None
    effective_date: date | None = None
    effective_at: datetime | None = None
    ended_at: datetime | None = None  # superseded or obsolete
    end_reason: str | None = Field(default=None, max_length=500)  # why it was withdrawn or made obsolete
    superseded_by: str | None = Field(default=None, max_length=16)  # the label of the revision that replaced it
    file_sha256: str | None = Field(default=None, max_length=64)  # the controlled file, fixed at approval
    file_size: int | None = None
    file_destroyed_at: datetime | None = None
    template_sha256: str | None = Field(default=None, max_length=64)  # the template the file was rendered from
    rendered_context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON, fixed at approval
    created_at: datetime = Field(default_factory=utcnow)


class RouteStep(SQLModel, table=True):
    """A step of the approval route, copied from approval_routes.yaml at submission."""

    __tablename__ = "doc_route_step"

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="doc_revision.id", index=True)
    round: int
    step_no: int
    name: str = Field(max_length=32)
    action: str = Field(max_length=16)  # review | approve
    mode: str = Field(max_length=8)  # any | all
    positions: str = Field(max_length=500)  # comma list
    status: str = Field(default=StepStatus.WAITING, max_length=16)  # StepStatus


class StepReviewer(SQLModel, table=True):
    """A named reviewer added to a running step by the document controller."""

    __tablename__ = "doc_step_reviewer"
    __table_args__ = (UniqueConstraint("step_id", "username", name="uq_doc_step_reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="doc_route_step.id", index=True)
    username: str = Field(max_length=64)
    added_by: str = Field(max_length=64)
    reason: str = Field(default="", max_length=500)
    added_at: datetime = Field(default_factory=utcnow)


class Decision(SQLModel, table=True):
    __tablename__ = "doc_decision"

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="doc_revision.id", index=True)
    step_id: int = Field(foreign_key="doc_route_step.id", index=True)
    username: str = Field(max_length=64)
    position: str = Field(max_length=64)  # the step position decided for, or "reviewer" when added by name
    site: str = Field(max_length=32)
    decision: str = Field(max_length=16)  # approve | reject
    comment: str = Field(default="", max_length=2000)
    decided_at: datetime = Field(default_factory=utcnow)


class Distribution(SQLModel, table=True):
    """An effective revision handed to the holders of a position at a site (R-7.5 availability)."""

    __tablename__ = "doc_distribution"
    __table_args__ = (UniqueConstraint("revision_id", "position", "site", name="uq_doc_distribution"),)

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="doc_revision.id", index=True)
    position: str = Field(max_length=64)
    site: str = Field(max_length=32)
    distributed_by: str = Field(max_length=64)
    distributed_at: datetime = Field(default_factory=utcnow)
    # 分发号: the number of this controlled copy, one sequence per document; the same position@site keeps its
    # number from revision to revision (documents.distribution.assign_copy_numbers fills it where missing)
    copy_no: int | None = None


class Rendition(SQLModel, table=True):
    """A marked copy of a revision's file that was handed out (documents.renditions; R-7.5, X-4): stamped
    作废 / 已替代, 草稿 / 未受控 or as a distributed copy with its 分发号. Its own hash and the original's;
    the original, in the file store, is never replaced by it. The bytes follow from the original and the
    stamp, so they are not stored: making the rendition again gives the same hash."""

    __tablename__ = "doc_rendition"

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="doc_revision.id", index=True)
    kind: str = Field(max_length=24)  # superseded | obsolete | draft | distributed_copy (renditions.KINDS)
    sha256: str = Field(max_length=64, index=True)
    size: int
    original_sha256: str = Field(max_length=64, index=True)  # the register's file (a draft's: its preview)
    locale: str = Field(max_length=8)  # the document's language, which the stamp speaks
    distribution_id: int | None = Field(default=None, foreign_key="doc_distribution.id")
    copy_no: int | None = None
    issued_by: str = Field(max_length=64)
    issued_at: datetime = Field(default_factory=utcnow)


class Acknowledgement(SQLModel, table=True):
    """A holder confirms having read exactly this revision (its file hash is part of it)."""

    __tablename__ = "doc_acknowledgement"
    __table_args__ = (UniqueConstraint("revision_id", "username", name="uq_doc_acknowledgement"),)

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="doc_revision.id", index=True)
    username: str = Field(max_length=64)
    file_sha256: str | None = Field(default=None, max_length=64)
    acknowledged_at: datetime = Field(default_factory=utcnow)


class PeriodicReview(SQLModel, table=True):
    __tablename__ = "doc_periodic_review"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="doc_document.id", index=True)
    revision_id: int = Field(foreign_key="doc_revision.id")
    outcome: str = Field(max_length=16)  # no_change | revise
    comment: str = Field(default="", max_length=2000)
    reviewed_by: str = Field(max_length=64)
    reviewed_at: datetime = Field(default_factory=utcnow)
    next_due: date | None = None


class Disposition(SQLModel, table=True):
    """Archive or destroy an obsolete document after its retention period, once approved."""

    __tablename__ = "doc_disposition"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="doc_document.id", index=True)
    method: str = Field(max_length=16)  # archive | destroy
    reason: str = Field(default="", max_length=1000)
    status: str = Field(default=DispositionStatus.REQUESTED, max_length=16)  # DispositionStatus
    requested_by: str = Field(max_length=64)
    requested_at: datetime = Field(default_factory=utcnow)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None
    file_hashes: str = Field(default="", sa_column=Column(Text, nullable=False))  # kept in the register after destruction


class CompanyTemplate(SQLModel, table=True):
    """A company's own Word template for a document type, checked for its variables when registered.

    A template is controlled like a document (R-7.5): registered, it is pending and renders nothing
    until a second person approves it; `active` marks the approved one in use for its type."""

    __tablename__ = "doc_company_template"

    id: int | None = Field(default=None, primary_key=True)
    doc_type: str = Field(max_length=32, index=True)
    base_template: str = Field(max_length=64)
    filename: str = Field(max_length=300)
    sha256: str = Field(max_length=64)
    variables: str = Field(default="", sa_column=Column(Text, nullable=False))
    registered_by: str = Field(max_length=64)
    registered_at: datetime = Field(default_factory=utcnow)
    active: bool = False
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None
