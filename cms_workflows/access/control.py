"""Access decisions (R-5.3, X-2): Casbin's model and policy files decide; a compiled table answers fast.

The single source of truth is `policies/model.conf` + `policies/policy.csv` (what each
position may do) and the org tables (who holds which position at which site, and
when). A bare Casbin enforcer evaluates its matcher against every policy line, about
100 decisions/s with our ~700 lines (FACTS.md), so decisions are answered from a
table compiled from the enforcer's own policy and the user's current assignments;
tests/test_access.py proves the table decides exactly as Casbin does over every
position x object type x action x site.

Access reads the org tables through a `Directory` that the bootstrap hands in
(`configure`), so this package imports nothing of `org` (org's commands use access).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from cms_workflows.access import sod
from cms_workflows.access.policy import Policy
from cms_workflows.access.roles import PositionNames
from cms_workflows.core.errors import AccessDenied, PolicyError

COMPANY_WIDE = "*"


@dataclass(frozen=True)
class Resource:
    """What an action is taken on: an object type of the vocabulary, at a site.

    `subject` carries what the command pipeline loaded to find the site (the document, the
    run…), so the command does not load it twice; it takes no part in decisions."""

    type: str
    site: str = COMPANY_WIDE
    id: str | int | None = None
    authors: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None
    subject: Any = field(default=None, compare=False, hash=False)


class Actor(str):
    """The user a command acts as. `delegate` names the person actually acting, when they act for this
    user under a delegation (identity): the trail then records both names."""

    delegate: str | None = None

    def __new__(cls, username: str, delegate: str | None = None) -> "Actor":
        actor = super().__new__(cls, username)
        actor.delegate = delegate
        return actor


@dataclass(frozen=True)
class Grant:
    """Who acted, in which position, at which site: what the audit trail records."""

    username: str
    position: str
    site: str


class Directory(Protocol):
    """What access needs to know of the organisation (implemented by `org.queries.OrgDirectory`)."""

    def org_version(self, uow) -> int: ...

    def holdings(self, uow, username: str, on: date) -> list[tuple[str, str]]:
        """(position, site) an active user holds on a day, in the positions' order."""

    def departments(self, uow, username: str, on: date) -> set[str]:
        """Departments whose positions the user holds on a day."""

    def assignments(self, uow, on: date) -> list[tuple[str, str, str]]:
        """(username, position, site) held on a day by active users."""

    def user_active(self, uow, username: str) -> bool | None:
        """Whether a user is active; None when there is no such user."""

    def site_exists(self, uow, code: str) -> bool:
        """Whether a site of that code exists (sites are never deleted)."""


def counts_at(held_at: str, site: str) -> bool:
    """The one site rule: an assignment counts for a request at a site when it is held at that site or
    company-wide; a company-level request (site "*") counts company-wide assignments only. It is
    Casbin's: g(user, position, site) with key_match, where "*" in the assignment matches any site."""
    return held_at == COMPANY_WIDE or held_at == site


def positions_counting_at(held: list[tuple[str, str]], site: str) -> list[str]:
    """The positions of (position, site held at) pairs that count at a site."""
    return [position for position, held_at in held if counts_at(held_at, site)]


class DecisionTable:
    """One user's permissions: for each site asked about, (object type, action) -> granting position."""

    __slots__ = ("by_site", "assignments", "policy", "user_known_active", "derived")

    def __init__(self, policy: Policy, assignments: list[tuple[str, str]]) -> None:
        self.policy = policy
        self.assignments = assignments  # (position, site) held today
        self.by_site: dict[str, dict[tuple[str, str], str]] = {}
        # the user was seen to exist and be active (a deactivation changes the org version, dropping the table)
        self.user_known_active = bool(assignments)
        # answers a caller derived from this table's decisions alone (e.g. the register's readable (type, site)
        # pairs): they live and die with the table, i.e. per user, policy, org version and day
        self.derived: dict[Any, Any] = {}

    def for_site(self, site: str) -> dict[tuple[str, str], str]:
        table = self.by_site.get(site)
        if table is None:
            table = {}
            # a line applies when its site is "*" or the request's site
            for position in positions_counting_at(self.assignments, site):
                for key, sites in self.policy.permissions.get(position, {}).items():
                    if key not in table and (COMPANY_WIDE in sites or site in sites):
                        table[key] = position
            self.by_site[site] = table
        return table


