"""The internal audit (R-9.2) as a Prefect flow, thin over the process services (issue 11 item 3): the
annual programme and each audit of it.

With a case number (a programme or an audit): move that case on. Without one (the schedule: when the
year's programme duty task appears): run the triggers of the programme and of the audits for `day`
(the year's programme, the audits it plans) and move every open programme and audit on.

Idempotent: every task of the flow is a unit of work the services make idempotent (flows/cases.py), so
a second run, or a run after a kill half way, finishes what was left and creates nothing twice.
"""

from __future__ import annotations

from datetime import date

from prefect import flow

from cms_workflows.flows.cases import deployment_of, run_process, spec

FLOW = spec("internal-audit")


@flow(name=FLOW.flow_name)
def internal_audit(case_number: str | None = None, day: date | None = None) -> dict:
    """Move case `case_number` on, or run the triggers of `day` and move every open case on."""
    return run_process(FLOW, case_number, day)


def deployment(timezone: str | None = None):
    """The deployment `cms serve` serves (prefect.yaml declares the same)."""
    return deployment_of(FLOW, internal_audit, timezone)
