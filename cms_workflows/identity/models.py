"""Credentials of users: a password hash, API tokens (stored hashed) and delegations."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

import cms_workflows.org.models  # noqa: F401  (the table org_user the foreign keys below name: a flush resolves them)
from cms_workflows.core.db import utcnow


class Credential(SQLModel, table=True):
    """A user's password, hashed with argon2id; the password itself is never stored."""

    __tablename__ = "identity_credential"

    username: str = Field(primary_key=True, max_length=64, foreign_key="org_user.username")
    password_hash: str = Field(max_length=255)
    changed_at: datetime = Field(default_factory=utcnow)
    changed_by: str = Field(max_length=64)


class ApiToken(SQLModel, table=True):
    """A bearer token for one user (CLI sign-in, scripts, the API). Only its SHA-256 is kept: the
    token is random (256 bits), so a fast hash is enough and lookups stay one indexed read."""

    __tablename__ = "identity_token"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True, foreign_key="org_user.username")
    token_sha256: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=64)


class Delegation(SQLModel, table=True):
    """`delegator` lets `delegate` act for them from valid_from to valid_to (inclusive), e.g. during
    leave. Everything done under it is recorded with both names."""

    __tablename__ = "identity_delegation"

    id: int | None = Field(default=None, primary_key=True)
    delegator: str = Field(max_length=64, index=True, foreign_key="org_user.username")
    delegate: str = Field(max_length=64, index=True, foreign_key="org_user.username")
    valid_from: date
    valid_to: date
    reason: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
