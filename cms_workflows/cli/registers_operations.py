"""`cms registers assets move|movements|totals`: the carbon-asset register's own verbs (R-8.7).

The groups `cms registers quality …` (R-8.6) and `cms registers assets …` get add, change, list,
import, export and template from `cli.registers`; this module adds recording a movement, listing or
exporting the movements, and the holdings per kind and vintage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, print_table
from cms_workflows.core.i18n import t


def add_verbs(groups: dict[str, typer.Typer]) -> None:
    """Attach the verbs to the assets group of `cli.registers` (passed in: no import cycle)."""
    for name, fn in (("move", move), ("movements", movements), ("totals", totals)):
        groups["assets"].command(name)(fn)


def move(ctx: typer.Context, code: str, on: str = typer.Option(..., "--date"), kind: str = typer.Option(..., "--kind"),
         quantity: str = typer.Option(..., "--quantity"), to: str = typer.Option("", "--to"),
         counterparty: str = typer.Option("", "--counterparty"), document: str = typer.Option("", "--document"),
         note: str = typer.Option("", "--note")) -> None:
    from cms_workflows.registers import assets, service

    with database().unit_of_work() as uow:
        assets.move(uow, acting_user(ctx), code, moved_on=on, kind=kind, quantity=quantity, to_holding=to,
                    counterparty=counterparty, document=document, note=note)
        held = {h: service.get(uow, assets.SPEC, h).quantity for h in (code, to) if h}
    for holding, quantity_now in held.items():
        typer.echo(t("registers.cli.moved", code=holding, quantity=f"{quantity_now:,}"))


def movements(ctx: typer.Context, code: Optional[str] = typer.Argument(None),
              out: Optional[Path] = typer.Option(None, "--out")) -> None:
    from cms_workflows.registers import assets, operations_queries, tabular

    with database().read() as uow:
        actor = acting_user(ctx)
        if out is not None:
            data = operations_queries.export_movements(uow, actor, "csv" if out.suffix.lower() == ".csv" else "xlsx",
                                                       code=code)
        else:
            rows = operations_queries.movements(uow, actor, code)
    if out is not None:
        out.write_bytes(data)
        typer.echo(t("registers.cli.written", path=out))
    elif not rows:
        typer.echo(t("registers.cli.none"))
    else:
        columns = assets.MOVEMENTS.columns
        print_table(tabular.header(assets.MOVEMENTS),
                    [["" if v is None else str(v) for v in (tabular.shown_value(assets.MOVEMENTS, c, r.get(c.name), None,
                                                                               csv_out=True) for c in columns)]
                     for r in rows])


def totals(ctx: typer.Context, kind: Optional[str] = typer.Option(None, "--kind")) -> None:
    from cms_workflows.registers import operations_queries

    with database().read() as uow:
        found = operations_queries.holdings_by_kind_and_vintage(uow, acting_user(ctx), kind)
    print_table([t("registers.assets.col.kind"), t("registers.assets.col.vintage"), t("registers.assets.col.quantity"),
                 t("registers.cli.col.holdings")],
                [[t(f"registers.assets.kind.{r.kind}"), str(r.vintage), f"{r.quantity:,}", str(r.holdings)] for r in found])
