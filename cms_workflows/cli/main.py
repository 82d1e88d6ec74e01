"""`cms`: the command line, over the same services as the web app and the flows.

Each command opens one unit of work. A user mistake (CmsError) prints one clear
message in the user's locale and exits 2, with nothing written; anything else is
a bug and shows its traceback. Help texts come from the catalog (see help.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperGroup

from cms_workflows.core.errors import CmsError
from cms_workflows.core.i18n import t
from cms_workflows.core.text import shown

# name -> (module in cms_workflows.cli, attribute): a Typer sub-app or a command function. The modules are
# imported only when their command is run or listed (issue 15: importing every command module and what
# it imports made every command start slowly), in this order in `cms --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("installation", "init"),
    "policy": ("installation", "policy_app"),
    "demo": ("installation", "demo"),
    "users": ("org", "users_app"),
    "sites": ("org", "sites_app"),
    "positions": ("org", "positions"),
    "login": ("identity", "login"),
    "logout": ("identity", "logout"),
    "whoami": ("identity", "whoami"),
    "tokens": ("identity", "tokens_app"),
    "delegate": ("identity", "delegate_app"),
    "verify": ("audit", "verify"),
    "export-evidence": ("audit", "export_evidence"),
    "key": ("checkpoints", "key_app"),
    "checkpoint": ("checkpoints", "checkpoint"),
    "accounting": ("accounting", "app"),
    "doc": ("documents", "app"),
    "registers": ("registers", "app"),
    "tasks": ("tasks", "app"),
    "duties": ("duties", "app"),
    "cases": ("cases", "app"),
    "sweep": ("duties", "sweep"),
    "serve": ("duties", "serve"),
}


def load(name: str):
    """The click command of one top-level command (a group or a single command), its module imported now.

    Built as `app.add_typer(...)` / `app.command(...)` built it when every module was imported at start:
    inside a parent group, so that a sub-app with one command stays a group (`cms policy check`)."""
    from importlib import import_module

    module, attribute = COMMANDS[name]
    target = getattr(import_module(f"cms_workflows.cli.{module}"), attribute)
    parent = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    parent.callback()(lambda: None)  # a group, whatever it holds
    if isinstance(target, typer.Typer):
        if name == "users":  # `cms users password` lives with the other sign-in commands
            from cms_workflows.cli.identity import password

            if not any(c.callback is password for c in target.registered_commands):
                target.command("password")(password)
        parent.add_typer(target, name=name)
    else:
        parent.command(name)(target)
    return typer.main.get_command(parent).commands[name]


class LazyGroup(TyperGroup):
    """The root `cms` group: lists every command by name and builds a command (importing its module)
    only when it is asked for — to run it, or to show its help. A command built here gets its help in
    the locale the root was localized in (help.localize)."""

    help_locale: str | None = None

    def list_commands(self, ctx) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            from cms_workflows.cli.help import localize

            self.commands[cmd_name] = localize(load(cmd_name), self.help_locale, path=(cmd_name,))
        return self.commands.get(cmd_name)


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _global(
    for_user: Optional[str] = typer.Option(None, "--for"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="CMS_DATA_DIR"),
) -> None:
    # the acting user is read back from the context (common.acting_user); the data folder is configuration
    if data_dir is not None:
        os.environ["CMS_DATA_DIR"] = str(data_dir)


# Typer ≥ 0.2x raises the exceptions of its own bundled copy of click, not of the click package:
# take ClickException from the click Typer uses.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main() -> None:
    for n, arg in enumerate(sys.argv[1:], start=1):
        try:  # bytes that are not UTF-8 arrive as lone surrogates (PEP 383): refused here, not a traceback later
            arg.encode("utf-8")
        except UnicodeEncodeError:
            readable = shown(arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            typer.echo(t("cli.error_prefix") + t("cli.bad_argument_encoding", position=n, argument=readable), err=True)
            sys.exit(2)
    from cms_workflows.cli.help import localized_command

    command = localized_command(app)
    try:
        # without standalone mode click returns the code of a typer.Exit instead of exiting
        result = command(standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except CmsError as exc:
        typer.echo(t("cli.error_prefix") + exc.message(), err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except _ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
