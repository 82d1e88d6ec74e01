"""Access control (R-5.3, X-2): Casbin's model and policy files decide; a compiled table answers fast.

The single source of truth is `policies/model.conf` + `policies/policy.csv` (what each
position may do) and the org tables (who holds which position at which site, and
when). A bare Casbin enforcer evaluates its matcher against every policy line, about
100 decisions/s with our ~700 lines (FACTS.md), so decisions are answered from a
table compiled from the enforcer's own policy (`get_filtered_policy`) and the
user's current assignments; tests/test_access.py proves the table decides exactly as
Casbin does over every position x object type x action x site.

Segregation of duties lives here too: nobody takes an `own_work_forbidden` action
(review, approve) on what they authored, and an auditor never audits a department
whose position they hold.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Iterable

import yaml

from cms_workflows.core.errors import AccessDenied, PolicyError

COMPANY_WIDE = "*"


@dataclass(frozen=True)
class Resource:
    """What an action is taken on: an object type of the vocabulary, at a site."""

    type: str
    site: str = COMPANY_WIDE
    id: str | int | None = None
    authors: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None


@dataclass(frozen=True)
class Grant:
    """Who acted, in which position, at which site: what the audit trail records."""

    username: str
    position: str
    site: str


@dataclass(frozen=True)
class PolicyLine:
    lineno: int
    position: str
    site: str
    object_type: str
    action: str


def policy_dir() -> Path:
    return Path(str(resources.files("cms_workflows.policies")))


class Policy:
    """The checked contents of the policy files, and the Casbin enforcer built from them."""

    def __init__(self, directory: Path | None = None, positions: Iterable[str] | None = None) -> None:
        self.directory = Path(directory) if directory else policy_dir()
        self.model_path = self.directory / "model.conf"
        self.policy_path = self.directory / "policy.csv"
        vocab = yaml.safe_load((self.directory / "vocabulary.yaml").read_text(encoding="utf-8"))
        self.vocabulary: dict[str, list[str]] = {k: list(v) for k, v in vocab["object_types"].items()}
        self.own_work_forbidden = frozenset(vocab.get("sod", {}).get("own_work_forbidden", []))
        if positions is None:
            from cms_workflows.org.service import known_position_codes

            positions = known_position_codes()
        self.positions = set(positions)
        self.lines = self._read_lines()
        self.enforcer = self._build_enforcer()
        self.permissions = self._compile_permissions()
        self.holders_of: dict[tuple[str, str], list[str]] = {}
        for line in self.lines:
            holders = self.holders_of.setdefault((line.object_type, line.action), [])
            if line.position not in holders:
                holders.append(line.position)

    def _read_lines(self) -> list[PolicyLine]:
        """Parse policy.csv ourselves first, so every mistake names its line."""
        out: list[PolicyLine] = []
        name = self.policy_path.name
        with self.policy_path.open(encoding="utf-8", newline="") as fh:
            for lineno, raw in enumerate(fh, start=1):
                text = raw.strip()
                if not text or text.startswith("#"):
                    continue
                fields = [f.strip() for f in next(csv.reader([text]))]
                if fields[0] == "g":
                    raise PolicyError("policy.no_grouping", file=name, line=lineno)
                if fields[0] != "p" or len(fields) != 5:
                    raise PolicyError("policy.bad_shape", file=name, line=lineno, text=text)
                _, position, site, obj, act = fields
                if position not in self.positions:
                    raise PolicyError("policy.unknown_position", file=name, line=lineno, value=position)
                if obj not in self.vocabulary:
                    raise PolicyError("policy.unknown_object_type", file=name, line=lineno, value=obj)
                if act not in self.vocabulary[obj]:
                    raise PolicyError("policy.unknown_action", file=name, line=lineno, value=act, object_type=obj)
                if not site:
                    raise PolicyError("policy.bad_shape", file=name, line=lineno, text=text)
                out.append(PolicyLine(lineno, position, site, obj, act))
        return out

    def _build_enforcer(self):
        import casbin
        from casbin import util

        enforcer = casbin.Enforcer(str(self.model_path), str(self.policy_path))
        # a company-wide assignment (site "*") holds at every site (FACTS.md: plain g() treats "*" as a name)
        enforcer.get_role_manager().add_domain_matching_func(util.key_match)
        loaded = len(enforcer.get_policy())
        if loaded != len(self.lines):
            raise PolicyError("policy.casbin_disagrees", file=self.policy_path.name, ours=len(self.lines), casbin=loaded)
        return enforcer

    def _compile_permissions(self) -> dict[str, dict[tuple[str, str], frozenset[str]]]:
        """position -> (object type, action) -> sites of the permission lines, read back from Casbin."""
        perms: dict[str, dict[tuple[str, str], set[str]]] = {}
        for position in self.positions:
            for _sub, dom, obj, act in self.enforcer.get_filtered_policy(0, position):
                perms.setdefault(position, {}).setdefault((obj, act), set()).add(dom)
        return {p: {k: frozenset(v) for k, v in table.items()} for p, table in perms.items()}

    def reference_enforcer(self, assignments: Iterable[tuple[str, str, str]]):
        """A bare Casbin enforcer with the given (user, position, site) links: the reference decider."""
        import casbin
        from casbin import util

        enforcer = casbin.Enforcer(str(self.model_path), str(self.policy_path))
        enforcer.get_role_manager().add_domain_matching_func(util.key_match)
        rules = [list(a) for a in assignments]
        if rules:
            enforcer.add_named_grouping_policies("g", rules)
        enforcer.build_role_links()
        return enforcer

    def summary(self) -> dict:
        return {
            "lines": len(self.lines),
            "positions": len({l.position for l in self.lines}),
            "object_types": len({l.object_type for l in self.lines}),
            "actions": len({(l.object_type, l.action) for l in self.lines}),
        }


class DecisionTable:
    """One user's permissions: for each site asked about, (object type, action) -> granting position."""

    __slots__ = ("by_site", "assignments", "policy")

    def __init__(self, policy: Policy, assignments: list[tuple[str, str]]) -> None:
        self.policy = policy
        self.assignments = assignments  # (position, site) held today
        self.by_site: dict[str, dict[tuple[str, str], str]] = {}

    def for_site(self, site: str) -> dict[tuple[str, str], str]:
        table = self.by_site.get(site)
        if table is None:
            table = {}
            for position, held_at in self.assignments:
                # Casbin: g(user, position, site) holds when the assignment's site matches the
                # request's site by key_match ("*" matches any); then a line applies when its
                # site is "*" or the request's site.
                if held_at != COMPANY_WIDE and held_at != site:
                    continue
                for key, sites in self.policy.permissions.get(position, {}).items():
                    if key not in table and (COMPANY_WIDE in sites or site in sites):
                        table[key] = position
            self.by_site[site] = table
        return table


