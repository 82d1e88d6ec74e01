"""`cms duties list|check`, `cms sweep`, `cms serve`: the recurring duties and the daily sweep (X-3)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, parse_date, print_table
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import pick, t

app = typer.Typer(no_args_is_help=True)


def _position(code: str) -> str:
    from cms_workflows.access import position_labels

    labels = position_labels().get(code)
    return pick(*labels) if labels else code


def _when(duty) -> str:
    if duty.dated:
        return t("cli.duties.dated", source=duty.subjects, undated=t(f"cli.duties.undated_{duty.undated}"))
    return duty.recurrence


@app.command("list")
def list_() -> None:
    from cms_workflows.bootstrap import configure, duty_sources
    from cms_workflows.duties.definitions import load
    from cms_workflows.duties.sources import described

    configure()
    rows = []
    for d in load(sources=described(duty_sources())):
        who = _position(d.position) + (t("cli.duties.or_owner") if d.position_from_subject else "")
        rows.append([d.code, t(d.title_key, period="…", subject="…", site="…"), d.clause, who,
                     t(f"cli.duties.site_{d.site}") + (f" ({d.subjects})" if d.subjects else ""), _when(d),
                     str(d.lead_days), ", ".join(map(str, d.reminder_days)), t(f"tasks.evidence_kind.{d.evidence}")])
    print_table([t(f"cli.duties.col_{c}") for c in ("code", "title", "clause", "position", "subjects", "when",
                                                    "lead", "reminders", "evidence")], rows)


@app.command("check")
def check(file: Optional[Path] = typer.Option(None, "--file")) -> None:
    from cms_workflows.access import known_position_codes
    from cms_workflows.bootstrap import configure, duty_sources
    from cms_workflows.duties.definitions import check_file, duties_path
    from cms_workflows.duties.sources import described

    configure()
    path = file or duties_path()
    duties = check_file(path, described(duty_sources()), known_position_codes())
    typer.echo(t("duties.config_ok", duties=len(duties), file=str(path)))


def _report_lines(report) -> list[str]:
    lines = [t("cli.sweep.day", day=report.day.isoformat())]
    for step in report.steps:
        lines.append(t(f"cli.sweep.step_{step.name}", **{"created": 0, "tasks": 0, "reminders": 0, "escalations": 0,
                                                          "sent": 0, "retried": 0, "failed": 0, "unknown": 0,
                                                          "left_for_inbox": 0, "signed": 0, **step.counts}))
        if step.note is not None:
            lines.append("  " + step.note.localized(None))
        lines.extend("  " + t("cli.sweep.error", error=e) for e in step.errors)
    lines.append(t("cli.sweep.changed" if report.changed else "cli.sweep.unchanged"))
    return lines


def sweep(ctx: typer.Context, on: Optional[str] = typer.Option(None, "--date")) -> None:
    """One sweep by hand, as the system agent, for a user who may create tasks company-wide; never for a
    day after today (that would escalate tasks that are not overdue yet)."""
    from cms_workflows import bootstrap
    from cms_workflows.access import COMPANY_WIDE, Resource, require

    day = parse_date(on, "--date")
    db = database()
    actor = acting_user(ctx)
    with db.read() as uow:
        require(uow, actor, "create", Resource("task", site=COMPANY_WIDE))
        today = uow.clock.today()
    if day is not None and day > today:
        raise ValidationFailed("error.validation", problems=[problem("--date", "cli.sweep.future_day",
                                                                     day=day.isoformat(), today=today.isoformat())])
    report = bootstrap.sweep(db, day or today)
    for line in _report_lines(report):
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          prefect_port: int = typer.Option(4200, "--prefect-port"),
          prefect_host: str = typer.Option("127.0.0.1", "--prefect-host")) -> None:
    """The web app (uvicorn, one worker) and the scheduler: Prefect's server on SQLite in the data folder as a
    child process, the daily sweep and the processes' flows served on it."""
    from cms_workflows.core.config import get_settings
    from cms_workflows.flows import server as prefect_server
    from cms_workflows.web import server as web_server

    settings = get_settings()
    db = database()  # an installation must exist (and be current) before anything is scheduled on it
    web_server.require_free_port(host, port)
    server = prefect_server.start(settings.data_dir, prefect_host, prefect_port)
    typer.echo(t("cli.serve.starting", pid=server.pid, url=server.api_url, log=str(server.log_path)), err=True)
    web = None

    def _stop_all() -> None:
        if web is not None:
            web.stop()
        code = prefect_server.stop(server)
        typer.echo(t("cli.serve.stopped", pid=server.pid, code=code), err=True)

    def _ctrl_c(_signum, _frame) -> None:
        # a Ctrl-C while Prefect's serve() is still registering the deployments was swallowed and left both
        # running: stop the server and leave, whatever Prefect is doing (flows are safe to run again)
        _stop_all()
        os._exit(0)

    signal.signal(signal.SIGINT, _ctrl_c)
    try:
        web = web_server.start(db, host, port)
        typer.echo(t("cli.serve.web", url=web.url), err=True)
        prefect_server.wait_healthy(server)
        typer.echo(t("cli.serve.serving", url=server.api_url, log=str(server.log_path), tz=settings.timezone,
                     cron=prefect_server.CRON), err=True)
        prefect_server.serve(server, settings.timezone)
    except KeyboardInterrupt:
        pass
    finally:
        _stop_all()
