"""Accounting checked against the audit trail (`cms verify --deep`; X-5, R-6.3.2.4, X-1).

- every import batch has its event, and its file hash and row count are the ones recorded; every
  activity row belongs to such a batch; the rows of a batch hash to what its event recorded (events
  written since issue 14 carry `rows_sha256`) and as many were replaced as the event says;
- every calculation run has its event; the activity rows it saw (rebuilt from `max_import_id`) hash to
  the event's `input_hash`, its factor set (rebuilt from `max_override_id` and its options) to the
  event's `factor_version`, and its stored results equal a recomputation with the engine
  (`calculation.calculate`) within floating-point tolerance, their total the event's.

Activity rows, results and events are read once each (whole tables), and runs are recomputed from
frames sliced in memory: no query per row or per event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import select

from cms_workflows.accounting import CODE_VERSION, calculation
from cms_workflows.accounting.factors import Options
from cms_workflows.accounting.models import Activity, CalculationResult, CalculationRun, ImportBatch
from cms_workflows.accounting.queries import RESULT_COLUMNS, input_hash, library, run_sites, with_purity
from cms_workflows.core.errors import CmsError
from cms_workflows.core.i18n import Message
from cms_workflows.audit.deep import Disagreement, same_number, trail

# what a batch's rows hash over (replaced_by_import changes legitimately when a later file corrects a value)
ROW_COLUMNS = ["file_row", "site", "production_unit", "facility", "category", "material", "period", "quantity", "unit",
               "data_source", "evidence_ref"]
_EMPTY = hashlib.sha256(b"").hexdigest()  # the digest of a batch without rows
FRAME_COLUMNS = ["site", "production_unit", "facility", "category", "material", "period", "quantity", "unit",
                 "purity"]


def rows_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a batch's rows as stored (ROW_COLUMNS, in file order); floats written exactly."""
    canon = frame[ROW_COLUMNS].sort_values("file_row", kind="stable")
    return hashlib.sha256(canon.to_csv(index=False, header=False, float_format="%.17g").encode()).hexdigest()


def stored_rows_digest(uow, import_id: int) -> str:
    """The digest of the rows of one batch, read back as the database holds them (recorded at import)."""
    cols = [getattr(Activity, c) for c in ROW_COLUMNS]
    rows = uow.execute(select(*cols).where(Activity.import_id == import_id)).all()
    return rows_digest(pd.DataFrame(rows, columns=ROW_COLUMNS))


def _all_activity(uow) -> pd.DataFrame:
    """Every activity row, read once per deep check (both checks use it; kept on the read-only unit of work)."""
    if "deep.activity" not in uow.info:
        cols = ["id", "import_id", "replaced_by_import", *ROW_COLUMNS, "purity"]
        rows = uow.execute(select(*[getattr(Activity, c) for c in cols]).order_by(Activity.id)).all()
        uow.info["deep.activity"] = with_purity(uow, pd.DataFrame(rows, columns=cols))
    return uow.info["deep.activity"]


def _rows_digests(activity: pd.DataFrame) -> dict[int, str]:
    """`rows_digest` of every batch, from one CSV of the whole table cut at the batches' boundaries."""
    ordered = activity.sort_values(["import_id", "file_row"], kind="stable")
    lines = ordered[ROW_COLUMNS].to_csv(index=False, header=False, float_format="%.17g").splitlines(keepends=True)
    if len(lines) != len(ordered):  # a value with a line break: batch by batch
        return {int(i): rows_digest(g) for i, g in activity.groupby("import_id")}
    out, at = {}, 0
    for batch_id, n in ordered.groupby("import_id", sort=True).size().items():
        out[int(batch_id)] = hashlib.sha256("".join(lines[at:at + n]).encode()).hexdigest()
        at += n
    return out


