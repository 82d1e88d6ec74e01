"""Reads of the PDCA cases: one case with its texts, items and tasks; the cases of a kind; the timeline.

Reading a case needs `read` on its process's object type at its site (the same decision as every read).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import or_, select

from cms_workflows.access import require
from cms_workflows.audit.models import AuditEvent
from cms_workflows.processes import cases
from cms_workflows.processes.models import Case, CaseItem


@dataclass
class CaseView:
    case: Case
    data: dict
    texts: dict[str, str]
    items: dict[str, list[tuple[CaseItem, dict]]] = field(default_factory=dict)
    tasks: list = field(default_factory=list)
    parent: str | None = None
    children: list[str] = field(default_factory=list)


def show(uow, username: str, number: str) -> CaseView:
    case = cases.get_case(uow, number)
    require(uow, username, "read", cases.resource_of(case))
    rows = uow.exec(select(CaseItem).where(CaseItem.case_id == case.id).order_by(CaseItem.kind, CaseItem.seq)).all()
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.kind, []).append((row, cases.item_data(row)))
    parent = uow.get(Case, case.parent_id).number if case.parent_id else None
    children = list(uow.exec(select(Case.number).where(Case.parent_id == case.id).order_by(Case.id)))
    return CaseView(case, cases.data_of(case), {k: v.text for k, v in cases.texts(uow, case).items()}, grouped,
                    cases.stage_tasks(uow, case), parent, children)


def list_cases(uow, username: str, *, kind: str | None = None, site: str | None = None,
               open_only: bool = False) -> list[Case]:
    """The cases the user may read, newest first."""
    from cms_workflows.access import can

    q = select(Case).order_by(Case.id.desc())
    if kind:
        q = q.where(Case.kind == kind)
    if site:
        q = q.where(Case.site == site)
    if open_only:
        q = q.where(Case.status.not_in(("approved", "closed", "cancelled")))
    return [c for c in uow.exec(q) if can(uow, username, "read", cases.resource_of(c))]


def case_object_types(kind: str | None = None) -> list[str]:
    """The permission object types of cases (`case.<kind>`), of one kind or of every process."""
    from cms_workflows.processes.registry import processes

    return [f"case.{k}" for k in ([kind] if kind else sorted(processes()))]


def timeline(uow, username: str, number: str) -> list[AuditEvent]:
    """The case's events and those of its tasks and its report, in the order they happened: the trail is
    the timeline, nothing is kept beside it."""
    case = cases.get_case(uow, number)
    require(uow, username, "read", cases.resource_of(case))
    task_ids = [str(t.id) for t in cases.stage_tasks(uow, case)]
    conditions = [(AuditEvent.object_type == cases.AUDIT_OBJECT) & (AuditEvent.object_id == case.number)]
    if task_ids:
        conditions.append((AuditEvent.object_type == "task_task") & AuditEvent.object_id.in_(task_ids))
    if case.document_number:
        from cms_workflows.documents.queries import get_document

        doc_id = str(get_document(uow, case.document_number).id)
        conditions.append((AuditEvent.object_type == "doc_document") & (AuditEvent.object_id == doc_id))
    return list(uow.exec(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.seq)))
