"""The corrective action report (R-10.1, R-10.2) from the case: template `corrective_action_report`.

Every sentence is either a text a person entered in the case (the description, containment, correction,
cause, the effectiveness evidence) or built from the case's data with a message key of
processes_corrective_action.yaml (the source with its parent case, each action's owner by name and its
status from its task, who reviewed effectiveness and when). Reports are Chinese documents. A missing input
is named and blocks submission (`cases.require_inputs`), instead of printing a blank.
"""

from __future__ import annotations


from cms_workflows.core.i18n import t
from cms_workflows.processes import cases
from cms_workflows.processes.models import Case

LOCALE = "zh-CN"
MSG = "processes.corrective_action."


def _say(key: str, **params) -> str:
    return t(MSG + key, locale=LOCALE, **params)


def _position_name(code: str) -> str:
    from cms_workflows.access import position_labels

    return position_labels().get(code, (code, code))[0]


def source_text(uow, case: Case) -> str:
    """Where the nonconformity came from: its source, and the case (or record) that raised it."""
    label = _say(f"source.{cases.data_of(case).get('source', 'other')}")
    if case.parent_id:
        parent = uow.get(Case, case.parent_id)
        kind = t(f"processes.kind.{parent.kind}", locale=LOCALE)
        return _say("report.source_with_parent", source=label, kind=kind, parent=parent.number)
    if case.trigger_ref:
        return _say("report.source_with_ref", source=label, ref=case.trigger_ref)
    return label


def action_rows(uow, case: Case) -> list[dict]:
    from cms_workflows.tasks.queries import find_by_key

    rows = []
    for item in cases.items(uow, case, "action"):
        data = cases.item_data(item)
        task = find_by_key(uow, item.task_key) if item.task_key else None
        status = task.status if task is not None else "open"
        rows.append({"action": data["action"], "owner": cases.display_name(uow, data["owner"]), "due": str(data["due"]),
                     "status": _say(f"action_status.{status}")})
    return rows


def last_review(uow, case: Case) -> dict | None:
    """The latest effectiveness review of the case (an ineffective one sends it back to analysis)."""
    reviews = cases.items(uow, case, "review")
    return cases.item_data(reviews[-1]) if reviews else None


def effectiveness_text(uow, case: Case, review: dict | None) -> str:
    if not review:
        return ""
    verdict = _say("report.effective" if review["effective"] else "report.ineffective")
    return _say("report.effectiveness", on=review["reviewed_on"], evidence=review["evidence"], verdict=verdict)


def closure_text(uow, case: Case, review: dict | None) -> str:
    if not review or not review["effective"]:
        return ""
    return _say("report.closure", reviewer=cases.display_name(uow, review["reviewer"]),
                position=_position_name(review["position"]), on=review["reviewed_on"])


def content(uow, case: Case) -> dict:
    """The report's variables; raises naming each missing input."""
    texts = {k: v.text for k, v in cases.texts(uow, case).items()}
    review = last_review(uow, case)
    containment = ""
    if texts.get("containment"):
        containment = _say("report.containment", containment=texts["containment"],
                           correction=texts.get("correction") or _say("report.no_correction"))
    root_cause = texts.get("root_cause", "")
    if root_cause and texts.get("similar"):
        root_cause = _say("report.root_cause", root_cause=root_cause, similar=texts["similar"])
    values = {
        "nc_number": case.number,
        "source": source_text(uow, case),
        "description": texts.get("description", ""),
        "containment": containment,
        "root_cause": root_cause,
        "actions": action_rows(uow, case),
        "effectiveness": effectiveness_text(uow, case, review) if review and review["effective"] else "",
        "closure": closure_text(uow, case, review),
    }
    cases.require_inputs(case, values)
    return values
