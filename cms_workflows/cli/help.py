"""Help texts of `cms` in the user's locale, from message keys named after the command path.

The texts live in the catalog (locales/*/cli.yaml), not in docstrings or `help=` arguments, so that
they follow CMS_LOCALE like every other message:

    cms                        cli.help.cms
    cms doc                    cli.help.doc
    cms doc new                cli.help.doc.new
    cms doc new --title        cli.help.doc.new.opt.title   (options and arguments, by parameter name)
    cms --for                  cli.help.cms.opt.for_user
"""

from __future__ import annotations

from collections.abc import Iterator

import typer

from cms_workflows.core.i18n import normalize, t

ROOT = "cms"


def help_key(path: tuple[str, ...], param: str | None = None) -> str:
    key = "cli.help." + (".".join(path) if path else ROOT)
    return f"{key}.opt.{param}" if param else key


def walk(command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every group and command of a click tree with its path of names below the root (the root's is ()).
    A lazy group (main.LazyGroup) builds each of its commands on the way."""
    yield path, command
    # duck-typed: Typer's groups are not click.Group subclasses in every Typer version
    if hasattr(command, "list_commands"):
        ctx = command.context_class(command)
        for name in command.list_commands(ctx):
            yield from walk(command.get_command(ctx, name), (*path, name))


def _built(command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
    """The groups and commands of a click tree that exist already: a lazy group's later commands are
    localized when it builds them."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _built(sub, (*path, name))


def localize(command, locale: str | None = None, path: tuple[str, ...] = ()):
    """Give every group, command, option and argument of the click tree (at `path` below the root) its
    help text in `locale` (default: the user's, from CMS_LOCALE). Returns the same command."""
    locale = normalize(locale)
    panels = {kind: t(f"cli.panel.{kind}", locale) for kind in ("arguments", "options", "commands")}
    for path, cmd in _built(command, path):
        if hasattr(cmd, "help_locale"):
            cmd.help_locale = locale  # the commands it builds later speak the same language
        text = t(help_key(path), locale)
        cmd.help = text
        cmd.short_help = text.split("\n\n")[0]  # a group's listing of its commands shows the first paragraph
        cmd.rich_help_panel = panels["commands"]
        for param in cmd.params:
            # click's own Argument has no `help`; Typer's TyperArgument has one and shows it: set it on both
            param.help = t(help_key(path, param.name), locale)
            param.rich_help_panel = panels["arguments" if param.param_type_name == "argument" else "options"]
        # --help is made on demand (and then cached); make it now so its text can be translated too
        help_option = cmd.get_help_option(cmd.context_class(cmd, **cmd.context_settings))
        if help_option is not None:
            help_option.help = t("cli.help_option", locale)
            help_option.rich_help_panel = panels["options"]
    return command


def localized_command(app: typer.Typer, locale: str | None = None):
    """The click command of a Typer app, with its help in `locale`."""
    return localize(typer.main.get_command(app), locale)
