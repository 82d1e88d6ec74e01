"""Plausibility of activity-data rows (issue 15, R-8.6, X-5): every comparison is made after converting to
the reference unit of the row's dimension (units.py), against the facility's history, the other months of
the same facility in the file, and the material's physical range (data/accounting/plausible_ranges.yaml).
A row REFUSE_RATIO× off, or out of range, is a slip until the user confirms it (`--accept-outliers` with a
reason, recorded in the import's event); a smaller deviation is a warning. Pure functions over a frame."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from cms_workflows.accounting import units
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.text import check_text, shown

REFUSE_RATIO = 100.0
MIN_NEIGHBOURS = 3  # the rows of a facility/material in a file needed to tell the odd one out
REASON_LIMIT = 2000


@lru_cache(maxsize=1)
def physical_ranges() -> dict:
    """data/accounting/plausible_ranges.yaml: the monthly maximum per material (and for energy units, and for
    gases without their own), each as (dimension, maximum in the dimension's reference unit, unit, maximum)."""
    import yaml

    data = yaml.safe_load((resources.files("cms_workflows") / "data" / "accounting" / "plausible_ranges.yaml")
                          .read_text(encoding="utf-8"))

    def entry(r: dict) -> tuple[str, float, str, float]:
        return units.dimension(r["unit"]), float(r["max"]) * units.to_reference(r["unit"]), r["unit"], float(r["max"])
    return {"materials": {m: entry(r) for m, r in data["materials"].items()}, "energy": entry(data["energy"]),
            "gases": entry(data["gases"])}


def magnitude(x: float) -> str:
    """A magnitude in a message: up to 4 significant digits, thousands separated (380,000; 0.0038)."""
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e15 or abs(x) < 1e-4):
        return f"{x:.3g}"
    return f"{float(f'{x:.4g}'):,}".removesuffix(".0")


def _times(ratio: float) -> str:
    """How far off, as a user reads it: 10,000× or 1/1,000×."""
    ratio = float(ratio)
    if not np.isfinite(ratio) or ratio <= 0 or ratio >= 1e15 or ratio <= 1e-15:
        return f"{ratio:.3g}×"
    return f"{magnitude(float(round(ratio)))}×" if ratio >= 1 else f"1/{magnitude(float(round(1 / ratio)))}×"


def check(out: pd.DataFrame, qty: np.ndarray, ctx, bad: np.ndarray, problems: list[dict],
          warnings: list[dict], limit: int) -> None:
    """Rows far from their facility's history, from the other months of the same facility in the file, or
    outside the material's physical range (issue 15, R-8.6). Every comparison is made in the reference unit
    of the row's dimension, so `380000 10^4Nm3` beside `38 10^4Nm3` history entered as `380000 Nm3` is seen.
    REFUSE_RATIO× off or out of range is a problem unless the row is confirmed in `ctx.accept_outliers` (then a
    warning naming who confirmed it is recorded); `ctx.outlier_ratio`× off is a warning."""
    unit_codes = out["unit"].astype(str).to_numpy()
    known = np.array([u in units.UNITS for u in unit_codes], dtype=bool)
    ok = known & ~bad & np.isfinite(qty)
    if not ok.any():
        return
    to_ref = np.array([units.to_reference(u) if u in units.UNITS else np.nan for u in unit_codes])
    dims = np.array([units.dimension(u) if u in units.UNITS else "" for u in unit_codes], dtype=object)
    ref = qty * to_ref
    rows = out["_row"].to_numpy()
    findings: dict[int, list[tuple[str, dict]]] = {}  # row index -> refusals
    soft: dict[int, tuple[str, dict]] = {}  # row index -> the one warning

    def unit_of(i) -> str:
        return unit_codes[i]

    def in_row_unit(i, reference_value: float) -> str:
        return magnitude(reference_value / to_ref[i])

    keys = pd.DataFrame({"site": out["site"].astype(str), "facility": out["facility"].astype(str),
                         "material": out["material"].astype(str), "dimension": dims})
    # 1. the facility's history (always: a warning; a refusal on an import)
    history = ctx.history
    if history is not None and len(history) and "dimension" not in history.columns:  # medians per unit label
        history = history[history["unit"].isin(units.UNITS)]
        history = history.assign(dimension=history["unit"].map(units.dimension),
                                 median=history["median"] * history["unit"].map(units.to_reference))
        history = history.groupby(["site", "facility", "material", "dimension"])["median"].median().reset_index()
    if history is not None and len(history):
        h = history.set_index(["site", "facility", "material", "dimension"])["median"]
        med = h.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = ref / med
        judged = ok & np.isfinite(med) & (med > 0) & (qty > 0)
        for i in np.flatnonzero(judged):
            r = ratio[i]
            params = {"value": magnitude(qty[i]), "unit": unit_of(i), "usual": in_row_unit(i, med[i]), "times": _times(r)}
            if ctx.plausibility and (r >= REFUSE_RATIO or r <= 1 / REFUSE_RATIO):
                findings.setdefault(i, []).append(("outlier_history", params))
            elif r >= ctx.outlier_ratio or r <= 1 / ctx.outlier_ratio:  # (the key's text predates units in it)
                soft[i] = ("far_from_usual", {"value": f"{params['value']} {params['unit']}",
                                              "usual": f"{params['usual']} {params['unit']}", "times": params["times"]})
    if not ctx.plausibility:
        _emit(findings, soft, rows, ctx, problems, warnings, limit)
        return
    # 2. the other months of the same facility and material in this file
    positive = ok & (qty > 0)
    if positive.sum() >= MIN_NEIGHBOURS:
        sub = keys[positive].assign(ref=ref[positive])
        grouped = sub.groupby(["site", "facility", "material", "dimension"], sort=False)["ref"]
        size = grouped.transform("size").to_numpy()
        median = grouped.transform("median").to_numpy()
        for j, i in enumerate(np.flatnonzero(positive)):
            if size[j] < MIN_NEIGHBOURS:
                continue
            r = ref[i] / median[j]
            params = {"value": magnitude(qty[i]), "unit": unit_of(i), "usual": in_row_unit(i, median[j]),
                      "times": _times(r), "count": int(size[j])}
            if r >= REFUSE_RATIO or r <= 1 / REFUSE_RATIO:
                findings.setdefault(i, []).append(("outlier_in_file", params))
            elif (r >= ctx.outlier_ratio or r <= 1 / ctx.outlier_ratio) and i not in soft:
                soft[i] = ("far_from_file", params)
    _out_of_range(out, qty, ref, dims, ok, unit_codes, ctx, findings)
    _emit(findings, soft, rows, ctx, problems, warnings, limit)
    # a confirmation must confirm something: a listed row without a refusal is a mistake in the list
    judged_rows = {int(rows[i]) for i in findings}
    idle = sorted(set(ctx.accept_outliers) - judged_rows - {int(r) for r in rows[bad]})
    for r in idle[:limit]:
        problems.append(problem("quantity", "accounting.problem.nothing_to_accept", row=r))
    if ctx.accept_outliers and findings and not ctx.accept_reason.strip():
        problems.append(problem("file", "accounting.problem.accept_reason_required", row="",
                                rows=", ".join(str(r) for r in sorted(ctx.accept_outliers))))


