"""The management review minutes (template `management_review_minutes`; R-9.3) written from the case.

Inputs: the pack's sections as assembled (`review_inputs`), title and summary sentence each, so the
minutes print the pack's own figures; outputs: the decisions recorded in the meeting, with the owner's
position name (and site name) and due date; meeting date, chair, attendees (people's names) and the
conclusion as entered when the meeting was closed. A missing input blocks the draft, naming it.
"""

from __future__ import annotations

from cms_workflows.access import COMPANY_WIDE, position_labels
from cms_workflows.core.i18n import t
from cms_workflows.processes import cases, review_inputs
from cms_workflows.processes.models import Case

DOC_LOCALE = review_inputs.DOC_LOCALE
P = "processes.management_review."


def _t(key: str, **params) -> str:
    return t(P + key, DOC_LOCALE, **params)


def _names(uow) -> tuple[dict[str, str], dict[str, str]]:
    from sqlmodel import select

    from cms_workflows.org.models import Site, User

    users = {u.username: u.display_name for u in uow.exec(select(User))}
    sites = {s.code: s.name_zh for s in uow.exec(select(Site))}
    return users, sites


def _position(code: str) -> str:
    return position_labels().get(code, (code, code))[0]


def chair_text(uow, username: str | None, users: dict[str, str]) -> str:
    """The chair's name with the position they hold (top management when they hold it)."""
    from cms_workflows.org.queries import active_assignments

    if not username:
        return ""
    held = [position for user, position, _site in active_assignments(uow) if user == username]
    chosen = "general_manager" if "general_manager" in held else (held[0] if held else None)
    name = users.get(username, username)
    return _t("person_with_position", name=name, position=_position(chosen)) if chosen else name


def owner_text(position: str, site: str, sites: dict[str, str]) -> str:
    if site == COMPANY_WIDE:
        return _position(position)
    return _t("owner_at_site", position=_position(position), site=sites.get(site, site))


def inputs(uow, case: Case) -> list[dict]:
    rows = []
    for item in cases.items(uow, case, "input"):
        entry = cases.item_data(item)
        rows.append({"item": review_inputs.title(entry["section"]), "summary": review_inputs.summary(entry)})
    return rows


def outputs(uow, case: Case, sites: dict[str, str]) -> list[dict]:
    rows = []
    for item in cases.items(uow, case, "decision"):
        d = cases.item_data(item)
        rows.append({"decision": _t("decision_line", output=_t(f"output.{d['output']}"), decision=d["decision"]),
                     "owner": owner_text(d["owner_position"], d["site"], sites), "due": d["due"]})
    return rows


def content(uow, case: Case) -> dict:
    """The template's variables; a missing one blocks the draft (cases.require_inputs names it)."""
    data = cases.data_of(case)
    users, sites = _names(uow)
    attendees = _t("list_sep").join(users.get(u, u) for u in data.get("attendees") or [])
    result = {
        "meeting_date": cases.day_text(data.get("meeting_date")),
        "chair": chair_text(uow, data.get("chair"), users),
        "attendees": attendees,
        "inputs": inputs(uow, case),
        "outputs": outputs(uow, case, sites),
        "conclusion": cases.text(uow, case, "conclusion"),
    }
    cases.require_inputs(case, result)
    return result
