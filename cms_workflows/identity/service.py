"""Commands on credentials (issue 14): passwords, sign-in tokens, delegations.

Every change goes through the command pipeline and leaves an event; no event ever holds a
password, a hash of one or a token. The `system` identity (the flows') has no credential and
cannot be given one, so nobody can act as it from the CLI or the web.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from cms_workflows.access import Grant, Resource
from cms_workflows.audit.commands import INSTALLER, Command, command, installer_command
from cms_workflows.core.errors import CmsError, NotFound, Throttled, ValidationFailed, problem
from cms_workflows.core.text import shown
from cms_workflows.identity.models import ApiToken, Credential, Delegation
from cms_workflows.identity.queries import (
    LOGIN_FAILED, MAX_FAILURES, TOKEN_PREFIX, AuthenticationFailed, active_user, has_password, hash_password,
    password_matches, recent_failures, token_digest, tokens_of,
)
from cms_workflows.org.queries import get_user

MIN_PASSWORD, MAX_PASSWORD = 10, 256
MAX_TOKEN_DAYS, MAX_DELEGATION_DAYS = 366, 92
SELF = ""  # the position column of an event a user takes on their own account, in no position



def _self_grant(username: str) -> Grant:
    return Grant(username=username, position=SELF, site="*")


def _user_resource(uow, username: str, *_args, **_kwargs) -> Resource:
    return Resource("user", id=username)


def _self_or_admin(control, uow, actor: str, action: str, resource: Resource) -> Grant:
    """A user acts on their own account; a system administrator (user manage) on anyone's."""
    if resource.id == INSTALLER.username:
        raise CmsError("identity.system_has_no_credential")
    if actor == resource.id:
        return _self_grant(actor)
    return control.decide(uow, actor, "manage", Resource("user"))


# ---------------------------------------------------------------- passwords


def check_password(password: str, username: str) -> None:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(problem("password", "identity.password_too_short", minimum=MIN_PASSWORD))
    elif len(password) > MAX_PASSWORD:
        problems.append(problem("password", "identity.password_too_long", maximum=MAX_PASSWORD))
    elif password.strip().lower() == username.lower():
        problems.append(problem("password", "identity.password_is_username"))
    if problems:
        raise ValidationFailed("identity.bad_password", problems=problems)


@command("identity.password.set", action="manage", resource=_user_resource, audit_object="user",
         authorize=_self_or_admin)
def set_password(cmd: Command, username: str, new_password: str, current_password: str | None = None) -> None:
    """Set a password: one's own (the current one is asked once there is one) or, as system
    administrator, anyone's (a reset, recorded as such)."""
    user = get_user(cmd.uow, username)
    active_user(cmd.uow, user.username)
    own = cmd.actor == username
    if own and has_password(cmd.uow, username) and not password_matches(cmd.uow, username, current_password or ""):
        raise AuthenticationFailed()
    check_password(new_password, username)
    credential = cmd.uow.get(Credential, username) or Credential(username=username, password_hash="", changed_by=cmd.actor)
    credential.password_hash, credential.changed_at, credential.changed_by = hash_password(new_password), cmd.uow.clock.now(), cmd.actor
    cmd.uow.add(credential)
    cmd.object_id, cmd.payload = username, {"reset_by_administrator": not own}
    if not own:  # a reset is what follows a lost or leaked password: the user's sign-ins end with it
        active = [row for row in tokens_of(cmd.uow, username) if row.revoked_at is None]
        for row in active:
            row.revoked_at, row.revoked_by = cmd.uow.clock.now(), cmd.actor
            cmd.uow.add(row)
        cmd.payload["tokens_revoked"] = [row.id for row in active]


def generated_password() -> str:
    """A password for a first sign-in or a reset, shown once (about 120 bits)."""
    return secrets.token_urlsafe(15)


# ---------------------------------------------------------------- tokens


def _new_token(cmd: Command, username: str, label: str, days: int) -> tuple[ApiToken, str]:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed("identity.bad_token_days", problems=[problem("days", "identity.token_days_range", maximum=MAX_TOKEN_DAYS)])
    label = (label or "").strip()
    if len(label) > 100:
        raise ValidationFailed("identity.bad_token_label", problems=[problem("label", "identity.label_too_long", maximum=100)])
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = cmd.uow.clock.now()
    row = ApiToken(username=username, token_sha256=token_digest(secret), label=label,
                   created_at=now, expires_at=now + timedelta(days=days))
    cmd.uow.add(row)
    cmd.uow.flush()
    cmd.object_id = username
    cmd.payload = {"token_id": row.id, "label": label, "expires_at": row.expires_at.isoformat(timespec="seconds")}
    return row, secret


def _sign_in(control, uow, actor: str, action: str, resource: Resource) -> Grant:
    """The password is the authority to sign in: checked here, before anything is written."""
    return _self_grant(resource.id)


