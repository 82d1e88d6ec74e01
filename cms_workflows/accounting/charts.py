"""PNG charts for reports: monthly trend, category breakdown, Pareto. Agg backend (no display).
Titles, axes and category names are message keys and reference-data names in the reader's language;
Chinese only when a CJK font is installed to render it, else English (never tofu boxes)."""

from __future__ import annotations

import io
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN", "Droid Sans Fallback")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FONTS if f in installed), None)


def _locale() -> str:
    """The reader's locale, or English when Chinese cannot be rendered."""
    from cms_workflows.core.i18n import normalize

    locale = normalize(None)
    return locale if locale == "en" or cjk_font() else "en"


def _label(key: str) -> str:
    from cms_workflows.core.i18n import t

    return t(f"accounting.chart.{key}", locale=_locale())


def category_names() -> dict[str, str]:
    """Source category code -> its name in the chart's language (reference data, Annex C)."""
    from cms_workflows.accounting.factors import categories
    from cms_workflows.core.i18n import pick

    return {c: pick(v.get("name_zh"), v.get("name_en"), _locale()) for c, v in categories().items()}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _figure():
    font = cjk_font()
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(8, 4))
    if font:
        for item in [ax.title, ax.xaxis.label, ax.yaxis.label]:
            item.set_fontfamily(font)
    return fig, ax


def monthly_trend(results: pd.DataFrame) -> bytes:
    s = results.groupby("period")["tco2e"].sum().sort_index()
    fig, ax = _figure()
    ax.plot(list(s.index), s.to_numpy(), marker="o")
    ax.set_title(_label("monthly_trend"))
    ax.set_ylabel(_label("emissions_axis"))
    ax.tick_params(axis="x", rotation=45)
    return _png(fig)


def category_breakdown(results: pd.DataFrame, names: dict[str, str] | None = None) -> bytes:
    """`names`: category code -> label; by default the reference data's names in the chart's language."""
    s = results.groupby("category")["tco2e"].sum().sort_values(ascending=False)
    fig, ax = _figure()
    names = category_names() if names is None or not cjk_font() else names
    labels = [names.get(c, c) for c in s.index]
    ax.bar(labels, s.to_numpy())
    ax.set_title(_label("categories"))
    ax.set_ylabel(_label("emissions_axis"))
    ax.tick_params(axis="x", rotation=30)
    if cjk_font():
        for lab in ax.get_xticklabels():
            lab.set_fontfamily(cjk_font())
    return _png(fig)


def pareto_chart(table: pd.DataFrame) -> bytes:
    fig, ax = _figure()
    labels = [f"{s}/{f}" for s, f in zip(table["site"], table["facility"])]
    colors = ["#c0392b" if m else "#95a5a6" for m in table["major"]]
    ax.bar(labels, table["tco2e"].to_numpy(), color=colors)
    ax2 = ax.twinx()
    ax2.plot(labels, (table["cumulative_share"] * 100).to_numpy(), color="black", marker=".")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel(_label("cumulative_axis"))
    if cjk_font():
        ax2.yaxis.label.set_fontfamily(cjk_font())
    ax.set_title(_label("pareto"))
    ax.set_ylabel(_label("emissions_axis"))
    ax.tick_params(axis="x", rotation=45)
    return _png(fig)
