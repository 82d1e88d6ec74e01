"""Lifecycle of a scope and boundary version (R-4.3; see core.lifecycle).

A draft is edited by the carbon management team and submitted; top management approves it, which
gives it the next version number and date and supersedes the version in force. An approved or
superseded version never changes again (a change is a new draft). The other registers have no lifecycle: their rows
are changed in place, each change an audited event.
"""

from __future__ import annotations

from enum import StrEnum

from cms_workflows.core.lifecycle import Lifecycle


class ScopeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


SCOPE = Lifecycle("registers.scope", ScopeStatus, ScopeStatus.DRAFT, [
    ("edit_scope", ScopeStatus.DRAFT, ScopeStatus.DRAFT),
    ("submit_scope", ScopeStatus.DRAFT, ScopeStatus.SUBMITTED),
    ("approve_scope", ScopeStatus.SUBMITTED, ScopeStatus.APPROVED),
    ("supersede_scope", ScopeStatus.APPROVED, ScopeStatus.SUPERSEDED),
], label_prefix="registers.scope.state.")

LIFECYCLES = (SCOPE,)
