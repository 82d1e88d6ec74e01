"""The carbon review (R-6.2.3) as a Prefect flow, thin over the process services (issue 11 item 3).

With a case number: move that carbon review on as far as its conditions allow (its data-collection
tasks done, an approved calculation run there, the report's route decided). Without one (the
schedule, the day the annual review's duty task appears): run the carbon review's triggers for `day`
(the annual review, a significant change recorded) and move every open carbon review on.

Idempotent: every task of the flow is a unit of work the services make idempotent (flows/cases.py), so
a second run, or a run after a kill half way, finishes what was left and creates nothing twice.
"""

from __future__ import annotations

from datetime import date

from prefect import flow

from cms_workflows.flows.cases import deployment_of, run_process, spec

FLOW = spec("carbon-review")


@flow(name=FLOW.flow_name)
def carbon_review(case_number: str | None = None, day: date | None = None) -> dict:
    """Move case `case_number` on, or run the triggers of `day` and move every open case on."""
    return run_process(FLOW, case_number, day)


def deployment(timezone: str | None = None):
    """The deployment `cms serve` serves (prefect.yaml declares the same)."""
    return deployment_of(FLOW, carbon_review, timezone)