def check_imports(uow) -> Iterator[Disagreement]:
    """Import batches and their activity rows against the import events."""
    events = {e.object_id: e for e in trail(uow, "accounting.import_batch.create", "acc_import")}
    batches = uow.execute(select(ImportBatch.id, ImportBatch.sha256, ImportBatch.rows, ImportBatch.filename)
                          .order_by(ImportBatch.id)).all()
    for batch_id, sha, rows, filename in batches:
        names = {"import_id": batch_id, "filename": filename}
        e = events.get(str(batch_id))
        if e is None:
            yield Disagreement("accounting.deep.import_without_event", {**names, "sha256": sha})
            return
        if e.payload.get("sha256") != sha:
            yield Disagreement("accounting.deep.import_hash", {**names, "stored": sha, "recorded": e.payload.get("sha256"),
                                                               "seq": e.seq})
            return
        if e.payload.get("rows") != rows:
            yield Disagreement("accounting.deep.import_count", {**names, "stored": rows, "recorded": e.payload.get("rows"),
                                                                "seq": e.seq})
            return
    known = {b[0] for b in batches}
    activity = _all_activity(uow)
    orphan = activity[~activity["import_id"].isin(known)]
    if len(orphan):
        r = orphan.iloc[0]
        yield Disagreement("accounting.deep.row_without_import", _row_names(r))
        return
    counts = activity.groupby("import_id").size()
    replaced = activity.dropna(subset=["replaced_by_import"]).groupby("replaced_by_import").size()
    digests = _rows_digests(activity)
    for batch_id, _sha, rows, filename in batches:
        e = events[str(batch_id)]
        names = {"import_id": batch_id, "filename": filename, "seq": e.seq}
        if int(counts.get(batch_id, 0)) != e.payload.get("rows"):
            yield Disagreement("accounting.deep.import_rows_stored", {**names, "stored": int(counts.get(batch_id, 0)),
                                                                      "recorded": e.payload.get("rows")})
            return
        if "replaced" in e.payload and int(replaced.get(batch_id, 0)) != e.payload["replaced"]:
            yield Disagreement("accounting.deep.import_replaced", {**names, "stored": int(replaced.get(batch_id, 0)),
                                                                   "recorded": e.payload["replaced"]})
            return
        recorded = e.payload.get("rows_sha256")  # only in events written since issue 14
        if recorded is not None and digests.get(batch_id, _EMPTY) != recorded:
            yield _changed_row(uow, batch_id, activity[activity["import_id"] == batch_id], names)
            return
    return {"accounting.deep.count_imports": len(batches), "accounting.deep.count_activity": len(activity)}


def _row_names(r) -> dict:
    return {"id": int(r["id"]), "import_id": int(r["import_id"]), "site": r["site"], "facility": r["facility"],
            "material": r["material"], "period": r["period"]}


def _changed_row(uow, batch_id: int, group: pd.DataFrame, names: dict) -> Disagreement:
    """A batch whose rows no longer hash as recorded: name the first row that differs from the stored file
    (whose hash the trail holds), or the batch when the file cannot be read back into rows."""
    try:
        original = _parse_stored(uow, batch_id)
    except Exception:  # noqa: BLE001 — only naming the row is lost; the disagreement itself stands
        original = None
    if original is not None:
        merged = group.merge(original, on="file_row", how="left", suffixes=("", "_file"))
        for f in ROW_COLUMNS[1:]:
            a, b = merged[f], merged[f"{f}_file"]
            differs = ~np.isclose(a.astype(float), b.astype(float), rtol=1e-12, atol=0) if f == "quantity" \
                else a.fillna("").astype(str) != b.fillna("").astype(str)
            if differs.any():
                r = merged[differs].iloc[0]
                return Disagreement("accounting.deep.row_differs", {**_row_names(r), "field": Message(f"accounting.deep.field.{f}"),
                                                                    "stored": r[f],
                                                                    "recorded": r[f"{f}_file"], "seq": names["seq"]})
    return Disagreement("accounting.deep.import_rows_changed", names)


