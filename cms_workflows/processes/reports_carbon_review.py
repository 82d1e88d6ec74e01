"""The carbon review report (R-6.2.3; the guide's Annex E, E.1–E.6) built from the case's data.

Every sentence is either a text the review team entered in the case or a message of this process with
the system's figures as parameters (processes_carbon_review.yaml; the report is a Chinese document, its
language is the document's). Each figure is formatted once and the same string goes into the tables and
into the sentences that quote it, so the text never disagrees with the tables. Facilities are shown by
their site's and their own names of the data collection plan, people by their names. An input that is
missing (a text, the figures of the base year, a facility's name…) is named and blocks the report.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pandas as pd
from sqlmodel import select

from cms_workflows.core.i18n import t
from cms_workflows.processes import cases

MSG = "processes.carbon_review."
# what the team writes in analysis (Annex E parts the data cannot say); all required to finish it
ANALYSIS_TEXTS = ("purpose", "basis", "management_status", "methods", "principles", "trend_commentary",
                  "reduction_effect", "reduction_potential", "qa_archiving", "conclusions")
POTENTIAL = "potential:"  # text field of a major facility's reduction potential: potential:<site>/<facility>
LANG = "zh-CN"  # the language of the report document (documents.service.create's default)
UNIT = "tCO₂e"


def say(key: str, **params) -> str:
    return t(MSG + key, LANG, **params)


def tonnes(value: float) -> str:
    return f"{value:.1f}"


def percent(value: float) -> str:
    return f"{value:.1f}"


def ratio(value: float) -> str:
    return f"{value:.3f}"


# ---------------------------------------------------------------- the case's period, plan and facilities

def months_of(case) -> tuple[str, str]:
    """The case's period as accounting periods (first and last month)."""
    return case.period_start.strftime("%Y-%m"), case.period_end.strftime("%Y-%m")


def plan_sites(uow) -> list[str]:
    from cms_workflows.accounting import queries as acc

    return sorted({item.site for item in acc.plan(uow)})


def major_facilities(uow, case):
    """The major emitting facilities of the period (Pareto, 80 %) from the figures of record."""
    from cms_workflows.accounting import queries as acc
    from cms_workflows.accounting.pareto import pareto

    first, last = months_of(case)
    table = pareto(acc.locked_results(uow, first, last, None))
    return table[table["major"]] if len(table) else table


def potential_field(site: str, facility: str) -> str:
    return f"{POTENTIAL}{site}/{facility}"


# ---------------------------------------------------------------- reads (the case command checked access)

def _names(uow) -> tuple[dict, dict, dict]:
    """Site names, facility names of the plan by (site, facility), user names."""
    from cms_workflows.accounting import queries as acc
    from cms_workflows.org.models import Site, User

    sites = {s.code: s.name_zh for s in uow.exec(select(Site))}
    facilities = {(i.site, i.facility): i.facility_name for i in acc.plan(uow)}
    users = {u.username: u.display_name for u in uow.exec(select(User))}
    return sites, facilities, users


def _output(uow, first: str, last: str, sites: list[str]) -> tuple[float, float]:
    from cms_workflows.accounting.models import ProductionOutput

    rows = uow.exec(select(ProductionOutput).where(ProductionOutput.period >= first, ProductionOutput.period <= last,
                                                   ProductionOutput.site.in_(sites))).all()
    # a month without its (optional) output value leaves the year without a value intensity: a partial sum
    # would overstate it
    value = 0.0 if any(r.value_10k_cny is None for r in rows) else sum(r.value_10k_cny for r in rows)
    return value, sum(r.product_t for r in rows)


def approved_years(uow) -> list[int]:
    """The years with figures of record (months locked to an approved run)."""
    from cms_workflows.accounting.models import PeriodLock

    return sorted({int(p[:4]) for p in uow.exec(select(PeriodLock.period))})


# ---------------------------------------------------------------- the parts

