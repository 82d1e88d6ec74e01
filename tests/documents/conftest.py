"""Document-control fixtures: users of the demo company and a helper that walks a procedure through its route."""

from __future__ import annotations

from datetime import date

import pytest

from cms_workflows.documents import registry
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs

AUTHOR = "strategy_manager.hn01"      # drafts procedures at HN01 (carbon management department)
REVIEWER = "quality_system_engineer.hn01"
GM = "gm"
DOC_CONTROL = "doccontrol"
PROCEDURE_CONTENT = registry.template("controlled_document").example


def new_procedure(db, title: str = "文件控制程序", author: str = AUTHOR, content: dict | None = None) -> str:
    with db.unit_of_work() as session:
        rev = docs.create(session, author, doc_type="procedure", site="HN01", title=title,
                          owner_department="carbon_management", content=content or dict(PROCEDURE_CONTENT))
        return doc_queries.document_number(session, rev.document_id)


def release(db, number: str, *, author: str = AUTHOR, reason: str | None = None, today: date | None = None) -> None:
    """Submit, review, approve and make effective (the happy path of the procedure route)."""
    with db.unit_of_work() as session:
        docs.submit(session, author, number, change_reason=reason)
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, number, "approve", "内容符合要求", expect="review")
    with db.unit_of_work() as session:
        doc_approval.decide(session, GM, number, "approve", "同意发布", expect="approve", today=today)
    with db.unit_of_work() as session:
        docs.make_effective(session, DOC_CONTROL, number, today=today)


def audit_count(db) -> int:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_event")).scalar()


@pytest.fixture
def procedure(db, company) -> str:
    return new_procedure(db)