def _parse_stored(uow, batch_id: int) -> pd.DataFrame:
    """The rows of the stored file of a batch, read as an import reads them; what counts as known is taken from
    the plan and the batch's rows (the plan may have changed since the import)."""
    from cms_workflows.accounting import importing
    from cms_workflows.accounting.factors import categories
    from cms_workflows.accounting.queries import plan

    sha, filename = uow.execute(select(ImportBatch.sha256, ImportBatch.filename).where(ImportBatch.id == batch_id)).one()
    rows = uow.execute(select(Activity.site, Activity.facility, Activity.production_unit)
                       .where(Activity.import_id == batch_id)).all()
    facilities = {(i.site, i.facility): i.production_unit for i in plan(uow)} | {(r[0], r[1]): r[2] for r in rows}
    ctx = importing.Context(sites={s for s, _f in facilities}, facilities=facilities, materials=library(uow).materials(),
                            categories=set(categories()))
    frame = importing.parse(uow.files.get(sha), filename, ctx).frame
    return frame.rename(columns={"_row": "file_row"}).assign(file_row=lambda f: f["file_row"].astype(int))[ROW_COLUMNS]


# ------------------------------------------------------------------ calculation runs
# Runs are checked together, not one after another: a nightly check over years of small monthly runs would
# otherwise spend its time in pandas' per-call overhead. The rows every run saw are selected with integer
# comparisons, hashed in one sorted CSV, and recomputed in one engine call per factor set, the run's id
# carried in the production unit (which the engine aggregates by and never resolves factors by).

_RUN_SEP = "\x1f"


def _frame_for(activity: pd.DataFrame, run) -> pd.DataFrame:
    """The activity rows one run saw, as `queries.activity_frame` read them then (the bench copies runs with it)."""
    return activity.iloc[_selected(_Columns(activity), run)][FRAME_COLUMNS].reset_index(drop=True)


class _Columns:
    """The activity table's selection columns as integer arrays (periods ranked, sites coded)."""

    def __init__(self, activity: pd.DataFrame) -> None:
        self.periods = np.sort(activity["period"].astype(str).unique())
        self.period = np.searchsorted(self.periods, activity["period"].astype(str).to_numpy())
        self.site_codes, self.sites = pd.factorize(activity["site"].astype(str))
        self.import_id = activity["import_id"].to_numpy(dtype=np.int64)
        replaced = pd.to_numeric(activity["replaced_by_import"], errors="coerce").to_numpy(dtype=float)
        self.replaced = np.nan_to_num(replaced, nan=np.inf)


def _selected(c: _Columns, run) -> np.ndarray:
    lo = np.searchsorted(c.periods, run.first_period, side="left")
    hi = np.searchsorted(c.periods, run.last_period, side="right")
    keep = (c.period >= lo) & (c.period < hi) & (c.import_id <= run.max_import_id) & (c.replaced > run.max_import_id)
    sites = run_sites(run)
    if sites:
        keep &= np.isin(c.site_codes, [i for i, s in enumerate(c.sites) if s in sites])
    return np.flatnonzero(keep)


def _input_hashes(activity: pd.DataFrame, picks: dict[int, np.ndarray]) -> dict[int, str]:
    """`queries.input_hash` of every run's rows, from one sorted CSV cut at the runs' boundaries."""
    purity = activity["purity"].to_numpy(dtype=np.float64)
    # a run with a purity hashes it (input_hash): run by run; the others in one CSV without the column
    out = {i: input_hash(activity.iloc[picks[i]][FRAME_COLUMNS]) for i in picks if (~np.isnan(purity[picks[i]])).any()}
    ids = [i for i in picks if i not in out]
    columns = FRAME_COLUMNS[:-1]
    rows = np.concatenate([picks[i] for i in ids]) if ids else np.array([], dtype=np.int64)
    big = activity.iloc[rows][columns].assign(_run=np.repeat(ids, [len(picks[i]) for i in ids]))
    big = big.sort_values(["_run", *columns], kind="stable")
    header = big.iloc[0:0][columns].to_csv(index=False)
    lines = big[columns].to_csv(index=False, header=False, float_format="%.17g").splitlines(keepends=True)
    if len(lines) != len(big):  # a value with a line break: hash run by run
        return {**out, **{i: input_hash(activity.iloc[picks[i]][columns]) for i in ids}}
    at = 0
    for i in ids:
        n = len(picks[i])
        out[i] = hashlib.sha256((header + "".join(lines[at:at + n])).encode()).hexdigest()
        at += n
    return out


