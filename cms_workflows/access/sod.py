"""Segregation of duties (R-5.3, X-2): the rules that refuse a permitted action because of who asks.

- Nobody takes an `own_work_forbidden` action (review, approve, countersign…) on what they authored.
- An auditor never audits a department whose position they hold.
- Who may decide a step of an approval route: a holder of one of the step's positions that counts
  at the document's site (the same site rule as every decision), not its author, not a position
  already filled in a committee step, and not someone who decided another step of the same route
  (revision and round), whichever positions they hold, unless that step allows the same decider
  (`same_decider_allowed` in approval_routes.yaml, listed by `cms policy check`).
"""

from __future__ import annotations

from collections.abc import Mapping

from cms_workflows.access.roles import PositionNames
from cms_workflows.core.errors import AccessDenied, Conflict

# `control` below is the AccessControl asking (access.control imports this module, not the reverse)


def refusal(control, uow, username: str, action: str, resource) -> AccessDenied | None:
    """The segregation-of-duties refusal of a permitted action, if any."""
    if resource.authors and action in control.policy.own_work_forbidden and username in resource.authors:
        return AccessDenied("access.sod_own_work", username=username, action=action, object_type=resource.type)
    if resource.department is not None:
        if resource.department in control.directory.departments(uow, username, uow.clock.today()):
            return AccessDenied("access.sod_own_department", username=username, department=resource.department)
    return None


def route_refusal(username: str, resource, *, step: str, earlier: Mapping[str, str],
                  same_decider_allowed: bool = False) -> AccessDenied | None:
    """Four eyes across a route: who decided another step of it (`earlier`: username -> that step's name)
    does not decide this one, whichever positions they hold, unless the step allows the same decider."""
    if username in earlier and not same_decider_allowed:
        return AccessDenied("access.sod_same_decider", username=username, object_id=resource.id, step=step,
                            earlier_step=earlier[username])
    return None


def step_capacity(control, uow, username: str, resource, *, step: str, action: str,
                  positions: list[str], taken: set[str], decided_by: set[str],
                  earlier: Mapping[str, str] | None = None, same_decider_allowed: bool = False) -> str:
    """The position in which `username` decides a route step on `resource`, or a clear refusal.

    `taken`: positions already filled (a committee step fills each once); `decided_by`: who already
    decided this step; `earlier`: who decided another step of this route (username -> step name)."""
    if username in decided_by:
        raise Conflict("access.already_decided", username=username, object_id=resource.id, step=step)
    refused = route_refusal(username, resource, step=step, earlier=earlier or {},
                            same_decider_allowed=same_decider_allowed)
    if refused is not None:
        raise refused
    if username in resource.authors:
        raise AccessDenied("access.sod_own_work", username=username, action=action, object_type=resource.type)
    candidates = sorted((control.positions_held(uow, username, resource.site) & set(positions)) - taken)
    if not candidates:
        raise AccessDenied("access.not_a_decider", username=username, object_id=resource.id, step=step,
                           positions=PositionNames(positions), site=resource.site)
    return candidates[0]
