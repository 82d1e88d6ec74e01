"""Reads of the organisation (R-5.3): sites, departments, positions, users and who held what when.

`OrgDirectory` is what access reads the organisation through (handed to it by the bootstrap)."""

from __future__ import annotations

from datetime import date

from sqlmodel import or_, select

from cms_workflows.access import Resource, require
from cms_workflows.core.errors import NotFound
from cms_workflows.org.models import Assignment, Department, OrgState, Position, Site, User

COMPANY_WIDE = "*"


def get_user(uow, username: str) -> User:
    user = uow.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("org.unknown_user", username=username)
    return user


def get_site(uow, code: str) -> Site:
    site = uow.exec(select(Site).where(Site.code == code)).first()
    if site is None:
        raise NotFound("org.unknown_site", site=code)
    return site


def get_position(uow, code: str) -> Position:
    pos = uow.get(Position, code)
    if pos is None:
        raise NotFound("org.unknown_position", position=code)
    return pos


def site_codes(uow) -> set[str]:
    return set(uow.exec(select(Site.code)))


def list_sites(uow) -> list[Site]:
    return list(uow.exec(select(Site).order_by(Site.code)))


def list_users(uow, include_inactive: bool = True) -> list[User]:
    q = select(User).order_by(User.username)
    if not include_inactive:
        q = q.where(User.active == True)  # noqa: E712
    return list(uow.exec(q))


def users_with_assignments(uow, actor: str) -> list[tuple[User, list[Assignment]]]:
    """Every user with their assignments, for someone allowed to read the user register."""
    require(uow, actor, "read", Resource("user"))
    by_user: dict[int, list[Assignment]] = {}
    for a, _u in list_assignments(uow):
        by_user.setdefault(a.user_id, []).append(a)
    return [(u, by_user.get(u.id, [])) for u in list_users(uow)]


def list_departments(uow) -> list[Department]:
    return list(uow.exec(select(Department).order_by(Department.sort_order)))


def list_positions(uow) -> list[Position]:
    return list(uow.exec(select(Position).order_by(Position.sort_order)))


def list_assignments(uow, username: str | None = None) -> list[tuple[Assignment, User]]:
    q = select(Assignment, User).join(User, User.id == Assignment.user_id).order_by(User.username, Assignment.valid_from, Assignment.id)
    if username:
        q = q.where(User.username == username)
    return list(uow.exec(q))


def held_on(on: date):
    """SQL condition: an assignment is held on a day (valid_from and valid_to inclusive)."""
    return (Assignment.valid_from <= on) & or_(Assignment.valid_to == None, Assignment.valid_to >= on)  # noqa: E711


def is_held(assignment: Assignment, on: date) -> bool:
    return assignment.valid_from <= on and (assignment.valid_to is None or assignment.valid_to >= on)


def active_assignments(uow, on: date | None = None) -> list[tuple[str, str, str]]:
    """(username, position, site) held on a day (default today) by active users."""
    on = on or uow.clock.today()
    q = (
        select(User.username, Assignment.position_code, Assignment.site_code)
        .join(User, User.id == Assignment.user_id)
        .where(User.active == True)  # noqa: E712
        .where(held_on(on))
    )
    return [tuple(r) for r in uow.exec(q)]


def user_departments(uow, username: str, on: date | None = None) -> set[str]:
    """Departments whose positions the user holds on a day (their 'own' departments for SoD)."""
    on = on or uow.clock.today()
    q = (
        select(Position.department_code)
        .join(Assignment, Assignment.position_code == Position.code)
        .join(User, User.id == Assignment.user_id)
        .where(User.username == username)
        .where(held_on(on))
    )
    return set(uow.exec(q))


class OrgDirectory:
    """The organisation as access reads it (`cms_workflows.access.Directory`)."""

    def org_version(self, uow) -> int:
        return uow.exec(select(OrgState.version).where(OrgState.id == 1)).first() or 0

    def holdings(self, uow, username: str, on: date) -> list[tuple[str, str]]:
        rows = uow.exec(
            select(Assignment.position_code, Assignment.site_code)
            .join(User, User.id == Assignment.user_id)
            .join(Position, Position.code == Assignment.position_code)
            .where(User.username == username, User.active == True)  # noqa: E712
            .where(held_on(on))
            .order_by(Position.sort_order, Assignment.site_code)
        ).all()
        return [tuple(r) for r in rows]

    def departments(self, uow, username: str, on: date) -> set[str]:
        return user_departments(uow, username, on)

    def assignments(self, uow, on: date) -> list[tuple[str, str, str]]:
        return active_assignments(uow, on)

    def user_active(self, uow, username: str) -> bool | None:
        return uow.exec(select(User.active).where(User.username == username)).first()

    def site_exists(self, uow, code: str) -> bool:
        return uow.exec(select(Site.code).where(Site.code == code)).first() is not None
