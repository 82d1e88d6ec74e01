"""Lifecycles of the accounting domain (see core.lifecycle).

A calculation run is created as a draft, or — when it recalculates closed months — as a
recalculation awaiting approval (R-6.3.2.4); approval makes it official (its months lock to
it); it is superseded once an approved recalculation has taken over all of its months.
An import that changes a month locked to an official run reopens the run (issue 15): its figures stay
the figures of record, but they no longer match the data, so a recalculation is needed; an approved
recalculation of the changed months supersedes it, or — when it keeps other, unchanged months —
makes it official again.
A baseline is proposed, approved by top management, and superseded by the next approved
baseline of the same level and scope.
An import batch has no state of its own: a correcting import marks the activity rows it
replaces (`Activity.replaced_by_import`), the batch itself never changes.
"""

from __future__ import annotations

from enum import StrEnum

from cms_workflows.core.lifecycle import Lifecycle


class RunStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    OFFICIAL = "official"
    REOPENED = "reopened"
    SUPERSEDED = "superseded"


class BaselineStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


RUN = Lifecycle("accounting.run", RunStatus, RunStatus.DRAFT, [
    ("approve_run", (RunStatus.DRAFT, RunStatus.PENDING_APPROVAL), RunStatus.OFFICIAL),
    ("reopen_run", RunStatus.OFFICIAL, RunStatus.REOPENED),
    ("restore_run", RunStatus.REOPENED, RunStatus.OFFICIAL),
    ("supersede_run", (RunStatus.OFFICIAL, RunStatus.REOPENED), RunStatus.SUPERSEDED),
], label_prefix="accounting.state.")

BASELINE = Lifecycle("accounting.baseline", BaselineStatus, BaselineStatus.PROPOSED, [
    ("approve_baseline", BaselineStatus.PROPOSED, BaselineStatus.APPROVED),
    ("supersede_baseline", BaselineStatus.APPROVED, BaselineStatus.SUPERSEDED),
], label_prefix="accounting.state.")

LIFECYCLES = (RUN, BASELINE)


def run_created_status(recalculation: bool) -> RunStatus:
    """A run over closed months awaits approval before it may replace the locked figures."""
    return RunStatus.PENDING_APPROVAL if recalculation else RUN.initial
