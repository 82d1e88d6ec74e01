"""The GB/T 32150 calculation engine, vectorised (X-5, R-6.2.3 c).

E = sum(AD x EF); fuel combustion: AD = consumption x NCV, EF = carbon content x oxidation x 44/12;
electricity and heat: quantity x grid/heat factor (exports subtract); process: carbonate and oxide
(clinker/lime) methods; CO2 recovered subtracts (by mass, or by volume x purity x 19.77 t/10^4 Nm3);
non-CO2 gases: mass x GWP. An optional `purity` column (mass fraction 0-1; empty = 1) multiplies carbonate,
CO2 and company per-unit rows (GB/T 32150 process inputs); biomass fuels are memo whatever their category.
Factors are resolved once per distinct (material, site, year, unit) and spread to rows by integer
codes, so the per-row work is a gather and a multiply (no Python per row); aggregation is a bincount.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cms_workflows.accounting import units
from cms_workflows.accounting.factors import FactorLibrary, MissingFactor, categories
from cms_workflows.core.errors import ValidationFailed, problem

# results carry the material (source) so that emissions can be ranked by fuel/material (issue 15, R-6.2.3 b)
KEY_COLUMNS = ["site", "production_unit", "facility", "category", "material", "period"]
INPUT_COLUMNS = KEY_COLUMNS + ["quantity", "unit"]
PURITY_COLUMN = "purity"  # optional: the row's own value, else the plan line's default (filled by the caller)
LEVELS = {"enterprise": [], "site": ["site"], "production_unit": ["site", "production_unit"],
          "facility": ["site", "production_unit", "facility"], "category": ["category"]}


@dataclass
class Calculation:
    results: pd.DataFrame  # one row per site/production unit/facility/category/material/period
    factors_used: dict = field(default_factory=dict)  # "material|site|year|unit" -> ef and its sources

    @property
    def total(self) -> float:
        return float(self.results["tco2e"].sum())


def _as_category(s: pd.Series) -> pd.Series:
    return s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("string").astype("category")


DENSE_LIMIT = 1 << 24  # key spaces up to 16M cells are counted in a dense array instead of hashed


def _mixed_key(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """One int64 per row from several small code arrays (in place: no temporaries per column)."""
    key = codes[0].astype(np.int64)
    for c, n in zip(codes[1:], sizes[1:]):
        key *= max(n, 1)
        key += c
    return key


def _decode(key: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out = []
    for n in reversed(sizes):
        n = max(n, 1)
        out.append(key % n)
        key = key // n
    return out[::-1]


def _distinct(key: np.ndarray, space: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Sorted distinct keys; with a dense key space the rows need no group index at all (None)."""
    if space <= DENSE_LIMIT:
        return None, np.flatnonzero(np.bincount(key, minlength=space))
    group, uniques = pd.factorize(key, sort=True)
    return group, np.asarray(uniques)


def _sorted_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes that follow the categories' lexical order (so results come out sorted without a sort)."""
    cats = np.asarray(s.cat.categories.astype(str))
    codes = s.cat.codes.to_numpy()
    order = np.argsort(cats, kind="stable")
    if (order == np.arange(len(cats))).all():
        return codes, cats
    rank = np.empty(len(cats), dtype=np.int64)
    rank[order] = np.arange(len(cats))
    return rank[codes], cats[order]


