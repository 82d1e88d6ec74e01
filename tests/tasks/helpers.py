"""Shared by the task tests: a task made the way a duty generator or the carbon lead makes one."""

from __future__ import annotations

from datetime import date

from cms_workflows import audit
from cms_workflows.tasks import service

LEAD = "carbon.lead"  # strategy_manager company-wide: the carbon management lead
SYSTEM = "system"  # the daily sweep's identity (system_agent)


def new_task(uow, key: str = "duty:monthly_data:HN01-L1:2026-03", *, actor: str = LEAD, **fields):
    values = dict(title_key="tasks.title.monthly_activity_data", title_params={"period": "2026-03", "line": "HN01-L1"},
                  clause="R-6.3.5", site="HN01", position="energy_data_admin", due=date(2026, 4, 5))
    values.update(fields)
    if values.get("assignee"):
        values.pop("position", None)
    return service.create(uow, actor, key=key, **values)


def events(db, action: str | None = None) -> list:
    with db.read() as uow:
        found = audit.events_for(uow)
    return [e for e in found if action is None or e.action == action]
