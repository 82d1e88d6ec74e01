"""R-9.1 Metering instruments (GB 17167): code, accuracy class, site and location, what each measures
(an energy carrier or a line of the data collection plan), the calibration interval, the last
calibration with its certificate and the next one, computed (last + interval; never calibrated: due now).

`calibrate` records a calibration: its date, the certificate number and, optionally, the certificate
file, kept in the file store (checked by `cms verify`, see `queries.stored_certificate_files`)."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from cms_workflows.access import Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.limits import check as check_limit
from cms_workflows.core.text import forbidden_char, shown
from cms_workflows.registers import service
from cms_workflows.registers.models import Calibration, Instrument
from cms_workflows.registers.tabular import Column, Register

REGISTER = Register("instruments", (
    Column("code", required=True, max_length=32),
    Column("name", required=True, max_length=200),
    Column("accuracy_class", required=True, max_length=16),
    Column("site", required=True, max_length=32),
    Column("location", max_length=200),
    Column("measures", required=True, max_length=200),
    Column("interval_months", "int", required=True, low=1, high=120),
    Column("last_calibrated", "date"),
    Column("certificate", max_length=200),
    Column("next_due", "date", computed=True),
), sheet="instruments")


def next_due(last: date | None, months: int | None) -> date | None:
    """The next calibration: the last one plus the interval (None: never calibrated, so due now)."""
    return last + relativedelta(months=months) if last and months else None


def _derive(values: dict) -> dict:
    return {"next_due": next_due(values.get("last_calibrated"), values.get("interval_months"))}


def _check(uow, values: dict, row: int | None) -> list[dict]:
    found = service.site_problems(uow, REGISTER.field("site"), values.get("site"), row)
    last = values.get("last_calibrated")
    if last and last > uow.clock.today():
        found.append(problem(REGISTER.field("last_calibrated"), "registers.problem.in_future", row=row))
    return found


SPEC = service.Spec(REGISTER, Instrument, "metering_instrument", "MI", check=_check, derive=_derive, site_field="site")


@command("registers.instrument.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_instrument")
def add_instrument(cmd: Command, **values) -> Instrument:
    """Add a metering instrument (R-9.1) at a site."""
    return service.create(cmd, SPEC, values)


@command("registers.instrument.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_instrument")
def change_instrument(cmd: Command, code: str, **changes) -> Instrument:
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.instrument.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_instrument")
def import_instruments_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_instruments(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_instruments_now)


def _instrument(uow, code: str, *_args, **_kwargs) -> Resource:
    obj = service.get(uow, SPEC, code)
    return Resource("metering_instrument", site=obj.site, id=obj.id, subject=obj)


@command("registers.instrument.calibrate", action="calibrate", resource=_instrument, audit_object="reg_instrument")
def calibrate(cmd: Command, code: str, calibrated_on: date, certificate: str, *, file: bytes | None = None,
              filename: str | None = None, note: str = "") -> Calibration:
    """Record a calibration (R-9.1): the next one falls due `interval_months` after it."""
    uow, inst = cmd.uow, cmd.subject
    certificate = (certificate or "").strip()
    problems = []
    if not certificate:
        problems.append(problem(REGISTER.field("certificate"), "registers.problem.required"))
    elif len(certificate) > 200 or forbidden_char(certificate):
        problems.append(problem(REGISTER.field("certificate"), "registers.problem.bad_reference", value=shown(certificate, 40)))
    if calibrated_on > uow.clock.today():
        problems.append(problem(REGISTER.field("last_calibrated"), "registers.problem.in_future"))
    elif inst.last_calibrated and calibrated_on <= inst.last_calibrated:
        problems.append(problem(REGISTER.field("last_calibrated"), "registers.problem.not_after_last",
                                last=inst.last_calibrated.isoformat()))
    if file is not None and not file:
        problems.append(problem("file", "registers.problem.file.empty"))
    if forbidden_char(note, multiline=True):
        problems.append(problem("note", "registers.problem.forbidden_char", char=forbidden_char(note, multiline=True)))
    if problems:
        raise ValidationFailed("registers.invalid_calibration", problems=problems, code=inst.code)
    sha = None
    if file:
        check_limit("max_upload_bytes", len(file))
        sha = uow.files.put(file).sha256  # the certificate is evidence: kept by its hash, checked by `cms verify`
    due = next_due(calibrated_on, inst.interval_months)
    record = Calibration(instrument_id=inst.id, calibrated_on=calibrated_on, certificate=certificate,
                         certificate_sha256=sha, certificate_filename=(filename or "")[:300] or None, next_due=due,
                         note=note or "", recorded_by=cmd.actor, recorded_at=uow.clock.now())
    uow.add(record)
    inst.last_calibrated, inst.certificate, inst.certificate_sha256, inst.next_due = calibrated_on, certificate, sha, due
    inst.changed_at = uow.clock.now()
    uow.add(inst)
    uow.flush()
    cmd.object_id = inst.id
    cmd.payload = {"code": inst.code, "calibration_id": record.id, "calibrated_on": calibrated_on.isoformat(),
                   "certificate": certificate, "certificate_sha256": sha, "next_due": due.isoformat()}
    return record
