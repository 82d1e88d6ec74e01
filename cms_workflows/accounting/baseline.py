"""Baselines and deviations (R-6.3.2, R-9.1.1.3).

A baseline fixes, for one level and scope, a monthly reference from a base period by a method:
  average: the mean of each calendar month over the base years (seasonality kept);
  total:   the base period's annual total / 12 per month (flat).
Deviation = actual vs baseline and vs the same month last year; over `threshold` (fraction) it is listed.
"""

from __future__ import annotations

import pandas as pd

from cms_workflows.core.errors import ValidationFailed, problem

from cms_workflows.accounting.calculation import LEVELS

METHODS = ("average", "total")
TRIGGERS = ("boundary", "raw_material", "equipment", "process", "product", "method_factor")  # 6.3.2.4


def scope_filter(results: pd.DataFrame, level: str, scope: str) -> pd.DataFrame:
    """scope: '' for enterprise; 'HN01'; 'HN01/U1'; 'HN01/U1/B1'; category code for level category."""
    keys = LEVELS[level]
    if not keys:
        return results
    parts = scope.split("/")
    mask = pd.Series(True, index=results.index)
    for k, v in zip(keys, parts):
        mask &= results[k] == v
    return results[mask]


def monthly(results: pd.DataFrame) -> pd.Series:
    return results.groupby("period")["tco2e"].sum().sort_index()


def compute_baseline(results: pd.DataFrame, level: str, scope: str, base_from: str, base_to: str,
                     method: str = "average") -> dict[str, float]:
    """Reference value per calendar month '01'..'12' in tCO2e."""
    if method not in METHODS:
        raise ValidationFailed("accounting.bad_method", problems=[
            problem("method", "accounting.problem.one_of", value=method, allowed=", ".join(METHODS))])
    s = monthly(scope_filter(results, level, scope))
    s = s[(s.index >= base_from) & (s.index <= base_to)]
    if s.empty:
        raise ValidationFailed("accounting.no_base_data", problems=[
            problem("base_from", "accounting.problem.no_base_results", base_from=base_from, base_to=base_to)])
    if method == "average":
        by_month = s.groupby(s.index.str[5:7]).mean()
        return {m: float(by_month.get(m, by_month.mean())) for m in (f"{i:02d}" for i in range(1, 13))}
    n_years = max(len(set(s.index.str[:4])), 1)
    flat = float(s.sum()) / (12 * n_years)
    return {f"{i:02d}": flat for i in range(1, 13)}


def deviations(results: pd.DataFrame, level: str, scope: str, reference: dict[str, float], first: str, last: str,
               threshold: float = 0.1) -> tuple[pd.DataFrame, list[dict]]:
    """Actual vs baseline vs same period last year per month; the list holds months over the threshold."""
    s = monthly(scope_filter(results, level, scope))
    periods = [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]
    rows = []
    for p in periods:
        actual = float(s.get(p, 0.0))
        base = reference[p[5:7]]
        last_year = s.get(f"{int(p[:4]) - 1}-{p[5:7]}")
        rows.append({"period": p, "actual": actual, "baseline": base,
                     "deviation": (actual - base) / base if base else None,
                     "last_year": None if last_year is None else float(last_year),
                     "vs_last_year": (actual - float(last_year)) / float(last_year) if last_year else None})
    table = pd.DataFrame(rows)
    over = [r for r in rows if r["deviation"] is not None and abs(r["deviation"]) > threshold]
    return table, over
