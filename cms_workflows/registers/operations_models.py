"""Operation registers' tables (R-8.6 carbon data quality control plan, R-8.7 carbon assets).

A quality-plan line names the line of the accounting data collection plan it controls by that line's
natural key (site, facility, material), not by a foreign key: the registers do not depend on the
accounting tables. A holding's quantity is never typed in: it is the sum of its movements, recomputed
in the transaction that records one (`assets.move`), and never below zero at any date.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow


class QualityPlanLine(SQLModel, table=True):
    """How one activity-data line of the data collection plan is kept right (R-8.6)."""

    __tablename__ = "reg_quality_plan"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    site: str = Field(max_length=32, index=True)
    facility: str = Field(max_length=64)  # with site and material: the plan line's natural key
    material: str = Field(max_length=64)
    data_source: str = Field(max_length=16)  # meter | invoice | estimate (the accounting plan's tiers)
    source_detail: str = Field(default="", max_length=200)
    instrument: str = Field(default="", max_length=32)  # a code of the metering-instrument register
    qa_qc: str = Field(sa_column=Column(Text, nullable=False))
    missing_data: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    responsible_position: str = Field(max_length=64)
    check_frequency: str = Field(max_length=16)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class CarbonHolding(SQLModel, table=True):
    """A carbon asset held in one registry account: allowances, CCER, project reductions (R-8.7)."""

    __tablename__ = "reg_carbon_holding"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    kind: str = Field(max_length=24, index=True)  # allowance | ccer | project_reduction | other
    vintage: int = Field(index=True)
    registry_account: str = Field(max_length=64)
    description: str = Field(default="", max_length=300)
    quantity: int = 0  # tCO2e, the sum of the movements (kept with every movement)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class CarbonMovement(SQLModel, table=True):
    """One movement of a holding (R-8.7); never changed. A transfer takes from `holding_id` and gives to
    `to_holding_id`; the other kinds add (issue, purchase) or take (sale, surrender)."""

    __tablename__ = "reg_carbon_movement"

    id: int | None = Field(default=None, primary_key=True)
    holding_id: int = Field(foreign_key="reg_carbon_holding.id", index=True)
    to_holding_id: int | None = Field(default=None, foreign_key="reg_carbon_holding.id", index=True)
    moved_on: date = Field(index=True)
    kind: str = Field(max_length=16)  # issue | purchase | sale | surrender | transfer
    quantity: int  # tCO2e, > 0
    counterparty: str = Field(default="", max_length=200)
    document: str = Field(default="", max_length=120)  # a contract, notice or registry reference
    note: str = Field(default="", max_length=500)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)
