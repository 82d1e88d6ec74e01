"""At most one open revision per document, guaranteed by the database as well as by the service (migration
0018): the register's one-statement read joins each document to its open revision."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy.exc import IntegrityError

from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import OPEN_REVISION_SQL, Revision
from cms_workflows.documents.states import OPEN_STATES, RevisionStatus
from tests.documents.conftest import AUTHOR, new_procedure, release


def test_the_migration_indexes_exactly_the_open_states():
    """Migration 0018 spells the condition out (a migration must not change with the code); the model derives
    it from OPEN_STATES: the two agree, and name every open state."""
    migration = importlib.import_module("cms_workflows.migrations.versions.0018_documents_one_open_revision")
    assert migration.OPEN == OPEN_REVISION_SQL
    assert all(f"'{state}'" in migration.OPEN for state in OPEN_STATES)


@pytest.mark.parametrize("status", [RevisionStatus.DRAFT, RevisionStatus.APPROVED])
def test_a_second_open_revision_written_past_the_service_is_refused_by_the_database(db, company, status):
    number = new_procedure(db)
    with pytest.raises(IntegrityError):
        with db.unit_of_work() as uow:
            doc = doc_queries.get_document(uow, number)
            uow.add(Revision(document_id=doc.id, seq=2, label="B", status=status, author=AUTHOR))
            uow.flush()


def test_an_effective_revision_and_its_successor_draft_stand_side_by_side(db, company):
    number = new_procedure(db)
    release(db, number)
    with db.unit_of_work() as uow:  # the next revision drafted while the released one stays effective
        docs.edit(uow, AUTHOR, number, change_reason="增加备份要求")
    with db.read() as uow:
        statuses = [r.status for r in doc_queries.revisions(uow, doc_queries.get_document(uow, number))]
    assert statuses == [RevisionStatus.EFFECTIVE, RevisionStatus.DRAFT]
