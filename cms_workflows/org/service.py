"""Commands and queries of the organisation (R-5.3).

Every command takes the acting username, checks it through `access`, validates,
changes state and appends its audit event, all in the caller's unit of work.
Users and assignments are never deleted: assignments end (valid_to + reason) and
users are deactivated, so "who held which position when" stays answerable.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from importlib import resources

import yaml
from sqlalchemy import update
from sqlmodel import Session, or_, select

from cms_workflows import audit
from cms_workflows.access import Grant, Resource, require
from cms_workflows.core.db import utcnow
from cms_workflows.core.errors import CmsError, NotFound, ValidationFailed
from cms_workflows.org.models import Assignment, Department, OrgState, Position, Site, User

COMPANY_WIDE = "*"
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
SITE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
# Acts for the installation itself (schema creation, reference data, the first administrator).
INSTALLER = Grant(username="system", position="system_agent", site=COMPANY_WIDE)


@lru_cache(maxsize=1)
def load_roles() -> dict:
    text = (resources.files("cms_workflows") / "data" / "roles.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def known_position_codes() -> set[str]:
    return set(position_labels())


@lru_cache(maxsize=1)
def position_labels() -> dict[str, tuple[str, str]]:
    """position code -> (Chinese name, English name), from the reference data."""
    return {p["code"]: (p["name_zh"], p["name_en"]) for d in load_roles()["departments"] for p in d["positions"]}


def seed_reference_data(session: Session) -> dict[str, int]:
    """Insert or update the departments and positions of roles.yaml (Annex A + added roles)."""
    roles = load_roles()
    changed = {"departments": 0, "positions": 0}
    for d_order, dep in enumerate(roles["departments"]):
        row = session.get(Department, dep["code"])
        values = dict(name_zh=dep["name_zh"], name_en=dep["name_en"], source=dep["source"], sort_order=d_order)
        if row is None:
            session.add(Department(code=dep["code"], **values))
            changed["departments"] += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed["departments"] += 1
        session.flush()
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
            prow = session.get(Position, pos["code"])
            if prow is None:
                session.add(Position(code=pos["code"], **values))
                changed["positions"] += 1
            elif any(getattr(prow, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(prow, k, v)
                changed["positions"] += 1
    if session.get(OrgState, 1) is None:
        session.add(OrgState(id=1, version=0))
    session.flush()
    if changed["departments"] or changed["positions"]:
        audit.record(session, INSTALLER, "org.reference_data.seed", "org", "roles", changed)
    return changed


# ---------------------------------------------------------------- queries


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("org.unknown_user", username=username)
    return user


def get_site(session: Session, code: str) -> Site:
    site = session.exec(select(Site).where(Site.code == code)).first()
    if site is None:
        raise NotFound("org.unknown_site", site=code)
    return site


def get_position(session: Session, code: str) -> Position:
    pos = session.get(Position, code)
    if pos is None:
        raise NotFound("org.unknown_position", position=code)
    return pos


def list_sites(session: Session) -> list[Site]:
    return list(session.exec(select(Site).order_by(Site.code)))


def list_users(session: Session, include_inactive: bool = True) -> list[User]:
    q = select(User).order_by(User.username)
    if not include_inactive:
        q = q.where(User.active == True)  # noqa: E712
    return list(session.exec(q))


def list_departments(session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(Department.sort_order)))


def list_positions(session: Session) -> list[Position]:
    return list(session.exec(select(Position).order_by(Position.sort_order)))


def list_assignments(session: Session, username: str | None = None) -> list[tuple[Assignment, User]]:
    q = select(Assignment, User).join(User, User.id == Assignment.user_id).order_by(User.username, Assignment.valid_from, Assignment.id)
    if username:
        q = q.where(User.username == username)
    return list(session.exec(q))


def held_on(on: date):
    """SQL condition: an assignment is held on a day (valid_from and valid_to inclusive)."""
    return (Assignment.valid_from <= on) & or_(Assignment.valid_to == None, Assignment.valid_to >= on)  # noqa: E711


def active_assignments(session: Session, on: date | None = None) -> list[tuple[str, str, str]]:
    """(username, position, site) held on a day by active users."""
    on = on or date.today()
    q = (
        select(User.username, Assignment.position_code, Assignment.site_code)
        .join(User, User.id == Assignment.user_id)
        .where(User.active == True)  # noqa: E712
        .where(held_on(on))
    )
    return [tuple(r) for r in session.exec(q)]


def user_departments(session: Session, username: str, on: date | None = None) -> set[str]:
    """Departments whose positions the user holds on a day (their 'own' departments for SoD)."""
    on = on or date.today()
    q = (
        select(Position.department_code)
        .join(Assignment, Assignment.position_code == Position.code)
        .join(User, User.id == Assignment.user_id)
        .where(User.username == username)
        .where(held_on(on))
    )
    return set(session.exec(q))


# ---------------------------------------------------------------- commands


def _bump_org_version(session: Session) -> None:
    session.execute(update(OrgState).where(OrgState.id == 1).values(version=OrgState.version + 1))
    # decisions taken later in this unit of work must see the uncommitted change
    session.info["org_dirty"] = True
    session.info.pop("org_version", None)
    session.info.pop("access_tables", None)


def create_site(session: Session, actor: str, code: str, name_zh: str, name_en: str = "") -> Site:
    grant = require(session, actor, "manage", Resource("site"))
    code = (code or "").strip()
    problems = []
    if not SITE_CODE_RE.match(code):
        problems.append({"field": "code", "message": _msg("org.bad_site_code", code=code)})
    if not (name_zh or "").strip():
        problems.append({"field": "name_zh", "message": _msg("org.required")})
    if problems:
        raise ValidationFailed("org.invalid_site", problems=problems)
    if session.exec(select(Site).where(Site.code == code)).first():
        raise ValidationFailed("org.duplicate_site", site=code)
    site = Site(code=code, name_zh=name_zh.strip(), name_en=(name_en or "").strip())
    session.add(site)
    session.flush()
    audit.record(session, grant, "org.site.create", "site", code, {"name_zh": site.name_zh, "name_en": site.name_en})
    return site


def create_user(session: Session, actor: str, username: str, display_name: str, email: str | None = None) -> User:
    grant = require(session, actor, "manage", Resource("user"))
    return _create_user(session, grant, username, display_name, email)


def _create_user(session: Session, grant: Grant, username: str, display_name: str, email: str | None) -> User:
    username = (username or "").strip()
    problems = []
    if not USERNAME_RE.match(username):
        problems.append({"field": "username", "message": _msg("org.bad_username", username=username)})
    if not (display_name or "").strip():
        problems.append({"field": "display_name", "message": _msg("org.required")})
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        problems.append({"field": "email", "message": _msg("org.bad_email", email=email)})
    if problems:
        raise ValidationFailed("org.invalid_user", problems=problems)
    if session.exec(select(User).where(User.username == username)).first():
        raise ValidationFailed("org.duplicate_user", username=username)
    user = User(username=username, display_name=display_name.strip(), email=email or None)
    session.add(user)
    session.flush()
    audit.record(session, grant, "org.user.create", "user", username, {"display_name": user.display_name, "email": user.email})
    return user


def assign(
    session: Session,
    actor: str,
    username: str,
    position: str,
    site: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Assignment:
    grant = require(session, actor, "manage", Resource("assignment"))
    return _assign(session, grant, username, position, site, valid_from, valid_to)


def _assign(session, grant, username, position, site, valid_from, valid_to) -> Assignment:
    user = get_user(session, username)
    if not user.active:
        raise ValidationFailed("org.user_inactive", username=username)
    get_position(session, position)
    if site != COMPANY_WIDE:
        get_site(session, site)
    valid_from = valid_from or date.today()
    if valid_to is not None and valid_to < valid_from:
        raise ValidationFailed("org.bad_dates", valid_from=valid_from, valid_to=valid_to)
    for other in session.exec(
        select(Assignment).where(
            Assignment.user_id == user.id, Assignment.position_code == position, Assignment.site_code == site
        )
    ):
        if _overlaps(other.valid_from, other.valid_to, valid_from, valid_to):
            raise ValidationFailed(
                "org.overlapping_assignment",
                username=username,
                position=position,
                site=site,
                other_id=other.id,
                other_from=other.valid_from,
                other_to=other.valid_to or "—",
            )
    row = Assignment(user_id=user.id, position_code=position, site_code=site, valid_from=valid_from, valid_to=valid_to)
    session.add(row)
    session.flush()
    _bump_org_version(session)
    audit.record(
        session,
        grant,
        "org.assignment.create",
        "assignment",
        row.id,
        {"username": username, "position": position, "site": site, "valid_from": valid_from, "valid_to": valid_to},
    )
    return row


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    return (a_to is None or b_from <= a_to) and (b_to is None or a_from <= b_to)


def end_assignment(session: Session, actor: str, assignment_id: int, end_date: date | None = None, reason: str = "") -> Assignment:
    """End an assignment on end_date (inclusive: the last day the position is held)."""
    grant = require(session, actor, "manage", Resource("assignment"))
    row = session.get(Assignment, assignment_id)
    if row is None:
        raise NotFound("org.unknown_assignment", id=assignment_id)
    end_date = end_date or date.today()
    if not (reason or "").strip():
        raise ValidationFailed("org.reason_required")
    if row.valid_to is not None and row.valid_to <= end_date:
        raise ValidationFailed("org.assignment_already_ended", id=assignment_id, valid_to=row.valid_to)
    if end_date < row.valid_from:
        raise ValidationFailed("org.bad_dates", valid_from=row.valid_from, valid_to=end_date)
    previous = row.valid_to
    row.valid_to = end_date
    row.end_reason = reason.strip()
    session.add(row)
    session.flush()
    _bump_org_version(session)
    audit.record(
        session, grant, "org.assignment.end", "assignment", row.id,
        {"valid_to": end_date, "previous_valid_to": previous, "reason": row.end_reason},
    )
    return row


def deactivate_user(session: Session, actor: str, username: str, reason: str, on: date | None = None) -> User:
    """Deactivate a user and end every open assignment; nothing is deleted."""
    grant = require(session, actor, "manage", Resource("user"))
    user = get_user(session, username)
    if not user.active:
        raise ValidationFailed("org.user_inactive", username=username)
    if username == actor:
        raise CmsError("org.cannot_deactivate_self")
    if not (reason or "").strip():
        raise ValidationFailed("org.reason_required")
    on = on or date.today()
    ended = []
    for a in session.exec(select(Assignment).where(Assignment.user_id == user.id)):
        if a.valid_to is None or a.valid_to > on:
            a.valid_to = max(on, a.valid_from)
            a.end_reason = reason.strip()
            session.add(a)
            ended.append(a.id)
    user.active = False
    user.deactivated_at = utcnow()
    session.add(user)
    session.flush()
    _bump_org_version(session)
    audit.record(session, grant, "org.user.deactivate", "user", username, {"reason": reason.strip(), "ended_assignments": ended})
    return user


def bootstrap_admin(session: Session, username: str, display_name: str, email: str | None = None) -> User:
    """Create the first system administrator of an installation (only while there is none)."""
    admins = [a for a in active_assignments(session) if a[1] == "system_admin"]
    if admins:
        raise CmsError("org.admin_exists", username=admins[0][0])
    existing = session.exec(select(User).where(User.username == username)).first()
    user = existing or _create_user(session, INSTALLER, username, display_name, email)
    _assign(session, INSTALLER, username, "system_admin", COMPANY_WIDE, None, None)
    return user


def ensure_system_user(session: Session) -> User:
    """The identity of scheduled and event-triggered flows (DESIGN: flows act as a system user)."""
    user = session.exec(select(User).where(User.username == INSTALLER.username)).first()
    if user is None:
        user = _create_user(session, INSTALLER, INSTALLER.username, "系统流程代理 / System agent", None)
    if not any(a[0] == INSTALLER.username and a[1] == "system_agent" for a in active_assignments(session)):
        _assign(session, INSTALLER, INSTALLER.username, "system_agent", COMPANY_WIDE, None, None)
    return user


def _msg(key: str, **params) -> str:
    from cms_workflows.core.i18n import t

    return t(key, **params)
