"""What every register's commands share: add a row, change a row, import a file (R-4, R-6.2, R-9.1, X-1).

Each register module (`swot`, `parties`, `risks`, `obligations`, `instruments`) declares its columns
(`tabular.Register`) and binds them to its table in a `Spec`; its commands go through the command
pipeline and call the functions here, so a row typed at the command line and a row in a file are
checked by the same rules.

An import is all or nothing and idempotent: every row is checked first and every problem reported
with its row and column; then rows are matched to the register by their natural key (`code`): new
codes are added, changed rows are updated, identical rows are left alone. A file that changes nothing
is answered without a command (no event, nothing written), however often it is imported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.audit.commands import Command
from cms_workflows.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed, problem
from cms_workflows.core.i18n import Message
from cms_workflows.core.text import shown
from cms_workflows.org.models import User
from cms_workflows.org.queries import site_codes
from cms_workflows.registers import tabular


@dataclass(frozen=True)
class Spec:
    """A register bound to its table: checks across columns, computed columns, and where a row belongs."""

    register: tabular.Register
    model: type
    object_type: str  # in policies/vocabulary.yaml
    prefix: str  # of the codes given to rows added without one
    check: Callable | None = None  # (uow, values, row) -> problems (references, rules across columns)
    derive: Callable | None = None  # (values) -> computed columns
    site_field: str | None = None  # the column naming the row's site; company-level otherwise
    export_values: Callable | None = None  # (obj, locale) -> values to show, when not the stored ones
    same: Callable | None = None  # (obj, values) -> values with what only looks different removed

    def label(self) -> Message:
        return Message(f"registers.{self.register.name}.title")

    def site_of(self, values) -> str:
        if self.site_field is None:
            return COMPANY_WIDE
        value = values.get(self.site_field) if isinstance(values, dict) else getattr(values, self.site_field)
        return value or COMPANY_WIDE


@dataclass
class ImportPlan:
    spec: Spec
    filename: str
    sha256: str
    creates: list[dict] = field(default_factory=list)
    updates: list[tuple[object, dict]] = field(default_factory=list)
    unchanged: int = 0

    def sites(self) -> list[str]:
        found = {self.spec.site_of(v) for v in self.creates}
        for obj, changes in self.updates:
            found |= {self.spec.site_of(obj), self.spec.site_of({**current_values(self.spec, obj), **changes})}
        return sorted(found)


@dataclass
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: int


def jsonable(values: dict) -> dict:
    """Values as the event records them (dates as ISO text)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def current_values(spec: Spec, obj) -> dict:
    return {c.name: getattr(obj, c.name, None) for c in spec.register.columns}


def rows_for_export(spec: Spec, objs, locale: str | None = None) -> list[dict]:
    return [spec.export_values(o, locale) if spec.export_values else current_values(spec, o) for o in objs]


# ------------------------------------------------------------------ loading


def find(uow, spec: Spec, code: str):
    return uow.exec(select(spec.model).where(spec.model.code == code)).first()


def get(uow, spec: Spec, code: str):
    obj = find(uow, spec, code)
    if obj is None:
        raise NotFound("registers.unknown_row", register=spec.label(), code=shown(code, 40))
    return obj


def row_resource(spec: Spec) -> Callable:
    """The pipeline's loader for a command on one row named by its code (first argument)."""

    def load(uow, code: str, *_args, **_kwargs) -> Resource:
        obj = get(uow, spec, code)
        return Resource(spec.object_type, site=spec.site_of(obj), id=obj.id, subject=obj)

    return load


def new_resource(spec: Spec) -> Callable:
    """The pipeline's loader for adding a row: authorized at the site it names (company level otherwise)."""

    def load(_uow, *_args, **values) -> Resource:
        site = values.get(spec.site_field) if spec.site_field else None
        return Resource(spec.object_type, site=site or COMPANY_WIDE)

    return load


