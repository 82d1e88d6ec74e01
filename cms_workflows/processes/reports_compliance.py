"""The compliance evaluation record (R-9.1.3) from the case: template `record_form` (instructions, rows).

One row per obligation evaluated: the obligation, its requirement (issuer, clause, applicability as the
register holds them), the verdict with its evidence, the evaluator by name and the day, the nonconformity
opened by a non-compliance in the remark. The instructions are sentences built from the case's data with
message keys of processes_compliance.yaml (scope, period, trigger, evaluators; the counts per verdict,
formatted once and counted from the same rows) and the texts people entered (the reason the evaluation
was opened, the evaluator's conclusion). A missing input is named and blocks the draft, never a blank.
"""

from __future__ import annotations

from sqlmodel import select

from cms_workflows.core.i18n import t
from cms_workflows.processes import cases
from cms_workflows.processes.models import Case

LOCALE = "zh-CN"  # the record is a Chinese document
ITEM = "evaluation"  # the case item of one obligation's evaluation
VERDICTS = ("compliant", "noncompliant", "not_applicable")
P = "processes.compliance."
SEP = "；"


def _say(key: str, **params) -> str:
    return t(P + key, locale=LOCALE, **params)


def scope_name(uow, site: str) -> str:
    from cms_workflows.org.models import Site

    row = uow.exec(select(Site).where(Site.code == site)).first()
    return row.name_zh if row else _say("record.company_wide")


def verdict_label(verdict: str) -> str:
    return _say(f"verdict.{verdict}")


def requirement_text(data: dict) -> str:
    parts = [_say("row.issuer", issuer=data["issuer"])] if data.get("issuer") else []
    parts.append(_say("row.clause", clause=data["clause"]) if data.get("clause") else _say("row.clause_all"))
    if data.get("applicability"):
        parts.append(_say("row.applicability", applicability=data["applicability"]))
    return SEP.join(parts)


def record_text(uow, data: dict) -> str:
    text = _say("row.record", verdict=verdict_label(data["verdict"]), evidence=data["evidence"],
                evaluator=cases.display_name(uow, data["evaluated_by"]), on=data["evaluated_on"])
    if data.get("evidence_file"):
        text += SEP + _say("row.file", name=data["evidence_file"]["name"],
                           sha=data["evidence_file"]["sha256"][:12])
    return text


def rows(uow, case: Case) -> tuple[list[dict], dict[str, int], list[str]]:
    """The record's rows, the count per verdict and the nonconformity numbers, all from the same items."""
    out, counts, ncs = [], dict.fromkeys(VERDICTS, 0), []
    for item in cases.items(uow, case, ITEM):
        data = cases.item_data(item)
        if item.status != "evaluated":
            continue  # the caller refuses a record with missing verdicts before it gets here
        counts[data["verdict"]] += 1
        remark = []
        if item.linked_case_id:
            nc = uow.get(Case, item.linked_case_id).number
            ncs.append(nc)
            remark.append(_say("row.nc", number=nc))
        if data.get("comment"):
            remark.append(data["comment"])
        out.append({"no": str(item.seq), "item": _say("row.item", code=data["obligation"], title=data["title"]),
                    "requirement": requirement_text(data), "record": record_text(uow, data),
                    "remark": SEP.join(remark)})
    return out, counts, ncs


def summary_text(counts: dict[str, int], ncs: list[str]) -> str:
    shown = {k: f"{v:,}" for k, v in counts.items()}
    text = _say("record.summary", total=f"{sum(counts.values()):,}", **shown)
    if ncs:
        return text + _say("record.summary_nc", count=f"{len(ncs):,}", numbers="、".join(ncs))
    return text + _say("record.summary_no_nc")


def content(uow, case: Case) -> dict:
    """The record's variables; raises naming each missing input."""
    data = cases.data_of(case)
    evaluators = [cases.display_name(uow, u) for u in data.get("evaluators", [])]
    # a person's sentence ends where the record's own full stop follows it
    reason = cases.text(uow, case, "reason").rstrip("。. ")
    conclusion = cases.text(uow, case, "conclusion").rstrip("。. ")
    table, counts, ncs = rows(uow, case)
    cases.require_inputs(case, {"period": case.period_start and case.period_end, "evaluators": evaluators,
                                "reason": reason, "conclusion": conclusion, "rows": table})
    instructions = "".join([
        _say("record.scope", number=case.number, scope=scope_name(uow, case.site),
             start=case.period_start.isoformat(), end=case.period_end.isoformat(),
             trigger=_say(f"trigger.{case.trigger}"), evaluators="、".join(evaluators)),
        _say("record.reason", reason=reason),
        summary_text(counts, ncs),
        _say("record.conclusion", conclusion=conclusion),
    ])
    return {"instructions": instructions, "rows": table}