_ROW_LIST = re.compile(r"^\s*\d{1,7}(\s*-\s*\d{1,7})?(\s*[,，;；\s]\s*\d{1,7}(\s*-\s*\d{1,7})?)*\s*$")


def parse_rows(text: str | None) -> list[int]:
    """Row numbers as a user lists them (`12`, `5,12`, `20-22`): the file rows of --accept-outliers."""
    text = (text or "").strip()
    if not text:
        return []
    if not _ROW_LIST.match(text):
        raise ValidationFailed("accounting.invalid_accept_outliers", problems=[
            problem("accept_outliers", "accounting.problem.accept_rows_format", value=shown(text, 40))])
    out: set[int] = set()
    for part in re.split(r"\s*[,，;；\s]\s*", text):
        first, _, last = part.partition("-")
        lo, hi = int(first), int(last or first)
        if hi < lo or hi - lo > 1000:
            raise ValidationFailed("accounting.invalid_accept_outliers", problems=[
                problem("accept_outliers", "accounting.problem.accept_rows_format", value=shown(part, 40))])
        out.update(range(lo, hi + 1))
    return sorted(out)


def _out_of_range(out: pd.DataFrame, qty: np.ndarray, ref: np.ndarray, dims: np.ndarray, ok: np.ndarray,
                  unit_codes: np.ndarray, ctx, findings: dict) -> None:
    """Rows above their material's physical range (also on a first import, with no history, one row)."""
    ranges = physical_ranges()
    materials = out["material"].astype(str).to_numpy()
    for i in np.flatnonzero(ok):
        m = materials[i]
        rng = ranges["materials"].get(m)
        if dims[i] == "energy" and (rng is None or rng[0] != "energy"):
            rng = ranges["energy"]
        elif rng is None and ctx.materials.get(m, {}).get("method") == "gas":
            rng = ranges["gases"]
        if rng is None or rng[0] != dims[i] or ref[i] <= rng[1]:
            continue
        findings.setdefault(i, []).append(("outside_physical_range", {
            "value": magnitude(qty[i]), "unit": unit_codes[i], "material": m, "converted": magnitude(ref[i] / units.to_reference(rng[2])),
            "range_unit": rng[2], "max": magnitude(rng[3])}))


def _emit(findings: dict, soft: dict, rows: np.ndarray, ctx, problems: list[dict], warnings: list[dict],
          limit: int) -> None:
    for i in sorted(set(findings) | set(soft)):
        row = int(rows[i])
        if i in findings and row in ctx.accept_outliers:
            for key, params in findings[i]:  # confirmed: kept as a warning, so the run's approver sees it too
                warnings.append(problem("quantity", "accounting.problem.outlier_accepted", row=row,
                                        check=f"accounting.problem.{key}", reason=ctx.accept_reason.strip(), **params))
        elif i in findings:
            for key, params in findings[i][: max(0, limit - len(problems))]:
                problems.append(problem("quantity", f"accounting.problem.{key}", row=row, **params))
        else:
            key, params = soft[i]
            warnings.append(problem("quantity", f"accounting.problem.{key}", row=row, **params))




def outlier_rows(rows: list[int] | None, reason: str) -> tuple[frozenset[int], str]:
    """The rows a user confirms as correct although implausible, and why: row numbers ≥ 2 (row 1 is the
    header), a single-line reason of at most REASON_LIMIT characters."""
    listed = frozenset(int(r) for r in rows or ())
    text = (reason or "").strip()
    check_text("accounting.invalid_accept_outliers", reason=text)
    problems = [problem("accept_outliers", "accounting.problem.accept_row_number", row=r)
                for r in sorted(listed) if r < 2][:10]
    if len(text) > REASON_LIMIT:
        problems.append(problem("reason", "accounting.problem.too_long", length=len(text), limit=REASON_LIMIT))
    if problems:
        raise ValidationFailed("accounting.invalid_accept_outliers", problems=problems)
    return listed, text