def plan_resource(spec: Spec) -> Callable:
    """The pipeline's loader for an import: the plan `import_file` read, or (called directly) the file read now."""

    def load(uow, data: bytes, filename: str, plan: ImportPlan | None = None) -> Resource:
        plan = plan if plan is not None else plan_import(uow, spec, data, filename)
        sites = plan.sites()
        return Resource(spec.object_type, site=sites[0] if sites else COMPANY_WIDE, subject=plan)

    return load


def _next_code(uow, spec: Spec) -> str:
    codes = set(uow.exec(select(spec.model.code).where(spec.model.code.startswith(f"{spec.prefix}-"))))
    n = len(codes) + 1
    while f"{spec.prefix}-{n:03d}" in codes:
        n += 1
    return f"{spec.prefix}-{n:03d}"


# ------------------------------------------------------------------ add and change


def _checked(uow, spec: Spec, values: dict, row: int | None = None) -> tuple[dict, list[dict]]:
    clean, problems = tabular.validate_values(spec.register, values, row)
    if not problems and spec.check is not None:
        problems += spec.check(uow, clean, row)
    return clean, problems


def create(cmd: Command, spec: Spec, values: dict):
    """Add one row (values by column name); a missing code is given the register's next one."""
    uow = cmd.uow
    values = dict(values)
    if not values.get(spec.register.key):
        values[spec.register.key] = _next_code(uow, spec)
    clean, problems = _checked(uow, spec, values)
    if problems:
        raise ValidationFailed("registers.invalid_row", problems=problems, register=spec.label())
    if find(uow, spec, clean[spec.register.key]) is not None:
        raise Conflict("registers.duplicate_code", register=spec.label(), code=clean[spec.register.key])
    obj = _insert(cmd, spec, clean)
    cmd.object_id = obj.id
    cmd.payload = {"code": obj.code, "values": jsonable(clean)}
    return obj


def _insert(cmd: Command, spec: Spec, clean: dict):
    derived = spec.derive(clean) if spec.derive else {}
    obj = spec.model(**clean, **derived, created_by=cmd.actor, created_at=cmd.uow.clock.now())
    cmd.uow.add(obj)
    cmd.uow.flush()
    return obj


def change(cmd: Command, spec: Spec, obj, changes: dict):
    """Change the given columns of one row; the whole row is checked again. Records old and new values."""
    uow = cmd.uow
    given, problems = tabular.validate_values(spec.register, changes, partial=True)
    if problems:
        raise ValidationFailed("registers.invalid_row", problems=problems, register=spec.label())
    if spec.register.key in given and given[spec.register.key] != obj.code:
        raise ValidationFailed("registers.code_fixed", register=spec.label(), code=obj.code)
    shown_now = spec.export_values(obj, None) if spec.export_values else current_values(spec, obj)
    merged = {**shown_now, **given}
    _clean, problems = _checked(uow, spec, {c.name: merged.get(c.name) for c in spec.register.inputs()})
    if problems:
        raise ValidationFailed("registers.invalid_row", problems=problems, register=spec.label())
    diff = _differences(spec, obj, given)
    if not diff:
        raise ValidationFailed("registers.no_change", register=spec.label(), code=obj.code)
    if spec.site_field and spec.site_field in diff:  # moving a row to another site needs the right there too
        access.require(uow, cmd.actor, cmd.spec.action, Resource(spec.object_type, site=spec.site_of(merged)))
    _apply(cmd, spec, obj, diff)
    cmd.object_id = obj.id
    cmd.payload = {"code": obj.code, "changes": {k: jsonable({"o": o, "n": n}) for k, (o, n) in diff.items()}}
    return obj


def _differences(spec: Spec, obj, values: dict) -> dict[str, tuple]:
    values = spec.same(obj, values) if spec.same else values
    return {k: (getattr(obj, k), v) for k, v in values.items() if getattr(obj, k) != v}


def _apply(cmd: Command, spec: Spec, obj, diff: dict) -> None:
    for name, (_old, new) in diff.items():
        setattr(obj, name, new)
    if spec.derive:
        for name, value in spec.derive(current_values(spec, obj)).items():
            setattr(obj, name, value)
    obj.changed_at = cmd.uow.clock.now()
    cmd.uow.add(obj)


# ------------------------------------------------------------------ import


