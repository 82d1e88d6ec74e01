"""Nonconformity and corrective action (R-10.1, R-10.2) as a Prefect flow, thin over the process services (issue 11 item 3).

With a case number: move that case on (its actions implemented, its report's route decided). Without
one (on demand; the daily sweep moves these cases on too): run the triggers for `day`, if any, and
move every open nonconformity on. Nonconformities are opened by the processes that find them.

Idempotent: every task of the flow is a unit of work the services make idempotent (flows/cases.py), so
a second run, or a run after a kill half way, finishes what was left and creates nothing twice.
"""

from __future__ import annotations

from datetime import date

from prefect import flow

from cms_workflows.flows.cases import deployment_of, run_process, spec

FLOW = spec("corrective-action")


@flow(name=FLOW.flow_name)
def corrective_action(case_number: str | None = None, day: date | None = None) -> dict:
    """Move case `case_number` on, or run the triggers of `day` and move every open case on."""
    return run_process(FLOW, case_number, day)


def deployment(timezone: str | None = None):
    """The deployment `cms serve` serves (prefect.yaml declares the same)."""
    return deployment_of(FLOW, corrective_action, timezone)