def _run_problem(run, e, names: dict) -> Disagreement | None:
    """The run's row against its event's fields."""
    p = e.payload
    stored = {"first": run.first_period, "last": run.last_period, "sites": run.sites, "input_hash": run.input_hash,
              "factor_version": run.factor_version, "code_version": run.code_version}
    for f, value in stored.items():
        if f in p and p[f] != value:
            return Disagreement("accounting.deep.run_field", {**names, "field": Message("accounting.deep.field." + f),
                                                              "stored": value, "recorded": p[f]})
    if not same_number(run.total_tco2e, p.get("total_tco2e")):
        return Disagreement("accounting.deep.run_field", {**names, "field": Message("accounting.deep.field.total_tco2e"),
                                                          "stored": run.total_tco2e, "recorded": p.get("total_tco2e")})
    return None


def check_runs(uow) -> Iterator[Disagreement]:
    """Calculation runs against their events and against a recomputation from their inputs; of the runs that
    disagree, the earliest is named, with the first thing that differs (fields, inputs, factors, total, results)."""
    events = {e.object_id: e for e in trail(uow, "accounting.run.calculate", "acc_run")}
    runs = list(uow.scalars(select(CalculationRun).order_by(CalculationRun.id)))
    activity = _all_activity(uow)
    cols = ["run_id", *RESULT_COLUMNS]
    results = pd.DataFrame(uow.execute(select(*[getattr(CalculationResult, c) for c in cols])).all(), columns=cols)
    found: dict[int, Disagreement] = {}
    names = {}
    for run in runs:
        e = events.get(str(run.id))
        names[run.id] = {"run_id": run.id, "first": run.first_period, "last": run.last_period}
        if e is None:
            found[run.id] = Disagreement("accounting.deep.run_without_event", names[run.id])
            continue
        names[run.id]["seq"] = e.seq
        problem = _run_problem(run, e, names[run.id])
        if problem is not None:
            found[run.id] = problem
    columns = _Columns(activity)
    picks = {r.id: _selected(columns, r) for r in runs if r.id not in found}
    hashes = _input_hashes(activity, picks)
    totals = results.groupby("run_id")["tco2e"].sum()
    groups: dict[tuple, list] = {}
    for run in runs:
        if run.id in found:
            continue
        p = events[str(run.id)].payload
        if hashes[run.id] != p.get("input_hash"):
            found[run.id] = Disagreement("accounting.deep.run_inputs", {**names[run.id], "rows": len(picks[run.id])})
        elif not same_number(totals.get(run.id, 0.0), p.get("total_tco2e"), rel=1e-9, abs_=1e-6):
            found[run.id] = Disagreement("accounting.deep.run_result_total", {
                **names[run.id], "stored": float(totals.get(run.id, 0.0)), "recorded": p.get("total_tco2e")})
        elif p.get("code_version", CODE_VERSION) == CODE_VERSION:  # an earlier engine's formulas are not redone
            groups.setdefault((run.options, run.max_override_id), []).append(run)
    for (options, max_override_id), members in groups.items():
        lib = library(uow, Options(**json.loads(options)), max_override_id=max_override_id)
        for run in members:
            if lib.version() != events[str(run.id)].payload.get("factor_version"):
                found[run.id] = Disagreement("accounting.deep.run_factors", {
                    **names[run.id], "now": lib.version(), "recorded": events[str(run.id)].payload.get("factor_version")})
        members = [r for r in members if r.id not in found]
        found.update(_recompute(activity, picks, results, members, lib, names))
    if found:
        yield found[min(found)]
        return
    return {"accounting.deep.count_runs": len(runs), "accounting.deep.count_results": len(results)}


