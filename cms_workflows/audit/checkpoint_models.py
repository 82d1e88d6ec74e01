"""Signed checkpoints of the audit chain's head (X-1): see `cms_workflows.audit.checkpoints`.

Like the events, checkpoints are only ever inserted; on PostgreSQL the application's role may only
SELECT and INSERT here (docs/security.md)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class AuditCheckpoint(SQLModel, table=True):
    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    installation: str = Field(max_length=64, description="hash of audit event #1")
    seq: int = Field(index=True, description="the signed chain head")
    hash: str = Field(max_length=64)
    signed_at: str = Field(max_length=32, description="UTC, ISO 8601")
    fingerprint: str = Field(max_length=64, description="SHA-256 of the raw Ed25519 public key")
    public_key: str = Field(max_length=64, description="raw Ed25519 public key, hex")
    signature: str = Field(max_length=128, description="Ed25519 signature, hex")
