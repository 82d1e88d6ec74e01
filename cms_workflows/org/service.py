"""Commands of the organisation (R-5.3): sites, users, position assignments, reference data.

Every command goes through the command pipeline (`audit.commands`): authorized, validated,
changed and recorded in the caller's unit of work. Users and assignments are never deleted:
assignments end (valid_to + reason) and users are deactivated, so "who held which position
when" stays answerable.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import update
from sqlmodel import select

from cms_workflows.access.roles import load_roles
from cms_workflows.audit.commands import INSTALLER, Command, command, installer_command
from cms_workflows.core.errors import CmsError, NotFound, ValidationFailed, problem
from cms_workflows.core.text import check_text, shown, text_problems
from cms_workflows.org.models import Assignment, Department, OrgState, Position, Site, User
from cms_workflows.org.queries import COMPANY_WIDE, active_assignments, get_position, get_site, get_user

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
SITE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ---------------------------------------------------------------- installation


@installer_command("org.reference_data.seed", audit_object="org")
def seed_reference_data(cmd: Command) -> dict[str, int]:
    """Insert or update the departments and positions of roles.yaml (Annex A + added roles)."""
    uow = cmd.uow
    changed = {"departments": 0, "positions": 0}
    for d_order, dep in enumerate(load_roles()["departments"]):
        values = dict(name_zh=dep["name_zh"], name_en=dep["name_en"], source=dep["source"], sort_order=d_order)
        changed["departments"] += _upsert(uow, Department, dep["code"], values)
        uow.flush()
        for p_order, pos in enumerate(dep["positions"]):
            values = dict(
                department_code=dep["code"],
                name_zh=pos["name_zh"],
                name_en=pos["name_en"],
                duties_zh=" ".join(pos.get("duties_zh", "").split()),
                duties_en=" ".join(pos.get("duties_en", "").split()),
                source=pos.get("source", dep["source"]),
                read_only=bool(pos.get("read_only", False)),
                sort_order=d_order * 100 + p_order,
            )
            changed["positions"] += _upsert(uow, Position, pos["code"], values)
    if uow.get(OrgState, 1) is None:
        uow.add(OrgState(id=1, version=0))
        changed["org_state"] = 1
    uow.flush()
    if any(changed.values()):
        cmd.object_id, cmd.payload = "roles", changed
    return changed


def _upsert(uow, model, code: str, values: dict) -> int:
    row = uow.get(model, code)
    if row is None:
        uow.add(model(code=code, **values))
        return 1
    if any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        return 1
    return 0


@installer_command("org.user.create", audit_object="user")
def create_installation_user(cmd: Command, username: str, display_name: str) -> User:
    """The installation's own users: the system agent of the flows, the first administrator."""
    return _new_user(cmd, username, display_name, None)


@installer_command("org.assignment.create", audit_object="assignment")
def assign_installation_position(cmd: Command, username: str, position: str) -> Assignment:
    return _new_assignment(cmd, username, position, COMPANY_WIDE, None, None)


def bootstrap_admin(uow, username: str, display_name: str) -> User:
    """Create the first system administrator of an installation (only while there is none)."""
    admins = [a for a in active_assignments(uow) if a[1] == "system_admin"]
    if admins:
        raise CmsError("org.admin_exists", username=admins[0][0])
    existing = uow.exec(select(User).where(User.username == username)).first()
    user = existing or create_installation_user(uow, username, display_name)
    assign_installation_position(uow, username, "system_admin")
    return user


def ensure_system_user(uow) -> User:
    """The identity of scheduled and event-triggered flows (DESIGN: flows act as a system user)."""
    user = uow.exec(select(User).where(User.username == INSTALLER.username)).first()
    if user is None:
        user = create_installation_user(uow, INSTALLER.username, "系统流程代理 / System agent")
    if not any(a[0] == INSTALLER.username and a[1] == "system_agent" for a in active_assignments(uow)):
        assign_installation_position(uow, INSTALLER.username, "system_agent")
    return user


# ---------------------------------------------------------------- commands


@command("org.site.create", action="manage", resource="site", audit_object="site")
def create_site(cmd: Command, code: str, name_zh: str, name_en: str = "") -> Site:
    code = (code or "").strip()
    problems = []
    if not SITE_CODE_RE.match(code):
        problems.append(problem("code", "org.bad_site_code", code=shown(code)))
    if not (name_zh or "").strip():
        problems.append(problem("name_zh", "org.required"))
    problems += text_problems({"name_zh": name_zh, "name_en": name_en})
    if problems:
        raise ValidationFailed("org.invalid_site", problems=problems)
    if cmd.uow.exec(select(Site).where(Site.code == code)).first():
        raise ValidationFailed("org.duplicate_site", site=code)
    site = Site(code=code, name_zh=name_zh.strip(), name_en=(name_en or "").strip())
    cmd.uow.add(site)
    cmd.uow.flush()
    cmd.object_id, cmd.payload = code, {"name_zh": site.name_zh, "name_en": site.name_en}
    return site


@command("org.user.create", action="manage", resource="user", audit_object="user")
def create_user(cmd: Command, username: str, display_name: str, email: str | None = None) -> User:
    return _new_user(cmd, username, display_name, email)


