"""The daily sweep as a Prefect flow (X-3): one Prefect task per step of `duties.sweep`, nothing else.

The flow only calls the service (`bootstrap.sweep_step`), which runs and is tested without Prefect;
Prefect adds the schedule, retries by hand from its UI, and a record of each run. The database is the
installation's (CMS_* settings of the serving process): no connection string travels as a flow
parameter. `DEPLOYMENT`, `CRON` and the installation's time zone (CMS_TIMEZONE, default
Asia/Shanghai) are what `cms serve` serves; `prefect.yaml` at the repository root declares the same
deployment for a Prefect server with a worker (tests/flows check that both agree).
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from cms_workflows.flows.schedule import CRON, DEPLOYMENT, FLOW_NAME  # noqa: F401  (the names tests and cms serve use)


class SweepStepFailed(RuntimeError):
    """A step reported errors (shown in the run's log); the other steps have still run."""


@task(name="sweep-step", cache_policy=NO_CACHE)
def sweep_step(name: str, day: date) -> dict:
    """One step of the sweep, in its own units of work."""
    from cms_workflows.bootstrap import sweep_step as run
    from cms_workflows.flows.cases import installation

    logger = get_run_logger()
    with installation() as db:
        result = run(db, name, day)
    if result.note is not None:
        logger.info("%s", result.note.localized(None))
    for error in result.errors:
        logger.error("%s", error)
    if result.errors:
        raise SweepStepFailed(f"{name}: " + "; ".join(result.errors))
    logger.info("%s: %s", name, result.counts)
    return result.counts


@flow(name=FLOW_NAME)
def daily_sweep(day: date | None = None) -> dict:
    """Generate the due duties, remind, escalate, send the outbox, sign a checkpoint; for `day`
    (default: today in the installation's time zone)."""
    from cms_workflows.core.clock import Clock
    from cms_workflows.core.config import get_settings
    from cms_workflows.duties.sweep import STEPS

    day = day or Clock(get_settings().timezone).today()
    results, failed = {}, []
    for name in STEPS:  # in order, each step even when an earlier one failed: reminders do not wait for a bad duty
        state = sweep_step.with_options(task_run_name=f"sweep-{name}-{day.isoformat()}")(name, day, return_state=True)
        if state.is_failed():
            failed.append(name)
            results[name] = None
        else:
            results[name] = state.result()
    if failed:
        raise SweepStepFailed(", ".join(failed))
    return {"day": day.isoformat(), **results}


def deployment(timezone: str | None = None):
    """The deployment `cms serve` serves: the daily schedule in the installation's time zone."""
    from prefect.schedules import Cron

    from cms_workflows.core.config import get_settings

    zone = timezone or get_settings().timezone
    return daily_sweep.to_deployment(name=DEPLOYMENT, schedules=[Cron(CRON, timezone=zone)],
                                     description="cms: daily sweep of recurring duties (X-3)")
