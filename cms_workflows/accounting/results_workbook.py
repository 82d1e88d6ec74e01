"""The results workbook a manager reads (issue 15, item 11; R-9.1 reporting, R-7.5 documented information).

One .xlsx of a results frame (a run's results or the figures of record): a summary (total, per site, per
category, memo items apart), then by site, by category, by month (site × month), by facility, by source
(material, when the results record it) and an About sheet saying what the figures are. Headers, sheet and
category names in the reader's language; figures rounded to the reporting precision but kept as numbers
with a number format; frozen headers and fitted widths; every cell written by core.exports (never a formula).

Reporting precision: no setting or reference table names one, so tCO2e are shown to 2 decimals (the
precision of published GB/T 32150 reports and of the CLI's screen table) — `DECIMALS`, stated on the About
sheet. Totals are summed before rounding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from cms_workflows.core.exports import Sheet, workbook_bytes

DECIMALS = 2
TONNES = "#,##0.00"  # matches DECIMALS
SHARE = "0.0%"


@dataclass(frozen=True)
class Title:
    """What the workbook is of: the period range, the run (None: the figures of record) and the company."""

    first: str
    last: str
    run_id: int | None = None
    company: str = ""
    generated_at: datetime | None = None


def rounded(value: float) -> float:
    """A tonne figure at the reporting precision, half up (as a hand calculation rounds)."""
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-DECIMALS), rounding=ROUND_HALF_UP))


class _Words:
    """The workbook's texts in one locale."""

    def __init__(self, locale: str) -> None:
        from cms_workflows.accounting.names import category_names, material_names

        self.locale = locale
        self.categories = category_names(locale)  # a workbook needs no font to speak Chinese
        self.materials = material_names(locale)

    def __call__(self, key: str, **params) -> str:
        from cms_workflows.core.i18n import t

        return t(f"accounting.workbook.{key}", locale=self.locale, **params)

    def category(self, code: str) -> str:
        return self.categories.get(code, code)

    def material(self, code) -> str:
        return self.materials.get(code, code) if code else self("no_material")


def _share(part: float, total: float) -> float | None:
    return round(part / total, 4) if total else None


