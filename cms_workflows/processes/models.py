"""Case tables of the PDCA processes (issue 11; R-6.2.2, R-6.2.3, R-9.1, R-9.2, R-9.3, R-10).

One table of cases for every process: what the engine, the sweep and the timeline need to know of any
case (its number, kind, site, stage, what opened it, the controlled report it ends in). What a case
collects on its way is in two further tables, so that six processes share three tables instead of a
dozen: `CaseText` holds the texts people write into a case (one row per writing, the latest per field
counts, earlier ones stay as history), `CaseItem` the case's repeated entries (an obligation's verdict, an
audit finding, a review decision, an action of a corrective action plan…), each an item kind of its
process whose fields the process validates (`processes.items`) before they are stored as JSON.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow


class Case(SQLModel, table=True):
    __tablename__ = "proc_case"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True, index=True)  # e.g. CR-2026-01
    key: str = Field(max_length=200, unique=True, index=True)  # what it is the case of: opening twice opens one
    kind: str = Field(max_length=32, index=True)  # processes.registry kinds
    site: str = Field(max_length=32, index=True)  # a site code, or "*"
    status: str = Field(max_length=32, index=True)  # a state of the kind's lifecycle
    trigger: str = Field(max_length=32)  # scheduled | initial | change | event | audit | compliance | deviation | …
    trigger_ref: str = Field(default="", max_length=200)  # what triggered it (a change code, a finding, a task key)
    parent_id: int | None = Field(default=None, foreign_key="proc_case.id", index=True)  # the case it came from
    year: int | None = Field(default=None, index=True)  # the year it covers, when it covers one
    period_start: date | None = None
    period_end: date | None = None
    due: date | None = None  # when the case as a whole should be finished
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON: the plan's structured fields
    document_number: str | None = Field(default=None, max_length=64)  # the controlled report it ends in
    opened_by: str = Field(max_length=64)
    opened_at: datetime = Field(default_factory=utcnow)
    stage_since: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class CaseText(SQLModel, table=True):
    """A text a person wrote into a case (a cause analysis, an analysis conclusion…): never changed, a new
    writing of the same field is a new row."""

    __tablename__ = "proc_case_text"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="proc_case.id", index=True)
    field: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    written_by: str = Field(max_length=64)
    written_at: datetime = Field(default_factory=utcnow)


class CaseItem(SQLModel, table=True):
    """One repeated entry of a case: `kind` is the process's item kind, `seq` its number within the case and
    kind, `data` its validated fields (JSON), `status` where it stands, `linked_case_id` the case it opened
    (a nonconformity opened from a finding or a failed verdict), `task_key` the task it gave someone."""

    __tablename__ = "proc_case_item"
    __table_args__ = (UniqueConstraint("case_id", "kind", "seq", name="uq_proc_case_item"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="proc_case.id", index=True)
    kind: str = Field(max_length=32)
    seq: int
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    status: str = Field(default="", max_length=32)
    linked_case_id: int | None = Field(default=None, foreign_key="proc_case.id")
    task_key: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_by: str | None = Field(default=None, max_length=64)
    changed_at: datetime | None = None
