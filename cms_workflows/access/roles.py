"""The role model of Annex A (table A.1 departments and positions, plus the added roles), read from
`data/roles.yaml`. Access decides by these positions; org seeds its tables from the same file."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from cms_workflows.core import yamlfile


@lru_cache(maxsize=1)
def load_roles() -> dict:
    text = (resources.files("cms_workflows") / "data" / "roles.yaml").read_text(encoding="utf-8")
    return yamlfile.load(text)


@lru_cache(maxsize=1)
def position_labels() -> dict[str, tuple[str, str]]:
    """position code -> (Chinese name, English name)."""
    return {p["code"]: (p["name_zh"], p["name_en"]) for d in load_roles()["departments"] for p in d["positions"]}


def known_position_codes() -> set[str]:
    return set(position_labels())


class PositionNames:
    """Positions named in a message, labelled in the reader's locale when the message is shown."""

    def __init__(self, codes) -> None:
        self.codes = tuple(codes)

    def localized(self, locale: str | None) -> str:
        if not self.codes:
            return "—"
        from cms_workflows.core.i18n import pick

        labels = position_labels()
        return "、".join(f"{pick(*labels[c], locale=locale)} ({c})" if c in labels else c for c in self.codes)

    def __format__(self, spec: str) -> str:
        return self.localized(None)
