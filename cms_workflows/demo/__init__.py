"""`cms demo`: a PDCA year of the demo company on a fresh SQLite database.

Grows with each capability. Today: installation, the Annex A organisation with
users at two plants, staff changes over the year (a handover with an ended
assignment), emissions accounting for a base year and the demo year (plan,
imports, calculation, approval, baseline, deviations, quality, Pareto, charts),
document control (the carbon policy through its committee route, a procedure through a rejection
and a second revision, an existing Word file and an external standard, distribution and read
acknowledgements, the annual carbon review report from the approved emissions), the registers (context,
interested parties, a scope version approved by top management, an obligation, metering instruments) and
the daily sweep turning the recurring duties into tasks, one of them done with its evidence, verification of the evidence trail and an evidence pack an external verifier can
check with the standard library.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from importlib import resources
from pathlib import Path

MARKER = ".cms-demo"


def _fresh_directory(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            from cms_workflows.core.errors import CmsError

            raise CmsError("demo.not_a_demo_dir", path=str(directory))
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("created by cms demo; `cms demo` empties this folder on every run\n")


def run(directory: Path, echo=print) -> dict:
    from cms_workflows.audit import checkpoints, evidence
    from cms_workflows.bootstrap import configure, export_evidence, installation
    from cms_workflows.demo import accounting as demo_accounting, company as demo_company, documents as demo_documents
    from cms_workflows.demo import registers as demo_registers
    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database
    from cms_workflows.core.i18n import t
    from cms_workflows.org import queries as org_queries
    from cms_workflows.org import service as org
    from cms_workflows.bootstrap import verify_deep, verify_installation

    directory = Path(directory).resolve()
    _fresh_directory(directory)
    # the signing key lives beside the demo folder, never in it; kept across runs, never overwritten
    signing_key = directory.with_name(directory.name + "-keys") / "signing-key.pem"
    settings = get_settings(data_dir=directory, database_url=None, audit_key=None, signing_key=signing_key,
                            company_name=demo_company.COMPANY_NAME[0])
    if not signing_key.exists():
        checkpoints.create_signing_key(settings, signing_key)
    db = Database(settings.resolved_database_url(), settings=settings)
    year = db.clock.today().year - 1

    echo(t("demo.step_init", url=db.url))
    installation.initialize(db)

    echo(t("demo.step_org"))
    with db.unit_of_work() as session:
        holders = demo_company.seed(session, valid_from=date(year, 1, 1))
    echo(t("demo.org_done", users=sum(len(v) for v in holders.values()), positions=len(holders)))

    # Mid-year handover: the HN02 energy data administrator moves on; a successor takes over.
    with db.unit_of_work() as session:
        leaver = "energy_data_admin.hn02"
        row = next(a for a, u in org_queries.list_assignments(session, leaver) if a.valid_to is None)
        org.end_assignment(session, "admin", row.id, date(year, 6, 30), "调岗 / transferred")
        org.create_user(session, "admin", "energy_data_admin2.hn02", "新能源数据员", None)
        org.assign(session, "admin", "energy_data_admin2.hn02", "energy_data_admin", "HN02", date(year, 7, 1))
    echo(t("demo.handover", leaver=leaver))
    with db.read() as session:
        users = [u.username for u, _a in org_queries.users_with_assignments(session, "admin") if u.active and u.username != "system"]
    demo_company.give_credentials(db, users, directory / "demo-accounts.txt")
    echo(t("demo.credentials", users=len(users), path=str(directory / "demo-accounts.txt")))

    echo(t("demo.step_accounting", year=year))
    demo_accounting.run(db, year, directory / "accounting", echo=lambda line: echo("  " + line))

    echo(t("demo.step_documents"))
    demo_documents.run(db, year, directory / "documents", echo=lambda line: echo("  " + line))

    echo(t("demo.step_registers"))
    demo_registers.run(db, year, echo=lambda line: echo("  " + line))

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
        from cms_workflows.core.errors import CmsError

        raise CmsError("demo.failed")
    db.dispose()
    return {"directory": directory, "evidence_pack": pack, "events": manifest["events_in_scope"]}
