"""The audit event table (X-1). Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL); see migration 0001."""

from __future__ import annotations

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: str = Field(max_length=32, description="UTC, ISO 8601 with microseconds")
    actor: str = Field(max_length=64, index=True)
    position: str = Field(max_length=64)
    site: str = Field(max_length=32)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=200)
    payload: str = Field(sa_type=Text, description="canonical JSON, exactly as hashed")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    mac: str = Field(max_length=64)

