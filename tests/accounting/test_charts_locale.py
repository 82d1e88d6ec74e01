"""Charts in the reader's language (issue 15, item 11): titles, axes, legends, category and material names
from the locale files and reference data; Chinese set in an installed CJK font (the font matplotlib really
resolves for each text), never tofu; English when Chinese cannot be rendered."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from matplotlib import font_manager

from cms_workflows.accounting import charts
from cms_workflows.accounting.pareto import pareto
from cms_workflows.core.i18n import t

COLUMNS = ["site", "production_unit", "facility", "category", "material", "period", "tco2e", "memo_tco2e"]
RESULTS = pd.DataFrame([
    ("HN01", "U1", "锅炉1", "stationary_combustion", "natural_gas", "2023-01", 1078.6, 0.0),
    ("HN01", "U1", "锅炉1", "stationary_combustion", "natural_gas", "2023-02", 990.0, 0.0),
    ("HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-01", 530.6, 0.0),
    ("HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-02", 520.1, 0.0),
    ("HN02", "V1", "KILN1", "process", "limestone_caco3", "2023-01", 44.0, 0.0),
    ("HN02", "V1", "TRUCKS", "mobile_combustion", "diesel", "2023-02", 12.3, 0.0),
], columns=COLUMNS)

needs_cjk = pytest.mark.skipif(charts.cjk_font() is None, reason="no CJK font installed (scripts/test installs Noto CJK)")


def _texts(fig) -> dict[str, list]:
    """The figure's texts by role, after a draw (tick labels exist only then)."""
    fig.canvas.draw()
    ax = fig.axes[0]
    legends = [lg for a in fig.axes for lg in [a.get_legend()] if lg is not None]
    return {"title": [ax.title], "axes": [a.xaxis.label for a in fig.axes] + [a.yaxis.label for a in fig.axes],
            "ticks": [lab for lab in ax.get_xticklabels() if lab.get_text()],
            "legend": [x for lg in legends for x in lg.get_texts()]}


def _resolved_font(text) -> str:
    """The font file matplotlib draws this text with (its first family that is installed)."""
    return font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)


def _cjk_file() -> str:
    return font_manager.findfont(font_manager.FontProperties(family=charts.cjk_font()), fallback_to_default=False)


def _drawn_without_missing_glyphs(fig) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts._png(fig)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == []


@needs_cjk
def test_a_chinese_chart_speaks_chinese_in_the_cjk_font():
    cjk = _cjk_file()
    for fig, title, xlabel in [
        (charts.trend_figure(RESULTS, "zh-CN"), "月度碳排放趋势", "月份"),
        (charts.categories_figure(RESULTS, "zh-CN"), "排放源类别构成", "排放源类别"),
        (charts.sources_figure(RESULTS, "zh-CN"), "按排放源（物料）的排放量", "排放源（物料）"),
        (charts.pareto_figure(pareto(RESULTS), "zh-CN"), "主要排放设施（帕累托）", "场所/设施"),
    ]:
        texts = _texts(fig)
        assert texts["title"][0].get_text() == title
        assert texts["axes"][0].get_text() == xlabel and "排放量 tCO2e" in [a.get_text() for a in texts["axes"]]
        for role, items in texts.items():
            for item in items:
                assert _resolved_font(item) == cjk, (title, role, item.get_text(), _resolved_font(item))
        _drawn_without_missing_glyphs(fig)


@needs_cjk
def test_category_material_and_legend_texts_are_the_localized_names():
    categories = [x.get_text() for x in _texts(charts.categories_figure(RESULTS, "zh-CN"))["ticks"]]
    assert categories == ["固定燃烧源", "输入电力产生的排放", "生产过程排放源", "移动燃烧源"]  # largest first
    sources = [x.get_text() for x in _texts(charts.sources_figure(RESULTS, "zh-CN"))["ticks"]]
    assert sources == ["天然气", "电力", "石灰石 (CaCO3)", "柴油"]
    legend = [x.get_text() for x in _texts(charts.pareto_figure(pareto(RESULTS), "zh-CN"))["legend"]]
    assert legend == ["主要排放设施", "其他设施", "累计占比 %"]
    assert [x.get_text() for x in _texts(charts.trend_figure(RESULTS, "zh-CN"))["legend"]] == ["排放总量"]


def test_an_english_chart_speaks_english_and_still_renders_chinese_names():
    pareto_fig = charts.pareto_figure(pareto(RESULTS), "en")
    texts = _texts(pareto_fig)
    assert texts["title"][0].get_text() == t("accounting.chart.pareto", locale="en") == "Major emitting facilities (Pareto)"
    assert [x.get_text() for x in texts["legend"]] == ["Major facilities", "Other facilities", "Cumulative share %"]
    assert "HN01/锅炉1" in [x.get_text() for x in texts["ticks"]]
    assert _resolved_font(texts["title"][0]).endswith("DejaVuSans.ttf")  # Latin text in matplotlib's own font
    if charts.cjk_font():
        assert texts["ticks"][0].get_fontfamily() == ["DejaVu Sans", charts.cjk_font()]  # a Chinese name falls back
        _drawn_without_missing_glyphs(pareto_fig)
    ticks = [x.get_text() for x in _texts(charts.categories_figure(RESULTS, "en"))["ticks"]]
    assert ticks == ["Stationary combustion", "Purchased electricity", "Process emissions", "Mobile combustion"]
    ticks = [x.get_text() for x in _texts(charts.sources_figure(RESULTS, "en"))["ticks"]]
    assert ticks == ["Natural gas", "Electricity", "Limestone (CaCO3)", "Diesel oil"]


def test_without_a_cjk_font_a_chinese_reader_gets_english_not_tofu(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.chart_locale("zh-CN") == "en" and charts.font_families("zh-CN") == ["DejaVu Sans"]
    fig = charts.categories_figure(RESULTS, "zh-CN", names={"stationary_combustion": "固定燃烧源"})
    texts = _texts(fig)
    assert texts["title"][0].get_text() == "Emissions by source category"
    assert texts["ticks"][0].get_text() == "Stationary combustion"  # the caller's Chinese label is not forced on it


def test_results_of_earlier_runs_without_a_material_are_charted_as_not_recorded():
    ticks = [x.get_text() for x in _texts(charts.sources_figure(RESULTS.drop(columns=["material"]), "en"))["ticks"]]
    assert ticks == ["Not recorded"]


@needs_cjk
def test_the_png_functions_draw_in_the_locale_given():
    zh, en = charts.monthly_trend(RESULTS, locale="zh-CN"), charts.monthly_trend(RESULTS, locale="en")
    assert zh[:8] == en[:8] == b"\x89PNG\r\n\x1a\n" and zh != en
    for png in (charts.category_breakdown(RESULTS, locale="en"), charts.source_breakdown(RESULTS, locale="zh-CN"),
                charts.pareto_chart(pareto(RESULTS), locale="zh-CN")):
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
