"""Reads of the operation registers (R-8.6, R-8.7) beyond the frame's rows and exports
(`queries.rows('quality_plan'|'assets', …)`): holdings per kind and vintage, a holding's movements,
the movements file, and a check that every holding's quantity is the sum of its movements.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from cms_workflows.registers import assets, queries, service, tabular
from cms_workflows.registers.operations_models import CarbonHolding, CarbonMovement


@dataclass(frozen=True)
class HoldingTotal:
    kind: str
    vintage: int
    quantity: int  # tCO2e
    holdings: int


def _may_read(uow, actor: str) -> None:
    """As the register's rows: readable by a holder of `read` at company level or at any site."""
    queries.readable_sites(uow, actor, "carbon_asset")


def holdings_by_kind_and_vintage(uow, actor: str, kind: str | None = None) -> list[HoldingTotal]:
    """R-8.7 carbon asset statistics (8.7.3 c): the quantity held per kind and vintage."""
    _may_read(uow, actor)
    totals: dict[tuple[str, int], list[int]] = {}
    q = select(CarbonHolding)
    if kind:
        q = q.where(CarbonHolding.kind == kind)
    for h in uow.exec(q):
        entry = totals.setdefault((h.kind, h.vintage), [0, 0])
        entry[0] += h.quantity
        entry[1] += 1
    order = {k: i for i, k in enumerate(assets.KINDS)}
    return [HoldingTotal(k, v, q, n) for (k, v), (q, n) in sorted(totals.items(), key=lambda i: (order[i[0][0]], i[0][1]))]


def movements(uow, actor: str, code: str | None = None) -> list[dict]:
    """Movements (all, or of one holding) as rows by date, holdings named by code."""
    _may_read(uow, actor)
    codes = {h.id: h.code for h in uow.exec(select(CarbonHolding))}
    if code:
        found = assets.movements_of(uow, service.get(uow, assets.SPEC, code).id)
    else:
        found = uow.exec(select(CarbonMovement).order_by(CarbonMovement.moved_on, CarbonMovement.id))
    return [assets.movement_values(m, codes) for m in found]


def export_movements(uow, actor: str, fmt: str = "xlsx", locale: str | None = None, code: str | None = None) -> bytes:
    return tabular.export(assets.MOVEMENTS, movements(uow, actor, code), fmt, locale)


def quantities_that_disagree(uow) -> list[tuple[str, int, int]]:
    """(code, kept quantity, sum of movements) of every holding whose kept quantity is not its movements' sum
    (written around the commands); empty when the register is whole."""
    out = []
    for h in uow.exec(select(CarbonHolding).order_by(CarbonHolding.code)):
        total = sum(assets.delta(m, h.id) for m in assets.movements_of(uow, h.id))
        if total != h.quantity:
            out.append((h.code, h.quantity, total))
    return out
