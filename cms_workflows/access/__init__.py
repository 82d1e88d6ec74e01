"""Access control (R-5.3, X-2): who may take which action on what, and segregation of duties."""

from cms_workflows.access.control import *  # noqa: F401,F403
from cms_workflows.access.control import (  # noqa: F401
    COMPANY_WIDE, AccessControl, DecisionTable, Grant, Policy, PolicyLine, PositionNames, Resource, can, get_access,
    holders, policy_dir, require, set_access,
)