def _login_resource(uow, username: str, password: str, *_args, **_kwargs) -> Resource:
    username = (username or "").strip()
    if recent_failures(uow, username) >= MAX_FAILURES:
        raise Throttled(minutes=15)
    if username == INSTALLER.username or not password_matches(uow, username, password or ""):
        raise AuthenticationFailed()
    active_user(uow, username)
    return Resource("user", id=username)


@command("identity.login.succeed", action="sign_in", resource=_login_resource, audit_object="user", authorize=_sign_in)
def login(cmd: Command, username: str, password: str, *, label: str = "cli", days: int = 30) -> tuple[ApiToken, str]:
    """Sign in with a password; returns the token row and the token itself (shown once, stored nowhere).
    Called with the claimed username as actor."""
    return _new_token(cmd, cmd.resource.id, label, days)


@installer_command(LOGIN_FAILED, audit_object="user")
def record_failed_login(cmd: Command, username: str) -> None:
    """A refused sign-in is evidence too (and what throttling counts); written by the installation in
    its own unit of work, since the refused command wrote nothing."""
    # whatever was typed as a name: made printable and cut to the column, so recording it cannot fail
    cmd.object_id, cmd.payload = shown(username or "", 63), {}


@command("identity.token.create", action="manage", resource=_user_resource, audit_object="user",
         authorize=_self_or_admin)
def create_token(cmd: Command, username: str, *, label: str = "", days: int = 90) -> tuple[ApiToken, str]:
    """A token for scripts or the API, for oneself only (an administrator cannot mint another user's token)."""
    if cmd.actor != username:
        raise CmsError("identity.token_for_self_only")
    active_user(cmd.uow, username)
    return _new_token(cmd, username, label, days)


def _owned_row(model, unknown_key: str, owner: str):
    """A loader of a row by id whose resource is its owner's account (revoking it is theirs or an administrator's)."""
    def load(uow, row_id: int, *_args, **_kwargs) -> Resource:
        row = uow.get(model, row_id) if isinstance(row_id, int) else None
        if row is None:
            raise NotFound(unknown_key, id=row_id)
        return Resource("user", id=getattr(row, owner), subject=row)

    return load


_token_resource = _owned_row(ApiToken, "identity.unknown_token", "username")
_delegation_resource = _owned_row(Delegation, "identity.unknown_delegation", "delegator")


@command("identity.token.revoke", action="manage", resource=_token_resource, audit_object="user",
         authorize=_self_or_admin)
def revoke_token(cmd: Command, token_id: int) -> ApiToken:
    row: ApiToken = cmd.subject
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = cmd.uow.clock.now(), cmd.actor
        cmd.uow.add(row)
    cmd.object_id, cmd.payload = row.username, {"token_id": row.id}
    return row


# ---------------------------------------------------------------- delegations


@command("identity.delegation.grant", action="grant", resource="delegation", audit_object="user")
def grant_delegation(cmd: Command, delegate: str, valid_from: date, valid_to: date, reason: str) -> Delegation:
    """The acting user lets `delegate` act for them over a period (at most 92 days), e.g. during leave;
    the policy says which positions may delegate."""
    problems = []
    if delegate in (cmd.actor, INSTALLER.username):
        problems.append(problem("delegate", "identity.bad_delegate"))
    if valid_to < valid_from or (valid_to - valid_from).days >= MAX_DELEGATION_DAYS:
        problems.append(problem("valid_to", "identity.bad_delegation_period", maximum=MAX_DELEGATION_DAYS))
    if not (reason or "").strip():
        problems.append(problem("reason", "org.reason_required"))
    elif len(reason.strip()) > 500:
        problems.append(problem("reason", "identity.reason_too_long", maximum=500))
    if problems:
        raise ValidationFailed("identity.invalid_delegation", problems=problems)
    active_user(cmd.uow, get_user(cmd.uow, delegate).username)
    row = Delegation(delegator=cmd.actor, delegate=delegate, valid_from=valid_from, valid_to=valid_to,
                     reason=reason.strip(), created_at=cmd.uow.clock.now())
    cmd.uow.add(row)
    cmd.uow.flush()
    cmd.object_id = cmd.actor
    cmd.payload = {"delegation_id": row.id, "delegate": delegate, "valid_from": valid_from, "valid_to": valid_to,
                   "reason": row.reason}
    return row


@command("identity.delegation.revoke", action="manage", resource=_delegation_resource, audit_object="user",
         authorize=_self_or_admin)
def revoke_delegation(cmd: Command, delegation_id: int) -> Delegation:
    row: Delegation = cmd.subject
    if row.revoked_at is None:
        row.revoked_at = cmd.uow.clock.now()
        cmd.uow.add(row)
    cmd.object_id, cmd.payload = row.delegator, {"delegation_id": row.id}
    return row
