"""Who a task reaches (X-3, R-5.3): its assignees, and whom an overdue task escalates to.

An escalation chain is data on the task: `[{"after_days": 1, "to": "department_head"},
{"after_days": 7, "to": "top_management"}]`. `department_head` is the lead position of the
department of the task's position (`data/department_leads.yaml`, declared per Annex A department),
`top_management` the general manager; any other `to` names a position. Recipients are the holders
of that position counting at the task's site; a department head position nobody holds there passes
the escalation to top management, so an overdue task always reaches someone who can act.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from cms_workflows.access import held_positions, holders, known_position_codes
from cms_workflows.access.roles import load_roles
from cms_workflows.core.errors import ValidationFailed, problem

DEPARTMENT_HEAD = "department_head"
TOP_MANAGEMENT = "top_management"
TOP_POSITION = "general_manager"
MAX_CHAIN = 10
MAX_AFTER_DAYS = 366

DEFAULT_REMINDERS = (7, 1)
DEFAULT_ESCALATION = ({"after_days": 1, "to": DEPARTMENT_HEAD}, {"after_days": 7, "to": TOP_MANAGEMENT})


@lru_cache(maxsize=1)
def department_leads() -> dict[str, str]:
    text = (resources.files("cms_workflows") / "data" / "department_leads.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


@lru_cache(maxsize=1)
def department_of_position() -> dict[str, str]:
    return {p["code"]: d["code"] for d in load_roles()["departments"] for p in d["positions"]}


def lead_position(position: str) -> str:
    """The lead position of the department `position` belongs to (top management when none is declared)."""
    return department_leads().get(department_of_position().get(position, ""), TOP_POSITION)


def assignees(uow, task) -> list[str]:
    """Who a task is for now: its claimer, its named user, or every holder of its position at its site."""
    if task.claimed_by:
        return [task.claimed_by]
    if task.assignee:
        return [task.assignee]
    return holders(uow, task.position, task.site)


def _home_position(uow, task) -> str:
    """The position whose department is responsible: the task's, or the first the named user holds."""
    if task.position:
        return task.position
    held = held_positions(uow, task.assignee)
    return held[0][0] if held else TOP_POSITION


def escalation_target(uow, task, to: str) -> tuple[str, list[str]]:
    """(position, recipients) an escalation step `to` reaches for this task."""
    if to == TOP_MANAGEMENT:
        position = TOP_POSITION
    elif to == DEPARTMENT_HEAD:
        position = lead_position(_home_position(uow, task))
    else:
        position = to
    recipients = holders(uow, position, task.site)
    if not recipients and position != TOP_POSITION:
        position, recipients = TOP_POSITION, holders(uow, TOP_POSITION, task.site)
    return position, recipients


def chain_problems(chain) -> list[dict]:
    """Problems of an escalation chain given as data (field `escalation`)."""
    if not isinstance(chain, (list, tuple)) or len(chain) > MAX_CHAIN:
        return [problem("escalation", "tasks.problem.bad_chain", max=MAX_CHAIN)]
    known = known_position_codes() | {DEPARTMENT_HEAD, TOP_MANAGEMENT}
    found, last = [], -1
    for n, step in enumerate(chain, start=1):
        after = step.get("after_days") if isinstance(step, dict) else None
        to = step.get("to") if isinstance(step, dict) else None
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_AFTER_DAYS or after <= last:
            found.append(problem("escalation", "tasks.problem.bad_after_days", step=n, max=MAX_AFTER_DAYS))
        elif to not in known:
            found.append(problem("escalation", "tasks.problem.bad_escalation_target", step=n, to=str(to)[:64]))
        last = after if isinstance(after, int) else last
    return found


def reminder_problems(days) -> list[dict]:
    if (not isinstance(days, (list, tuple)) or len(days) > MAX_CHAIN
            or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= MAX_AFTER_DAYS for d in days)
            or len(set(days)) != len(days)):
        return [problem("reminder_days", "tasks.problem.bad_reminders", max=MAX_AFTER_DAYS)]
    return []


def require_schedule(reminder_days, escalation) -> None:
    found = reminder_problems(reminder_days) + chain_problems(escalation)
    if found:
        raise ValidationFailed("tasks.invalid_task", problems=found)
