"""The controlled records of internal audit (R-9.2), written from the cases' data.

- The audit programme: the `record_form` template, one row per planned audit (site and departments, criteria,
  scope, planned dates), under a sentence built from the programme's own figures.
- The audit report: the `internal_audit_report` template: number, dates, criteria, scope, the auditors' and
  auditees' names, a summary whose counts are counted from the findings listed in its table, the findings, and
  the conclusion the lead auditor wrote. Every sentence is a message key filled with the case's data (reports
  are Chinese documents: `REPORT_LOCALE`); the figures are formatted once and the same strings used in the text
  and in the table.
- `audit_results(uow, year)`: the year's audits, findings per category, nonconformities and where they stand,
  for the management review (R-9.3.2 c).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE
from cms_workflows.access.roles import load_roles
from cms_workflows.core.i18n import pick, t
from cms_workflows.processes import cases
from cms_workflows.processes.models import Case

REPORT_LOCALE = "zh-CN"
CATEGORY_ORDER = ("conformity", "nonconformity", "observation")
RESULT_ORDER = ("conforming", "nonconforming", "observation", "not_audited")
P = "processes.internal_audit."


# ---------------------------------------------------------------- names and dates

def user_names(uow, usernames) -> dict[str, str]:
    from cms_workflows.org.models import User

    wanted = sorted({str(u) for u in usernames})
    found = dict(uow.exec(select(User.username, User.display_name).where(User.username.in_(wanted))).all())
    return {u: found.get(u, u) for u in wanted}


def site_name(uow, site: str, locale: str = REPORT_LOCALE) -> str:
    from cms_workflows.org.models import Site

    if site == COMPANY_WIDE:
        return t(P + "company_wide", locale=locale)
    row = uow.exec(select(Site).where(Site.code == site)).first()
    return pick(row.name_zh, row.name_en, locale) if row else site


def department_name(code: str, locale: str | None = REPORT_LOCALE) -> str:
    found = next((d for d in load_roles()["departments"] if d["code"] == code), None)
    return pick(found["name_zh"], found["name_en"], locale) if found else code


def _departments_text(codes, locale: str = REPORT_LOCALE) -> str:
    return t(P + "report.list_separator", locale=locale).join(department_name(c, locale) for c in codes)


def programme_title(case: Case) -> str:
    return t(P + "programme_title", locale=REPORT_LOCALE, year=case.year)


def audit_title(case: Case) -> str:
    return t(P + "audit_title", locale=REPORT_LOCALE, number=case.number)


def report_author(uow, case: Case) -> str | None:
    """Who drafted the case's report (its latest revision's author)."""
    from cms_workflows.documents.queries import get_document, revisions

    if not case.document_number:
        return None
    found = revisions(uow, get_document(uow, case.document_number))
    return found[-1].author if found else None


# ---------------------------------------------------------------- the programme

def programme_content(uow, case: Case) -> dict:
    """The programme as a record form: one row per planned audit."""
    loc, rows = REPORT_LOCALE, []
    for item in cases.items(uow, case, "audit"):
        audit = cases.item_data(item)
        rows.append({
            "no": str(item.seq),
            "item": t(P + "programme.row_item", locale=loc, site=site_name(uow, audit["site"], loc),
                      departments=_departments_text(audit["departments"], loc)),
            "requirement": t(P + "programme.row_criteria", locale=loc, criteria=audit["criteria"]),
            "record": t(P + "programme.row_scope", locale=loc, scope=audit["scope"]),
            "remark": t(P + "report.dates", locale=loc, start=cases.day_text(audit["start"], loc),
                        end=cases.day_text(audit["end"], loc)),
        })
    cases.require_inputs(case, {"audits": rows})
    instructions = t(P + "programme.instructions", locale=loc, year=case.year, count=str(len(rows)))
    return {"instructions": instructions, "rows": rows}


# ---------------------------------------------------------------- the audit report

def finding_rows(uow, case: Case, locale: str = REPORT_LOCALE) -> list[dict]:
    rows = []
    for item in cases.items(uow, case, "finding"):
        finding = cases.item_data(item)
        nc = uow.get(Case, item.linked_case_id).number if item.linked_case_id else None
        text_key = "report.finding_nc" if nc else "report.finding"
        rows.append({
            "no": str(item.seq),
            "clause": finding["clause"].removeprefix("R-"),
            "description": t(P + text_key, locale=locale, description=finding["description"],
                             evidence=finding["evidence"], department=department_name(finding["department"], locale),
                             nc=nc or ""),
            "category": t(P + f"category.{finding['category']}", locale=locale),
            "_category": finding["category"],
            "_nc": nc,
        })
    return rows


def _summary(uow, case: Case, rows: list[dict], dates: str, auditees: str, locale: str) -> str:
    per_category = Counter(r["_category"] for r in rows)
    per_result = Counter(i.status for i in cases.items(uow, case, "checklist"))
    checked = sum(per_result.values())
    text = t(P + "report.summary", locale=locale, dates=dates, auditees=auditees, checked=str(checked),
             **{f"result_{r}": str(per_result.get(r, 0)) for r in RESULT_ORDER},
             total=str(len(rows)), **{c: str(per_category.get(c, 0)) for c in CATEGORY_ORDER})
    ncs = [r["_nc"] for r in rows if r["_nc"]]
    if ncs:
        text += t(P + "report.summary_ncs", locale=locale,
                  numbers=t(P + "report.list_separator", locale=locale).join(ncs))
    return text


def audit_content(uow, case: Case) -> dict:
    """The audit report's variables; a missing input (no team, no finding, no conclusion) blocks the draft."""
    loc, data = REPORT_LOCALE, cases.data_of(case)
    conclusion = cases.text(uow, case, "conclusion")
    rows = finding_rows(uow, case, loc)
    cases.require_inputs(case, {"lead_auditor": data.get("lead_auditor"), "findings": rows, "conclusion": conclusion})
    team = data.get("auditors") or []
    names = user_names(uow, team)
    auditors = t(P + "report.list_separator", locale=loc).join(
        t(P + "report.lead", locale=loc, name=names[u]) if u == data["lead_auditor"] else names[u] for u in team)
    auditees = t(P + "report.auditees", locale=loc, site=site_name(uow, case.site, loc),
                 departments=_departments_text(data["departments"], loc))
    # the days the fieldwork took place (its first answer or finding, its closing), else the planned ones
    start, end = data.get("fieldwork_start") or data["start"], data.get("fieldwork_end") or data["end"]
    dates = t(P + "report.dates", locale=loc, start=cases.day_text(start, loc), end=cases.day_text(end, loc))
    return {
        "audit_no": case.number,
        "audit_dates": dates,
        "criteria": data["criteria"],
        "audit_scope": data["scope"],
        "auditors": auditors,
        "auditees": auditees,
        "summary": _summary(uow, case, rows, dates, auditees, loc),
        "findings": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
        "conclusion": conclusion,
    }


