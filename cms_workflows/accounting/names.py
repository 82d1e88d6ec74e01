"""Accounting codes in the reader's language: materials (emission sources) and source categories. One
place for the results workbook, the charts, the indicators and the import template."""

from __future__ import annotations

from functools import lru_cache

# where the reference data names its materials: (file, path to the code -> item mapping)
MATERIAL_FILES = (("fuels.yaml", ("fuels",)), ("biomass_fuels.yaml", ("materials",)), ("gwp.yaml", ("gases",)),
                  ("process_materials.yaml", ("carbonates", "materials")),
                  ("process_materials.yaml", ("oxides", "materials")))
NOT_MATERIALS = ("electricity", "heat", "co2")  # codes of the engine, named by this package's messages


def material_names(locale: str | None = None) -> dict[str, str]:
    """Material code -> its name: the reference data's name_zh/name_en, else this package's message
    `accounting.material_name.<code>` (electricity, heat, CO2, carbonates), else the chemical formula. A
    company-defined material has no such name: its code is shown (`material_name`)."""
    from cms_workflows.core.i18n import normalize

    return _material_names(normalize(locale))  # cached per resolved locale, never per None


@lru_cache(maxsize=4)
def _material_names(loc: str) -> dict[str, str]:
    from cms_workflows.accounting.factors import reference
    from cms_workflows.core.i18n import catalog

    messages = catalog(loc)
    out: dict[str, str] = {}
    for file, path in MATERIAL_FILES:
        node = reference(file)
        for part in path:
            node = node.get(part) or {}
        for code, item in node.items():
            own = item.get("name_en") if loc == "en" else item.get("name_zh")
            zh_is_latin = loc == "en" and str(item.get("name_zh", "")).isascii()
            out[code] = (own or messages.get(f"accounting.material_name.{code}")
                         or (item.get("name_zh") if zh_is_latin else None) or item.get("formula") or code)
    for code in NOT_MATERIALS:
        out[code] = messages.get(f"accounting.material_name.{code}", code)
    return out


def material_name(code: str, locale: str | None = None) -> str:
    """One material in the reader's language; "" is a result of a run stored before results carried the
    material."""
    from cms_workflows.core.i18n import t

    if not code:
        return t("accounting.indicators.material_not_recorded", locale=locale)
    return material_names(locale).get(code, code)


def category_names(locale: str | None = None) -> dict[str, str]:
    """Source category code -> its name (reference data, Annex C)."""
    from cms_workflows.accounting.factors import categories
    from cms_workflows.core.i18n import normalize, pick

    loc = normalize(locale)
    return {c: pick(v.get("name_zh"), v.get("name_en"), loc) or c for c, v in categories().items()}


def category_name(code: str, locale: str | None = None) -> str:
    return category_names(locale).get(code, code)
