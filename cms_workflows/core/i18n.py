"""Translated strings: one folder per locale (cms_workflows/locales/<locale>/*.yaml).

Keys are dotted and start with the domain (`org.`, `access.`, `documents.`…); each
domain keeps its strings in its own file so domains can be edited independently.
Chinese (zh-CN) is the primary locale; a key missing in another locale falls back
to Chinese, and a key missing everywhere shows the key itself (tests catch that).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from typing import Any

from cms_workflows.core import yamlfile

PRIMARY = "zh-CN"
LOCALES = ("zh-CN", "en")
_ALIASES = {"zh": "zh-CN", "zh_cn": "zh-CN", "zh-cn": "zh-CN", "en": "en", "en_us": "en", "en-us": "en", "en-gb": "en"}


# the locale of the user a web request serves (their own choice); unset elsewhere
_request_locale: ContextVar[str | None] = ContextVar("cms_request_locale", default=None)


def current_locale() -> str:
    """The user's locale: the web request's user's choice while one is served, else `Settings.locale`
    (CMS_LOCALE), the one source."""
    return _request_locale.get() or _settings_locale(os.environ.get("CMS_LOCALE"))


@contextmanager
def using_locale(locale: str | None):
    """Messages formatted inside speak `locale` (the web app's per-user language)."""
    token = _request_locale.set(normalize(locale) if locale else None)
    try:
        yield
    finally:
        _request_locale.reset(token)


@lru_cache(maxsize=8)
def _settings_locale(_env_value: str | None) -> str:
    # keyed by the environment value so a changed CMS_LOCALE is seen; Settings reads and validates it
    from cms_workflows.core.config import get_settings

    return get_settings().locale or PRIMARY


def normalize(locale: str | None) -> str:
    if not locale:
        locale = current_locale()
    key = locale.split(".")[0].replace("_", "-").lower()
    return _ALIASES.get(key, PRIMARY if key.startswith("zh") else "en" if key.startswith("en") else PRIMARY)


@lru_cache(maxsize=None)
def catalog(locale: str) -> dict[str, str]:
    """All strings of a locale, flattened to dotted keys."""
    folder = resources.files("cms_workflows") / "locales" / locale
    out: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yamlfile.load(entry.read_text(encoding="utf-8")) or {}  # read at every start: libyaml
            _flatten(data, "", out)
    return out


def _flatten(node: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(v, f"{prefix}{k}." if not isinstance(v, str) else f"{prefix}{k}", out)
            if isinstance(v, str):
                out[f"{prefix}{k}"] = v
    elif isinstance(node, str):
        out[prefix.rstrip(".")] = node


class Message:
    """A message key with parameters used as a parameter of another message: translated in the locale
    the outer message is shown in."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params

    def localized(self, locale: str | None) -> str:
        return t(self.key, locale=locale, **self.params)

    def __format__(self, spec: str) -> str:
        return self.localized(None)


def t(key: str, locale: str | None = None, **params: Any) -> str:
    loc = normalize(locale)
    text = catalog(loc).get(key) or catalog(PRIMARY).get(key) or key
    if params:
        # parameters that are themselves messages (states, positions, problems) follow the same locale
        params = {k: v.localized(loc) if hasattr(v, "localized") else v for k, v in params.items()}
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return f"{text} {params}"
    return text


def pick(zh: str | None, en: str | None, locale: str | None = None) -> str:
    """Choose between a record's Chinese and English label (falls back to Chinese)."""
    return (en or zh or "") if normalize(locale) == "en" else (zh or en or "")
