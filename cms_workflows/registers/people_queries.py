"""Reads of the planned changes and people registers (R-6.4, R-6.2.3, R-7.2).

`changes_awaiting_review` is what the processes issue reads (as the system agent) to start an
unscheduled carbon review; `competence_gaps` answers R-7.2 c: which holders of a position do not yet
show, by a passed or attended training record, the course their position requires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE
from cms_workflows.org.queries import active_assignments
from cms_workflows.registers import competence as comp
from cms_workflows.registers import service
from cms_workflows.registers.people_models import Competence, PlannedChange, TrainingCourse, TrainingRecord
from cms_workflows.registers.queries import readable_sites


def changes_awaiting_review(uow) -> list[PlannedChange]:
    """Planned changes marked as needing an unscheduled carbon review (R-6.2.3), oldest first."""
    q = select(PlannedChange).where(PlannedChange.review_required == True)  # noqa: E712
    return list(uow.exec(q.order_by(PlannedChange.review_raised_at, PlannedChange.code)))


@dataclass(frozen=True)
class Gap:
    """A holder of a position without a record of the course the position requires."""

    position: str
    site: str
    username: str
    competence: str  # the requirement's code
    course: str  # the course's code


def competence_gaps(uow, actor: str, on: date | None = None) -> list[Gap]:
    """Holders (on a day, default today) of positions whose required course they have no passed or
    attended record of (R-7.2 c, e), at the sites the actor may read the competence register."""
    sites = readable_sites(uow, actor, comp.COMPETENCE_SPEC.object_type)
    on = on or uow.clock.today()
    needs = [c for c in uow.exec(select(Competence).where(Competence.required_course != "").order_by(Competence.code))]
    courses = {c.code: c.id for c in uow.exec(select(TrainingCourse))}
    done = {(r.username, r.course_id) for r in uow.exec(
        select(TrainingRecord).where(TrainingRecord.result.in_(comp.COUNTS), TrainingRecord.trained_on <= on))}
    held = active_assignments(uow, on)
    gaps = set()
    for need in needs:
        for username, position, site in held:
            if position != need.position or (need.site and site not in (need.site, COMPANY_WIDE)):
                continue
            where = need.site or site
            if COMPANY_WIDE not in sites and where not in sites:
                continue
            if (username, courses.get(need.required_course)) not in done:
                gaps.add(Gap(need.position, where, username, need.code, need.required_course))
    return sorted(gaps, key=lambda g: (g.position, g.site, g.username, g.competence))


def positions_lacking_training(uow, actor: str, on: date | None = None) -> list[str]:
    """The positions (codes) with at least one holder lacking a required training record (R-7.2)."""
    return sorted({g.position for g in competence_gaps(uow, actor, on)})


def training_records(uow, actor: str, code: str) -> list[TrainingRecord]:
    """A course's records, newest first."""
    course = service.get(uow, comp.TRAINING_SPEC, code)
    comp.may_read_records(uow, actor, course)
    return list(uow.exec(select(TrainingRecord).where(TrainingRecord.course_id == course.id)
                         .order_by(TrainingRecord.trained_on.desc(), TrainingRecord.id.desc())))


def stored_evidence_files(uow) -> set[str]:
    """SHA-256 of the training evidence kept in the file store (for `cms verify` and evidence packs)."""
    q = select(TrainingRecord.evidence_sha256).where(TrainingRecord.evidence_sha256.is_not(None))
    return set(uow.exec(q))
