"""The signed-in user's dashboard: their open and overdue tasks, the approvals waiting for them, their next
scheduled duties, the company's emissions charts and the carbon objectives' progress. A part the user may
not read (calculation results, the objectives register) is left out, not refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cms_workflows.access import COMPANY_WIDE, Resource, can, counts_at, held_positions, require
from cms_workflows.core.errors import AccessDenied, NotFound
from cms_workflows.core.i18n import t
from cms_workflows.web.authorization import OWN, requires
from cms_workflows.web.rendering import page, position_name
from cms_workflows.web.session import Viewer, current_viewer

pages = APIRouter(include_in_schema=False)

TOP = 10
HORIZON_DAYS = 400  # a yearly duty's next occurrence is always inside
CHART_MONTHS = 12


@dataclass(frozen=True)
class Scheduled:
    """One coming occurrence of a recurring duty (not yet a task, or already one: the schedule either way)."""

    due: date
    title: str
    site: str
    position: str
    clause: str


def _dues(duty, subject, first: date, last: date, recurring: list[date]) -> list[date]:
    if not duty.dated:
        return recurring
    return [subject.due] if subject.due is not None and first <= subject.due <= last else []


def scheduled_duties(uow, username: str, first: date, last: date, limit: int | None = None) -> list[Scheduled]:
    """The occurrences of the recurring duties (policies/duties.yaml) due from `first` to `last` whose
    position the user holds at the occurrence's site, by due date."""
    from cms_workflows.bootstrap import duty_sources
    from cms_workflows.duties.definitions import load
    from cms_workflows.duties.generate import Occurrence, subjects_of
    from cms_workflows.duties.sources import described

    sources = duty_sources()
    held = held_positions(uow, username)
    found = []
    for duty in load(sources=described(sources)):
        if not any(p == duty.position for p, _s in held) and not duty.position_from_subject:
            continue
        recurring = [] if duty.dated else duty.due_dates(first, last)
        for subject in subjects_of(uow, duty, last, sources):
            for due in _dues(duty, subject, first, last, recurring):
                occurrence = Occurrence(duty, subject, due, duty.period_of(due))
                if any(p == occurrence.position and counts_at(s, subject.site) for p, s in held):
                    found.append(Scheduled(due, t(duty.title_key, period=occurrence.period, subject=subject.label,
                                                  site=subject.site), subject.site, occurrence.position, duty.clause))
    found.sort(key=lambda s: (s.due, s.title))
    return found[:limit] if limit else found


def _month_back(period: str, months: int) -> str:
    year, month = map(int, period.split("-"))
    index = year * 12 + month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def latest_results(uow, username: str):
    """The company's figures of record (closed months) over the latest CHART_MONTHS closed months; refused
    for a user who may not read calculation results company-wide; empty when no month is closed yet."""
    from cms_workflows.accounting import queries as accounting

    require(uow, username, "read", Resource("calculation", site=COMPANY_WIDE))
    closed = sorted({period for _site, period in accounting.locks(uow, "0000-01", "9999-12", None)})
    if not closed:
        return None
    last = closed[-1]
    return accounting.official_results(uow, username, _month_back(last, CHART_MONTHS - 1), last)


def _approvals(uow, username: str) -> list:
    from cms_workflows.documents.approval import awaiting

    return awaiting(uow, username)


def _objectives(uow, username: str):
    from cms_workflows.registers.performance_queries import objective_progress

    try:
        return objective_progress(uow, username)
    except AccessDenied:
        return None


def _overview(uow, username: str) -> dict:
    from cms_workflows.tasks import queries as tasks

    today = uow.clock.today()
    mine = tasks.tasks_for_user(uow, username)
    may_chart = can(uow, username, "read", Resource("calculation", site=COMPANY_WIDE))
    results = latest_results(uow, username) if may_chart else None
    return {"today": today, "open_count": len(mine), "open_tasks": mine[:TOP],
            "overdue": tasks.overdue(uow, username, today), "approvals": _approvals(uow, username),
            "duties": scheduled_duties(uow, username, today, today + timedelta(days=HORIZON_DAYS), TOP),
            "charts": results is not None and not results.empty, "may_chart": may_chart,
            "objectives": _objectives(uow, username), "task_title": tasks.title, "position_name": position_name}


@pages.get("/dashboard", dependencies=[OWN])
def dashboard(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        context = _overview(uow, viewer.username)
    return page(request, "dashboard.html", title=t("web.work.dashboard.title"), **context)


@pages.get("/dashboard/charts/{kind}.png", dependencies=[requires("calculation", "read")])
def chart(kind: str, viewer: Viewer = Depends(current_viewer)):
    """The company's monthly emissions trend or its breakdown by source category, as a PNG."""
    from cms_workflows.accounting import charts

    draw = {"trend": charts.monthly_trend, "categories": charts.category_breakdown}.get(kind)
    if draw is None:
        raise NotFound("web.work.dashboard.unknown_chart", chart=kind[:40])
    with viewer.reading() as uow:
        results = latest_results(uow, viewer.username)
    if results is None or results.empty:
        raise NotFound("web.work.dashboard.no_results")
    return Response(draw(results), media_type="image/png", headers={"Cache-Control": "private, max-age=300"})