def _new_user(cmd: Command, username: str, display_name: str, email: str | None) -> User:
    username = (username or "").strip()
    problems = []
    if not USERNAME_RE.match(username):
        problems.append(problem("username", "org.bad_username", username=shown(username)))
    if not (display_name or "").strip():
        problems.append(problem("display_name", "org.required"))
    if email and not EMAIL_RE.match(email):
        problems.append(problem("email", "org.bad_email", email=shown(email)))
    problems += text_problems({"display_name": display_name, "email": email})
    if problems:
        raise ValidationFailed("org.invalid_user", problems=problems)
    if cmd.uow.exec(select(User).where(User.username == username)).first():
        raise ValidationFailed("org.duplicate_user", username=username)
    user = User(username=username, display_name=display_name.strip(), email=email or None)
    cmd.uow.add(user)
    cmd.uow.flush()
    cmd.object_id, cmd.payload = username, {"display_name": user.display_name, "email": user.email}
    return user


@command("org.assignment.create", action="manage", resource="assignment", audit_object="assignment")
def assign(cmd: Command, username: str, position: str, site: str, valid_from: date | None = None,
           valid_to: date | None = None) -> Assignment:
    return _new_assignment(cmd, username, position, site, valid_from, valid_to)


def _new_assignment(cmd: Command, username, position, site, valid_from, valid_to) -> Assignment:
    uow = cmd.uow
    user = get_user(uow, username)
    if not user.active:
        raise ValidationFailed("org.user_inactive", username=username)
    get_position(uow, position)
    if site != COMPANY_WIDE:
        get_site(uow, site)
    valid_from = valid_from or cmd.today
    if valid_to is not None and valid_to < valid_from:
        raise ValidationFailed("org.bad_dates", valid_from=valid_from, valid_to=valid_to)
    for other in uow.exec(select(Assignment).where(
            Assignment.user_id == user.id, Assignment.position_code == position, Assignment.site_code == site)):
        if _overlaps(other.valid_from, other.valid_to, valid_from, valid_to):
            raise ValidationFailed("org.overlapping_assignment", username=username, position=position, site=site,
                                   other_id=other.id, other_from=other.valid_from, other_to=other.valid_to or "—")
    row = Assignment(user_id=user.id, position_code=position, site_code=site, valid_from=valid_from, valid_to=valid_to)
    uow.add(row)
    uow.flush()
    _org_changed(uow)
    cmd.object_id = row.id
    cmd.payload = {"username": username, "position": position, "site": site, "valid_from": valid_from,
                   "valid_to": valid_to}
    return row


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    return (a_to is None or b_from <= a_to) and (b_to is None or a_from <= b_to)


def _org_changed(uow) -> None:
    uow.execute(update(OrgState).where(OrgState.id == 1).values(version=OrgState.version + 1))
    uow.org_changed()  # decisions taken later in this unit of work must see the uncommitted change


def _assignment(uow, assignment_id: int, *_args, **_kwargs):
    from cms_workflows.access import Resource

    row = uow.get(Assignment, assignment_id)
    if row is None:
        raise NotFound("org.unknown_assignment", id=assignment_id)
    return Resource("assignment", id=row.id, subject=row)


@command("org.assignment.end", action="manage", resource=_assignment, audit_object="assignment")
def end_assignment(cmd: Command, assignment_id: int, end_date: date | None = None, reason: str = "") -> Assignment:
    """End an assignment on end_date (inclusive: the last day the position is held)."""
    row: Assignment = cmd.subject
    end_date = end_date or cmd.today
    if not (reason or "").strip():
        raise ValidationFailed("org.reason_required")
    check_text(multiline=True, reason=reason)
    if row.valid_to is not None and row.valid_to <= end_date:
        raise ValidationFailed("org.assignment_already_ended", id=assignment_id, valid_to=row.valid_to)
    if end_date < row.valid_from:
        raise ValidationFailed("org.bad_dates", valid_from=row.valid_from, valid_to=end_date)
    previous = row.valid_to
    row.valid_to = end_date
    row.end_reason = reason.strip()
    cmd.uow.add(row)
    cmd.uow.flush()
    _org_changed(cmd.uow)
    cmd.payload = {"valid_to": end_date, "previous_valid_to": previous, "reason": row.end_reason}
    return row


@command("org.user.deactivate", action="manage", resource="user", audit_object="user")
def deactivate_user(cmd: Command, username: str, reason: str, on: date | None = None) -> User:
    """Deactivate a user and end every open assignment; nothing is deleted."""
    uow = cmd.uow
    user = get_user(uow, username)
    if not user.active:
        raise ValidationFailed("org.user_inactive", username=username)
    if username == cmd.actor:
        raise CmsError("org.cannot_deactivate_self")
    if not (reason or "").strip():
        raise ValidationFailed("org.reason_required")
    check_text(multiline=True, reason=reason)
    on = on or cmd.today
    ended = []
    for a in uow.exec(select(Assignment).where(Assignment.user_id == user.id)):
        if a.valid_to is None or a.valid_to > on:
            a.valid_to = max(on, a.valid_from)
            a.end_reason = reason.strip()
            uow.add(a)
            ended.append(a.id)
    user.active = False
    user.deactivated_at = uow.clock.now()
    uow.add(user)
    uow.flush()
    _org_changed(uow)
    cmd.object_id, cmd.payload = username, {"reason": reason.strip(), "ended_assignments": ended, "on": on}
    return user
