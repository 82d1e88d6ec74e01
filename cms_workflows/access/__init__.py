"""Access control (R-5.3, X-2): who may take which action on what, at which site; segregation of duties.

`policy` reads the policy files, `roles` the Annex A role model, `control` decides (a compiled
table proven equal to Casbin), `sod` refuses what segregation of duties forbids."""

from cms_workflows.access.control import (
    COMPANY_WIDE, AccessControl, Actor, DecisionTable, Directory, Grant, Resource, can, configure, configured, counts_at,
    derived, directory, get_access, held_positions, holders, positions_counting_at, require, set_access,
)
from cms_workflows.access.policy import Policy, PolicyLine, policy_dir
from cms_workflows.access.roles import PositionNames, known_position_codes, position_labels

__all__ = [
    "COMPANY_WIDE", "AccessControl", "Actor", "DecisionTable", "Directory", "Grant", "Policy", "PolicyLine", "PositionNames",
    "Resource", "can", "configure", "configured", "counts_at", "derived", "directory", "get_access", "held_positions", "holders", "known_position_codes", "policy_dir",
    "position_labels", "positions_counting_at", "require", "set_access",
]
