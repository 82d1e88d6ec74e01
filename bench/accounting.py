"""Accounting benchmarks (issue 5).

1. Calculation: N generated activity rows (default 10,000,000) through the engine
   (cms_workflows.accounting.calculation.calculate) vs a minimal numpy implementation of the same formula
   (factor per material gathered by integer code, multiply, bincount by output key). Goal: within 2x.
2. Import: a 1,000,000-row CSV through the importer (parse + full row/field validation) vs bare
   pandas.read_csv of the same file. Goal: within 3x.

Medians of --repeats runs; peak memory from tracemalloc (one extra, untimed run each) and the process
peak RSS. Run: python bench/accounting.py [--rows N] [--import-rows N] [--repeats R]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from cms_workflows.accounting import importing
from cms_workflows.accounting.calculation import KEY_COLUMNS, calculate
from cms_workflows.accounting.factors import FactorLibrary, categories

MATERIALS = [("stationary_combustion", "natural_gas", "10^4Nm3"), ("stationary_combustion", "bituminous_coal", "t"),
             ("mobile_combustion", "diesel", "t"), ("purchased_electricity", "electricity", "MWh"),
             ("process", "limestone_caco3", "t"), ("fugitive", "sf6", "kg"), ("purchased_heat", "heat", "GJ"),
             ("exported_electricity", "electricity", "kWh")]


def generate(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows and, for the minimal implementation, each row's index into MATERIALS."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(MATERIALS), n)
    sites = [f"HN{i:02d}" for i in range(1, 21)]
    site = rng.integers(0, len(sites), n)
    facility = rng.integers(0, 50, n)
    def from_codes(codes, values):
        uniq = list(dict.fromkeys(values))
        remap = np.array([uniq.index(v) for v in values])
        return pd.Categorical.from_codes(remap[codes], categories=uniq)
    periods = [f"2023-{m:02d}" for m in range(1, 13)]
    return pd.DataFrame({
        "site": pd.Categorical.from_codes(site, categories=sites),
        "production_unit": pd.Categorical.from_codes(site * 0 + (facility // 10), categories=[f"U{i}" for i in range(5)]),
        "facility": pd.Categorical.from_codes(facility, categories=[f"F{i:03d}" for i in range(50)]),
        "category": from_codes(kind, [m[0] for m in MATERIALS]),
        "material": from_codes(kind, [m[1] for m in MATERIALS]),
        "period": pd.Categorical.from_codes(rng.integers(0, 12, n), categories=periods),
        "quantity": rng.random(n) * 100.0,
        "unit": from_codes(kind, [m[2] for m in MATERIALS]),
    }), kind


def minimal(frame: pd.DataFrame, ef_by_kind: np.ndarray, kind: np.ndarray) -> pd.DataFrame:
    """The same formula with no checks: emissions = quantity x EF x sign, summed per output key."""
    e = frame["quantity"].to_numpy() * ef_by_kind[kind]
    codes = [frame[c].cat.codes.to_numpy(np.int64) for c in KEY_COLUMNS]
    sizes = [len(frame[c].cat.categories) for c in KEY_COLUMNS]
    key = np.zeros(len(frame), dtype=np.int64)
    for c, n in zip(codes, sizes):
        key = key * n + c
    space = int(np.prod(sizes))
    sums = np.bincount(key, weights=e, minlength=space)  # FACTS.md: bincount on a combined integer key
    keys = np.flatnonzero(np.bincount(key, minlength=space))
    return pd.DataFrame({"key": keys, "tco2e": sums[keys]})


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def bench_calculation(n: int, repeats: int) -> None:
    print(f"== calculation: {n:,} activity rows")
    frame, kind = generate(n)
    lib = FactorLibrary()
    cats = categories()
    # the minimal version gets its factors handed to it (resolution is not what it measures)
    ef_by_kind = np.array([lib.resolve(m, "HN01", 2023, u).ef * cats[c]["sign"] for c, m, u in MATERIALS])
    t_engine, calc = timed(lambda: calculate(frame, lib), repeats)
    t_min, mini = timed(lambda: minimal(frame, ef_by_kind, kind), repeats)
    assert abs(calc.total - mini["tco2e"].sum()) <= 1e-6 * abs(mini["tco2e"].sum()) + 1e-6, (calc.total, mini["tco2e"].sum())
    assert len(calc.results) == len(mini)
    print(f"engine   median {t_engine:7.3f} s   ({n / t_engine / 1e6:5.1f} M rows/s)  groups {len(calc.results):,}")
    print(f"minimal  median {t_min:7.3f} s   ({n / t_min / 1e6:5.1f} M rows/s)")
    print(f"ratio engine/minimal {t_engine / t_min:5.2f}x  (goal <= 2x)")
    print(f"peak traced memory: engine {peak_mb(lambda: calculate(frame, lib)):,.0f} MB, "
          f"minimal {peak_mb(lambda: minimal(frame, ef_by_kind, kind)):,.0f} MB, input frame "
          f"{frame.memory_usage(deep=True).sum() / 2**20:,.0f} MB")


def bench_import(n: int, repeats: int) -> None:
    print(f"== import: {n:,}-row CSV")
    # a realistic file: 20 sites x 200 facilities (one source each), monthly since 1990: no duplicate periods
    rng = np.random.default_rng(2)
    sites = [f"HN{i:02d}" for i in range(1, 21)]
    idx = np.arange(n)
    site, rest = idx % 20, idx // 20
    facility, month = rest % 200, rest // 200
    kind = facility % len(MATERIALS)
    frame = pd.DataFrame({
        "site": np.array(sites, dtype=object)[site],
        "production_unit": np.array([f"U{i}" for i in range(5)], dtype=object)[facility // 40],
        "facility": np.array([f"F{i:03d}" for i in range(200)], dtype=object)[facility],
        "category": np.array([m[0] for m in MATERIALS], dtype=object)[kind],
        "material": np.array([m[1] for m in MATERIALS], dtype=object)[kind],
        "period": np.array([f"{1990 + m // 12}-{m % 12 + 1:02d}" for m in range(int(month.max()) + 1)], dtype=object)[month],
        "quantity": (rng.random(n) * 100.0).round(3),
        "unit": np.array([m[2] for m in MATERIALS], dtype=object)[kind],
        "data_source": np.where(idx % 3 == 0, "invoice", "meter"),
        "evidence_ref": "",
    })
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "activity.csv"
        frame[importing.FIELDS].to_csv(path, index=False, encoding="utf-8-sig")
        size = path.stat().st_size
        facilities = {(s, f"F{i:03d}"): f"U{i // 40}" for s in sites for i in range(200)}
        ctx = importing.Context(sites=set(sites), facilities=facilities, materials=FactorLibrary().materials(),
                                categories=set(categories()))
        data = path.read_bytes()
        t_imp, parsed = timed(lambda: importing.parse(path.read_bytes(), path.name, ctx), repeats)
        t_csv, bare = timed(lambda: pd.read_csv(path), repeats)
        assert parsed.problems == [], parsed.problems[:3]
        assert len(parsed.frame) == len(bare) == n
        print(f"file {size / 2**20:,.0f} MB")
        print(f"importer (read + validate) median {t_imp:6.3f} s")
        print(f"pandas.read_csv            median {t_csv:6.3f} s")
        print(f"ratio importer/read_csv {t_imp / t_csv:5.2f}x  (goal <= 3x)")
        print(f"peak traced memory: importer {peak_mb(lambda: importing.parse(data, path.name, ctx)):,.0f} MB, "
              f"read_csv {peak_mb(lambda: pd.read_csv(path)):,.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--import-rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    bench_calculation(args.rows, args.repeats)
    bench_import(args.import_rows, args.repeats)
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
