"""`cms verify` and `cms export-evidence`: the audit trail checked here, or handed to an external auditor."""

from __future__ import annotations

from pathlib import Path

import typer

from cms_workflows.cli.common import acting_user, database
from cms_workflows.core.i18n import t


def verify(no_anchor: bool = typer.Option(False, "--no-anchor")) -> None:
    from cms_workflows.bootstrap import verify_installation

    report = verify_installation(database(), record_anchor=not no_anchor)
    for line in report.lines:
        typer.echo(line)
    if not report.ok:
        typer.echo(t("cli.verify_failed"), err=True)
        raise typer.Exit(1)


def export_evidence(ctx: typer.Context, out: Path = typer.Argument(...)) -> None:
    from cms_workflows.bootstrap import export_evidence

    manifest = export_evidence(database(), acting_user(ctx), out)
    files = sum(1 for m in manifest["members"] if m.startswith("files/"))
    typer.echo(t("cli.evidence_written", path=str(out), events=manifest["events"], files=files))
