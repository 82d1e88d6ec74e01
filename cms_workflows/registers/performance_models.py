"""Tables of the carbon performance registers (R-6.3.1, R-6.3.3, R-6.3.4).

Parameters, objectives and action plans each have a `code`, their natural key (the same file imported
twice finds its rows by code). An objective names its parameter, and a plan its objective, by code, as
the other registers name documents: checked when written, not a foreign key, so a register file can be
imported in any order of rows. Numbers a user types (target, base and threshold values) are kept as the
decimal text they were given, checked to be a number: nothing is rounded through a float.

A plan's progress is a history: one `ActionProgress` row per report, never changed; the plan keeps the
latest percent and date for listing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow


class CarbonParameter(SQLModel, table=True):
    """A carbon performance parameter (R-6.3.1) at one level, with how and how often it is monitored and
    when a value is abnormal. Rows seeded from Annex F table F.1 keep their type, name and unit as message
    keys under `text_key` (so they read in the user's language) until a user writes their own text."""

    __tablename__ = "reg_carbon_parameter"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    level: str = Field(max_length=16)  # company | department | unit | equipment | product | project
    site: str = Field(default="", max_length=32, index=True)  # empty: company-wide
    subject: str = Field(default="", max_length=200)  # which department, process or equipment
    parameter_type: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=64)
    measurement: str | None = Field(default=None, max_length=16)  # measured | calculated
    monitoring_method: str = Field(default="", max_length=1000)
    monitoring_period: str | None = Field(default=None, max_length=16)
    baseline_value: str = Field(default="", max_length=40)
    abnormal_rule: str = Field(default="none", max_length=16)  # none | above | below | outside | deviation
    limit_low: str = Field(default="", max_length=40)
    limit_high: str = Field(default="", max_length=40)
    deviation_pct: str = Field(default="", max_length=40)
    abnormal_handling: str = Field(default="", max_length=1000)
    owner_position: str = Field(default="", max_length=64)
    text_key: str | None = Field(default=None, max_length=100)
    source: str = Field(default="user", max_length=16)  # annex_f | user
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class CarbonObjective(SQLModel, table=True):
    """A carbon objective or target (R-6.3.3) at one level: target against a base year, a deadline, how it is
    evaluated, who owns it, and the parameter it is measured by."""

    __tablename__ = "reg_carbon_objective"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    level: str = Field(max_length=16)
    site: str = Field(default="", max_length=32, index=True)
    title: str = Field(max_length=300)
    parameter: str = Field(default="", max_length=32)  # a code in reg_carbon_parameter
    target_value: str = Field(max_length=40)
    unit: str = Field(default="", max_length=64)
    base_year: int | None = None
    base_value: str = Field(default="", max_length=40)
    deadline: date = Field(index=True)
    evaluation_criteria: str = Field(max_length=1000)
    owner_position: str = Field(max_length=64)
    owner_user: str = Field(default="", max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class ActionPlan(SQLModel, table=True):
    """An action plan for an objective (R-6.3.4): resources, responsibility, method, expected effect,
    schedule and how the result is verified; `progress`/`progress_on` repeat the latest report."""

    __tablename__ = "reg_action_plan"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    objective: str = Field(max_length=32, index=True)  # a code in reg_carbon_objective
    title: str = Field(max_length=300)
    approach: str | None = Field(default=None, max_length=16)  # guide 6.3.4.2 a)–f)
    site: str = Field(default="", max_length=32, index=True)
    resources: str = Field(default="", max_length=1000)
    owner_position: str = Field(max_length=64)
    owner_user: str = Field(default="", max_length=64)
    method: str = Field(default="", max_length=1000)
    expected_effect: str = Field(default="", max_length=1000)
    starts_on: date
    ends_on: date = Field(index=True)
    verification: str = Field(default="", max_length=1000)
    progress: int | None = None  # percent, from the latest report
    progress_on: date | None = None
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class ActionProgress(SQLModel, table=True):
    """One progress report on an action plan (R-6.3.4): never changed; a correction is a newer report."""

    __tablename__ = "reg_action_progress"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="reg_action_plan.id", index=True)
    reported_on: date
    percent: int
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    evidence: str = Field(default="", max_length=200)  # a document number, record id or file reference
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)