class AccessControl:
    """Decisions for every command; caches per user, dropped when the org state changes."""

    def __init__(self, policy: Policy, directory: Directory) -> None:
        self.policy = policy
        self.directory = directory
        self._lock = threading.Lock()
        self._tables: dict[str, DecisionTable] = {}
        self._cache_key: tuple[str, int, date] | None = None
        self._known_sites: set[tuple[str, str]] = set()  # (database instance, site code) seen to exist

    def table(self, uow, username: str) -> DecisionTable:
        if uow.org_changed_here:
            # uncommitted org changes in this unit of work: decide from them, cache nothing shared
            return self._load(uow, username, uow.clock.today())
        # within one unit of work the org state only changes through our own commands,
        # which call uow.org_changed(): the tables it used stay valid for its lifetime
        table = uow.access_tables.get(username)
        if table is None:  # (the day is read only here: it is not free, and this is the hot path)
            table = uow.access_tables[username] = self._shared_table(uow, username, uow.clock.today())
        return table

    def _shared_table(self, uow, username: str, today: date) -> DecisionTable:
        if uow.org_version is None:
            uow.org_version = self.directory.org_version(uow)
        key = (uow.database.instance, uow.org_version, today)
        with self._lock:
            if key != self._cache_key:
                self._tables = {}
                self._cache_key = key
            table = self._tables.get(username)
        if table is None:
            table = self._load(uow, username, today)
            with self._lock:
                if self._cache_key == key:
                    self._tables[username] = table
        return table

    def _load(self, uow, username: str, today: date) -> DecisionTable:
        return DecisionTable(self.policy, self.directory.holdings(uow, username, today))

    def invalidate(self) -> None:
        with self._lock:
            self._tables = {}
            self._cache_key = None

    # -- what must be true before a permission is decided (issue 15: say so, not "no permission")
    def _unknown_user(self, uow, table: DecisionTable, username: str) -> AccessDenied | None:
        """An unknown or deactivated user, named as such. Asked only when no position grants the action: such a
        user holds no position (`Directory.holdings` counts active users only), so every decision for them
        comes here, and a granted decision costs nothing more; an active user is looked up once per table."""
        if table.user_known_active:
            return None
        active = self.directory.user_active(uow, username)
        if active is None:
            return AccessDenied("access.unknown_user", username=username)
        if not active:
            return AccessDenied("access.user_inactive", username=username)
        table.user_known_active = True
        return None

    def _unknown_site(self, uow, table: DecisionTable, site: str) -> AccessDenied | None:
        """A site that does not exist, named as such, before a company-wide position grants anything there.
        A site the user holds a position at exists; a site seen once is remembered (sites are never deleted),
        unless this unit of work has written (it may have created the site and roll back)."""
        if site == COMPANY_WIDE or any(held_at == site for _p, held_at in table.assignments):
            return None
        key = (uow.database.instance, site)
        if key in self._known_sites:
            return None
        if not self.directory.site_exists(uow, site):
            return AccessDenied("access.unknown_site", site=site)
        if not uow.writes:
            self._known_sites.add(key)
        return None

    # -- decisions
    def check(self, uow, username: str, action: str, resource: Resource) -> Grant | AccessDenied:
        """The decision without raising: a Grant, or the AccessDenied that `decide` would raise. An unknown or
        deactivated user and an unknown site are refused as such before any permission is considered."""
        if resource.type not in self.policy.vocabulary or action not in self.policy.vocabulary[resource.type]:
            raise PolicyError("access.unknown_action", object_type=resource.type, action=action)
        table = self.table(uow, username)
        position = table.for_site(resource.site).get((resource.type, action))
        unknown = (self._unknown_user(uow, table, username) if position is None else None) \
            or self._unknown_site(uow, table, resource.site)
        if unknown is not None:
            return unknown
        if position is None:
            return AccessDenied(
                "access.denied",
                username=username,
                action=action,
                object_type=resource.type,
                site=resource.site,
                positions=PositionNames(self.policy.holders_of.get((resource.type, action), ())),
            )
        refusal = sod.refusal(self, uow, username, action, resource)
        if refusal is not None:
            return refusal
        return Grant(username=username, position=position, site=resource.site)

    def decide(self, uow, username: str, action: str, resource: Resource) -> Grant:
        result = self.check(uow, username, action, resource)
        if isinstance(result, AccessDenied):
            raise result
        return result

    def permitted_anywhere(self, uow, username: str, action: str, object_types) -> bool:
        """Whether any position the user holds today permits the action on any of the object types, at any site
        they hold it at: a list filtered by permission that would be empty for want of it says so instead."""
        table = self.table(uow, username)
        sites = {held_at for _p, held_at in table.assignments} | {COMPANY_WIDE}
        wanted = {(object_type, action) for object_type in object_types}
        return any(wanted & table.for_site(site).keys() for site in sites)

    def positions_held(self, uow, username: str, site: str) -> set[str]:
        """Positions the user holds that count at a site today (the same site rule as every decision)."""
        return set(positions_counting_at(self.table(uow, username).assignments, site))


_default: AccessControl | None = None
_directory: Directory | None = None
_default_lock = threading.Lock()


def configure(directory: Directory, control: AccessControl | None = None) -> None:
    """Called by the bootstrap: where the org tables are read, and (tests, reloads) a control of its own."""
    global _default, _directory
    with _default_lock:
        _directory = directory
        _default = control


def configured() -> bool:
    return _directory is not None


def get_access() -> AccessControl:
    """The installation's access control, loaded from the packaged policy files on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                if _directory is None:
                    raise RuntimeError("access is not configured: call cms_workflows.bootstrap.configure() first")
                _default = AccessControl(Policy(), _directory)
    return _default


def set_access(control: AccessControl | None) -> None:
    """Replace the access control (tests with their own policy files; reload after a policy change)."""
    global _default
    _default = control


def directory() -> Directory:
    return get_access().directory


def require(uow, username: str, action: str, resource: Resource) -> Grant:
    """Authorize one action; raises AccessDenied naming the positions that would be needed."""
    return get_access().decide(uow, username, action, resource)


def can(uow, username: str, action: str, resource: Resource) -> bool:
    return isinstance(get_access().check(uow, username, action, resource), Grant)


def held_positions(uow, username: str) -> list[tuple[str, str]]:
    """(position, site) the user holds today, in the positions' order: the decision table's, which is cached
    per org version (a hot path's alternative to asking the directory)."""
    return get_access().table(uow, username).assignments


def derived(uow, username: str) -> dict:
    """Where a hot read keeps what it derived from the user's decisions (every one taken by `check`): dropped
    with the user's decision table, so with every org change (assignments, deactivations: the org version), a
    new day or another policy. Within a unit of work that changed the org it is a fresh dict each time."""
    return get_access().table(uow, username).derived


def holders(uow, position: str, site: str) -> list[str]:
    """Usernames holding a position that counts at a site today (company-wide holders included)."""
    return sorted({u for u, p, held_at in directory().assignments(uow, uow.clock.today())
                   if p == position and counts_at(held_at, site)})
