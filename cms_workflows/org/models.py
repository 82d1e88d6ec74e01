"""Tables of the organisation. Users and assignments are never deleted, only ended."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from cms_workflows.core.db import utcnow


class Site(SQLModel, table=True):
    __tablename__ = "org_site"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Department(SQLModel, table=True):
    __tablename__ = "org_department"

    code: str = Field(primary_key=True, max_length=64)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    source: str = Field(max_length=16, description="annex_a or added")
    sort_order: int = 0


class Position(SQLModel, table=True):
    __tablename__ = "org_position"

    code: str = Field(primary_key=True, max_length=64)
    department_code: str = Field(foreign_key="org_department.code", max_length=64, index=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    duties_zh: str = ""
    duties_en: str = ""
    source: str = Field(max_length=16, description="annex_a or added")
    read_only: bool = False
    sort_order: int = 0


class User(SQLModel, table=True):
    __tablename__ = "org_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    deactivated_at: datetime | None = None


class Assignment(SQLModel, table=True):
    """A user holds a position at a site ("*" = company-wide) from valid_from to valid_to (inclusive)."""

    __tablename__ = "org_assignment"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="org_user.id", index=True)
    position_code: str = Field(foreign_key="org_position.code", max_length=64, index=True)
    site_code: str = Field(max_length=32, index=True)
    valid_from: date
    valid_to: date | None = None
    end_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class OrgState(SQLModel, table=True):
    """A counter bumped on every assignment change, so decision caches in other processes notice."""

    __tablename__ = "org_state"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
