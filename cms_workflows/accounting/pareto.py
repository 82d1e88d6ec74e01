"""Major emitting facilities (R-6.2.3 b): Pareto ranking; the facilities that make up the first
`threshold` share of the total are major. Default 80 %."""

from __future__ import annotations

import pandas as pd

from cms_workflows.core.errors import ValidationFailed, problem


def pareto(results: pd.DataFrame, threshold: float = 0.8, by: tuple[str, ...] = ("site", "facility")) -> pd.DataFrame:
    if not 0 < threshold <= 1:
        raise ValidationFailed("accounting.bad_threshold",
                               problems=[problem("threshold", "accounting.problem.threshold_range")])
    totals = results.groupby(list(by), sort=False)["tco2e"].sum().reset_index()
    totals = totals[totals["tco2e"] > 0].sort_values(["tco2e", *by], ascending=[False] + [True] * len(by), kind="stable")
    grand = totals["tco2e"].sum()
    totals["share"] = totals["tco2e"] / grand if grand else 0.0
    totals["cumulative_share"] = totals["share"].cumsum()
    # a facility is major while the share before it is still under the threshold (the one crossing it counts)
    before = totals["cumulative_share"] - totals["share"]
    totals["major"] = before < threshold - 1e-12
    totals["rank"] = range(1, len(totals) + 1)
    return totals.reset_index(drop=True)
