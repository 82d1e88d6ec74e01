"""Authentication: which user a token or a password stands for, and for whom they may act."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import select

from cms_workflows.audit.models import AuditEvent
from cms_workflows.audit.queries import HEAD_SEQ
from cms_workflows.audit.commands import INSTALLER
from cms_workflows.core.errors import AuthenticationFailed, CmsError
from cms_workflows.identity.models import ApiToken, Credential, Delegation
from cms_workflows.org.models import OrgState, User

TOKEN_PREFIX = "cms_"
# After this many failed sign-ins within the window, sign-in is refused until the window passes.
MAX_FAILURES, FAILURE_WINDOW = 5, timedelta(minutes=15)
LOGIN_FAILED = "identity.login.fail"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(uow, username: str, password: str) -> bool:
    credential = uow.get(Credential, username)
    if credential is None:
        _hasher.hash(password)  # same cost as a real check: timing does not tell which users exist
        return False
    try:
        return _hasher.verify(credential.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def has_password(uow, username: str) -> bool:
    return uow.get(Credential, username) is not None



def _utc(moment: datetime) -> datetime:
    # SQLite and PostgreSQL (timestamp without time zone) return the stored UTC moment without its zone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# Every request of the web app asks this: the token, its user, the organisation's version (which the access
# module's decision cache is keyed by) and the audit chain's head (which the web app's kept answers are keyed
# by) in one statement, built once, so SQLAlchemy neither coerces a new statement nor computes its cache key
# per request, and read as plain rows (no ORM objects).
_SIGN_IN = core_select(
    ApiToken.id, ApiToken.username, ApiToken.revoked_at, ApiToken.expires_at, User.username.label("user"),
    User.active, core_select(OrgState.version).where(OrgState.id == 1).scalar_subquery().label("org_version"),
    HEAD_SEQ.scalar_subquery().label("audit_head"),
).outerjoin(User, User.username == ApiToken.username).where(ApiToken.token_sha256 == bindparam("digest"))


def authenticate(uow, token: str) -> str:
    """The active user a token stands for; a clear error for an unknown, expired or revoked token."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise CmsError("identity.bad_token")
    row = uow.connection().execute(_SIGN_IN, {"digest": token_digest(token)}).first()
    if row is None:
        raise CmsError("identity.bad_token")
    if uow.org_version is None and row.org_version is not None:
        uow.org_version = row.org_version  # read in this transaction: what access would read next
    if uow.audit_head is None:
        uow.audit_head = row.audit_head or 0  # the installation's version, for the web app's kept answers
    if row.revoked_at is not None:
        raise CmsError("identity.token_revoked", id=row.id)
    if _utc(row.expires_at) <= uow.clock.now():
        raise CmsError("identity.token_expired", id=row.id, expired=row.expires_at.strftime("%Y-%m-%d %H:%M"))
    if row.user is None or row.username == INSTALLER.username:
        raise AuthenticationFailed()
    if not row.active:
        raise CmsError("org.user_inactive", username=row.username)
    uow.signed_in_until = _utc(row.expires_at)
    return row.username


def token_row(uow, token: str) -> ApiToken:
    row = uow.exec(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token or ""))).first()
    if row is None:
        raise CmsError("identity.bad_token")
    return row


def active_user(uow, username: str) -> User:
    return _check_active(uow.exec(select(User).where(User.username == username)).first(), username)


def _check_active(user: User | None, username: str) -> User:
    if user is None or username == INSTALLER.username:
        raise AuthenticationFailed()
    if not user.active:
        raise CmsError("org.user_inactive", username=username)
    return user


def recent_failures(uow, username: str) -> int:
    # events carry the wall-clock UTC time they were written (audit.recording), so the window does too
    since = (datetime.now(timezone.utc) - FAILURE_WINDOW).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return uow.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == LOGIN_FAILED, AuditEvent.object_id == username, AuditEvent.occurred_at >= since)).one()


def delegation_for(uow, delegator: str, delegate: str, on: date) -> Delegation:
    """The delegation that lets `delegate` act for `delegator` on a day; a clear error if none."""
    row = uow.exec(select(Delegation).where(
        Delegation.delegator == delegator, Delegation.delegate == delegate, Delegation.revoked_at.is_(None),
        Delegation.valid_from <= on, Delegation.valid_to >= on).order_by(Delegation.id.desc())).first()
    if row is None:
        raise CmsError("identity.no_delegation", delegator=delegator, delegate=delegate, day=on.isoformat())
    return row


def tokens_of(uow, username: str | None = None) -> list[ApiToken]:
    q = select(ApiToken).order_by(ApiToken.id)
    if username:
        q = q.where(ApiToken.username == username)
    return list(uow.exec(q))


def delegations(uow, username: str | None = None) -> list[Delegation]:
    q = select(Delegation).order_by(Delegation.id)
    if username:
        q = q.where((Delegation.delegator == username) | (Delegation.delegate == username))
    return list(uow.exec(q))
