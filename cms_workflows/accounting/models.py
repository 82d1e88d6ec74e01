"""Accounting tables. Activity rows and factor overrides are never deleted or edited in place:
a correction supersedes them, so every calculation run can be reproduced exactly (X-5, R-6.3.2.4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow


class PlanItem(SQLModel, table=True):
    """One line of the data collection plan (R-6.3.5): a facility's source, what is measured, by whom."""

    __tablename__ = "acc_plan_item"
    __table_args__ = (UniqueConstraint("site", "facility", "material", name="uq_acc_plan_item"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=32, index=True)
    production_unit: str = Field(max_length=64)
    facility: str = Field(max_length=64)
    facility_name: str = Field(default="", max_length=200)
    category: str = Field(max_length=32)
    material: str = Field(max_length=64)
    unit: str = Field(max_length=16)
    data_source: str = Field(default="meter", max_length=16)
    responsible_position: str = Field(default="energy_data_admin", max_length=64)
    meter_calibrated: bool | None = None  # GB 17167 metering instrument status; None = not metered / unknown
    # default purity of the line's input (carbonate content, CO2 volume fraction; 0-1) when a row gives none
    purity: float | None = None
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class FactorOverride(SQLModel, table=True):
    """A company value replacing a default, with its evidence; superseded, never edited."""

    __tablename__ = "acc_factor_override"

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(default="*", max_length=32)
    material: str = Field(max_length=64, index=True)
    parameter: str = Field(max_length=32)
    value: float
    unit: str | None = Field(default=None, max_length=16)
    year_from: int | None = None
    year_to: int | None = None
    evidence: str = Field(max_length=500)
    source: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    superseded_by: int | None = None


class ImportBatch(SQLModel, table=True):
    __tablename__ = "acc_import"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True, index=True)
    filename: str = Field(max_length=300)
    rows: int
    warnings: int = 0
    replaces: bool = False
    imported_by: str = Field(max_length=64)
    imported_at: datetime = Field(default_factory=utcnow)


class Activity(SQLModel, table=True):
    __tablename__ = "acc_activity"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="acc_import.id", index=True)
    file_row: int
    site: str = Field(max_length=32, index=True)
    production_unit: str = Field(max_length=64)
    facility: str = Field(max_length=64)
    category: str = Field(max_length=32)
    material: str = Field(max_length=64)
    period: str = Field(max_length=7, index=True)
    quantity: float
    unit: str = Field(max_length=16)
    data_source: str = Field(max_length=16)
    evidence_ref: str = Field(default="", max_length=200)
    replaced_by_import: int | None = None  # a later import corrected this value
    purity: float | None = None  # the row's own purity (0-1); None: the plan line's default, else 1


class ProductionOutput(SQLModel, table=True):
    """Denominators of the Annex F intensities: product tonnes and output value per site and month."""

    __tablename__ = "acc_output"
    __table_args__ = (UniqueConstraint("site", "period", name="uq_acc_output"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=32)
    period: str = Field(max_length=7)
    product_t: float = 0.0
    value_10k_cny: float | None = None  # optional (issue 15): without it the month has no value intensity
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


class CalculationRun(SQLModel, table=True):
    __tablename__ = "acc_run"

    id: int | None = Field(default=None, primary_key=True)
    first_period: str = Field(max_length=7)
    last_period: str = Field(max_length=7)
    sites: str = Field(default="*", max_length=500)  # comma list, or * for every site
    input_hash: str = Field(max_length=64)
    factor_version: str = Field(max_length=32)
    code_version: str = Field(max_length=32)
    options: str = Field(sa_column=Column(Text, nullable=False))
    factors_used: str = Field(sa_column=Column(Text, nullable=False))
    max_import_id: int = 0  # with max_override_id: exactly which rows and factors the run saw
    max_override_id: int = 0
    rows: int = 0
    total_tco2e: float = 0.0
    status: str = Field(default="draft", max_length=16)  # draft | pending_approval | official | superseded
    is_recalculation: bool = False
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None


class CalculationResult(SQLModel, table=True):
    __tablename__ = "acc_result"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="acc_run.id", index=True)
    site: str = Field(max_length=32)
    production_unit: str = Field(max_length=64)
    facility: str = Field(max_length=64)
    category: str = Field(max_length=32)
    # the source fuel/material (issue 15); None in runs stored before results carried it (verified without it)
    material: str | None = Field(default=None, max_length=64)
    period: str = Field(max_length=7)
    tco2e: float
    memo_tco2e: float = 0.0


class PeriodLock(SQLModel, table=True):
    """A closed month of a site: its figures are those of `run_id` until an approved recalculation."""

    __tablename__ = "acc_period_lock"

    site: str = Field(primary_key=True, max_length=32)
    period: str = Field(primary_key=True, max_length=7)
    run_id: int = Field(foreign_key="acc_run.id")
    closed_by: str = Field(max_length=64)
    closed_at: datetime = Field(default_factory=utcnow)


class Baseline(SQLModel, table=True):
    __tablename__ = "acc_baseline"

    id: int | None = Field(default=None, primary_key=True)
    level: str = Field(max_length=32)
    scope: str = Field(default="", max_length=200)
    base_from: str = Field(max_length=7)
    base_to: str = Field(max_length=7)
    method: str = Field(max_length=16)
    reference: str = Field(sa_column=Column(Text, nullable=False))  # JSON: month -> tCO2e
    status: str = Field(default="proposed", max_length=16)  # proposed | approved | superseded
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None


class BaselineTrigger(SQLModel, table=True):
    """A 6.3.2.4 baseline-review trigger: boundary, raw material, equipment, process, product, method/factor."""

    __tablename__ = "acc_baseline_trigger"

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=32)
    trigger: str = Field(max_length=32)
    description: str = Field(sa_column=Column(Text, nullable=False))
    baseline_id: int | None = Field(default=None, foreign_key="acc_baseline.id")
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)
