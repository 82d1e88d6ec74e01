"""Position assignments checked against the audit trail (`cms verify --deep`; R-5.3, X-1, X-2).

Who held which position where and when decides every authorization and every segregation-of-duties
rule, so an assignment edited in the database (another position, site, user or dates) would bend them
unseen. The trail is replayed per assignment: created (user, position, site, from, to), ended (to),
ended by a user's deactivation (to = the deactivation day, or the start if later), and the result
compared with the table. Deactivation events written before issue 14 do not name the day; the end
date of an assignment they ended cannot be checked (its other fields are).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select

from cms_workflows.core.i18n import Message
from cms_workflows.audit.deep import Disagreement, trail
from cms_workflows.org.models import Assignment, User

UNKNOWN = object()  # an end date the trail does not tell


def _day(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def recorded_assignments(uow) -> dict[str, dict]:
    """Assignment id -> its fields as the trail tells them, events replayed in chain order."""
    found: dict[str, dict] = {}
    for e in trail(uow, "org.assignment.create", "assignment"):
        p = e.payload
        found[e.object_id] = {"seq": e.seq, "username": p.get("username"), "position": p.get("position"),
                              "site": p.get("site"), "valid_from": _day(p.get("valid_from")),
                              "valid_to": _day(p.get("valid_to"))}
    ends = [(e.seq, "end", e) for e in trail(uow, "org.assignment.end", "assignment")]
    ends += [(e.seq, "deactivate", e) for e in trail(uow, "org.user.deactivate", "user")]
    for seq, kind, e in sorted(ends, key=lambda x: x[0]):
        if kind == "end":
            if e.object_id in found:
                found[e.object_id].update(valid_to=_day(e.payload.get("valid_to")), seq=seq)
            continue
        on = _day(e.payload.get("on"))  # since issue 14
        for assignment_id in e.payload.get("ended_assignments", []):
            a = found.get(str(assignment_id))
            if a is not None:
                a["valid_to"] = UNKNOWN if on is None else max(on, a["valid_from"])
                a["seq"] = seq
    return found


def check_assignments(uow) -> Iterator[Disagreement]:
    recorded = recorded_assignments(uow)
    q = select(Assignment.id, User.username, Assignment.position_code, Assignment.site_code, Assignment.valid_from,
               Assignment.valid_to).join(User, User.id == Assignment.user_id).order_by(Assignment.id)
    seen = set()
    count = 0
    for row_id, username, position, site, valid_from, valid_to in uow.execute(q):
        count += 1
        seen.add(str(row_id))
        r = recorded.get(str(row_id))
        names = {"id": row_id, "username": username, "position": position, "site": site}
        if r is None:
            yield Disagreement("org.deep.assignment_without_event", names)
            return
        stored = {"username": username, "position": position, "site": site, "valid_from": _day(valid_from),
                  "valid_to": _day(valid_to)}
        for f, value in stored.items():
            if r[f] is UNKNOWN or r[f] == value:
                continue
            yield Disagreement("org.deep.assignment_differs", {**names, "field": Message(f"org.deep.field.{f}"),
                                                               "stored": value or "—", "recorded": r[f] or "—", "seq": r["seq"]})
            return
    for assignment_id, r in sorted(recorded.items(), key=lambda kv: kv[1]["seq"]):
        if assignment_id not in seen:
            yield Disagreement("org.deep.event_without_assignment", {"id": assignment_id, "username": r["username"],
                                                                     "position": r["position"], "seq": r["seq"]})
            return
    return {"org.deep.count_assignments": count}
