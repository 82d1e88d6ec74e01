"""Strings live in one place per locale; both locales are complete; no key is used that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from cms_workflows.core.i18n import LOCALES, PRIMARY, catalog, t

ROOT = Path(__file__).resolve().parents[1]
# t("key"…), CmsError subclasses ("key"…), and key= / "key": literals naming dotted message keys
KEY_USE = re.compile(r"""(?:\bt|Error|Denied|Found|Failed|Conflict|Transition)\(\s*f?["']([a-z_]+\.[a-z0-9_.]+)["']""")


def test_every_locale_has_the_same_keys():
    primary = set(catalog(PRIMARY))
    for locale in LOCALES:
        keys = set(catalog(locale))
        assert keys == primary, (locale, sorted(keys ^ primary))


def test_every_key_used_in_the_code_exists():
    known = set(catalog(PRIMARY))
    missing, used = [], set()
    for path in (ROOT / "cms_workflows").rglob("*.py"):
        for key in KEY_USE.findall(path.read_text(encoding="utf-8")):
            used.add(key)
            if key not in known and not key.endswith("."):
                missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert len(used) > 50  # the scan itself works
    assert missing == []


def test_placeholders_agree_between_locales():
    fields = re.compile(r"{(\w+)")
    zh, en = catalog("zh-CN"), catalog("en")
    for key in zh:
        assert set(fields.findall(zh[key])) == set(fields.findall(en[key])), key


def test_locale_is_chosen_by_environment(monkeypatch):
    monkeypatch.setenv("CMS_LOCALE", "en")
    assert t("org.unknown_user", username="x") == "Unknown user x"
    monkeypatch.setenv("CMS_LOCALE", "zh-CN")
    assert t("org.unknown_user", username="x") == "未知用户 x"
