"""`cms verify` and `cms export-evidence`: the audit trail checked here, or handed to an external auditor."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database
from cms_workflows.core.i18n import t


def verify(no_anchor: bool = typer.Option(False, "--no-anchor"), no_mac: bool = typer.Option(False, "--no-mac"),
           checkpoints: Optional[Path] = typer.Option(None, "--checkpoints"),
           fingerprint: Optional[str] = typer.Option(None, "--fingerprint"),
           deep: bool = typer.Option(False, "--deep")) -> None:
    from cms_workflows.bootstrap import verify_installation
    from cms_workflows.cli.progress import progress

    db = database()
    with progress("cli.progress.verify") as on_progress:
        report = verify_installation(db, record_anchor=not no_anchor, check_macs=not no_mac, on_progress=on_progress)
    for line in report.lines:
        typer.echo(line)
    if checkpoints is not None:  # the log an auditor keeps outside the installation (audit.checkpoints)
        from cms_workflows.audit.checkpoints import check_log

        log = check_log(db, checkpoints, fingerprint)
        for line in log.lines:
            typer.echo(line)
        report.ok = report.ok and log.ok
    if deep:  # the business rows against the trail (audit.deep)
        from cms_workflows.bootstrap import verify_deep

        found = verify_deep(db)
        for line in found.lines:
            typer.echo(line)
        report.ok = report.ok and found.ok
    if not report.ok:
        typer.echo(t("cli.verify_failed"), err=True)
        raise typer.Exit(1)


def export_evidence(ctx: typer.Context, out: Path = typer.Argument(...),
                    date_from: Optional[str] = typer.Option(None, "--from"),
                    date_to: Optional[str] = typer.Option(None, "--to"),
                    site: Optional[str] = typer.Option(None, "--site"),
                    documents: Optional[list[str]] = typer.Option(None, "--doc"),
                    cases: Optional[list[str]] = typer.Option(None, "--case"),
                    head: Optional[int] = typer.Option(None, "--head")) -> None:
    from cms_workflows.audit.evidence import Scope
    from cms_workflows.bootstrap import export_evidence
    from cms_workflows.cli.common import parse_date
    from cms_workflows.core.errors import CmsError

    if head is not None and head < 1:
        raise CmsError("audit.evidence_bad_head", value=head)
    scope = Scope(parse_date(date_from, "--from"), parse_date(date_to, "--to"), site, tuple(documents or ()), head,
                  tuple(cases or ()))
    manifest = export_evidence(database(), acting_user(ctx), out, scope)
    files = sum(1 for m in manifest["members"] if m.startswith("files/"))
    typer.echo(t("cli.evidence_pack_written", path=str(out), events=manifest["events_in_scope"], files=files,
                 head_seq=manifest["head"]["seq"], fingerprint=manifest["fingerprint"]))
