"""`cms key show` and `cms checkpoint`: the installation's signing key and signed checkpoints (X-1)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import database
from cms_workflows.core.i18n import t

key_app = typer.Typer(no_args_is_help=True)


@key_app.command("show")
def key_show() -> None:
    from cms_workflows.audit import checkpoints
    from cms_workflows.core.config import get_settings

    info = checkpoints.key_info(get_settings())
    typer.echo(t("cli.signing_key_show", **info))


def checkpoint(log: Optional[Path] = typer.Option(None, "--log")) -> None:
    from cms_workflows.audit import checkpoints

    signed = checkpoints.sign_checkpoint(database(), log_path=log)
    typer.echo(t("cli.checkpoint_signed", seq=signed["seq"], hash=signed["hash"], signed_at=signed["signed_at"],
                 fingerprint=signed["fingerprint"]))
    if log is not None:
        typer.echo(t("cli.checkpoint_logged", path=str(log)))
