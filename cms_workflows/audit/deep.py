"""`cms verify --deep`: the business state checked against the audit trail (X-1, R-7.5, X-5).

Plain `cms verify` proves the trail is whole and the stored files match their hashes; it says
nothing about whether the rows the application reads still say what the trail recorded. The
deep check does: each domain hands in its own checks (the bootstrap lists them, `deep_checks`,
since this layer may not import the domains), each a function `check(uow)` that yields
`Disagreement`s in a stable order and returns, when it finds none, what it checked
(`{message key: count}`). The first disagreement of the first check that finds one is reported.

Checks compare whole tables with whole event kinds (`trail`: one query per event kind), never
one event lookup per row, so the check can run nightly over years of data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from cms_workflows.audit.models import AuditEvent
from cms_workflows.audit.recording import names_for
from cms_workflows.core.i18n import t

_table = AuditEvent.__table__


@dataclass(frozen=True)
class Disagreement:
    """A business row that does not say what its event recorded: a message key naming the row and what differs."""

    key: str
    params: dict = field(default_factory=dict)

    def message(self) -> str:
        return t(self.key, **self.params)


@dataclass(frozen=True)
class TrailEvent:
    seq: int
    actor: str
    position: str
    site: str
    object_id: str
    payload: dict


def trail(uow, event: str, object_type: str | None = None) -> list[TrailEvent]:
    """Every event of one kind, under its current and older names, in chain order (one query)."""
    q = select(_table.c.seq, _table.c.actor, _table.c.position, _table.c.site, _table.c.object_id, _table.c.payload) \
        .where(_table.c.action.in_(names_for(event))).order_by(_table.c.seq)
    if object_type is not None:
        q = q.where(_table.c.object_type == object_type)
    return [TrailEvent(seq, actor, position, site, object_id, json.loads(payload))
            for seq, actor, position, site, object_id, payload in uow.execute(q)]


def same_number(a: Any, b: Any, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    """Recomputed figures agree with stored ones up to floating-point summation order."""
    import math

    try:
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
    except (TypeError, ValueError):
        return False


@dataclass
class DeepReport:
    ok: bool
    lines: list[str] = field(default_factory=list)
    problem: Disagreement | None = None
    checked: dict[str, int] = field(default_factory=dict)


Check = Callable[[Any], Iterator[Disagreement]]


def first_disagreement(uow, checks: Iterable[Check], checked: dict[str, int] | None = None) -> Disagreement | None:
    """Run the checks in order; stop at the first disagreement. Counts of what was checked go to `checked`."""
    checked = {} if checked is None else checked
    for check in checks:
        found = check(uow)
        if found is None or isinstance(found, Disagreement):  # a check may also return its first problem or None
            if found is not None:
                return found
            continue
        try:
            return next(found)
        except StopIteration as done:  # a generator's return value: what it checked
            for key, count in (done.value or {}).items():
                checked[key] = checked.get(key, 0) + count
    return None


def verify_deep(db, checks: Iterable[Check]) -> DeepReport:
    """The business state against the trail, in one snapshot of the database (a command committing meanwhile
    cannot make a row appear without its event)."""
    checked: dict[str, int] = {}
    with db.read() as uow:
        if uow.get_bind().dialect.name == "postgresql":
            uow.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        problem = first_disagreement(uow, checks, checked)
    if problem is not None:
        return DeepReport(False, [t("audit.deep.disagreement", what=problem.message())], problem, checked)
    counts = t("audit.deep.list_separator").join(t(key, count=count) for key, count in checked.items())
    return DeepReport(True, [t("audit.deep.ok", checked=counts)], None, checked)
