"""Lifecycles of tasks and of their notifications (see core.lifecycle; docs/lifecycles.md draws them).

A task is open until a holder of its position claims it (a claim can be released) and done when
completed with its outcome and evidence; the carbon management lead may cancel an open or claimed
task. Reminders and escalations leave the state as it is (X-3).
An outbox message is pending until the sender takes it (sending); it is then sent, or back to
pending with its next attempt set after a failure that certainly sent nothing, or failed for good
after the last attempt. A message found `sending` was perhaps delivered: it is never tried again
by itself, so no message is sent twice.
"""

from __future__ import annotations

from enum import StrEnum

from cms_workflows.core.lifecycle import Lifecycle


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class EvidenceKind(StrEnum):
    NONE = "none"
    FILE = "file"
    DOCUMENT = "document"
    RECORD = "record"


T, M = TaskStatus, MessageStatus
ACTIVE_STATES = (T.OPEN, T.CLAIMED)

TASK = Lifecycle("tasks.task", TaskStatus, T.OPEN, [
    ("claim_task", T.OPEN, T.CLAIMED),
    ("release_task", T.CLAIMED, T.OPEN),
    ("complete_task", ACTIVE_STATES, T.DONE),
    ("cancel_task", ACTIVE_STATES, T.CANCELLED),
    ("remind_task", T.OPEN, T.OPEN),  # reminders and escalations are recorded, the state stays
    ("remind_task", T.CLAIMED, T.CLAIMED),
    ("escalate_task", T.OPEN, T.OPEN),
    ("escalate_task", T.CLAIMED, T.CLAIMED),
], label_prefix="tasks.state.")

MESSAGE = Lifecycle("tasks.message", MessageStatus, M.PENDING, [
    ("dispatch_message", M.PENDING, M.SENDING),
    ("deliver_message", M.SENDING, M.SENT),
    ("retry_message", M.SENDING, M.PENDING),
    ("fail_message", M.SENDING, M.FAILED),
], label_prefix="tasks.message_state.")

LIFECYCLES = (TASK, MESSAGE)
