"""Reports assembled from the queries: result tables at a level, the chart set, texts of findings.
The CLI, the demo and a web page call these; none of them assembles a report itself."""

from __future__ import annotations

import pandas as pd

from cms_workflows.accounting import calculation, charts
from cms_workflows.accounting import queries as q
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


def chart_set(uow, username: str, first: str, last: str) -> dict[str, bytes]:
    """The report's charts of the figures of record: file name -> PNG."""
    frame = q.official_results(uow, username, first, last)
    return {"monthly_trend.png": charts.monthly_trend(frame),
            "categories.png": charts.category_breakdown(frame),
            "pareto.png": charts.pareto_chart(pareto(frame))}


def text(finding: dict, locale: str | None = None) -> str:
    """The message of a problem, warning or quality gap (`key` + `params`), in the reader's language."""
    from cms_workflows.core.i18n import t

    return t(finding["key"], locale=locale, **finding.get("params", {}))