def position_problems(field, value: str | None, row: int | None) -> list[dict]:
    """A position code must be one of the role model's (Annex A and the added roles)."""
    if value and value not in access.known_position_codes():
        return [problem(field, "registers.problem.unknown_position", row=row, value=shown(value, 40))]
    return []


def user_problems(uow, field, value: str | None, row: int | None) -> list[dict]:
    if value and uow.exec(select(User.username).where(User.username == value)).first() is None:
        return [problem(field, "registers.problem.unknown_user", row=row, value=shown(value, 40))]
    return []


def site_problems(uow, field, value: str | None, row: int | None, *, company: bool = False) -> list[dict]:
    if value and not (company and value == COMPANY_WIDE) and value not in site_codes(uow):
        return [problem(field, "registers.problem.unknown_site", row=row, value=shown(value, 40))]
    return []


def may_import_somewhere(uow, actor: str, spec: Spec) -> None:
    """Before a file is read: the user may change this register at some site (or company-wide)."""
    sites = [COMPANY_WIDE] + (sorted(site_codes(uow)) if spec.site_field else [])
    refusal = None
    for site in sites:
        found = access.get_access().check(uow, actor, "manage", Resource(spec.object_type, site=site))
        if not isinstance(found, AccessDenied):
            return
        refusal = refusal or found
    raise refusal


def plan_import(uow, spec: Spec, data: bytes, filename: str) -> ImportPlan:
    """Read and check a whole file, then match its rows by code: what would be added, changed, left alone."""
    rows = tabular.read(spec.register, data, filename)
    problems = []
    for number, values in rows:
        if spec.check is not None:
            problems += spec.check(uow, values, number)
    if problems:
        raise ValidationFailed("registers.import_rejected", problems=problems[:tabular.MAX_PROBLEMS],
                               filename=shown(filename), count=len(problems))
    plan = ImportPlan(spec, filename, hashlib.sha256(data).hexdigest())
    codes = [values[spec.register.key] for _n, values in rows]
    existing = {o.code: o for o in uow.exec(select(spec.model).where(spec.model.code.in_(codes)))}
    for _number, values in rows:
        obj = existing.get(values[spec.register.key])
        if obj is None:
            plan.creates.append(values)
            continue
        changes = {k: new for k, (_o, new) in _differences(spec, obj, values).items()}
        if changes:
            plan.updates.append((obj, changes))
        else:
            plan.unchanged += 1
    return plan


def import_file(uow, actor: str, spec: Spec, data: bytes, filename: str, apply: Callable) -> ImportResult:
    """Check the user may, read the file, authorize at every site it touches, then run `apply` (the
    register's import command) with the plan — or nothing at all when the file changes nothing."""
    may_import_somewhere(uow, actor, spec)
    plan = plan_import(uow, spec, data, filename)
    for site in plan.sites():
        access.require(uow, actor, "manage", Resource(spec.object_type, site=site))
    if not plan.creates and not plan.updates:
        return ImportResult([], [], plan.unchanged)
    return apply(uow, actor, data, filename, plan=plan)


def apply_import(cmd: Command, spec: Spec) -> ImportResult:
    """The body of a register's import command: write the plan the loader read."""
    plan: ImportPlan = cmd.subject
    for site in plan.sites()[1:]:  # the pipeline authorized the first; the file touches these too
        access.require(cmd.uow, cmd.actor, cmd.spec.action, Resource(spec.object_type, site=site))
    created = [_insert(cmd, spec, values).code for values in plan.creates]
    updated = {}
    for obj, changes in plan.updates:
        diff = _differences(spec, obj, changes)
        _apply(cmd, spec, obj, diff)
        updated[obj.code] = {k: jsonable({"o": o, "n": n}) for k, (o, n) in diff.items()}
    cmd.uow.flush()
    cmd.object_id = plan.sha256[:16]
    cmd.payload = {"filename": plan.filename, "sha256": plan.sha256, "created": created, "updated": updated,
                   "unchanged": plan.unchanged}
    return ImportResult(created, sorted(updated), plan.unchanged)
