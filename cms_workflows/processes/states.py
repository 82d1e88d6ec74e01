"""Lifecycles of the PDCA cases (see core.lifecycle; docs/lifecycles.md draws them).

Every process ends in a controlled report that goes through the document route of its type: the case
waits `in_review` while the route runs, goes back to `reporting` when the route returns the draft (the
rejection loop: the texts are corrected and the report is drafted again) and is approved when the route
approves it. The commands ending in `_done`, and `report_returned` / `report_approved`, are taken by the
engine when their condition holds (the stage's tasks are done, the route has decided); the others by the
people who do the step. Writing a text or an item leaves the stage as it is (`write`). Any open case may
be cancelled, with its reason, by the carbon management lead.
"""

from __future__ import annotations

from enum import StrEnum

from cms_workflows.core.lifecycle import Lifecycle

LABELS = "processes.state."
FINAL = ("approved", "closed", "cancelled")


def _stay(command: str, *states: str) -> list[tuple[str, str, str]]:
    return [(command, s, s) for s in states]


def _open(states: type[StrEnum]) -> tuple[str, ...]:
    return tuple(s.value for s in states if s.value not in FINAL)


def _common(states: type[StrEnum]) -> list[tuple]:
    """Writing texts and items in any open stage; cancelling an open case."""
    return [*_stay("write", *_open(states)), ("cancel", _open(states), "cancelled")]


REPORT_LOOP = [("submit_report", "reporting", "in_review"),
               ("report_returned", "in_review", "reporting"),
               ("report_approved", "in_review", "approved")]


class CarbonReviewState(StrEnum):
    PLANNING = "planning"
    COLLECTING = "collecting"
    CALCULATING = "calculating"
    ANALYSING = "analysing"
    REPORTING = "reporting"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    CANCELLED = "cancelled"


# plan → data collection by the positions of the data collection plan → an approved calculation
# run → analysis → the Annex E report → review and approval by top management
CARBON_REVIEW = Lifecycle("processes.carbon_review", CarbonReviewState, "planning", [
    ("plan_review", "planning", "collecting"),
    ("collection_done", "collecting", "calculating"),
    ("calculation_done", "calculating", "analysing"),
    ("analysis_done", "analysing", "reporting"),
    *REPORT_LOOP,
    *_common(CarbonReviewState),
], label_prefix=LABELS)


class ComplianceEvaluationState(StrEnum):
    PLANNING = "planning"
    EVALUATING = "evaluating"
    REPORTING = "reporting"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    CANCELLED = "cancelled"


# every obligation of the register evaluated with evidence and a verdict, the record
# approved by top management; a non-compliance opens a nonconformity
COMPLIANCE_EVALUATION = Lifecycle("processes.compliance_evaluation", ComplianceEvaluationState, "planning", [
    ("start_evaluation", "planning", "evaluating"),
    ("evaluation_done", "evaluating", "reporting"),
    *REPORT_LOOP,
    *_common(ComplianceEvaluationState),
], label_prefix=LABELS)


class AuditProgrammeState(StrEnum):
    DRAFTING = "drafting"
    REPORTING = "reporting"  # the programme document drafted from the planned audits
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    CANCELLED = "cancelled"


# the annual audit programme (audits, scope, criteria, dates), approved by top management
AUDIT_PROGRAMME = Lifecycle("processes.audit_programme", AuditProgrammeState, "drafting", [
    ("programme_done", "drafting", "reporting"),
    *REPORT_LOOP,
    *_common(AuditProgrammeState),
], label_prefix=LABELS)


class InternalAuditState(StrEnum):
    PLANNING = "planning"
    AUDITING = "auditing"
    REPORTING = "reporting"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    CANCELLED = "cancelled"


# one audit of the programme: plan and team (objectivity), checklist, findings, report
INTERNAL_AUDIT = Lifecycle("processes.internal_audit", InternalAuditState, "planning", [
    ("plan_audit", "planning", "auditing"),
    ("fieldwork_done", "auditing", "reporting"),
    *REPORT_LOOP,
    *_common(InternalAuditState),
], label_prefix=LABELS)


class ManagementReviewState(StrEnum):
    PREPARING = "preparing"
    MEETING = "meeting"
    REPORTING = "reporting"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    CANCELLED = "cancelled"


# the input pack assembled from the system's data → the meeting's decisions → minutes approved by
# top management; each decision becomes a task the next review reports on
MANAGEMENT_REVIEW = Lifecycle("processes.management_review", ManagementReviewState, "preparing", [
    ("inputs_done", "preparing", "meeting"),
    ("meeting_done", "meeting", "reporting"),
    *REPORT_LOOP,
    *_common(ManagementReviewState),
], label_prefix=LABELS)


class CorrectiveActionState(StrEnum):
    CONTAINING = "containing"
    ANALYSING = "analysing"
    IMPLEMENTING = "implementing"
    VERIFYING = "verifying"
    REPORTING = "reporting"
    IN_REVIEW = "in_review"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# containment and correction → cause, similar nonconformities, action plan → implementation
# → effectiveness review after the set interval by someone other than the action owners (ineffective: back
# to analysis) → the corrective action report → closed
CORRECTIVE_ACTION = Lifecycle("processes.corrective_action", CorrectiveActionState, "containing", [
    ("contain", "containing", "analysing"),
    ("plan_actions", "analysing", "implementing"),
    ("implementation_done", "implementing", "verifying"),
    ("review_effective", "verifying", "reporting"),
    ("review_ineffective", "verifying", "analysing"),
    ("submit_report", "reporting", "in_review"),
    ("report_returned", "in_review", "reporting"),
    ("report_approved", "in_review", "closed"),
    *_common(CorrectiveActionState),
], label_prefix=LABELS)


class DeviationState(StrEnum):
    INVESTIGATING = "investigating"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# R-9.1.1.3: a baseline deviation above the threshold, investigated: cause and response, then closed or
# escalated to a corrective action (which is then its own case)
DEVIATION = Lifecycle("processes.deviation", DeviationState, "investigating", [
    ("close_investigation", "investigating", "closed"),
    ("escalate", "investigating", "closed"),
    *_common(DeviationState),
], label_prefix=LABELS)

LIFECYCLES = (CARBON_REVIEW, COMPLIANCE_EVALUATION, AUDIT_PROGRAMME, INTERNAL_AUDIT, MANAGEMENT_REVIEW,
              CORRECTIVE_ACTION, DEVIATION)
