"""Evidence a task is completed with (X-1, X-3): a stored file, a document revision or a record id.

Tasks sit beside the document register, not above it, so the reference to a document revision is
resolved by a function the bootstrap hands in (`configure`), as access reads the organisation.
"""

from __future__ import annotations

from collections.abc import Callable

from cms_workflows.core.i18n import Message

# (uow, actor, "NUMBER" or "NUMBER@LABEL") -> "NUMBER@LABEL" of a revision the actor may read
DocumentResolver = Callable[[object, str, str], str]
_document_resolver: DocumentResolver | None = None


def configure(document_resolver: DocumentResolver) -> None:
    global _document_resolver
    _document_resolver = document_resolver


def document_revision(uow, actor: str, reference: str) -> str:
    if _document_resolver is None:
        raise RuntimeError("tasks.evidence is not configured: call cms_workflows.bootstrap.configure() first")
    return _document_resolver(uow, actor, reference)


def kind_label(kind: str) -> Message:
    return Message(f"tasks.evidence_kind.{kind}")
