"""The cases' part of an evidence pack and of `cms verify` (X-1; issue 11).

A scope naming cases (`cms export-evidence --case NUMBER`) covers each case with the cases it led to (a
nonconformity an audit raised, …): their events, the events of their tasks and of their reports. For the
cases in a pack, `records/cases/<number>.json` holds the case row, the texts people wrote and its items;
the files its items name (a compliance verdict's evidence) travel in `files/`.
"""

from __future__ import annotations

import json

from sqlmodel import select

from cms_workflows.processes import cases
from cms_workflows.processes.models import Case, CaseItem, CaseText

OBJECT = cases.AUDIT_OBJECT


def _with_descendants(uow, roots: list[Case]) -> list[Case]:
    found, todo = {c.id: c for c in roots}, list(roots)
    while todo:
        children = uow.exec(select(Case).where(Case.parent_id.in_([c.id for c in todo]))).all()
        todo = [c for c in children if c.id not in found]
        found.update({c.id: c for c in todo})
    return sorted(found.values(), key=lambda c: c.id)


def _keys_of(uow, chosen: list[Case]) -> set[tuple[str, str]]:
    from cms_workflows.documents.models import Document

    keys = {(OBJECT, c.number) for c in chosen}
    for case in chosen:
        keys |= {("task_task", str(t.id)) for t in cases.stage_tasks(uow, case)}
        if case.document_number:
            doc = uow.exec(select(Document).where(Document.number == case.document_number)).first()
            if doc is not None:
                keys.add(("doc_document", str(doc.id)))
    return keys


def objects(uow, filter_name: str, value) -> set[tuple[str, str]]:
    if filter_name == "site":
        return {(OBJECT, n) for n in uow.exec(select(Case.number).where(Case.site == value))}
    if filter_name == "cases":
        chosen = [cases.get_case(uow, number) for number in value]  # an unknown number: a clear message
        return _keys_of(uow, _with_descendants(uow, chosen))
    return set()


def _files_of(data: dict) -> set[str]:
    stored = data.get("evidence_file")
    return {stored["sha256"]} if isinstance(stored, dict) and stored.get("sha256") else set()


def records(uow, keys: set[tuple[str, str]]) -> tuple[dict[str, bytes], set[str]]:
    numbers = sorted(oid for otype, oid in keys if otype == OBJECT)
    members: dict[str, bytes] = {}
    files: set[str] = set()
    for case in uow.exec(select(Case).where(Case.number.in_(numbers)).order_by(Case.id)) if numbers else ():
        texts = uow.exec(select(CaseText).where(CaseText.case_id == case.id).order_by(CaseText.id)).all()
        items = uow.exec(select(CaseItem).where(CaseItem.case_id == case.id).order_by(CaseItem.kind, CaseItem.seq)).all()
        for item in items:
            files |= _files_of(cases.item_data(item))
        entry = {"case": case.model_dump(mode="json"), "texts": [t.model_dump(mode="json") for t in texts],
                 "items": [i.model_dump(mode="json") for i in items]}
        members[f"cases/{case.number}.json"] = json.dumps(entry, ensure_ascii=False, indent=1,
                                                          sort_keys=True).encode("utf-8")
    return members, files


def stored_case_files(uow) -> set[str]:
    """The stored files the cases' items refer to (`cms verify`: none of them may be missing)."""
    found: set[str] = set()
    for data in uow.exec(select(CaseItem.data).where(CaseItem.data.like('%"sha256"%'))):
        found |= _files_of(json.loads(data))
    return found
