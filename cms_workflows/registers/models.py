"""Register tables (R-4.1, R-4.2, R-4.3, R-6.2.1, R-6.2.2, R-9.1).

Each register row has a `code`, its natural key: the same file imported twice finds its rows by code
and creates nothing new. Documents are referred to by their number (`source_document`), not by a
foreign key, so these tables do not depend on the documents tables. Scope versions are never changed
once approved: a change is a new draft, approved as the next version (R-4.3).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow


class SwotIssue(SQLModel, table=True):
    """An internal or external issue of the organisation's context, SWOT-classified (R-4.1)."""

    __tablename__ = "reg_swot_issue"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    context: str = Field(max_length=16)  # internal | external
    kind: str = Field(max_length=16)  # strength | weakness | opportunity | threat
    description: str = Field(max_length=1000)
    source: str = Field(default="", max_length=200)
    analysed_on: date | None = None
    next_analysis: date | None = None
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class InterestedParty(SQLModel, table=True):
    """An interested party, its needs and expectations, and how the company communicates with it (R-4.2)."""

    __tablename__ = "reg_interested_party"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    side: str = Field(max_length=16)  # internal | external
    category: str = Field(max_length=32)
    needs: str = Field(default="", max_length=1000)
    expectations: str = Field(default="", max_length=1000)
    compliance_obligation: bool = False  # do its requirements become compliance obligations?
    comm_what: str = Field(default="", max_length=500)
    comm_when: str = Field(default="", max_length=200)
    comm_how: str = Field(default="", max_length=200)
    comm_who: str = Field(default="", max_length=64)  # a position code
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class ScopeVersion(SQLModel, table=True):
    """One version of the scope and boundary (R-4.3): drafted, submitted, approved by top management."""

    __tablename__ = "reg_scope_version"

    id: int | None = Field(default=None, primary_key=True)
    version: int | None = Field(default=None, unique=True)  # given on approval: 1, 2, …
    status: str = Field(max_length=16, index=True)  # registers.states.ScopeStatus
    note: str = Field(default="", max_length=1000)
    drafted_by: str = Field(max_length=64)
    drafted_at: datetime = Field(default_factory=utcnow)
    submitted_by: str | None = Field(default=None, max_length=64)
    submitted_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None
    approved_on: date | None = None  # the local day of approval: the version's date


class ScopeElement(SQLModel, table=True):
    """A site, production unit, activity, product, emission source or sink inside a scope version."""

    __tablename__ = "reg_scope_element"
    __table_args__ = (UniqueConstraint("scope_id", "code", name="uq_reg_scope_element"),)

    id: int | None = Field(default=None, primary_key=True)
    scope_id: int = Field(foreign_key="reg_scope_version.id", index=True)
    kind: str = Field(max_length=32)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    site: str = Field(default="", max_length=32)
    note: str = Field(default="", max_length=500)


class Risk(SQLModel, table=True):
    """A carbon risk or opportunity (R-6.2.1). Rows seeded from Annex B table B.1 keep their text as a
    message key (`text_key`), so they read in the user's language; a user's own row keeps `description`."""

    __tablename__ = "reg_risk"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    nature: str = Field(max_length=16)  # risk | opportunity
    category: str = Field(max_length=16)  # policy | technology | market | other
    description: str = Field(default="", max_length=1000)
    text_key: str | None = Field(default=None, max_length=100)
    likelihood: int | None = None  # 1–5
    impact: int | None = None  # 1–5
    score: int | None = None  # likelihood × impact
    level: str | None = Field(default=None, max_length=16)  # low | medium | high
    response: str = Field(default="", max_length=1000)
    owner_position: str = Field(default="", max_length=64)
    owner_user: str = Field(default="", max_length=64)
    review_date: date | None = Field(default=None, index=True)
    source: str = Field(default="user", max_length=16)  # annex_b | user
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class Obligation(SQLModel, table=True):
    """A compliance obligation (R-6.2.2): a law, regulation, standard or other requirement."""

    __tablename__ = "reg_obligation"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    kind: str = Field(max_length=16)  # law | regulation | standard | other
    title: str = Field(max_length=300)
    issuer: str = Field(default="", max_length=200)
    clause: str = Field(default="", max_length=200)
    applicability: str = Field(default="", max_length=1000)
    source_document: str = Field(default="", max_length=120)  # a number in the document register (external)
    owner_position: str = Field(default="", max_length=64)
    next_review: date | None = Field(default=None, index=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class Instrument(SQLModel, table=True):
    """A metering instrument (R-9.1, GB 17167): where it is, what it measures, when it is next calibrated."""

    __tablename__ = "reg_instrument"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    accuracy_class: str = Field(max_length=16)
    site: str = Field(max_length=32, index=True)
    location: str = Field(default="", max_length=200)
    measures: str = Field(max_length=200)  # an energy carrier or a line of the data collection plan
    interval_months: int
    last_calibrated: date | None = None
    certificate: str = Field(default="", max_length=200)  # certificate number or reference
    certificate_sha256: str | None = Field(default=None, max_length=64)  # the stored certificate file
    next_due: date | None = Field(default=None, index=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class Calibration(SQLModel, table=True):
    """One calibration of an instrument, with its certificate (R-9.1); never changed."""

    __tablename__ = "reg_calibration"

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="reg_instrument.id", index=True)
    calibrated_on: date
    certificate: str = Field(max_length=200)
    certificate_sha256: str | None = Field(default=None, max_length=64)
    certificate_filename: str | None = Field(default=None, max_length=300)
    next_due: date
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)
