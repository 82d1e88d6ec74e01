"""R-7.2 Competence and R-7.3 awareness: the competence each position needs (what, how it is acquired,
how it is evaluated, and the course whose record shows it), the training plan (course, topic from the
guide's list in 7.3.2, target positions, site, planned date, trainer) and the training records — who
took which course, when, with what result and the evidence (7.2 e: documented information retained as
evidence of competence), a reference or a stored file checked by `cms verify`.

A requirement or a course with a site belongs to that plant (kept by the plant's training specialist);
one without belongs to the company. A record is never changed: a retake is a new record."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import Conflict, ValidationFailed, problem
from cms_workflows.core.limits import check as check_limit
from cms_workflows.core.text import forbidden_char, shown
from cms_workflows.registers import service
from cms_workflows.registers.people_models import Competence, TrainingCourse, TrainingRecord
from cms_workflows.registers.tabular import Column, Register

ACQUIRED_BY = ("education", "training", "experience", "qualification", "mentoring")
# guide 7.3.2: what training should cover
TOPICS = ("law_policy", "carbon_policy", "system_documents", "metering", "accounting", "product_footprint",
          "efficiency", "reduction_technology", "carbon_assets", "carbon_market", "other")
RESULTS = ("passed", "attended", "failed")
COUNTS = ("passed", "attended")  # a record that shows the competence; a failed one does not
_SPLIT = re.compile(r"[,，、;；\s]+")

COMPETENCE = Register("competence", (
    Column("code", required=True, max_length=32),
    Column("position", "position", required=True, max_length=64),
    Column("site", max_length=32),
    Column("competence", "multiline", required=True, max_length=1000),
    Column("acquired_by", "choice", required=True, choices=ACQUIRED_BY),
    Column("evaluated_by", max_length=200),
    Column("required_course", max_length=32),
), sheet="competence")

TRAINING = Register("training", (
    Column("code", required=True, max_length=32),
    Column("course", required=True, max_length=200),
    Column("topic", "choice", required=True, choices=TOPICS),
    Column("target_positions", max_length=1000),
    Column("site", max_length=32),
    Column("planned_on", "date"),
    Column("trainer", max_length=200),
), sheet="training")


def positions_of(text: str | None) -> list[str]:
    """The position codes of a `target_positions` cell (separated by commas, 、 or spaces)."""
    return [p for p in _SPLIT.split(text or "") if p]


def _competence_check(uow, values: dict, row: int | None) -> list[dict]:
    found = service.position_problems(COMPETENCE.field("position"), values.get("position"), row)
    found += service.site_problems(uow, COMPETENCE.field("site"), values.get("site"), row)
    course = values.get("required_course")
    if course and uow.exec(select(TrainingCourse.id).where(TrainingCourse.code == course)).first() is None:
        found.append(problem(COMPETENCE.field("required_course"), "registers.problem.unknown_course", row=row,
                             value=shown(course, 40)))
    return found


def _training_check(uow, values: dict, row: int | None) -> list[dict]:
    found = service.site_problems(uow, TRAINING.field("site"), values.get("site"), row)
    for code in positions_of(values.get("target_positions")):
        found += service.position_problems(TRAINING.field("target_positions"), code, row)
    return found


COMPETENCE_SPEC = service.Spec(COMPETENCE, Competence, "competence", "CMP", check=_competence_check,
                               site_field="site")
TRAINING_SPEC = service.Spec(TRAINING, TrainingCourse, "training", "TRN", check=_training_check, site_field="site")


@command("registers.competence.create", action="manage", resource=service.new_resource(COMPETENCE_SPEC),
         audit_object="reg_competence")
def add_competence(cmd: Command, **values) -> Competence:
    """Add the competence a position needs (R-7.2 a)."""
    return service.create(cmd, COMPETENCE_SPEC, values)


@command("registers.competence.change", action="manage", resource=service.row_resource(COMPETENCE_SPEC),
         audit_object="reg_competence")
def change_competence(cmd: Command, code: str, **changes) -> Competence:
    return service.change(cmd, COMPETENCE_SPEC, cmd.subject, changes)


@command("registers.competence.import", action="manage", resource=service.plan_resource(COMPETENCE_SPEC),
         audit_object="reg_competence")
def import_competence_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, COMPETENCE_SPEC)


def import_competence(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, COMPETENCE_SPEC, data, filename, import_competence_now)


@command("registers.training.create", action="manage", resource=service.new_resource(TRAINING_SPEC),
         audit_object="reg_training_course")
def add_course(cmd: Command, **values) -> TrainingCourse:
    """Add a course to the training plan (R-7.2 b–d, R-7.3)."""
    return service.create(cmd, TRAINING_SPEC, values)


@command("registers.training.change", action="manage", resource=service.row_resource(TRAINING_SPEC),
         audit_object="reg_training_course")
def change_course(cmd: Command, code: str, **changes) -> TrainingCourse:
    return service.change(cmd, TRAINING_SPEC, cmd.subject, changes)


@command("registers.training.import", action="manage", resource=service.plan_resource(TRAINING_SPEC),
         audit_object="reg_training_course")
def import_courses_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, TRAINING_SPEC)


def import_courses(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, TRAINING_SPEC, data, filename, import_courses_now)


def _course(uow, code: str, *_args, **_kwargs) -> Resource:
    """A record is authorized where its course is held (the plant's training specialist records it)."""
    obj = service.get(uow, TRAINING_SPEC, code)
    return Resource("training", site=TRAINING_SPEC.site_of(obj), id=obj.id, subject=obj)


def _record_problems(uow, course: TrainingCourse, username: str, trained_on: date, result: str, evidence: str,
                     file: bytes | None) -> list[dict]:
    found = service.user_problems(uow, "user", username, None) if username else [
        problem("user", "registers.problem.required")]
    if trained_on > uow.clock.today():
        found.append(problem("date", "registers.problem.in_future"))
    if result not in RESULTS:
        found.append(problem("result", "registers.problem.not_a_choice", value=shown(result, 40),
                             allowed=", ".join(RESULTS)))
    if not evidence and not file:  # 7.2 e: the record is the evidence of competence; it needs something to show
        found.append(problem("evidence", "registers.problem.evidence_required"))
    elif evidence and (len(evidence) > 200 or forbidden_char(evidence)):
        found.append(problem("evidence", "registers.problem.bad_evidence", value=shown(evidence, 40)))
    if file is not None and not file:
        found.append(problem("file", "registers.problem.file.empty"))
    if not found and uow.exec(select(TrainingRecord.id).where(
            TrainingRecord.course_id == course.id, TrainingRecord.username == username,
            TrainingRecord.trained_on == trained_on)).first() is not None:
        raise Conflict("registers.training.record_exists", code=course.code, user=username, date=trained_on.isoformat())
    return found


@command("registers.training.record", action="record", resource=_course, audit_object="reg_training_course")
def record(cmd: Command, code: str, username: str, trained_on: date, result: str, *, evidence: str = "",
           file: bytes | None = None, filename: str | None = None) -> TrainingRecord:
    """Record that a user took a course (R-7.2 e), with the result and its evidence (a reference, a file or both)."""
    uow, course = cmd.uow, cmd.subject
    username, evidence = (username or "").strip(), (evidence or "").strip()
    found = _record_problems(uow, course, username, trained_on, result, evidence, file)
    if found:
        raise ValidationFailed("registers.invalid_training_record", problems=found, code=course.code)
    sha = None
    if file:
        check_limit("max_upload_bytes", len(file))
        sha = uow.files.put(file).sha256  # evidence: kept by its hash, checked by `cms verify`
    rec = TrainingRecord(course_id=course.id, username=username, trained_on=trained_on, result=result,
                         evidence=evidence, evidence_sha256=sha, evidence_filename=(filename or "")[:300] or None,
                         recorded_by=cmd.actor, recorded_at=uow.clock.now())
    uow.add(rec)
    uow.flush()
    cmd.object_id = course.id
    cmd.payload = {"code": course.code, "record_id": rec.id, "user": username, "trained_on": trained_on.isoformat(),
                   "result": result, "evidence": evidence, "evidence_sha256": sha}
    return rec


def may_read_records(uow, actor: str, course: TrainingCourse) -> None:
    access.require(uow, actor, "read", Resource("training", site=TRAINING_SPEC.site_of(course)))