# ---------------------------------------------------------------- for the management review

@dataclass
class AuditResults:
    """The internal audits of a year as the management review reads them (R-9.3.2 c)."""

    year: int
    audits: list[dict] = field(default_factory=list)  # number, status, site, departments, start, end, findings, report
    findings: dict[str, int] = field(default_factory=dict)  # category -> count, over the year's audits
    nonconformities: list[dict] = field(default_factory=list)  # number, status, audit, department, clause

    @property
    def held(self) -> int:
        """Audits whose fieldwork is over (reporting, in review or approved)."""
        return sum(1 for a in self.audits if a["status"] in ("reporting", "in_review", "approved"))


def audit_results(uow, year: int) -> AuditResults:
    out = AuditResults(year, findings={c: 0 for c in CATEGORY_ORDER})
    audits = uow.exec(select(Case).where(Case.kind == "internal_audit", Case.year == year,
                                         Case.status != "cancelled").order_by(Case.id)).all()
    for case in audits:
        data, per_category = cases.data_of(case), Counter()
        for item in cases.items(uow, case, "finding"):
            finding = cases.item_data(item)
            per_category[finding["category"]] += 1
            if item.linked_case_id:
                nc = uow.get(Case, item.linked_case_id)
                out.nonconformities.append({"number": nc.number, "status": nc.status, "audit": case.number,
                                            "department": finding["department"], "clause": finding["clause"]})
        for category in CATEGORY_ORDER:
            out.findings[category] += per_category.get(category, 0)
        out.audits.append({"number": case.number, "status": case.status, "site": case.site,
                           "departments": data.get("departments", []), "start": data.get("start"),
                           "end": data.get("end"), "findings": {c: per_category.get(c, 0) for c in CATEGORY_ORDER},
                           "report": case.document_number})
    return out


def audits_of(uow, programme_number: str) -> list[Case]:
    """The audit cases a programme opened, in its order."""
    parent = cases.get_case(uow, programme_number)
    return list(uow.exec(select(Case).where(Case.parent_id == parent.id, Case.kind == "internal_audit")
                         .order_by(Case.id)))
