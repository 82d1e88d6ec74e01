"""Lifecycles of the document register (see core.lifecycle; docs/lifecycles.md draws them).

A revision: draft → in_review → approved → effective → superseded | obsolete; a rejection
returns it to draft; an unreleased revision of a document made obsolete is withdrawn. The
effective revision stays effective while its successor is drafted and reviewed, and is
superseded in the transaction that releases the successor.
A document is active until made obsolete; after its retention period it is archived or destroyed.
A route step waits, runs, and ends done, rejected or cancelled. A disposition request is
approved or rejected by a second person.
"""

from __future__ import annotations

from enum import StrEnum

from cms_workflows.core.lifecycle import Lifecycle


class RevisionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"
    OBSOLETE = "obsolete"
    WITHDRAWN = "withdrawn"


class DocumentStatus(StrEnum):
    ACTIVE = "active"
    OBSOLETE = "obsolete"
    ARCHIVED = "archived"
    DESTROYED = "destroyed"


class StepStatus(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    DONE = "done"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class DispositionStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


R, D, S, P = RevisionStatus, DocumentStatus, StepStatus, DispositionStatus

# a revision "in progress" (the document's one open revision)
OPEN_STATES = (R.DRAFT, R.IN_REVIEW, R.APPROVED)

REVISION = Lifecycle("documents.revision", RevisionStatus, R.DRAFT, [
    ("edit", R.DRAFT, R.DRAFT),
    ("submit", R.DRAFT, R.IN_REVIEW),
    ("decide", R.IN_REVIEW, R.IN_REVIEW),  # a decision that does not end the route
    ("add_reviewer", R.IN_REVIEW, R.IN_REVIEW),
    ("return", R.IN_REVIEW, R.DRAFT),
    ("approve", R.IN_REVIEW, R.APPROVED),
    ("make_effective", R.APPROVED, R.EFFECTIVE),
    ("supersede", R.EFFECTIVE, R.SUPERSEDED),
    ("obsolete", R.EFFECTIVE, R.OBSOLETE),
    ("withdraw", OPEN_STATES, R.WITHDRAWN),
], label_prefix="documents.state.")

DOCUMENT = Lifecycle("documents.document", DocumentStatus, D.ACTIVE, [
    ("change", D.ACTIVE, D.ACTIVE),  # drafting, review, release, distribution, periodic review
    ("obsolete", D.ACTIVE, D.OBSOLETE),
    ("archive", D.OBSOLETE, D.ARCHIVED),
    ("destroy", D.OBSOLETE, D.DESTROYED),
], label_prefix="documents.doc_status.")

STEP = Lifecycle("documents.route_step", StepStatus, S.WAITING, [
    ("activate", S.WAITING, S.ACTIVE),
    ("complete", S.ACTIVE, S.DONE),
    ("reject", S.ACTIVE, S.REJECTED),
    ("cancel", (S.WAITING, S.ACTIVE), S.CANCELLED),
], label_prefix="documents.step_state.")

DISPOSITION = Lifecycle("documents.disposition", DispositionStatus, P.REQUESTED, [
    ("approve_disposal", P.REQUESTED, P.APPROVED),
    ("reject_disposal", P.REQUESTED, P.REJECTED),
], label_prefix="documents.disposition_state.")

LIFECYCLES = (REVISION, DOCUMENT, STEP, DISPOSITION)
