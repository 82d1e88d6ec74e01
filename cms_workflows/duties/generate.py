"""Generating the occurrences of the recurring duties (X-3): one task per (duty, subject, period).

An occurrence is created once its creation day (due date − lead time) has come. Its task key is
"<duty>:<subject>:<period>", so generating twice, or two generators at once (the key is unique),
creates nothing new.

Catching up after days off: for a duty with a recurrence, the occurrences of each subject after the
latest one that already has a task (looking back up to `LOOKBACK_DAYS`) are all created, overdue
ones included, so a missed month is not lost; a subject with no task yet (a new plan line, a new
installation) starts with the occurrences due today or later, so a first sweep does not invent
a backlog of overdue tasks. For a dated source (instruments, obligations, risks, documents) the
row's own due date is the occurrence: it is created as long as the row says so, however late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select

from cms_workflows.access import COMPANY_WIDE, known_position_codes
from cms_workflows.core.errors import PolicyError
from cms_workflows.duties.definitions import COMPANY, Duty, duties_path, load
from cms_workflows.duties.sources import Source, Subject, described, key_part
from cms_workflows.org.queries import site_codes
from cms_workflows.tasks import service
from cms_workflows.tasks.models import Task

LOOKBACK_DAYS = 400  # a yearly duty's previous occurrence is always inside the window
FIRST = "first"  # the period of an undated row's occurrence (never calibrated: due now)
CHUNK = 500
MAX_LABEL = 200


@dataclass(frozen=True)
class Occurrence:
    duty: Duty
    subject: Subject
    due: date
    period: str

    @property
    def key(self) -> str:
        return f"{self.duty.code}:{key_part(self.subject.id)}:{self.period}"

    @property
    def position(self) -> str:
        own = self.subject.position
        return own if self.duty.position_from_subject and own in known_position_codes() else self.duty.position


def subjects_of(uow, duty: Duty, day: date, sources: dict[str, Source]) -> list[Subject]:
    """The duty's subjects: the company, each site, or the rows of its source (due by the lead time)."""
    if duty.subjects is None:
        if duty.site == COMPANY:
            return [Subject("company", COMPANY_WIDE, "")]
        return [Subject(code, code, code) for code in sorted(site_codes(uow))]
    source = sources.get(duty.subjects)
    if source is None:
        raise PolicyError("duties.unknown_source", duty=duty.code, source=duty.subjects, file=str(duties_path()),
                          line=duty.line)
    return source.fetch(uow, day + timedelta(days=duty.lead_days))


def existing(uow, keys: list[str]) -> dict[str, date]:
    """key -> due of the tasks that already exist among `keys`."""
    found: dict[str, date] = {}
    unique = sorted(set(keys))
    for n in range(0, len(unique), CHUNK):
        found.update(uow.exec(select(Task.key, Task.due).where(Task.key.in_(unique[n:n + CHUNK]))).all())
    return found


def _dated(duty: Duty, subjects: list[Subject], day: date) -> list[Occurrence]:
    out = []
    for s in subjects:
        if s.due is None:
            if duty.undated == "now":
                out.append(Occurrence(duty, s, day, FIRST))
        elif s.due - timedelta(days=duty.lead_days) <= day:
            out.append(Occurrence(duty, s, s.due, duty.period_of(s.due)))
    return out


def _recurring(uow, duty: Duty, subjects: list[Subject], day: date) -> list[Occurrence]:
    dues = duty.due_dates(day - timedelta(days=LOOKBACK_DAYS), day + timedelta(days=duty.lead_days))
    per_subject = [[Occurrence(duty, s, d, duty.period_of(d)) for d in dues] for s in subjects]
    have = existing(uow, [o.key for mine in per_subject for o in mine])
    out = []
    for mine in per_subject:
        done = [o.due for o in mine if o.key in have]
        after = max(done) if done else day - timedelta(days=1)
        out += [o for o in mine if o.due > after]
    return out


def due_occurrences(uow, duty: Duty, day: date, sources: dict[str, Source]) -> list[Occurrence]:
    """The duty's occurrences whose creation day has come by `day` and that have no task yet."""
    subjects = subjects_of(uow, duty, day, sources)
    found = _dated(duty, subjects, day) if duty.dated else _recurring(uow, duty, subjects, day)
    have = existing(uow, [o.key for o in found])
    return sorted((o for o in found if o.key not in have), key=lambda o: (o.due, o.key))


def create(uow, actor: str, occurrence: Occurrence, day: date) -> Task:
    """The occurrence's task (an audited `tasks.task.create`), or the one that has its key already."""
    duty, subject = occurrence.duty, occurrence.subject
    shown = day.isoformat() if occurrence.period == FIRST else occurrence.period
    params = {"period": shown, "subject": subject.label[:MAX_LABEL], "site": subject.site}
    return service.ensure_task(uow, actor, key=occurrence.key, title_key=duty.title_key, title_params=params,
                               clause=duty.clause, site=subject.site, due=occurrence.due,
                               position=occurrence.position, reminder_days=list(duty.reminder_days),
                               escalation=[dict(s) for s in duty.escalation], evidence=duty.evidence)


def generate_duty(uow, actor: str, duty: Duty, day: date, sources: dict[str, Source]) -> list[Task]:
    """Create the due occurrences of one duty, in the caller's unit of work."""
    return [create(uow, actor, o, day) for o in due_occurrences(uow, duty, day, sources)]


def generate_due(uow, actor: str, day: date, sources: dict[str, Source], duties: list[Duty] | None = None) -> list[Task]:
    """Create every occurrence whose creation day has come by `day` (X-3), in the caller's unit of work:
    idempotent, and catching up after days without a sweep (see the module's docstring)."""
    created = []
    for duty in duties if duties is not None else load(sources=described(sources)):
        created += generate_duty(uow, actor, duty, day, sources)
    return created
