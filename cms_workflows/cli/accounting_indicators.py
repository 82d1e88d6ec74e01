"""`cms accounting intensity | yoy | ranking`: the indicators of the figures of record (issue 15 item 4,
Annex F, R-9.1). Each command is one read unit of work over `accounting.reports`; registered on the
accounting app by `register`. On screen the headers read in the user's language, an intensity that
cannot be computed shows as "—" with the months left out named; files keep the column codes."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from cms_workflows.cli.common import acting_user, database, print_table, require_site, term
from cms_workflows.core.i18n import t

PERCENT_COLUMNS = {"change_pct", "share", "cumulative_share"}
MISSING_COLUMNS = ("months_without_product", "months_without_value", "months_without_emissions")


def _cell(column: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return t("accounting.indicators.cli.major_mark") if value else ""
    if column in PERCENT_COLUMNS:
        return f"{value:+.1%}" if column == "change_pct" else f"{value:.1%}"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _write(frame, out: Path | None, sheet: str) -> None:
    if out is not None:
        from cms_workflows.core import exports  # names from the plan must not come out as live formulas

        if out.suffix.lower() == ".xlsx":
            exports.write_frame_xlsx(frame, out, sheet_name=sheet)
        else:
            exports.write_csv(frame, out)
        typer.echo(t("accounting.cli.written", path=out))
        return
    if frame.empty:
        typer.echo(t("accounting.indicators.cli.no_figures"))
        return
    # screen: columns of left-out months only when some month was left out
    shown = [c for c in frame.columns if c not in MISSING_COLUMNS or frame[c].astype(bool).any()]
    headers = [term(f"cli.accounting.col.{c}", str(c)) for c in shown]
    print_table(headers, [[_cell(c, v) for c, v in zip(shown, row)] for row in frame[shown].itertuples(index=False)])
    if any(c in shown for c in MISSING_COLUMNS):
        typer.echo(t("accounting.indicators.cli.coverage_note"))


def intensity(ctx: typer.Context, first: str, last: str, level: str = typer.Option("company", "--level"),
              by: str = typer.Option("month", "--by"), out: Path | None = typer.Option(None, "--out")) -> None:
    from cms_workflows.accounting import reports

    with database().read() as session:
        table = reports.intensity_table(session, acting_user(ctx), first, last, level=level, by=by)
    _write(table, out, "intensity")


def yoy(ctx: typer.Context, year: int, by: str = typer.Option("year", "--by"),
        site: str | None = typer.Option(None, "--site"), out: Path | None = typer.Option(None, "--out")) -> None:
    from cms_workflows.accounting import reports

    with database().read() as session:
        if site:
            require_site(session, site)
        table = reports.yoy_table(session, acting_user(ctx), year, by=by, site=site)
    _write(table, out, "year_on_year")


def ranking(ctx: typer.Context, first: str, last: str, by: str = typer.Option("material", "--by"),
            site: str | None = typer.Option(None, "--site"), out: Path | None = typer.Option(None, "--out"),
            threshold: float = typer.Option(0.8, "--threshold")) -> None:
    from cms_workflows.accounting import reports

    with database().read() as session:
        if site:
            require_site(session, site)
        table = reports.ranking_table(session, acting_user(ctx), first, last, by=by, site=site, threshold=threshold)
    _write(table, out, "ranking")


def register(app: typer.Typer) -> None:
    """The indicator commands on `cms accounting`."""
    app.command("intensity")(intensity)
    app.command("yoy")(yoy)
    app.command("ranking")(ranking)
