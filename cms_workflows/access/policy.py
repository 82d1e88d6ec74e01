"""The access policy files (`policies/`): Casbin's model, the permission lines per position and the
vocabulary of object types and actions, each line checked so a mistake names its file and line."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

from cms_workflows.access.roles import known_position_codes
from cms_workflows.core import yamlfile
from cms_workflows.core.errors import PolicyError


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
        vocab = yamlfile.load((self.directory / "vocabulary.yaml").read_text(encoding="utf-8"))
        self.vocabulary: dict[str, list[str]] = {k: list(v) for k, v in vocab["object_types"].items()}
        self.own_work_forbidden = frozenset(vocab.get("sod", {}).get("own_work_forbidden", []))
        self.positions = set(known_position_codes() if positions is None else positions)
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
        # one pass over Casbin's lines (a filtered read per position scanned them all each time: issue 15)
        for position, dom, obj, act in self.enforcer.get_policy():
            if position in self.positions:
                perms.setdefault(position, {}).setdefault((obj, act), set()).add(dom)
        return {p: {k: frozenset(v) for k, v in table.items()} for p, table in perms.items()}

    def reference_enforcer(self, assignments: Iterable[tuple[str, str, str]], indexed: bool = False):
        """A bare Casbin enforcer with the given (user, position, site) links: the reference decider.
        `indexed` gives Casbin's FastEnforcer keyed on object type and action: the matcher requires both to
        equal the request's and neither holds a wildcard, so it decides the same, about 30 times faster
        (FACTS.md); the plain enforcer stays the baseline of bench/authz.py."""
        import casbin
        from casbin import util

        if indexed:
            enforcer = casbin.FastEnforcer(str(self.model_path), str(self.policy_path), cache_key_order=[2, 3])
        else:
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