def _sums(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.groupby(keys, sort=True, observed=True, dropna=False)[["tco2e", "memo_tco2e"]].sum().reset_index()


def _summary(frame: pd.DataFrame, w: _Words) -> Sheet:
    total = float(frame["tco2e"].sum())
    rows: list[list] = [[w("group.total"), w("total"), rounded(total), _share(total, total)]]
    for r in _sums(frame, ["site"]).itertuples(index=False):
        rows.append([w("group.site"), str(r.site), rounded(r.tco2e), _share(r.tco2e, total)])
    for r in _sums(frame, ["category"]).sort_values("tco2e", ascending=False).itertuples(index=False):
        rows.append([w("group.category"), w.category(str(r.category)), rounded(r.tco2e), _share(r.tco2e, total)])
    rows.append([w("group.memo"), w("memo_total"), rounded(float(frame["memo_tco2e"].sum())), None])
    return Sheet(w("sheet.summary"), [w("col.group"), w("col.name"), w("col.emissions"), w("col.share")], rows,
                 {2: TONNES, 3: SHARE}, bold_rows=frozenset({0}))


def _table(name: str, header: list[str], rows: list[list], w: _Words, first_numeric: int) -> Sheet:
    """A sheet of rows with emissions, memo and share after `first_numeric` text columns, and a total row."""
    formats = {first_numeric: TONNES, first_numeric + 1: TONNES, first_numeric + 2: SHARE}
    return Sheet(name, header, rows, formats, bold_rows=frozenset({len(rows) - 1}))


def _total_row(frame: pd.DataFrame, w: _Words, text_columns: int) -> list:
    blanks = [None] * (text_columns - 1)
    return [w("total"), *blanks, rounded(frame["tco2e"].sum()), rounded(frame["memo_tco2e"].sum()),
            1.0 if frame["tco2e"].sum() else None]


def _by_site(frame: pd.DataFrame, w: _Words) -> Sheet:
    total = float(frame["tco2e"].sum())
    rows = [[str(r.site), rounded(r.tco2e), rounded(r.memo_tco2e), _share(r.tco2e, total)]
            for r in _sums(frame, ["site"]).itertuples(index=False)]
    header = [w("col.site"), w("col.emissions"), w("col.memo"), w("col.share")]
    return _table(w("sheet.by_site"), header, [*rows, _total_row(frame, w, 1)], w, 1)


def _by_category(frame: pd.DataFrame, w: _Words) -> Sheet:
    total = float(frame["tco2e"].sum())
    sums = _sums(frame, ["category"]).sort_values("tco2e", ascending=False)
    rows = [[w.category(str(r.category)), str(r.category), rounded(r.tco2e), rounded(r.memo_tco2e), _share(r.tco2e, total)]
            for r in sums.itertuples(index=False)]
    header = [w("col.category"), w("col.category_code"), w("col.emissions"), w("col.memo"), w("col.share")]
    return _table(w("sheet.by_category"), header, [*rows, _total_row(frame, w, 2)], w, 2)


def _by_month(frame: pd.DataFrame, w: _Words) -> Sheet:
    """Months down, sites across, a total column and a total row (emissions only; memo items are on the others)."""
    pivot = frame.pivot_table(index="period", columns="site", values="tco2e", aggfunc="sum", fill_value=0.0,
                              observed=True) if len(frame) else pd.DataFrame()
    sites = [str(s) for s in pivot.columns]
    rows = [[str(period), *(rounded(v) for v in values), rounded(sum(values))]
            for period, values in zip(pivot.index, pivot.to_numpy().tolist())]
    rows.append([w("total"), *(rounded(pivot[s].sum()) for s in pivot.columns), rounded(frame["tco2e"].sum())])
    header = [w("col.month"), *(w("col.site_emissions", site=s) for s in sites), w("col.total_emissions")]
    formats = {i: TONNES for i in range(1, len(header))}
    return Sheet(w("sheet.by_month"), header, rows, formats, freeze="B2", bold_rows=frozenset({len(rows) - 1}))


def _by_facility(frame: pd.DataFrame, w: _Words) -> Sheet:
    """Largest first within each site (the facilities to act on, R-6.2.3)."""
    total = float(frame["tco2e"].sum())
    sums = _sums(frame, ["site", "production_unit", "facility", "category"]) \
        .sort_values(["site", "tco2e"], ascending=[True, False], kind="stable")
    rows = [[str(r.site), str(r.production_unit), str(r.facility), w.category(str(r.category)), rounded(r.tco2e),
             rounded(r.memo_tco2e), _share(r.tco2e, total)] for r in sums.itertuples(index=False)]
    header = [w("col.site"), w("col.production_unit"), w("col.facility"), w("col.category"), w("col.emissions"),
              w("col.memo"), w("col.share")]
    return _table(w("sheet.by_facility"), header, [*rows, _total_row(frame, w, 4)], w, 4)


def has_sources(frame: pd.DataFrame) -> bool:
    """Whether the results record their source (material): not for runs made before it was stored."""
    return "material" in frame.columns and bool(frame["material"].notna().any())


def _by_source(frame: pd.DataFrame, w: _Words) -> Sheet:
    """Per material (ranked), with its category; rows of earlier runs without one as 'not recorded'."""
    total = float(frame["tco2e"].sum())
    material = frame["material"].astype(object)
    frame = frame.assign(material=material.where(material.notna() & (material != ""), ""))
    sums = _sums(frame, ["material", "category"]).sort_values("tco2e", ascending=False, kind="stable")
    rows = [[w.material(r.material), str(r.material), w.category(str(r.category)), rounded(r.tco2e),
             rounded(r.memo_tco2e), _share(r.tco2e, total)] for r in sums.itertuples(index=False)]
    header = [w("col.material"), w("col.material_code"), w("col.category"), w("col.emissions"), w("col.memo"),
              w("col.share")]
    return _table(w("sheet.by_source"), header, [*rows, _total_row(frame, w, 3)], w, 3)


def _about(frame: pd.DataFrame, title: Title, w: _Words) -> Sheet:
    when = title.generated_at or datetime.now().astimezone()
    rows: list[list] = [
        [w("about.company"), title.company or None],
        [w("about.period"), w("about.period_value", first=title.first, last=title.last)],
        [w("about.source"), w("about.run", run_id=title.run_id) if title.run_id is not None else w("about.official")],
        [w("about.sites"), ", ".join(sorted(str(s) for s in frame["site"].unique())) if len(frame) else None],
        [w("about.generated_at"), when.replace(microsecond=0).isoformat(sep=" ")],
        [w("about.unit"), w("about.unit_value")],
        [w("about.rounding"), w("about.rounding_value", decimals=DECIMALS)],
        [w("about.memo_note"), w("about.memo_value")],
        [w("about.sign_note"), w("about.sign_value")],
        [w("about.source_note"), w("about.source_value") if has_sources(frame) else w("about.no_source_value")],
    ]
    return Sheet(w("sheet.about"), [w("col.item"), w("col.value")], rows)


def build(frame: pd.DataFrame, locale: str | None, title: Title) -> bytes:
    """The workbook of a results frame (site, production_unit, facility, category, [material,] period,
    tco2e, memo_tco2e) in `locale`, as .xlsx bytes."""
    from cms_workflows.core.i18n import normalize

    w = _Words(normalize(locale))
    sheets = [_summary(frame, w), _by_site(frame, w), _by_category(frame, w), _by_month(frame, w),
              _by_facility(frame, w)]
    if has_sources(frame):
        sheets.append(_by_source(frame, w))
    sheets.append(_about(frame, title, w))
    return workbook_bytes(sheets)


def for_request(uow, username: str, *, run_id: int | None = None, first: str | None = None,
                last: str | None = None, site: str | None = None, locale: str | None = None,
                company: str | None = None) -> bytes:
    """The workbook of a run's results or of the figures of record over a period range, as the user may read them."""
    from cms_workflows.accounting import queries as q
    from cms_workflows.core.errors import ValidationFailed, problem

    if run_id is None and (first is None or last is None):
        raise ValidationFailed("accounting.bad_period", problems=[problem("from/to", "accounting.problem.period_or_run")])
    frame = q.results_for(uow, username, run_id, first, last, site)  # the permission check
    if run_id is not None:
        run = q.get_run(uow, run_id)
        first, last = run.first_period, run.last_period
    company = uow.settings.company_name.strip() if company is None else company
    when = uow.clock.now().astimezone(uow.clock.zone)  # the installation's local time
    return build(frame, locale, Title(first=first, last=last, run_id=run_id, company=company, generated_at=when))