def _recompute(activity: pd.DataFrame, picks: dict, results: pd.DataFrame, runs: list, lib, names: dict) -> dict:
    """Recompute the runs sharing one factor set in one engine call; the runs whose results differ, each with its
    first differing result."""
    if not runs:
        return {}
    ids = [r.id for r in runs]
    frame = activity.iloc[np.concatenate([picks[i] for i in ids])][FRAME_COLUMNS]
    tags = pd.Series(np.repeat([f"{i}{_RUN_SEP}" for i in ids], [len(picks[i]) for i in ids]), index=frame.index)
    frame = frame.assign(production_unit=tags + frame["production_unit"].astype(str))
    try:
        now = calculation.calculate(frame.reset_index(drop=True), lib).results
    except CmsError:  # a factor missing now: the run cannot be redone with the factor set it names
        return {ids[0]: Disagreement("accounting.deep.run_not_recomputable", names[ids[0]])}
    split = now["production_unit"].astype(str).str.split(_RUN_SEP, n=1, expand=True)
    now = now.assign(run_id=split[0].astype(np.int64), production_unit=split[1])
    keys = ["run_id", *calculation.KEY_COLUMNS]
    stored = results[results["run_id"].isin(ids)]
    stored, now = _at_stored_granularity(stored, now, keys)
    merged = stored[keys + ["tco2e", "memo_tco2e"]].merge(
        now[keys + ["tco2e", "memo_tco2e"]].astype({k: str for k in calculation.KEY_COLUMNS}), on=keys, how="outer",
        suffixes=("", "_now"))
    bad = np.zeros(len(merged), dtype=bool)
    for f in ("tco2e", "memo_tco2e"):
        a, b = merged[f].to_numpy(dtype=float), merged[f"{f}_now"].to_numpy(dtype=float)
        bad |= ~np.isclose(np.nan_to_num(a, nan=np.inf), np.nan_to_num(b, nan=-np.inf), rtol=1e-9, atol=1e-9)
    out = {}
    for _i, r in merged[bad].sort_values(keys).drop_duplicates("run_id").iterrows():
        f = "tco2e" if not same_number(r["tco2e"], r["tco2e_now"]) else "memo_tco2e"
        out[int(r["run_id"])] = Disagreement("accounting.deep.run_result", {
            **names[int(r["run_id"])], "site": r["site"], "facility": r["facility"], "category": r["category"],
            "period": r["period"], "stored": "—" if pd.isna(r[f]) else float(r[f]),
            "recomputed": "—" if pd.isna(r[f"{f}_now"]) else float(r[f"{f}_now"])})
    return out


def _at_stored_granularity(stored: pd.DataFrame, now: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs stored before results carried the material (issue 15) hold NULL there: their recomputation is summed
    over materials, and both sides name the material "" so that they meet on the same keys."""
    legacy = stored.loc[stored["material"].isna(), "run_id"].unique()
    stored = stored.assign(material=stored["material"].fillna(""))
    if not len(legacy):
        return stored, now
    old = now["run_id"].isin(legacy)
    without = [k for k in keys if k != "material"]
    summed = now[old].astype({k: str for k in calculation.KEY_COLUMNS}).groupby(without, as_index=False, sort=False)[
        ["tco2e", "memo_tco2e"]].sum().assign(material="")
    return stored, pd.concat([now[~old], summed], ignore_index=True)
