"""Reports assembled from the queries: result tables at a level, the chart set, texts of findings.
The CLI, the demo and a web page call these; none of them assembles a report itself."""

from __future__ import annotations


import pandas as pd

from cms_workflows.accounting import calculation, charts, indicators
from cms_workflows.accounting import queries as q
from cms_workflows.accounting.names import category_name, material_name
from cms_workflows.accounting.pareto import pareto
from cms_workflows.core.errors import ValidationFailed, problem

PERIODS = ("month", "year")


def results_table(uow, username: str, *, run_id: int | None = None, first: str | None = None,
                  last: str | None = None, level: str = "site", by: str = "month",
                  site: str | None = None) -> pd.DataFrame:
    """A run's results, or the figures of record over a period range, totalled at `level` per month or year."""
    problems = []
    if level not in calculation.LEVELS:
        problems.append(problem("level", "accounting.problem.one_of", value=level, allowed=", ".join(calculation.LEVELS)))
    if by not in PERIODS:
        problems.append(problem("by", "accounting.problem.one_of", value=by, allowed=", ".join(PERIODS)))
    if problems:
        raise ValidationFailed("accounting.bad_level", problems=problems)
    if run_id is None and (first is None or last is None):
        raise ValidationFailed("accounting.bad_period", problems=[
            problem("from/to", "accounting.problem.period_or_run")])
    frame = q.results_for(uow, username, run_id, first, last, site)
    return calculation.rollup(frame, level, by) if len(frame) else frame


def chart_set(uow, username: str, first: str, last: str, locale: str | None = None,
              site: str | None = None) -> dict[str, bytes]:
    """The report's charts of the figures of record (of one site, or of every site) in the reader's `locale`:
    file name -> PNG (the chart by source when the results record their material)."""
    from cms_workflows.accounting.results_workbook import has_sources

    frame = q.official_results(uow, username, first, last, site)
    out = {"monthly_trend.png": charts.monthly_trend(frame, locale=locale),
           "categories.png": charts.category_breakdown(frame, locale=locale),
           "pareto.png": charts.pareto_chart(pareto(frame), locale=locale)}
    if has_sources(frame):
        out["sources.png"] = charts.source_breakdown(frame, locale=locale)
    return out


def text(finding: dict, locale: str | None = None) -> str:
    """The message of a problem, warning or quality gap (`key` + `params`), in the reader's language."""
    from cms_workflows.core.i18n import t

    return t(finding["key"], locale=locale, **finding.get("params", {}))


# ------------------------------------------------------------------ indicators (issue 15 item 4, Annex F, R-9.1)

def _named(table: pd.DataFrame, column: str, name) -> pd.DataFrame:
    """The table with `column`_name (in the reader's language) right after `column`."""
    if column not in table.columns:
        return table
    at = list(table.columns).index(column) + 1
    table = table.copy()
    table.insert(at, f"{column}_name", [name(str(v)) for v in table[column]])
    return table


def intensity_table(uow, username: str, first: str, last: str, level: str = "company", by: str = "month",
                    site: str | None = None) -> pd.DataFrame:
    indicators.check_choice("level", level, indicators.LEVELS)
    indicators.check_choice("by", by, indicators.TIMES)
    q.check_period(first, "from")
    q.check_period(last, "to")
    results, outputs = q.indicator_inputs(uow, username, first, last, site)
    return indicators.intensity(results, outputs, level, by)


def yoy_table(uow, username: str, year: int, by: str = "year", site: str | None = None,
              by_category: bool = True) -> pd.DataFrame:
    indicators.check_choice("by", by, indicators.TIMES)
    q.check_period(f"{year}-01", "year")
    results, _outputs = q.indicator_inputs(uow, username, f"{year - 1}-01", f"{year}-12", site)
    return _named(indicators.year_on_year(results, year, by, by_category=by_category), "category", category_name)


def ranking_table(uow, username: str, first: str, last: str, by: str = "material", site: str | None = None,
                  threshold: float = 0.8) -> pd.DataFrame:
    indicators.check_choice("by", by, tuple(indicators.RANKINGS))
    q.check_period(first, "from")
    q.check_period(last, "to")
    results, _outputs = q.indicator_inputs(uow, username, first, last, site)
    return _named(indicators.ranking(results, by, threshold), "material", material_name)


def indicator_set(uow, username: str, year: int, site: str | None = None) -> dict[str, pd.DataFrame]:
    """What the indicators page and its API show for a year: company and site intensity per month and year,
    year-on-year by category (annual) and of the total (monthly), ranking by source and by facility."""
    q.check_period(f"{year}-01", "year")
    first, last = f"{year}-01", f"{year}-12"
    results, outputs = q.indicator_inputs(uow, username, f"{year - 1}-01", last, site)
    this_year = results[results["period"].astype(str) >= first]
    this_outputs = outputs[outputs["period"].astype(str) >= first]
    out = {f"intensity_{level}_{by}": indicators.intensity(this_year, this_outputs, level, by)
           for level in indicators.LEVELS for by in indicators.TIMES}
    out["yoy_category"] = _named(indicators.year_on_year(results, year, "year"), "category", category_name)
    out["yoy_month"] = indicators.year_on_year(results, year, "month", by_category=False)
    out["ranking_material"] = _named(indicators.ranking(this_year, "material"), "material", material_name)
    out["ranking_facility"] = indicators.ranking(this_year, "facility")
    return out