def _emissions(results: pd.DataFrame, sites: dict, facilities: dict, missing: dict) -> tuple[list, float, dict]:
    from cms_workflows.accounting.factors import categories

    names = categories()
    by = results.groupby(["category", "site", "facility"])["tco2e"].sum().reset_index()
    total = float(by["tco2e"].sum())
    by = by.sort_values(["tco2e", "site", "facility"], ascending=[False, True, True], kind="stable")
    rows, shown_as = [], {}
    for r in by.itertuples():
        name = facilities.get((r.site, r.facility))
        if not name:
            missing[f"facility_name:{r.site}/{r.facility}"] = None
            continue
        shown_as[(r.site, r.facility)] = f"{sites.get(r.site, r.site)} {name}"
        category = names.get(r.category, {}).get("name_zh") or r.category
        rows.append({"category": category, "source": shown_as[(r.site, r.facility)], "tco2e": tonnes(r.tco2e),
                     "share": percent(100.0 * r.tco2e / total) if total else percent(0.0)})
    return rows, total, shown_as


def _facilities(uow, case, shown_as: dict, texts: dict, missing: dict) -> list[dict]:
    rows = []
    for r in major_facilities(uow, case).itertuples():
        potential = texts.get(potential_field(r.site, r.facility), "")
        missing[potential_field(r.site, r.facility)] = potential
        rows.append({"facility": shown_as.get((r.site, r.facility), ""), "tco2e": tonnes(r.tco2e),
                     "share": percent(100.0 * r.share), "potential": potential})
    return rows


def _instruments(uow, on: date) -> tuple[list[dict], str]:
    from cms_workflows.registers.models import Instrument

    rows, valid, overdue, never = [], 0, 0, 0
    for i in uow.exec(select(Instrument).order_by(Instrument.site, Instrument.code)):
        if i.last_calibrated is None:
            never += 1
            status = say("instrument_never")
        elif i.next_due is not None and i.next_due < on:
            overdue += 1
            status = say("instrument_overdue", last=i.last_calibrated.isoformat(), due=i.next_due.isoformat())
        else:
            valid += 1
            status = say("instrument_valid", last=i.last_calibrated.isoformat(),
                         due=i.next_due.isoformat() if i.next_due else "-")
        rows.append({"instrument": i.name, "accuracy": i.accuracy_class, "measures": i.measures, "status": status})
    text = say("monitoring", count=len(rows), valid=valid, overdue=overdue, never=never, day=cases.day_text(on)) \
        if rows else ""
    return rows, text


def _trend(uow, sites: list[str]) -> dict[int, dict]:
    from cms_workflows.accounting import queries as acc

    out = {}
    for year in approved_years(uow):
        res = acc.locked_results(uow, f"{year}-01", f"{year}-12", None)
        res = res[res["site"].isin(sites)] if len(res) else res
        total = float(res["tco2e"].sum()) if len(res) else 0.0
        value, _product = _output(uow, f"{year}-01", f"{year}-12", sites)
        out[year] = {"tco2e": tonnes(total), "total": total,
                     "intensity": ratio(total / value) if value > 0 else say("no_output")}
    return out


def _targets(uow) -> list[dict]:
    from cms_workflows.registers.performance_models import CarbonObjective

    return [{"item": o.title, "value": f"{o.target_value} {o.unit}".strip(),
             "source": say("source_objective", code=o.code, deadline=o.deadline.isoformat())}
            for o in uow.exec(select(CarbonObjective).order_by(CarbonObjective.deadline, CarbonObjective.code))]


def _assets(uow) -> str:
    from cms_workflows.registers.operations_models import CarbonHolding

    held = list(uow.exec(select(CarbonHolding).order_by(CarbonHolding.kind, CarbonHolding.vintage, CarbonHolding.code)))
    if not held:
        return say("assets_none")
    parts = [say("asset", kind=say(f"asset_kind.{h.kind}"), vintage=h.vintage, quantity=h.quantity,
                 account=h.registry_account) for h in held]
    return say("assets", count=len(held), holdings="；".join(parts))


