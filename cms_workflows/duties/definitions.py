"""The recurring duties as data (X-3): `policies/duties.yaml`, read and checked.

A duty names the guide's clause, the responsible position, the site rule, where its subjects come from,
its recurrence (an RFC 5545 RRULE read by python-dateutil) or, for a dated source, the subjects' own
due dates, the lead time, reminders, escalation chain and evidence. `load` gives the checked duties;
`problems` lists every mistake of a file, each naming the file and line (the YAML is composed first,
so every key keeps its line), which `cms policy check` and `cms duties check` show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from dateutil.rrule import rrulestr

from cms_workflows.core.errors import PolicyError
from cms_workflows.core.i18n import LOCALES, Message, catalog
from cms_workflows.tasks import routing
from cms_workflows.tasks.states import EvidenceKind

DUTIES_FILE = "duties.yaml"
COMPANY, EACH_SITE, SUBJECT = "company", "each_site", "subject"
SITE_RULES = (COMPANY, EACH_SITE, SUBJECT)
UNDATED = ("skip", "now")
FIELDS = {"clause", "position", "position_from_subject", "site", "subjects", "recurrence", "start", "period",
          "lead_days", "reminder_days", "escalation", "evidence", "undated"}
MAX_LEAD_DAYS = 366
CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _previous_month(d: date) -> str:
    return f"{d.replace(day=1) - timedelta(days=1):%Y-%m}"


PERIODS = {
    "day": lambda d: d.isoformat(),
    "month": lambda d: f"{d:%Y-%m}",
    "previous_month": _previous_month,
    "quarter": lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}",
    "year": lambda d: str(d.year),
    "previous_year": lambda d: str(d.year - 1),
}


@dataclass(frozen=True)
class Duty:
    code: str
    clause: str
    position: str
    site: str
    period: str
    lead_days: int
    reminder_days: tuple[int, ...]
    escalation: tuple[dict, ...]
    evidence: str
    subjects: str | None = None
    recurrence: str | None = None
    start: date = date(2024, 1, 1)
    position_from_subject: bool = False
    undated: str = "skip"
    line: int = 0

    @property
    def title_key(self) -> str:
        return f"duties.title.{self.code}"

    @property
    def dated(self) -> bool:
        """Due dates come from the subjects (next calibration, next review), not from a recurrence."""
        return self.recurrence is None

    def period_of(self, due: date) -> str:
        return PERIODS[self.period](due)

    def due_dates(self, first: date, last: date) -> list[date]:
        """The recurrence's due dates from `first` to `last`, both included."""
        rule = parse_rule(self.recurrence, self.start)
        return [d.date() for d in rule.between(_midnight(first), _midnight(last), inc=True)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def parse_rule(text: str, start: date):
    return rrulestr(text, dtstart=_midnight(start))


def duties_path(directory: Path | None = None) -> Path:
    if directory is not None:
        return Path(directory) / DUTIES_FILE
    from cms_workflows import access

    folder = access.get_access().policy.directory if access.configured() else access.policy_dir()
    return Path(folder) / DUTIES_FILE


@lru_cache(maxsize=1)
def valid_clauses() -> frozenset[str]:
    """The requirement ids of SPEC.md a duty may cite (data/clauses.yaml)."""
    text = (resources.files("cms_workflows") / "data" / "clauses.yaml").read_text(encoding="utf-8")
    return frozenset(yaml.safe_load(text))


# ------------------------------------------------------------------ reading, with lines


@dataclass
class Lines:
    """Where each duty and each of its keys is in the file (1-based)."""

    duties: dict[str, int] = field(default_factory=dict)
    keys: dict[tuple[str, str], int] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    defaults: dict[str, int] = field(default_factory=dict)

    def of(self, code: str, key: str | None = None) -> int:
        return self.keys.get((code, key)) or self.duties.get(code) or self.defaults.get(key or "", 1)


def _mapping_lines(node) -> list[tuple[str, int, object]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(str(k.value), k.start_mark.line + 1, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]


def _lines(text: str) -> Lines:
    lines = Lines()
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for name, _line, value in _mapping_lines(root):
        if name == "defaults":
            lines.defaults = {k: n for k, n, _v in _mapping_lines(value)}
        if name != "duties":
            continue
        for code, line, body in _mapping_lines(value):
            if code in lines.duties:
                lines.duplicates.append((code, line))
            lines.duties[code] = line
            for key, key_line, _v in _mapping_lines(body):
                lines.keys[(code, key)] = key_line
    return lines


class ProblemList:
    """Problems (each a Message naming file and line) shown one a line, in the reader's language."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages

    def localized(self, locale: str | None) -> str:
        return "\n".join("  " + m.localized(locale) for m in self.messages)

    def __format__(self, spec: str) -> str:
        return self.localized(None)


def _fail(path: Path, found: list[Message]) -> PolicyError:
    return PolicyError("duties.invalid", file=str(path), count=len(found), problems=ProblemList(found))


def read(path: Path | None = None, *, sources: dict[str, bool] | None = None,
         positions: set[str] | None = None) -> tuple[list[Duty], list[Message]]:
    """(the duties, every problem of the file). `sources`: the known subject sources, each with whether it
    is dated (its rows carry their own due dates); None: the names are not checked."""
    path = duties_path() if path is None else Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        lines = _lines(text)
    except OSError:
        return [], [Message("duties.problem.unreadable", file=str(path), line=0)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        return [], [Message("duties.problem.yaml", file=name, line=mark.line + 1 if mark else 0,
                            error=str(getattr(exc, "problem", "") or exc)[:200])]
    if not isinstance(data, dict) or not isinstance(data.get("duties"), dict):
        return [], [Message("duties.problem.no_duties", file=name, line=1)]
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        return [], [Message("duties.problem.bad_defaults", file=name, line=lines.defaults.get("", 1))]
    found = [Message("duties.problem.duplicate", file=name, line=line, duty=code) for code, line in lines.duplicates]
    found += [Message("duties.problem.unknown_default", file=name, line=lines.defaults.get(k, 1), field=k,
                      allowed=", ".join(sorted(FIELDS))) for k in sorted(set(map(str, defaults)) - FIELDS)]
    duties = []
    for code, raw in data["duties"].items():
        duty, problems = check_duty(str(code), raw, defaults, lambda key, c=str(code): (name, lines.of(c, key)),
                                    sources=set(sources) if sources is not None else None, positions=positions,
                                    dated_sources={n for n, d in sources.items() if d} if sources is not None else None)
        found += problems
        if duty is not None:
            duties.append(duty)
    return duties, sorted(found, key=lambda m: m.params.get("line", 0))


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _load(path: str, _mtime: float, sources: frozenset | None) -> tuple[Duty, ...]:
    duties, found = read(Path(path), sources=dict(sources) if sources is not None else None)
    if found:
        raise _fail(Path(path), found)
    return tuple(duties)


def load(path: Path | None = None, sources: dict[str, bool] | None = None) -> list[Duty]:
    """The checked duties of the policy folder (or of `path`); a PolicyError listing every problem."""
    path = duties_path() if path is None else Path(path)
    return list(_load(str(path), _mtime(path), frozenset(sources.items()) if sources is not None else None))


def check_file(path: Path | None = None, sources: dict[str, bool] | None = None,
               positions: set[str] | None = None) -> list[Duty]:
    """`cms policy check` / `cms duties check`: the duties, or a PolicyError listing every problem."""
    path = duties_path() if path is None else Path(path)
    duties, found = read(path, sources=sources, positions=positions)
    if found:
        raise _fail(path, found)
    return duties


# ------------------------------------------------------------------ checking one duty

EVIDENCE_KINDS = tuple(k.value for k in EvidenceKind)


def title_known(code: str) -> bool:
    return all(f"duties.title.{code}" in catalog(loc) for loc in LOCALES)


def _is_int(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _rule_problem(values: dict) -> tuple[str, dict] | None:
    """(problem key, params) when the recurrence does not parse, never occurs or repeats a period."""
    start = values.get("start")
    if not isinstance(start, date) or isinstance(start, datetime):
        return "bad_start", {"value": str(start)[:40]}
    text = values["recurrence"]
    try:
        rule = parse_rule(str(text), start)
        upcoming = [d.date() for _n, d in zip(range(24), rule)]
    except (ValueError, TypeError, OverflowError, IndexError) as exc:
        return "bad_recurrence", {"value": str(text)[:120], "error": str(exc)[:160]}
    if not upcoming:
        return "never_due", {"value": str(text)[:120]}
    period = PERIODS.get(values.get("period"))
    if period is not None and len({period(d) for d in upcoming}) < len(upcoming):
        return "period_repeats", {"value": str(text)[:120], "period": values.get("period")}
    return None


def _shape_problems(code: str, v: dict, sources: set[str] | None, positions: set[str]) -> list[tuple]:
    """(key, problem key, params) of the duty's fields, checked one by one."""
    out = []
    if v.get("clause") not in valid_clauses():
        out.append(("clause", "unknown_clause", {"value": str(v.get("clause"))[:40]}))
    if v.get("position") not in positions:
        out.append(("position", "unknown_position", {"value": str(v.get("position"))[:64]}))
    if not isinstance(v.get("position_from_subject", False), bool):
        out.append(("position_from_subject", "not_a_flag", {}))
    if v.get("site") not in SITE_RULES:
        out.append(("site", "bad_site_rule", {"value": str(v.get("site"))[:40], "allowed": ", ".join(SITE_RULES)}))
    subjects = v.get("subjects")
    if subjects is not None and sources is not None and subjects not in sources:
        out.append(("subjects", "unknown_source", {"value": str(subjects)[:80], "known": ", ".join(sorted(sources))}))
    if (v.get("site") == SUBJECT) != (subjects is not None):
        out.append(("site", "site_needs_subjects", {}))
    if v.get("period") not in PERIODS:
        out.append(("period", "bad_period", {"value": str(v.get("period"))[:40], "allowed": ", ".join(PERIODS)}))
    if not _is_int(v.get("lead_days"), 0, MAX_LEAD_DAYS):
        out.append(("lead_days", "bad_lead_days", {"max": MAX_LEAD_DAYS}))
    if v.get("evidence") not in EVIDENCE_KINDS:
        out.append(("evidence", "bad_evidence", {"value": str(v.get("evidence"))[:40], "allowed": ", ".join(EVIDENCE_KINDS)}))
    if v.get("undated") not in UNDATED:
        out.append(("undated", "bad_undated", {"allowed": ", ".join(UNDATED)}))
    for p in routing.reminder_problems(v.get("reminder_days")):
        out.append(("reminder_days", "schedule", {"problem": Message(p["key"], **p["params"])}))
    for p in routing.chain_problems(v.get("escalation")):
        out.append(("escalation", "schedule", {"problem": Message(p["key"], **p["params"])}))
    if not title_known(code):
        out.append((None, "no_title", {"title_key": f"duties.title.{code}"}))
    return out


def _recurrence_problems(v: dict, sources: set[str] | None, dated_sources: set[str] | None) -> list[tuple]:
    """A dated source gives the due dates (no recurrence); anything else needs a recurrence that parses."""
    subjects, text = v.get("subjects"), v.get("recurrence")
    if subjects is not None and sources is not None and subjects not in sources:
        return []  # the unknown source is the problem; whether it is dated is not known
    dated = subjects in dated_sources if dated_sources is not None else (subjects is not None and text is None)
    if dated:
        return [("recurrence", "dated_has_recurrence", {"source": subjects})] if text is not None else []
    if text is None:
        return [(None, "no_recurrence", {})]
    found = _rule_problem(v)
    return [("recurrence", found[0], found[1])] if found else []


def check_duty(code: str, raw, defaults: dict, where, *, sources=None, positions=None,
               dated_sources: set[str] | None = None) -> tuple[Duty | None, list[Message]]:
    """The duty and its problems; `where(key)` gives (file, line) of one of its keys."""
    def message(key, problem, params):
        file, line = where(key)
        return Message(f"duties.problem.{problem}", file=file, line=line, duty=code, **params)

    if not isinstance(raw, dict):
        return None, [message(None, "not_a_mapping", {})]
    if not code or set(code) - CODE_CHARS:
        return None, [message(None, "bad_code", {})]
    unknown = sorted(set(map(str, raw)) - FIELDS)
    found = [message(k, "unknown_key", {"field": k, "allowed": ", ".join(sorted(FIELDS))}) for k in unknown]
    values = {**{k: v for k, v in (defaults or {}).items() if k in FIELDS}, **raw}
    values.setdefault("undated", "skip")
    values.setdefault("start", date(2024, 1, 1))
    checks = _shape_problems(code, values, sources, positions if positions is not None else routing_positions())
    checks += _recurrence_problems(values, sources, dated_sources)
    found += [message(k, p, params) for k, p, params in checks]
    if found:
        return None, found
    duty = Duty(code=code, clause=values["clause"], position=values["position"], site=values["site"],
                period=values["period"], lead_days=values["lead_days"], reminder_days=tuple(values["reminder_days"]),
                escalation=tuple(dict(s) for s in values["escalation"]), evidence=values["evidence"],
                subjects=values.get("subjects"), recurrence=values.get("recurrence"), start=values["start"],
                position_from_subject=values.get("position_from_subject", False), undated=values["undated"],
                line=where(None)[1])
    return duty, []


def routing_positions() -> set[str]:
    from cms_workflows.access import known_position_codes

    return known_position_codes()