def calculate(activity: pd.DataFrame, library: FactorLibrary) -> Calculation:
    missing = [c for c in INPUT_COLUMNS if c not in activity.columns]
    if missing:
        raise ValidationFailed("accounting.missing_columns",
                               problems=[problem(c, "accounting.problem.column_missing") for c in missing])
    cols = {c: _as_category(activity[c]) for c in ("site", "production_unit", "facility", "category", "period", "material", "unit")}
    q = activity["quantity"]
    qty = q.to_numpy(dtype=np.float64) if pd.api.types.is_float_dtype(q.dtype) else \
        pd.to_numeric(q, errors="coerce").to_numpy(dtype=np.float64)
    problems = []
    for name, s in cols.items():
        if (s.cat.codes.to_numpy() < 0).any():
            problems.append(problem(name, "accounting.problem.required"))
    if np.isnan(qty).any():
        problems.append(problem("quantity", "accounting.problem.not_a_number", value=""))
    cats = categories()
    unknown_cats = [c for c in cols["category"].cat.categories if c not in cats]
    problems += [problem("category", "accounting.problem.unknown_category", category=c) for c in unknown_cats]
    if problems:
        raise ValidationFailed("accounting.invalid_activity", problems=problems)

    # per period category: its year (periods are YYYY-MM); the factor key holds the period itself, so no
    # per-row year array is built, and factors are resolved once per year through a small cache
    period_cats = cols["period"].cat.categories
    period_year = [int(str(p)[:4]) for p in period_cats]

    mat, site, unit, cat = cols["material"], cols["site"], cols["unit"], cols["category"]
    # category is part of the factor key so that sign (exports, recovery) and counted/memo ride on one gather
    fcodes = [cat.cat.codes.to_numpy(), mat.cat.codes.to_numpy(), site.cat.codes.to_numpy(),
              unit.cat.codes.to_numpy(), cols["period"].cat.codes.to_numpy()]
    fsizes = [len(cat.cat.categories), len(mat.cat.categories), len(site.cat.categories), len(unit.cat.categories),
              len(period_cats)]
    fspace = int(np.prod([max(n, 1) for n in fsizes], dtype=np.float64))
    fkey = _mixed_key(fcodes, fsizes)
    inverse, uniques = _distinct(fkey, fspace)
    ef_unique, counted_unique, purity_unique, used, factor_problems = _resolve_factors(
        library, cats, [cat, mat, site, cols["unit"]], period_year, uniques, fsizes)
    if factor_problems:
        raise ValidationFailed("accounting.missing_factor", problems=factor_problems)
    if inverse is None:  # dense: spread the factors over the key space and gather by key directly
        ef_dense = np.zeros(fspace)
        ef_dense[uniques] = ef_unique
        emissions = qty * ef_dense[fkey]
        memo_rows = None if counted_unique.all() else np.isin(fkey, uniques[~counted_unique])
    else:
        emissions = qty * ef_unique[inverse]
        memo_rows = None if counted_unique.all() else np.isin(inverse, np.flatnonzero(~counted_unique))
    purity = _purity(activity)
    if purity is not None:
        given = ~np.isnan(purity)
        takes = np.isin(fkey, uniques[purity_unique]) if inverse is None else np.isin(inverse, np.flatnonzero(purity_unique))
        _check_purity(purity, given, takes, mat)
        emissions *= np.where(given, purity, 1.0)
    del fkey

    # aggregate: one integer key over the six output columns, counted densely
    sorted_cols = [_sorted_codes(cols[c]) for c in KEY_COLUMNS]
    asizes = [len(cats_) for _codes, cats_ in sorted_cols]
    space = int(np.prod([max(n, 1) for n in asizes], dtype=np.float64))
    akey = _mixed_key([codes for codes, _c in sorted_cols], asizes)
    group, keys = _distinct(akey, space)
    n = len(keys)

    def sums(weights: np.ndarray) -> np.ndarray:
        if group is None:
            return np.bincount(akey, weights=weights, minlength=space)[keys]
        return np.bincount(group, weights=weights, minlength=n)

    if memo_rows is None:
        total, memo = sums(emissions), np.zeros(n)
    else:
        total = sums(np.where(memo_rows, 0.0, emissions))
        memo = sums(np.where(memo_rows, emissions, 0.0))
    decoded = _decode(keys, asizes)
    results = pd.DataFrame({c: cats_[d] for c, (_codes, cats_), d in zip(KEY_COLUMNS, sorted_cols, decoded)})
    results["tco2e"] = total
    results["memo_tco2e"] = memo  # biogenic CO2 and product embodied carbon: reported, not added (Annex C 特殊排放)
    return Calculation(results, used)


def _resolve_factors(library: FactorLibrary, cats: dict, columns: list[pd.Series], period_year: list[int],
                     uniques: np.ndarray, sizes: list[int]):
    """Per distinct (category, material, site, unit, period) key: the signed factor, whether it counts (a
    biomass fuel never does) and whether a purity applies; each (material, site, year, unit) is resolved once.
    Missing factors are collected, not raised."""
    cat, mat, site, unit = (c.cat.categories for c in columns)
    ef_unique = np.empty(len(uniques), dtype=np.float64)
    counted_unique = np.empty(len(uniques), dtype=bool)
    purity_unique = np.zeros(len(uniques), dtype=bool)
    used: dict[str, dict] = {}
    factor_problems = []
    resolved: dict[tuple, object] = {}
    for i, (c, m, s_, u, per) in enumerate(zip(*_decode(np.asarray(uniques), sizes))):
        category = cats[str(cat[c])]
        material, site_code = str(mat[m]), str(site[s_])
        unit_code, year = units.normalize(unit[u]), period_year[per]
        key = (material, site_code, year, unit_code)
        if key not in resolved:
            try:
                if unit_code is None:
                    resolved[key] = _factor_problem("unit", "accounting.problem.factor.unit", material, year,
                                                    site_code, unit=str(unit[u]))
                else:
                    resolved[key] = library.resolve(material, site_code, year, unit_code)
            except MissingFactor as e:
                resolved[key] = _factor_problem("factor", e.key, material, year, site_code, **e.params)
            except units.UnitError:
                resolved[key] = _factor_problem("unit", "accounting.problem.factor.unit", material, year, site_code,
                                                unit=str(unit[u]))
            if isinstance(resolved[key], dict):
                factor_problems.append(resolved[key])
        r = resolved[key]
        if isinstance(r, dict):
            continue
        ef_unique[i] = r.ef * category["sign"]
        counted_unique[i] = category["counted"] and not r.memo
        purity_unique[i] = r.takes_purity
        used[f"{material}|{site_code}|{year}|{unit_code}"] = {"ef": r.ef, **r.trace, **({"memo": True} if r.memo else {})}
    return ef_unique, counted_unique, purity_unique, used, factor_problems