def _projects(uow, case) -> str:
    from cms_workflows.registers.people_models import PlannedChange

    found = [c for c in uow.exec(select(PlannedChange).order_by(PlannedChange.planned_on, PlannedChange.code))
             if c.status != "cancelled" and c.planned_on is not None
             and case.period_start <= c.planned_on <= max(case.period_end, case.updated_at.date())]
    if not found:
        return say("projects_none")
    parts = [say("project", title=c.title, kind=t(f"registers.changes.kind.{c.kind}", LANG),
                 status=t(f"registers.changes.status.{c.status}", LANG), planned=cases.day_text(c.planned_on),
                 purpose=c.purpose) for c in found]
    return "\n".join(parts)


def _compliance(uow) -> str:
    from cms_workflows.processes.models import Case

    latest = uow.exec(select(Case).where(Case.kind == "compliance_evaluation", Case.status == "approved")
                      .order_by(Case.closed_at.desc(), Case.id.desc())).first()
    if latest is None:
        return say("compliance_none")
    return say("compliance_approved", number=latest.number, day=cases.day_text(latest.closed_at.date()),
               document=latest.document_number or "-")


def _quality(uow, actor: str, first: str, last: str, facilities: dict, sites: dict) -> str:
    from cms_workflows.accounting import queries as acc

    report = acc.quality(uow, actor, first, last)
    text = say("quality", score=report["score"], completeness=percent(100 * report["completeness"]),
               consistency=percent(100 * report["consistency"]), accuracy=percent(100 * report["accuracy"]),
               gaps=len(report["gaps"]))
    grouped: dict[str, int] = defaultdict(int)
    for gap in report["gaps"]:
        where = facilities.get((gap["site"], gap["facility"])) or next(
            (name for (s, f), name in facilities.items() if f == gap["facility"]), "") or gap["material"]
        site = sites.get(gap["site"], "")
        grouped[f"{site} {where}".strip() + "：" + t(gap["key"], LANG, **gap["params"])] += 1
    lines = [say("quality_gap", gap=g, count=n) for g, n in sorted(grouped.items())[:20]]
    return "\n".join([text, *lines])


# ---------------------------------------------------------------- the report

def _comparisons(uow, case, base: dict | None, total: float, own: dict, missing: dict) -> tuple[list, str, list]:
    """Own history (the base year), the targets register, the team's industry or regional values: the
    table's rows, the change against the base year, and a sentence per value entered."""
    base_year = cases.data_of(case).get("base_year")
    rows, change = [], ""
    if base and base["total"] > 0:
        change = percent(100.0 * (total - base["total"]) / base["total"])
        rows += [
            {"item": say("cmp_base_total", year=base_year), "value": f"{base['tco2e']} {UNIT}", "source": say("source_own")},
            {"item": say("cmp_base_intensity", year=base_year), "value": say("per_10k", value=base["intensity"]),
             "source": say("source_own")},
            {"item": say("cmp_change", year=base_year), "value": f"{change}%", "source": say("source_own")},
        ]
    targets = _targets(uow)
    missing["objectives"] = targets
    rows += targets
    benchmarks = [cases.item_data(i) for i in cases.items(uow, case, "benchmark")]
    missing["benchmarks"] = benchmarks
    lines = []
    for b in benchmarks:
        per = "per_10k" if b["basis"] == "per_10k_cny" else "per_t"
        shown_value = say(per, value=f"{b['value']:g}")
        rows.append({"item": b["name"], "value": shown_value, "source": b["source"]})
        lines.append(say("cmp_benchmark", name=b["name"], value=shown_value, own=say(per, value=own[b["basis"]])))
    return rows, change, lines


def _scope(uow, case) -> str:
    from cms_workflows.registers.models import ScopeElement, ScopeVersion

    version = uow.exec(select(ScopeVersion).where(ScopeVersion.version == cases.data_of(case).get("scope_version"))).first()
    if version is None:
        return ""
    kinds: dict[str, list[str]] = defaultdict(list)
    for e in uow.exec(select(ScopeElement).where(ScopeElement.scope_id == version.id).order_by(ScopeElement.code)):
        kinds[e.kind].append(e.name)
    parts = [say("scope_part", kind=say(f"scope_kind.{k}"), names="、".join(v)) for k, v in kinds.items()]
    return say("scope", version=version.version,
               approved=cases.day_text(version.approved_on) if version.approved_on else "-", parts="；".join(parts))


