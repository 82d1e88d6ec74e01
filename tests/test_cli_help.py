"""`cms` help follows the user's locale: every group, command, option and argument has a real text in both
locales, from cli.help.* keys that name existing commands; the keys of both locales' cli.yaml agree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cms_workflows.cli.help import help_key, localized_command, walk
from cms_workflows.cli.main import app
from cms_workflows.core.i18n import LOCALES, catalog, t

LOCALE_DIR = Path(__file__).resolve().parents[1] / "cms_workflows" / "locales"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def help_texts(locale: str):
    """(key, text) of every group, command, option and argument (and --help) of the localized tree."""
    root = localized_command(app, locale)
    for path, cmd in walk(root):
        yield help_key(path), cmd.help
        yield help_key(path) + " (short)", cmd.short_help
        for param in cmd.params:
            yield help_key(path, param.name), getattr(param, "help", None)
        help_option = cmd.get_help_option(cmd.context_class(cmd))
        yield "cli.help_option", help_option.help


def expected_keys() -> set[str]:
    root = localized_command(app, "zh-CN")
    return {help_key(path, param) for path, cmd in walk(root) for param in (None, *(p.name for p in cmd.params))}


def flat(node, prefix="") -> dict[str, str]:
    if not isinstance(node, dict):
        return {prefix: node}
    out: dict[str, str] = {}
    for key, value in node.items():
        out.update(flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def cli_yaml(locale: str) -> dict[str, str]:
    return flat(yaml.safe_load((LOCALE_DIR / locale / "cli.yaml").read_text(encoding="utf-8")))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_command_option_and_argument_has_help_in_the_locale(locale):
    texts = list(help_texts(locale))
    assert len(texts) > 200  # the walk reaches the whole tree
    for key, text in texts:
        assert text and text.strip(), key
        assert not text.startswith("cli.help."), (key, text)
        if locale == "zh-CN":
            assert CJK.search(text), (key, text)
        else:
            assert not CJK.search(text), (key, text)


def test_every_help_key_is_in_the_catalog_of_each_locale():
    for locale in LOCALES:
        missing = sorted(k for k in expected_keys() if k not in catalog(locale))
        assert missing == [], locale


def test_no_stale_help_keys():
    for locale in LOCALES:
        keys = {k for k in cli_yaml(locale) if k.startswith("cli.help.")}
        assert sorted(keys - expected_keys()) == [], locale


def test_both_locales_have_the_same_cli_keys():
    zh, en = cli_yaml("zh-CN"), cli_yaml("en")
    assert sorted(set(zh) ^ set(en)) == []


def test_help_texts_are_plain_text():
    # Typer renders help with Rich markup: square brackets would be read as styles
    for locale in LOCALES:
        assert [k for k, v in cli_yaml(locale).items() if k.startswith("cli.help.") and re.search(r"[\[\]]", v)] == []


def cms(*args, locale):
    # a wide terminal, so that no line of the help is wrapped
    env = {**os.environ, "CMS_LOCALE": locale, "COLUMNS": "250", "TERMINAL_WIDTH": "250"}
    return subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def test_help_of_a_real_process_follows_cms_locale():
    en = cms("doc", "--help", locale="en")
    assert en.returncode == 0, en.stderr
    assert t("cli.help.doc", "en").split("\n\n")[0] in en.stdout
    assert t("cli.help.doc.new", "en").split("\n\n")[0] in en.stdout
    assert not CJK.search(en.stdout), en.stdout

    zh = cms("doc", "--help", locale="zh-CN")
    assert zh.returncode == 0, zh.stderr
    assert t("cli.help.doc", "zh-CN").split("\n\n")[0] in zh.stdout
    assert t("cli.help.doc.new", "zh-CN").split("\n\n")[0] in zh.stdout
    assert t("cli.help.doc", "en").split("\n\n")[0] not in zh.stdout

    option = cms("doc", "new", "--help", locale="zh-CN")
    assert option.returncode == 0 and t("cli.help.doc.new.opt.department", "zh-CN") in option.stdout


def test_usage_errors_are_a_message_not_a_traceback():
    unknown = cms("doc", "no-such-command", locale="en")
    assert unknown.returncode == 2 and "no-such-command" in unknown.stderr
    assert "Traceback" not in unknown.stderr + unknown.stdout
    missing = cms("doc", "new", locale="en")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr + missing.stdout
