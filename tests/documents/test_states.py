"""The register's lifecycle tables, authorization before state, and the superseded_by migration."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cms_workflows.core.errors import AccessDenied
from cms_workflows.core.i18n import LOCALES, catalog
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.documents.states import LIFECYCLES, REVISION, RevisionStatus

from .conftest import DOC_CONTROL, GM, audit_count

OUTSIDER = "quality_system_engineer.hn02"  # holds positions at another site only


def test_every_state_and_command_of_the_tables_has_a_label():
    for locale in LOCALES:
        keys = catalog(locale)
        for lifecycle in LIFECYCLES:
            for state in lifecycle.states:
                assert f"{lifecycle.label_prefix}{state}" in keys, (locale, lifecycle.name, state)
            for name in lifecycle.commands():
                assert f"lifecycle.command.{name}" in keys, (locale, name)


def test_the_revision_table_is_the_documented_lifecycle():
    assert REVISION.target("draft", "submit") == RevisionStatus.IN_REVIEW
    assert REVISION.target("in_review", "return") == RevisionStatus.DRAFT
    assert REVISION.target("effective", "supersede") == RevisionStatus.SUPERSEDED
    assert not REVISION.allows("superseded", "make_effective")


@pytest.mark.parametrize("command", ["submit", "edit", "make_effective", "obsolete", "decide", "add_reviewer"])
def test_an_unauthorized_user_is_refused_before_any_state_is_checked(db, procedure, command):
    """The procedure is a draft: each of these would be a wrong state for an authorized user; an outsider
    is told only that they may not, and nothing changes."""
    before = audit_count(db)
    with pytest.raises(AccessDenied):
        with db.unit_of_work() as session:
            if command == "submit":
                docs.submit(session, OUTSIDER, procedure)
            elif command == "edit":
                docs.edit(session, OUTSIDER, procedure, title="x")
            elif command == "make_effective":
                docs.make_effective(session, OUTSIDER, procedure)
            elif command == "obsolete":
                docs.obsolete(session, OUTSIDER, procedure, "")
            elif command == "decide":
                doc_approval.decide(session, OUTSIDER, procedure, "maybe", expect="approve")
            else:
                doc_approval.add_reviewer(session, OUTSIDER, procedure, GM)
    assert audit_count(db) == before
    with db.read() as session:
        rev = doc_queries.open_revision(session, doc_queries.get_document(session, procedure))
    assert rev.status == "draft" and rev.round == 0


def test_an_authorized_user_is_told_the_state(db, procedure):
    from cms_workflows.core.errors import InvalidTransition

    with pytest.raises(InvalidTransition) as err:
        with db.unit_of_work() as session:
            docs.make_effective(session, DOC_CONTROL, procedure)
    assert err.value.key == "documents.wrong_state" and procedure in err.value.message("en")


def test_the_migration_moves_superseded_reasons_to_superseded_by(empty_db):
    empty_db.upgrade("0002_documents")
    with empty_db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO doc_document (id, number, doc_type, site, title, owner_department, language, status, "
            "created_by, created_at) VALUES (1, 'HN01-PR-001', 'procedure', 'HN01', 't', 'd', 'zh-CN', 'active', "
            "'a', '2026-01-01 00:00:00')"))
        for rid, label, status, reason in ((1, "A", "superseded", "superseded by B"), (2, "B", "obsolete", "停用"),
                                           (3, "C", "effective", None)):
            conn.execute(text(
                "INSERT INTO doc_revision (id, document_id, seq, label, status, author, author_position, change_reason,"
                " content, source, round, end_reason, created_at) VALUES (:id, 1, :id, :label, :status, 'a', '', '',"
                " '{}', 'rendered', 0, :reason, '2026-01-01 00:00:00')"),
                {"id": rid, "label": label, "status": status, "reason": reason})
    empty_db.upgrade()
    with empty_db.engine.connect() as conn:
        rows = conn.execute(text("SELECT label, superseded_by, end_reason FROM doc_revision ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("A", "B", None), ("B", None, "停用"), ("C", None, None)]
