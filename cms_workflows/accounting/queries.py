"""Reads of the accounting domain that other parts of the system need."""

from __future__ import annotations

from sqlmodel import select

from cms_workflows.accounting.models import ImportBatch


def stored_import_files(uow) -> set[str]:
    """Hashes of imported activity files, which the file store must hold (`cms verify`, evidence packs)."""
    return set(uow.exec(select(ImportBatch.sha256)))
