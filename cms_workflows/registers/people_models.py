"""Register tables of planned changes and people (R-6.4, R-7.2, R-7.3, R-7.4).

Like the other registers each row has a `code`, its natural key. Training records and the raising of a
carbon review are events in a row's life, not rows a file may rewrite: a record is added by its own
command (`training.record`) and never changed; a change's review flag is set by `raise_review` only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow


class PlannedChange(SQLModel, table=True):
    """A planned change of the carbon management system (R-6.4): its purpose and potential consequences,
    the integrity of the system, the resources and who is responsible; a significant one raises an
    unscheduled carbon review (R-6.2.3)."""

    __tablename__ = "reg_planned_change"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=32)  # people.CHANGE_KINDS
    purpose: str = Field(max_length=1000)
    consequences: str = Field(default="", max_length=1000)
    integrity: str = Field(default="", max_length=1000)
    resources: str = Field(default="", max_length=1000)
    responsible_position: str = Field(default="", max_length=64)
    planned_on: date | None = None
    status: str = Field(default="planned", max_length=16)  # planned | in_progress | done | cancelled
    review_required: bool = Field(default=False, index=True)
    review_reason: str = Field(default="", max_length=1000)
    review_raised_by: str | None = Field(default=None, max_length=64)
    review_raised_at: datetime | None = None
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class Competence(SQLModel, table=True):
    """The competence a position needs (R-7.2): what, how it is acquired, how it is evaluated, and the
    course whose record shows a holder has it."""

    __tablename__ = "reg_competence"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    position: str = Field(max_length=64, index=True)
    site: str = Field(default="", max_length=32)  # empty: every site
    competence: str = Field(max_length=1000)
    acquired_by: str = Field(max_length=16)  # education | training | experience | qualification | mentoring
    evaluated_by: str = Field(default="", max_length=200)
    required_course: str = Field(default="", max_length=32)  # a code of the training plan
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class TrainingCourse(SQLModel, table=True):
    """A line of the training plan (R-7.2, R-7.3): the course, whom it is for, where, when and who trains."""

    __tablename__ = "reg_training_course"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    course: str = Field(max_length=200)
    topic: str = Field(max_length=32)  # people.TOPICS (guide 7.3.2)
    target_positions: str = Field(default="", max_length=1000)  # position codes, comma separated
    site: str = Field(default="", max_length=32, index=True)  # empty: company level
    planned_on: date | None = None
    trainer: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class TrainingRecord(SQLModel, table=True):
    """Who took a course, when, with what result, and the evidence (R-7.2 e: retained as evidence of
    competence); never changed."""

    __tablename__ = "reg_training_record"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="reg_training_course.id", index=True)
    username: str = Field(max_length=64, index=True)
    trained_on: date
    result: str = Field(max_length=16)  # passed | failed | attended
    evidence: str = Field(default="", max_length=200)  # a reference: certificate, sign-in sheet, record number
    evidence_sha256: str | None = Field(default=None, max_length=64)  # the stored evidence file
    evidence_filename: str | None = Field(default=None, max_length=300)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


class CommunicationItem(SQLModel, table=True):
    """A line of the communication plan (R-7.4.1, R-7.4.2): what, when, with whom, how, who."""

    __tablename__ = "reg_communication"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    direction: str = Field(max_length=16)  # internal | external
    what: str = Field(max_length=1000)
    timing: str = Field(max_length=200)
    audience: str = Field(max_length=200)
    channel: str = Field(max_length=200)
    responsible_position: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class Disclosure(SQLModel, table=True):
    """A carbon information disclosure made (R-7.4.3): when, to whom, by what channel, which document,
    approved by whom."""

    __tablename__ = "reg_disclosure"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    disclosed_on: date
    audience: str = Field(max_length=200)
    channel: str = Field(max_length=200)
    mode: str = Field(max_length=16)  # voluntary | on_request (7.4.3 b)
    content: str = Field(default="", max_length=1000)
    document_number: str = Field(default="", max_length=120)
    approved_by: str = Field(max_length=64)
    plan_item: str = Field(default="", max_length=32)  # a code of the communication plan
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None
