"""Data-quality assessment (R-6.2.3 c, R-8.6): completeness, consistency, accuracy; a score and the gaps.

Completeness: every plan item has a value for every month of the period.
Consistency: a facility/material changes unit, data source or factor version between periods.
Accuracy: data-source tier (meter 1.0 > invoice 0.8 > estimate 0.4) and meter calibration status.
Score = 100 x mean of the three sub-scores (each 0..1).
"""

from __future__ import annotations

import pandas as pd

TIER = {"meter": 1.0, "invoice": 0.8, "estimate": 0.4}


def gap(kind: str, site: str, facility: str, material: str, period: str, key: str, **params) -> dict:
    """One finding: where it is, and a message key with its parameters (translated when shown)."""
    return {"kind": kind, "site": site, "facility": facility, "material": material, "period": period,
            "key": key, "params": params}


def months(first: str, last: str) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]


def assess(plan: pd.DataFrame, activity: pd.DataFrame, first: str, last: str,
           calibration: dict[str, bool] | None = None) -> dict:
    """plan: site, facility, material; activity: site, facility, material, period, unit, data_source.
    calibration: facility -> meter calibrated and in date (None: unknown, not scored)."""
    gaps: list[dict] = []
    periods = months(first, last)
    act = activity[(activity["period"] >= first) & (activity["period"] <= last)]
    expected = plan[["site", "facility", "material"]].drop_duplicates().merge(pd.DataFrame({"period": periods}), how="cross")
    have = act[["site", "facility", "material", "period"]].drop_duplicates()
    merged = expected.merge(have, how="left", indicator=True)
    missing = merged[merged["_merge"] == "left_only"]
    for r in missing.itertuples(index=False):
        gaps.append(gap("completeness", r.site, r.facility, r.material, r.period, "accounting.gap.missing_value"))
    completeness = 1.0 - len(missing) / len(expected) if len(expected) else 1.0

    keyed = act.sort_values("period")
    changes = 0
    groups = keyed.groupby(["site", "facility", "material"], sort=True)
    for col in ("unit", "data_source"):
        n = groups[col].nunique()
        for site, fac, mat in n[n > 1].index:
            changes += 1
            vals = keyed.loc[(keyed.site == site) & (keyed.facility == fac) & (keyed.material == mat), col].unique().tolist()
            gaps.append(gap("consistency", site, fac, mat, "", f"accounting.gap.{col}_changed",
                            values=" → ".join(map(str, vals))))
    n_series = max(groups.ngroups, 1)
    consistency = max(0.0, 1.0 - changes / n_series)

    tiers = act["data_source"].map(TIER).fillna(0.0)
    accuracy = float(tiers.mean()) if len(act) else 0.0
    for r in act[act["data_source"] == "estimate"][["site", "facility", "material"]].drop_duplicates().itertuples(index=False):
        gaps.append(gap("accuracy", r.site, r.facility, r.material, "", "accounting.gap.estimated"))
    if calibration:
        metered = act[act["data_source"] == "meter"]["facility"].unique()
        uncal = [f for f in metered if calibration.get(f) is False]
        for f in uncal:
            gaps.append(gap("accuracy", "", f, "", "", "accounting.gap.uncalibrated"))
        if len(metered):
            accuracy *= 1.0 - 0.5 * len(uncal) / len(metered)
    score = round(100.0 * (completeness + consistency + accuracy) / 3.0, 1)
    return {"score": score, "completeness": round(completeness, 4), "consistency": round(consistency, 4),
            "accuracy": round(accuracy, 4), "gaps": gaps}


def missing_months(plan: pd.DataFrame, have: pd.DataFrame, first: str, last: str) -> list[dict]:
    """Per plan line (site, facility, material): the months of `first`..`last` without a value in `have`
    (site, facility, material, period). What an approver must accept explicitly (issue 15, R-8.6)."""
    if plan.empty:
        return []
    expected = plan[["site", "facility", "material"]].drop_duplicates() \
        .merge(pd.DataFrame({"period": months(first, last)}), how="cross")
    merged = expected.merge(have[["site", "facility", "material", "period"]].drop_duplicates(), how="left",
                            indicator=True)
    missing = merged[merged["_merge"] == "left_only"]
    return [{"site": site, "facility": facility, "material": material, "months": sorted(group["period"])}
            for (site, facility, material), group in missing.groupby(["site", "facility", "material"], sort=True)]


def month_ranges(periods: list[str]) -> str:
    """Sorted YYYY-MM months as short ranges: 2024-01, 2024-03…2024-12."""
    out: list[list[str]] = []
    for p in sorted(periods):
        if out and pd.Period(p, "M") == pd.Period(out[-1][-1], "M") + 1:
            out[-1][1:] = [p]  # extend the range to p
        else:
            out.append([p])
    return ", ".join("…".join(r) for r in out)