def with_plan_purity(activity: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """The activity frame with each row's purity: its own when given, else its plan line's default
    (`plan`: site, facility, material, purity), else empty (= 1). Plan lines without a purity add nothing."""
    defaults = plan.loc[plan[PURITY_COLUMN].notna(), ["site", "facility", "material", PURITY_COLUMN]]
    own = activity[PURITY_COLUMN] if PURITY_COLUMN in activity.columns else pd.Series(np.nan, index=activity.index)
    if defaults.empty:
        return activity.assign(**{PURITY_COLUMN: own})
    keys = ["site", "facility", "material"]
    joined = activity[keys].astype(str).merge(defaults.astype({k: str for k in keys}), on=keys, how="left")
    fallback = pd.Series(joined[PURITY_COLUMN].to_numpy(dtype=np.float64), index=activity.index)
    return activity.assign(**{PURITY_COLUMN: pd.to_numeric(own, errors="coerce").fillna(fallback)})


def _purity(activity: pd.DataFrame) -> np.ndarray | None:
    """The rows' purity as floats (NaN where none is given), or None when no row gives one."""
    if PURITY_COLUMN not in activity.columns:
        return None
    values = pd.to_numeric(activity[PURITY_COLUMN], errors="coerce").to_numpy(dtype=np.float64)
    text = activity[PURITY_COLUMN]
    unreadable = np.isnan(values) & text.notna().to_numpy() & (text.astype("string").str.strip() != "").fillna(False).to_numpy()
    if unreadable.any():
        raise ValidationFailed("accounting.invalid_activity", problems=[
            problem(PURITY_COLUMN, "accounting.problem.not_a_number", value=str(text[unreadable].iloc[0]))])
    return None if np.isnan(values).all() else values


def _check_purity(purity: np.ndarray, given: np.ndarray, takes: np.ndarray, material: pd.Series) -> None:
    """A purity is a fraction in (0, 1] (95 % is 0.95), and only for carbonates, CO2 and per-unit inputs:
    on a fuel, electricity or gas row it would silently scale a factor that already describes the fuel."""
    problems = []
    bad = given & ~((purity > 0) & (purity <= 1))
    if bad.any():
        problems.append(problem(PURITY_COLUMN, "accounting.problem.purity_range", value=f"{purity[bad][0]:g}",
                                rows=int(bad.sum())))
    misplaced = given & ~takes
    if misplaced.any():
        names = sorted({str(m) for m in material[misplaced]})
        problems.append(problem(PURITY_COLUMN, "accounting.problem.purity_not_applicable", materials=", ".join(names)))
    if problems:
        raise ValidationFailed("accounting.invalid_activity", problems=problems)


def _factor_problem(fld: str, key: str, material: str, year: int, site: str, **params) -> dict:
    """A missing factor, named by fuel/material, year and site (also as fields, for the report's columns)."""
    return {**problem(fld, key, material=material, year=year, site=site, **params),
            "material": material, "year": year, "site": site}


def rollup(results: pd.DataFrame, level: str = "enterprise", by: str = "month") -> pd.DataFrame:
    """Totals at a level (enterprise, site, production_unit, facility, category) per month or year."""
    keys = list(LEVELS[level])
    frame = results.assign(year=results["period"].str[:4])
    time_key = "period" if by == "month" else "year"
    out = frame.groupby(keys + [time_key], sort=True, observed=True)[["tco2e", "memo_tco2e"]].sum().reset_index()
    return out


def intensity(results: pd.DataFrame, output: pd.DataFrame) -> pd.DataFrame:
    """Annex F intensities per site and year: tCO2e per product tonne and per 10,000 CNY output value.
    `output` has site, period, product_t, value_10k_cny."""
    em = results.assign(year=results["period"].str[:4]).groupby(["site", "year"])["tco2e"].sum()
    # an output value not given stays empty (min_count): no value intensity rather than a division by zero
    out = output.assign(year=output["period"].str[:4]).groupby(["site", "year"])[["product_t", "value_10k_cny"]] \
        .sum(min_count=1)
    joined = out.join(em, how="left").fillna({"tco2e": 0.0})
    joined["tco2e_per_t"] = joined["tco2e"] / joined["product_t"].where(joined["product_t"] > 0)
    joined["tco2e_per_10k_cny"] = joined["tco2e"] / joined["value_10k_cny"].where(joined["value_10k_cny"] > 0)
    return joined.reset_index()
