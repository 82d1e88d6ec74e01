"""`cms demo`: a PDCA year of the demo company on a fresh SQLite database.

The data year is last year, the PDCA year this one, played on the installation's own clock from
January to December (`demo.year`). In January: installation, the Annex A organisation with named
people at a cement plant and a stamping plant, last year's staff handover, emissions accounting for
the base year and the data year (plan, imports, calculation, approval, baselines, deviations,
quality, Pareto, charts), document control (the carbon policy through its committee route, a
procedure through a rejection and a second revision, an existing Word file and an external
standard, distribution and acknowledgements), the registers the year runs on. Then the PDCA year
(`demo.processes`): the daily sweep and the processes' flows as Prefect flow runs, monthly data
collection, the audit programme, a deviation investigation, the annual carbon review with a
rejection loop, two internal audits and the nonconformity one of them finds, closed after its
effectiveness review, the compliance evaluation, the management review reading all of it. It ends
with every approved Word record written out, the trail verified (`--deep` too), an evidence pack
checked with the standard library and a signed checkpoint.

`sites` sizes the company (`bench/cycle.py`): 2 is the demo company; a larger even number adds plants
HN03… alternating cement and stamping plants, each with its people, data, audit and review (`demo.company`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date, datetime
from importlib import resources
from pathlib import Path

MARKER = ".cms-demo"
STEPS = 7  # init, organisation, accounting, documents, registers, the PDCA year, verification (on_progress)


def _no_progress(done: int, total: int) -> None:
    pass


def _fresh_directory(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            from cms_workflows.core.errors import CmsError

            raise CmsError("demo.not_a_demo_dir", path=str(directory))
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("created by cms demo; `cms demo` empties this folder on every run\n")


def run(directory: Path, echo=print, *, via_flows: bool = True, sites: int = 2, on_progress=_no_progress) -> dict:
    """The demo in `directory`; `on_progress(done, STEPS)` after each step (the CLI's bar, issue 15)."""
    from cms_workflows.audit import checkpoints
    from cms_workflows.bootstrap import installation
    from cms_workflows.demo import accounting as demo_accounting, company as demo_company, documents as demo_documents
    from cms_workflows.demo import registers as demo_registers
    from cms_workflows.demo import year as demo_year
    from cms_workflows.core.clock import Clock, FixedClock
    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database
    from cms_workflows.core.i18n import t
    from cms_workflows.org import queries as org_queries
    from cms_workflows.org import service as org

    plants = demo_company.sites(sites)  # refused before the folder is touched if not a size the demo has
    site_codes = [code for code, _zh, _en in plants]
    directory = Path(directory).resolve()
    _fresh_directory(directory)
    # the signing key lives beside the demo folder, never in it; kept across runs, never overwritten
    signing_key = directory.with_name(directory.name + "-keys") / "signing-key.pem"
    settings = get_settings(data_dir=directory, database_url=None, audit_key=None, signing_key=signing_key,
                            company_name=demo_company.COMPANY_NAME[0])
    if not signing_key.exists():
        checkpoints.create_signing_key(settings, signing_key)
    # the demo plays its own calendar: the data year is last year, the PDCA year this one, January to
    # December (demo.year), on the installation's clock
    process_year = Clock(settings.timezone).today().year  # the installation's year, not the host's
    db = Database(settings.resolved_database_url(), settings=settings,
                  clock=FixedClock(datetime(process_year, 1, 5, 9, 0), settings.timezone))
    year = process_year - 1

    echo(t("demo.step_init", url=db.url))
    installation.initialize(db)
    on_progress(1, STEPS)

    echo(t("demo.step_org", sites=sites))
    with db.unit_of_work() as session:
        holders = demo_company.seed(session, valid_from=date(year, 1, 1), site_count=sites)
    echo(t("demo.org_done", users=sum(len(v) for v in holders.values()), positions=len(holders)))

    # Mid-year handover: the HN02 energy data administrator moves on; a successor takes over.
    with db.unit_of_work() as session:
        leaver = "energy_data_admin.hn02"
        row = next(a for a, u in org_queries.list_assignments(session, leaver) if a.valid_to is None)
        org.end_assignment(session, "admin", row.id, date(year, 6, 30), "调岗 / transferred")
        org.create_user(session, "admin", "energy_data_admin2.hn02", demo_company.SUCCESSOR[1], None)
        org.assign(session, "admin", "energy_data_admin2.hn02", "energy_data_admin", "HN02", date(year, 7, 1))
    echo(t("demo.handover", leaver=leaver))
    with db.read() as session:
        users = [u.username for u, _a in org_queries.users_with_assignments(session, "admin") if u.active and u.username != "system"]
    demo_company.give_credentials(db, users, directory / "demo-accounts.txt")
    echo(t("demo.credentials", users=len(users), path=str(directory / "demo-accounts.txt")))
    on_progress(2, STEPS)

    echo(t("demo.step_accounting", year=year))
    demo_accounting.run(db, year, directory / "accounting", echo=lambda line: echo("  " + line), site_codes=site_codes)
    on_progress(3, STEPS)

    echo(t("demo.step_documents"))
    documents = demo_documents.run(db, year, directory / "documents", echo=lambda line: echo("  " + line))
    on_progress(4, STEPS)

    echo(t("demo.step_registers"))
    demo_registers.run(db, year, echo=lambda line: echo("  " + line), plants=plants)
    on_progress(5, STEPS)

    echo(t("demo.step_processes", year=process_year))
    made = demo_year.play(db, year, echo=lambda line: echo("  " + line), via_flows=via_flows, plants=plants,
                          procedure=documents["procedure"])
    demo_documents.write_files(db, directory / "documents", documents["procedure"], echo=lambda line: echo("  " + line))
    on_progress(6, STEPS)

    pack, events = _verify_and_export(db, directory, echo)
    on_progress(STEPS, STEPS)
    db.dispose()
    return {"directory": directory, "evidence_pack": pack, "events": events, "made": made}


def _verify_and_export(db, directory: Path, echo) -> tuple[Path, int]:
    """The year's trail verified (`verify`, `--deep`), an evidence pack checked as an auditor does, a
    checkpoint signed; any failure fails the demo."""
    from cms_workflows.audit import checkpoints
    from cms_workflows.bootstrap import export_evidence, verify_deep, verify_installation
    from cms_workflows.core.errors import CmsError
    from cms_workflows.core.i18n import t

    report = verify_installation(db)
    deep = verify_deep(db)  # the business rows against the trail (issue 14)
    for line in report.lines + deep.lines:
        echo("  " + line)
    pack = directory / "evidence-pack.zip"
    manifest = export_evidence(db, "verifier", pack)
    # checked as an auditor does: with the published verifier (not the pack's copy), the key fingerprint pinned
    checked = subprocess.run([sys.executable, "-I", str(resources.files("cms_workflows") / "data" / "verify_evidence.py"),
                              str(pack), "--fingerprint", manifest["fingerprint"]], capture_output=True, text=True)
    echo(t("demo.evidence", path=str(pack), events=manifest["events_in_scope"], check=checked.stdout.strip()))
    log = directory / "checkpoints.jsonl"  # an auditor would keep this log outside the installation
    signed = checkpoints.sign_checkpoint(db, log_path=log)
    log_check = checkpoints.check_log(db, log)
    echo(t("demo.checkpoint", seq=signed["seq"], fingerprint=signed["fingerprint"], path=str(log)))
    if not report.ok or not deep.ok or checked.returncode != 0 or not log_check.ok:
        raise CmsError("demo.failed")
    echo(t("demo.web", data_dir=str(directory), accounts=str(directory / "demo-accounts.txt")))
    return pack, manifest["events_in_scope"]