def _arrangement(uow, case, users: dict) -> str:
    data = cases.data_of(case)
    lead = data.get("lead") or case.opened_by
    members = [users.get(u, u) for u in data.get("team", []) if u != lead]
    text = say("arrangement", lead=users.get(lead, lead), planned=cases.day_text(date.fromisoformat(data["planned_on"])),
               drafted=cases.day_text(uow.clock.today()))
    return text + (say("arrangement_members", members="、".join(members), count=len(members)) if members else "")


def content(uow, case, actor: str) -> dict:
    """The report's variables (document_templates/templates.yaml carbon_review_report); every missing input
    is named at once and blocks the report."""
    from cms_workflows.accounting import queries as acc

    base_year = cases.data_of(case).get("base_year")
    texts = {k: v.text for k, v in cases.texts(uow, case).items()}
    first, last = months_of(case)
    site_codes = plan_sites(uow)
    sites, facilities, users = _names(uow)
    missing: dict[str, object] = {name: texts.get(name, "") for name in ("company_profile", *ANALYSIS_TEXTS)}

    results = acc.locked_results(uow, first, last, None)
    results = results[results["site"].isin(site_codes)] if len(results) else results
    missing["results"] = None if results.empty else "ok"
    emissions, total, shown_as = _emissions(results, sites, facilities, missing) if len(results) else ([], 0.0, {})
    facility_rows = _facilities(uow, case, shown_as, texts, missing) if len(results) else []
    value, product = _output(uow, first, last, site_codes)
    missing["production_output"] = "ok" if value > 0 and product > 0 else None
    own = {"per_10k_cny": ratio(total / value) if value > 0 else "", "per_t": ratio(total / product) if product > 0 else ""}
    trend = _trend(uow, site_codes)
    base = trend.get(base_year)
    missing["base_year_results"] = "ok" if base and base["total"] > 0 else None
    comparisons, change, bench_lines = _comparisons(uow, case, base, total, own, missing)
    instruments, monitoring = _instruments(uow, case.period_end)
    missing["instruments"] = instruments
    scope_text = missing["scope"] = _scope(uow, case)
    cases.require_inputs(case, missing)

    top = facility_rows[0] if facility_rows else {**emissions[0], "facility": emissions[0]["source"]}
    analysis = [say("analysis_total", total=tonnes(total), unit=UNIT, year=base_year, base=base["tco2e"],
                    direction=say("down") if change.startswith("-") else say("up"), change=change.lstrip("-")),
                say("analysis_intensity", intensity=own["per_10k_cny"], base=base["intensity"]),
                say("analysis_top", facility=top["facility"], share=top["share"], majors=len(facility_rows)),
                *bench_lines, texts["trend_commentary"]]
    return {
        "report_year": str(case.year),
        "company_profile": texts["company_profile"],
        "purpose": texts["purpose"],
        "basis": texts["basis"],
        "base_year": say("base_year", year=base_year),
        "period": say("period", start=cases.day_text(case.period_start), end=cases.day_text(case.period_end)),
        "scope": scope_text,
        "arrangement": _arrangement(uow, case, users),
        "methods": texts["methods"],
        "principles": texts["principles"],
        "management_status": texts["management_status"],
        "emissions": emissions,
        "total_tco2e": f"{tonnes(total)} {UNIT}",
        "intensity": say("intensity", per_10k=own["per_10k_cny"], per_t=own["per_t"]),
        "facilities": facility_rows,
        "monitoring": monitoring,
        "instruments": instruments,
        "trend": [{"year": str(y), "tco2e": v["tco2e"], "intensity": v["intensity"]} for y, v in sorted(trend.items())],
        "comparisons": comparisons,
        "analysis": "\n".join(analysis),
        "reduction": say("reduction", effect=texts["reduction_effect"], potential=texts["reduction_potential"]),
        "assets": _assets(uow),
        "projects": _projects(uow, case),
        "quality": _quality(uow, actor, first, last, facilities, sites),
        "qa_archiving": texts["qa_archiving"],
        "compliance": _compliance(uow),
        "conclusions": texts["conclusions"],
    }
