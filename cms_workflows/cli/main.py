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

from cms_workflows.cli import (
    accounting, audit, cases, checkpoints, documents, duties, identity, installation, org, registers, tasks,
)
from cms_workflows.cli.help import localized_command
from cms_workflows.core.errors import CmsError
from cms_workflows.core.i18n import t
from cms_workflows.core.text import shown

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
app.command("init")(installation.init)
app.add_typer(installation.policy_app, name="policy")
app.command("demo")(installation.demo)
app.add_typer(org.users_app, name="users")
app.add_typer(org.sites_app, name="sites")
app.command("positions")(org.positions)
app.command("login")(identity.login)
app.command("logout")(identity.logout)
app.command("whoami")(identity.whoami)
org.users_app.command("password")(identity.password)
app.add_typer(identity.tokens_app, name="tokens")
app.add_typer(identity.delegate_app, name="delegate")
app.command("verify")(audit.verify)
app.command("export-evidence")(audit.export_evidence)
app.add_typer(checkpoints.key_app, name="key")
app.command("checkpoint")(checkpoints.checkpoint)
app.add_typer(accounting.app, name="accounting")
app.add_typer(documents.app, name="doc")
app.add_typer(registers.app, name="registers")
app.add_typer(tasks.app, name="tasks")
app.add_typer(duties.app, name="duties")
app.add_typer(cases.app, name="cases")
app.command("sweep")(duties.sweep)
app.command("serve")(duties.serve)


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
