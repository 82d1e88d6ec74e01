"""PNG charts for reports: monthly trend, category breakdown, emissions by source (material), Pareto.

Titles, axes, legends and category/material names are message keys and reference-data names in the
reader's language (`locale`, default the current user's); Chinese only when a CJK font is installed to
render it, else English (never tofu boxes). Each chart is built as a Figure first (`*_figure`, which tests
inspect) and every text of it is set in the locale's font family: the CJK font first for Chinese, DejaVu
Sans first for English with the CJK font behind it, so a Chinese facility name still renders.

matplotlib is imported on first drawing only: the names below are also what the results workbook uses,
and a command writing a workbook should not pay for matplotlib's start-up (issue 15, item 9)."""

from __future__ import annotations

import io
from functools import lru_cache

import pandas as pd

from cms_workflows.accounting import names as names_of

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN", "Droid Sans Fallback")
# file names of the same fonts, for a matplotlib font cache built before the font was installed
CJK_FILES = ("notosanscjk", "notosanssc", "sourcehansans", "wqy-zenhei", "wqy-microhei", "simhei", "msyh",
             "pingfang", "uming", "droidsansfallback")
LATIN_FONT = "DejaVu Sans"  # matplotlib's own: always there
def _new_figure():
    """A figure with its own Agg canvas: no pyplot, so no global figure registry and no global rcParams
    changed while the web app draws charts for several readers at once in threads."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((f for f in CJK_FONTS if f in installed), None)
    if found is None:  # a cache from before the font was installed: add the system's CJK files once
        for path in font_manager.findSystemFonts():
            if any(stem in path.lower().replace(" ", "") for stem in CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # an unreadable font file is no font
        installed = {f.name for f in font_manager.fontManager.ttflist}
        found = next((f for f in CJK_FONTS if f in installed), None)
    return found


def chart_locale(locale: str | None = None) -> str:
    """The chart's language: the reader's locale, or English when Chinese cannot be rendered."""
    from cms_workflows.core.i18n import normalize

    locale = normalize(locale)
    return locale if locale == "en" or cjk_font() else "en"


def font_families(locale: str | None = None) -> list[str]:
    """The font family chain of a chart in `locale` (first choice first; matplotlib falls back per glyph)."""
    cjk = cjk_font()
    if cjk is None:
        return [LATIN_FONT]
    return [LATIN_FONT, cjk] if chart_locale(locale) == "en" else [cjk, LATIN_FONT]


def _label(key: str, locale: str | None) -> str:
    from cms_workflows.core.i18n import t

    return t(f"accounting.chart.{key}", locale=chart_locale(locale))


def _text(key: str, locale: str | None) -> str:
    from cms_workflows.core.i18n import t

    return t(f"accounting.chart_text.{key}", locale=chart_locale(locale))


def _in_font(fig, locale: str | None):
    """Every text of the figure (titles, axes, ticks, legend) in the locale's family; ticks drawn later
    copy the first tick's font."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_fontfamily(font_families(locale))
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def trend_figure(results: pd.DataFrame, locale: str | None = None):
    """Monthly total emissions (tCO2e), one point per period."""
    s = results.groupby("period")["tco2e"].sum().sort_index()
    fig, ax = _new_figure()
    ax.plot(list(s.index), s.to_numpy(), marker="o", label=_text("total", locale))
    ax.set_title(_label("monthly_trend", locale))
    ax.set_xlabel(_text("month_axis", locale))
    ax.set_ylabel(_label("emissions_axis", locale))
    ax.tick_params(axis="x", rotation=45)
    ax.legend(loc="best")
    return _in_font(fig, locale)


def categories_figure(results: pd.DataFrame, locale: str | None = None, names: dict[str, str] | None = None):
    """Emissions per source category; `names` (code -> label) defaults to the reference data's names."""
    s = results.groupby("category")["tco2e"].sum().sort_values(ascending=False)
    # a caller's labels only where Chinese can be rendered (they may be Chinese)
    own = names_of.category_names(chart_locale(locale))
    names = {**own, **(names or {})} if cjk_font() else own
    fig, ax = _new_figure()
    ax.bar([names.get(c, c) for c in s.index], s.to_numpy())
    ax.set_title(_label("categories", locale))
    ax.set_xlabel(_text("category_axis", locale))
    ax.set_ylabel(_label("emissions_axis", locale))
    ax.tick_params(axis="x", rotation=30)
    return _in_font(fig, locale)


def sources_figure(results: pd.DataFrame, locale: str | None = None, top: int = 12):
    """Emissions per source (material), the largest `top`; rows without a material as 'not recorded'."""
    material = results["material"] if "material" in results.columns else pd.Series(None, index=results.index)
    frame = results.assign(material=material.astype(object).where(material.notna(), ""))
    s = frame.groupby("material")["tco2e"].sum().sort_values(ascending=False).head(top)
    names = names_of.material_names(chart_locale(locale))
    labels = [names.get(m, m) if m else _text("no_material", locale) for m in s.index]
    fig, ax = _new_figure()
    ax.bar(labels, s.to_numpy())
    ax.set_title(_text("sources", locale))
    ax.set_xlabel(_text("source_axis", locale))
    ax.set_ylabel(_label("emissions_axis", locale))
    ax.tick_params(axis="x", rotation=30)
    return _in_font(fig, locale)


def pareto_figure(table: pd.DataFrame, locale: str | None = None):
    """Facilities by emissions, major ones in red, with the cumulative share and a legend saying so."""
    from matplotlib.patches import Patch

    labels = [f"{s}/{f}" for s, f in zip(table["site"], table["facility"])]
    colors = ["#c0392b" if m else "#95a5a6" for m in table["major"]]
    fig, ax = _new_figure()
    ax.bar(labels, table["tco2e"].to_numpy(), color=colors)
    ax2 = ax.twinx()
    line = ax2.plot(labels, (table["cumulative_share"] * 100).to_numpy(), color="black", marker=".",
                    label=_label("cumulative_axis", locale))
    ax2.set_ylim(0, 105)
    ax2.set_ylabel(_label("cumulative_axis", locale))
    ax.set_title(_label("pareto", locale))
    ax.set_xlabel(_text("facility_axis", locale))
    ax.set_ylabel(_label("emissions_axis", locale))
    ax.tick_params(axis="x", rotation=45)
    ax.legend(handles=[Patch(color="#c0392b", label=_text("major", locale)),
                       Patch(color="#95a5a6", label=_text("other", locale)), *line], loc="center right")
    return _in_font(fig, locale)


def monthly_trend(results: pd.DataFrame, locale: str | None = None) -> bytes:
    return _png(trend_figure(results, locale))


def category_breakdown(results: pd.DataFrame, names: dict[str, str] | None = None, locale: str | None = None) -> bytes:
    """`names`: category code -> label; by default the reference data's names in the chart's language."""
    return _png(categories_figure(results, locale, names))


def source_breakdown(results: pd.DataFrame, locale: str | None = None) -> bytes:
    return _png(sources_figure(results, locale))


def pareto_chart(table: pd.DataFrame, locale: str | None = None) -> bytes:
    return _png(pareto_figure(table, locale))
