"""Shared steps of the process tests: one command per unit of work, as the CLI and the web run them."""

from __future__ import annotations

from cms_workflows.documents import approval
from cms_workflows.processes import cases, engine, queries

GM = "gm"


def do(db, fn, *args, **kwargs):
    with db.unit_of_work() as uow:
        return fn(uow, *args, **kwargs)


def case_of(db, number: str):
    with db.read() as uow:
        return cases.get_case(uow, number)


def view(db, number: str, reader: str = GM):
    with db.read() as uow:
        return queries.show(uow, reader, number)


def decide_report(db, number: str, reviewer: str, decision: str = "approve", comment: str = "同意",
                  approver: str = GM) -> list[str]:
    """The report's route: the reviewer's review, then top management's decision (`decision`, with the
    comment); then the engine follows the outcome. Returns the automatic steps the case took."""
    doc = case_of(db, number).document_number
    do(db, approval.decide, reviewer, doc, "approve", "审核同意", expect="review")
    do(db, approval.decide, approver, doc, decision, comment, expect="approve")
    return engine.advance(db, number)


def complete_task(db, key: str, username: str, outcome: str = "完成", **evidence) -> list[str]:
    """A holder completes a task by its key; the case it belongs to moves on (as `cms tasks complete`)."""
    from cms_workflows.tasks import service as tasks

    do(db, tasks.complete, username, key, outcome=outcome, **evidence)
    return engine.after_task(db, key)