class AccessControl:
    """Decisions for every command; caches per user, dropped when the org state changes."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._lock = threading.Lock()
        self._tables: dict[str, DecisionTable] = {}
        self._cache_key: tuple[str, int, date] | None = None

    # -- the org state the cache was built from
    def _org_version(self, session) -> int:
        version = session.info.get("org_version")
        if version is None:
            from sqlmodel import select

            from cms_workflows.org.models import OrgState

            version = session.exec(select(OrgState.version).where(OrgState.id == 1)).first() or 0
            session.info["org_version"] = version
        return version

    def table(self, session, username: str) -> DecisionTable:
        info = session.info
        if info.get("org_dirty"):
            # uncommitted org changes in this unit of work: decide from them, cache nothing
            return self._load(session, username, date.today())
        # within one unit of work the org state only changes through our own commands,
        # which mark the session dirty: the tables it used stay valid for its lifetime
        local = info.get("access_tables")
        if local is None:
            local = info["access_tables"] = {}
        table = local.get(username)
        if table is None:
            table = local[username] = self._shared_table(session, username)
        return table

    def _shared_table(self, session, username: str) -> DecisionTable:
        today = date.today()
        key = (session.info["database"].instance, self._org_version(session), today)
        with self._lock:
            if key != self._cache_key:
                self._tables = {}
                self._cache_key = key
            table = self._tables.get(username)
        if table is None:
            table = self._load(session, username, today)
            with self._lock:
                if self._cache_key == key:
                    self._tables[username] = table
        return table

    def _load(self, session, username: str, today: date) -> DecisionTable:
        from sqlmodel import select

        from cms_workflows.org.models import Assignment, Position, User
        from cms_workflows.org.service import held_on

        rows = session.exec(
            select(Assignment.position_code, Assignment.site_code)
            .join(User, User.id == Assignment.user_id)
            .join(Position, Position.code == Assignment.position_code)
            .where(User.username == username, User.active == True)  # noqa: E712
            .where(held_on(today))
            .order_by(Position.sort_order, Assignment.site_code)
        ).all()
        return DecisionTable(self.policy, [tuple(r) for r in rows])

    def invalidate(self) -> None:
        with self._lock:
            self._tables = {}
            self._cache_key = None

    # -- decisions
    def check(self, session, username: str, action: str, resource: Resource) -> Grant | AccessDenied:
        """The decision without raising: a Grant, or the AccessDenied that `decide` would raise."""
        if resource.type not in self.policy.vocabulary or action not in self.policy.vocabulary[resource.type]:
            raise PolicyError("access.unknown_action", object_type=resource.type, action=action)
        position = self.table(session, username).for_site(resource.site).get((resource.type, action))
        if position is None:
            return AccessDenied(
                "access.denied",
                username=username,
                action=action,
                object_type=resource.type,
                site=resource.site,
                positions=PositionNames(self.policy.holders_of.get((resource.type, action), ())),
            )
        if resource.authors and action in self.policy.own_work_forbidden and username in resource.authors:
            return AccessDenied("access.sod_own_work", username=username, action=action, object_type=resource.type)
        if resource.department is not None:
            from cms_workflows.org.service import user_departments

            if resource.department in user_departments(session, username):
                return AccessDenied("access.sod_own_department", username=username, department=resource.department)
        return Grant(username=username, position=position, site=resource.site)

    def decide(self, session, username: str, action: str, resource: Resource) -> Grant:
        result = self.check(session, username, action, resource)
        if isinstance(result, AccessDenied):
            raise result
        return result


class PositionNames:
    """Positions named in a denial, labelled in the reader's locale when the message is shown."""

    def __init__(self, codes) -> None:
        self.codes = tuple(codes)

    def __format__(self, spec: str) -> str:
        if not self.codes:
            return "—"
        from cms_workflows.core.i18n import pick
        from cms_workflows.org.service import position_labels

        labels = position_labels()
        return "、".join(f"{pick(*labels[c])} ({c})" if c in labels else c for c in self.codes)


_default: AccessControl | None = None
_default_lock = threading.Lock()


def get_access() -> AccessControl:
    """The installation's access control, loaded from the packaged policy files on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = AccessControl()
    return _default


def set_access(control: AccessControl | None) -> None:
    """Replace the access control (tests with their own policy files; reload after a policy change)."""
    global _default
    _default = control


def require(session, username: str, action: str, resource: Resource) -> Grant:
    """Authorize one action; raises AccessDenied naming the positions that would be needed."""
    return get_access().decide(session, username, action, resource)


def can(session, username: str, action: str, resource: Resource) -> bool:
    return isinstance(get_access().check(session, username, action, resource), Grant)


def holders(session, position: str, site: str) -> list[str]:
    """Usernames holding a position at a site today (company-wide holders included)."""
    from cms_workflows.org.service import active_assignments

    return sorted({u for u, p, s in active_assignments(session) if p == position and s in (site, COMPANY_WIDE)})
