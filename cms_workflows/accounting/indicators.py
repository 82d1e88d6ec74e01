"""Indicators of the figures of record (Annex F, R-6.2.3 b-c, R-9.1; issue 15 item 4), pure pandas:

- intensity per site and for the company, per month and per year: tCO2e per tonne of product and per
  10,000 CNY of output value. A ratio is taken only over the site-months that have both figures of record
  and the denominator (company = sum of emissions / sum of production over those site-months); the
  site-months left out are named, so a missing month never makes an intensity look better than it is;
- year-on-year by category (optionally per site), per year or per month against the same month a year
  earlier: previous, current, change in t and in % (none when the previous figure is 0);
- ranking by source (material) or by facility: tCO2e, share, cumulative share, rank (pareto).

`results`: site, production_unit, facility, category, material, period, tco2e, memo_tco2e (official results);
`outputs`: site, period, product_t, value_10k_cny (NaN: not given).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cms_workflows.accounting.pareto import pareto
from cms_workflows.core.errors import ValidationFailed, problem

TIMES = ("month", "year")
LEVELS = ("company", "site")
RANKINGS = {"material": ("material",), "facility": ("site", "facility")}
INTENSITY_COLUMNS = ["tco2e", "product_t", "tco2e_per_t", "value_10k_cny", "tco2e_per_10k_cny",
                     "months_without_product", "months_without_value", "months_without_emissions"]
YOY_COLUMNS = ["previous", "current", "change_t", "change_pct"]


def check_choice(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise ValidationFailed("accounting.bad_level", problems=[
            problem(name, "accounting.problem.one_of", value=value, allowed=", ".join(allowed))])
    return value


def site_months(results: pd.DataFrame, outputs: pd.DataFrame) -> pd.DataFrame:
    """One row per site-month found on either side: tco2e (NaN: no figures of record), product_t, value_10k_cny."""
    em = results.astype({"site": str, "period": str}).groupby(["site", "period"])["tco2e"].sum()
    out = outputs.astype({"site": str, "period": str}).set_index(["site", "period"])[["product_t", "value_10k_cny"]]
    base = pd.concat([em, out.astype(float)], axis=1)
    base.index = base.index.set_names(["site", "period"])
    return base.reset_index().sort_values(["site", "period"], kind="stable").reset_index(drop=True)


def intensity(results: pd.DataFrame, outputs: pd.DataFrame, level: str = "site", by: str = "year") -> pd.DataFrame:
    """Intensity at `level` (company | site) per `by` (month | year); columns: [site,] period|year and
    INTENSITY_COLUMNS. A ratio is NaN when no site-month of the row has both emissions and a denominator > 0."""
    check_choice("level", level, LEVELS)
    check_choice("by", by, TIMES)
    base = site_months(results, outputs)
    has_em = base["tco2e"].notna()
    time = "period" if by == "month" else "year"
    keys = (["site"] if level == "site" else []) + [time]
    # how a left-out site-month is named in its row: the month at a site, the site and month for the company
    label = base["period"] if level == "site" else base["site"] + " " + base["period"]
    frame = pd.DataFrame({"site": base["site"], "period": base["period"], "year": base["period"].str[:4],
                          "tco2e": base["tco2e"].fillna(0.0), "n_e": has_em.astype(int)})
    for name, column in (("p", "product_t"), ("v", "value_10k_cny")):
        covered = has_em & base[column].notna()
        frame[f"em_{name}"] = np.where(covered, frame["tco2e"], 0.0)
        frame[f"den_{name}"] = np.where(covered, base[column], 0.0)
        frame[f"n_{name}"] = covered.astype(int)
    frame["months_without_product"] = label.where(has_em & base["product_t"].isna())
    frame["months_without_value"] = label.where(has_em & base["value_10k_cny"].isna())
    frame["months_without_emissions"] = label.where(~has_em)
    if frame.empty:
        return pd.DataFrame(columns=keys + INTENSITY_COLUMNS)
    grouped = frame.groupby(keys, sort=True)
    sums = grouped[["tco2e", "n_e", "em_p", "den_p", "n_p", "em_v", "den_v", "n_v"]].sum()
    out = pd.DataFrame(index=sums.index)
    out["tco2e"] = sums["tco2e"].where(sums["n_e"] > 0)  # no figures of record: empty, not 0
    out["product_t"] = sums["den_p"].where(sums["n_p"] > 0)
    out["tco2e_per_t"] = sums["em_p"] / out["product_t"].where(out["product_t"] > 0)
    out["value_10k_cny"] = sums["den_v"].where(sums["n_v"] > 0)
    out["tco2e_per_10k_cny"] = sums["em_v"] / out["value_10k_cny"].where(out["value_10k_cny"] > 0)
    for column in INTENSITY_COLUMNS[5:]:
        out[column] = grouped[column].agg(lambda s: ", ".join(s.dropna()))
    return out.reset_index()


def year_on_year(results: pd.DataFrame, year: int, by: str = "year", by_site: bool = False,
                 by_category: bool = True) -> pd.DataFrame:
    """`year` against `year - 1` per category (and site), per year or per month (`month` = "01".."12").
    previous/current are NaN when that year (month) has no figures of record at all, so a year not yet
    closed reads as missing, not as a fall to zero; change_pct is relative to |previous| (exports are negative)."""
    check_choice("by", by, TIMES)
    frame = results.assign(site=results["site"].astype(str), year=results["period"].astype(str).str[:4],
                           month=results["period"].astype(str).str[5:7])
    frame = frame[frame["year"].isin([str(year - 1), str(year)])]
    slot = (["site"] if by_site else []) + (["month"] if by == "month" else [])
    keys = (["site"] if by_site else []) + (["category"] if by_category else []) + (["month"] if by == "month" else [])
    if not keys:
        keys = ["year_label"]
        frame = frame.assign(year_label=f"{year - 1}/{year}")
    prev, cur = frame[frame["year"] == str(year - 1)], frame[frame["year"] == str(year)]
    table = pd.concat([prev.groupby(keys)["tco2e"].sum().rename("previous"),
                       cur.groupby(keys)["tco2e"].sum().rename("current")], axis=1).fillna(0.0)
    if table.empty:
        return pd.DataFrame(columns=keys + YOY_COLUMNS)
    table = table.sort_index().reset_index()
    table["previous"] = table["previous"].where(_covered(table, prev, slot))
    table["current"] = table["current"].where(_covered(table, cur, slot))
    table["change_t"] = table["current"] - table["previous"]
    table["change_pct"] = table["change_t"] / table["previous"].abs().where(table["previous"] != 0)
    return table[keys + YOY_COLUMNS]


def _covered(table: pd.DataFrame, part: pd.DataFrame, slot: list[str]) -> np.ndarray:
    """Whether each row's site/month has any figure of record in `part` (one year's results)."""
    if not slot:
        return np.full(len(table), len(part) > 0)
    present = pd.MultiIndex.from_frame(part[slot].drop_duplicates())
    return pd.MultiIndex.from_frame(table[slot]).isin(present)


def ranking(results: pd.DataFrame, by: str = "material", threshold: float = 0.8) -> pd.DataFrame:
    """Sources (materials) or facilities by tCO2e, largest first: share, cumulative share, rank, major. Results
    of runs stored before they carried the material rank under material "" (not recorded)."""
    keys = RANKINGS[check_choice("by", by, tuple(RANKINGS))]
    frame = results.assign(**{k: results[k].astype(object).where(results[k].notna(), "").astype(str) for k in keys})
    table = pareto(frame, threshold, by=keys)
    return table[[*keys, "tco2e", "share", "cumulative_share", "rank", "major"]]
