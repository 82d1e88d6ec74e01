"""The cases checked against the audit trail (`cms verify --deep`; X-1, issue 11).

Every case command records on the object `proc_case` with the case number as its id: the opening (kind,
site, first stage), each transition (`to`), each text written and each item added. The trail is replayed
per case and compared with the tables: a case whose stage, kind or site was edited in the database, a
text rewritten, an item slipped in or removed, or a case without its opening event shows here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from sqlmodel import select

from cms_workflows.audit.deep import Disagreement
from cms_workflows.audit.models import AuditEvent
from cms_workflows.processes.models import Case, CaseItem, CaseText

OBJECT = "proc_case"


def recorded_cases(uow) -> dict[str, dict]:
    """Case number -> what the trail tells: kind, site, stage, the latest text per field, items per kind."""
    found: dict[str, dict] = {}
    q = select(AuditEvent.seq, AuditEvent.object_id, AuditEvent.payload).where(AuditEvent.object_type == OBJECT) \
        .order_by(AuditEvent.seq)
    for seq, number, payload in uow.execute(q):
        p = json.loads(payload)
        case = found.get(number)
        if case is None:
            if "kind" not in p:  # a command refused before the opening never records
                continue
            case = found[number] = {"seq": seq, "kind": p["kind"], "site": p.get("site"), "status": p.get("status"),
                                    "texts": {}, "items": Counter()}
        case["seq"] = seq
        if "to" in p:
            case["status"] = p["to"]
        case["texts"].update(p.get("texts") or {})
        case["items"].update(item["kind"] for item in p.get("items") or [])
    return found


def check_cases(uow) -> Iterator[Disagreement]:
    recorded = recorded_cases(uow)
    count = 0
    for case in uow.exec(select(Case).order_by(Case.id)):
        count += 1
        r = recorded.pop(case.number, None)
        names = {"number": case.number}
        if r is None:
            yield Disagreement("processes.deep.case_without_event", names)
            return
        for field, stored in (("kind", case.kind), ("site", case.site), ("status", case.status)):
            if r[field] != stored:
                yield Disagreement("processes.deep.case_differs", {**names, "field": field, "stored": stored,
                                                                   "recorded": r[field] or "—", "seq": r["seq"]})
                return
        latest = {t.field: t.text for t in uow.exec(select(CaseText).where(CaseText.case_id == case.id)
                                                    .order_by(CaseText.id))}
        if latest != r["texts"]:
            field = sorted(set(latest) ^ set(r["texts"]) or {f for f in latest if latest[f] != r["texts"][f]})[0]
            yield Disagreement("processes.deep.text_differs", {**names, "field": field})
            return
        items = Counter(uow.exec(select(CaseItem.kind).where(CaseItem.case_id == case.id)).all())
        if items != r["items"]:
            kind = sorted(set(items) | set(r["items"]), key=lambda k: (items[k] == r["items"][k], k))[0]
            yield Disagreement("processes.deep.items_differ", {**names, "kind": kind, "stored": items[kind],
                                                               "recorded": r["items"][kind]})
            return
    for number, r in sorted(recorded.items(), key=lambda kv: kv[1]["seq"]):
        yield Disagreement("processes.deep.event_without_case", {"number": number, "seq": r["seq"]})
        return
    return {"processes.deep.count_cases": count}
