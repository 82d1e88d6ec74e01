"""Reads of the carbon performance registers beyond list and export (R-6.3.4): a plan's progress history
and the plans behind schedule.

A plan is behind schedule on a day when it is not complete (its latest report is under 100 %) and either
its end date has passed or its reported percent is below the share of its scheduled days that have
passed (a linear schedule: half the time gone, half the work expected). A plan whose start is still
ahead is never behind; a plan with no report counts as 0 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.core.errors import AccessDenied
from cms_workflows.registers import service
from cms_workflows.registers.actions import SPEC as PLANS
from cms_workflows.registers.performance_models import ActionPlan, ActionProgress
from cms_workflows.registers.queries import readable_sites


@dataclass(frozen=True)
class Behind:
    plan: ActionPlan
    expected: int  # percent the schedule expects by the day
    reported: int  # the latest reported percent (0: none yet)


def progress_history(uow, actor: str, code: str) -> list[ActionProgress]:
    """A plan's progress reports, oldest first (R-6.3.4)."""
    plan = service.get(uow, PLANS, code)
    access.require(uow, actor, "read", Resource("action_plan", site=plan.site or COMPANY_WIDE))
    q = select(ActionProgress).where(ActionProgress.plan_id == plan.id)
    return list(uow.exec(q.order_by(ActionProgress.reported_on, ActionProgress.id)))


def expected_percent(plan: ActionPlan, on: date) -> int:
    """The share of the plan's scheduled time passed by `on`, in whole percent (0 before, 100 from the end)."""
    if on < plan.starts_on:
        return 0
    if on >= plan.ends_on:
        return 100
    return (on - plan.starts_on).days * 100 // (plan.ends_on - plan.starts_on).days


def behind_schedule(uow, actor: str, on: date) -> list[Behind]:
    """The plans the actor may read that are behind schedule on `on`, by end date (R-6.3.4)."""
    sites = readable_sites(uow, actor, PLANS.object_type)
    q = select(ActionPlan).where(ActionPlan.starts_on <= on)
    found = []
    for plan in uow.exec(q.order_by(ActionPlan.ends_on, ActionPlan.code)):
        if COMPANY_WIDE not in sites and plan.site not in sites:
            continue
        reported, expected = plan.progress or 0, expected_percent(plan, on)
        if reported < 100 and (reported < expected or on > plan.ends_on):
            found.append(Behind(plan, expected, reported))
    return found


@dataclass(frozen=True)
class ObjectiveProgress:
    objective: object  # CarbonObjective
    plans: int  # its action plans the actor may read
    percent: int | None  # the mean of their latest reported percents (None: no plan)


def objective_progress(uow, actor: str) -> list[ObjectiveProgress]:
    """The objectives the actor may read, each with the progress its action plans report (R-6.3.3, R-6.3.4).
    The registers keep no measured value of a parameter, so progress is the plans' progress."""
    from cms_workflows.registers.queries import rows

    objectives = rows(uow, actor, "objectives")
    try:
        plans = rows(uow, actor, "actions")
    except AccessDenied:
        plans = []
    out = []
    for objective in objectives:
        mine = [p.progress or 0 for p in plans if p.objective == objective.code]
        out.append(ObjectiveProgress(objective, len(mine), sum(mine) // len(mine) if mine else None))
    return out
