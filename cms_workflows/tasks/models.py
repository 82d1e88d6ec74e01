"""Task tables (X-3): tasks, the reminders and escalations done on them, the notification outbox.

A task's title is a message key and its parameters (JSON), shown in the reader's language; nothing
a person reads is stored in one language. `next_reminder_on` / `next_escalation_on` are the days the
next reminder or escalation falls due (None: none left), kept by the commands, so the daily sweep
reads only the tasks that have something due instead of every open task.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import cms_workflows.org.models  # noqa: F401  (the table org_user the foreign keys below name: a flush resolves them)
from cms_workflows.core.db import utcnow
from cms_workflows.tasks.states import EvidenceKind, MessageStatus, TaskStatus


class Task(SQLModel, table=True):
    __tablename__ = "task_task"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True, index=True)  # stable: "duty:subject:period"
    title_key: str = Field(max_length=120)
    title_params: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    clause: str = Field(max_length=32)  # the guide's clause, e.g.
    site: str = Field(max_length=32, index=True)  # a site code, or "*"
    position: str | None = Field(default=None, max_length=64, index=True)  # any holder at the site may claim
    assignee: str | None = Field(default=None, max_length=64, index=True)  # or one named user
    due: date = Field(index=True)
    reminder_days: str = Field(default="[]", max_length=200)  # JSON: days before due, e.g. [7, 1]
    escalation: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON: [{"after_days", "to"}]
    evidence_kind: str = Field(default=EvidenceKind.NONE, max_length=16)  # EvidenceKind
    status: str = Field(default=TaskStatus.OPEN, max_length=16, index=True)  # TaskStatus
    claimed_by: str | None = Field(default=None, max_length=64, index=True)
    claimed_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, max_length=2000)
    evidence_ref: str | None = Field(default=None, max_length=300)  # "file:<sha256>" | "document:NUMBER@LABEL" | "record:<id>"
    evidence_name: str | None = Field(default=None, max_length=300)  # a stored file's name
    completed_by: str | None = Field(default=None, max_length=64)
    completed_at: datetime | None = None
    cancelled_by: str | None = Field(default=None, max_length=64)
    cancel_reason: str | None = Field(default=None, max_length=500)
    next_reminder_on: date | None = Field(default=None, index=True)
    next_escalation_on: date | None = Field(default=None, index=True)
    sequence: int = 0  # incremented by every change: the calendar event's SEQUENCE
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TaskNotice(SQLModel, table=True):
    """A reminder (step = days before due) or an escalation (step = its place in the chain) done on a
    task, once: the unique constraint makes a second sweep, or two at once, unable to repeat it."""

    __tablename__ = "task_notice"
    __table_args__ = (UniqueConstraint("task_id", "kind", "step", name="uq_task_notice_step"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task_task.id", index=True)
    kind: str = Field(max_length=16)  # reminder | escalation
    step: int
    falls_on: date  # the day it fell due
    done_on: date  # the sweep's day that did it (later than falls_on when catching up)
    target: str | None = Field(default=None, max_length=64)  # the position an escalation went to
    recipients: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON usernames notified
    notified: bool = True  # False: passed while the sweep was not running and superseded by a later one


class OutboxMessage(SQLModel, table=True):
    """A notification to one user, written in the transaction of the task change it tells of and
    rendered in the recipient's language when it is sent."""

    __tablename__ = "task_outbox"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=64, index=True)
    task_id: int | None = Field(default=None, foreign_key="task_task.id", index=True)
    message_key: str = Field(max_length=120)  # tasks.mail.<kind>: .subject and .body
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    status: str = Field(default=MessageStatus.PENDING, max_length=16, index=True)  # MessageStatus
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class RecipientPreference(SQLModel, table=True):
    """The language a user's notifications are written in (default: the installation's)."""

    __tablename__ = "task_recipient_pref"

    username: str = Field(primary_key=True, max_length=64, foreign_key="org_user.username")
    locale: str = Field(max_length=8)
