"""R-8.7 Carbon assets: holdings — allowances, CCER, project reductions, other — per kind, vintage and
registry account, and their movements (issue, purchase, sale, surrender, transfer).

A holding's quantity is never entered: `move` records a movement and recomputes the quantity of every
holding it touches from all their movements, in date order, in the same transaction. A movement that
would take a holding below zero on any day — today or, for a movement dated back, on a later day
already recorded — is refused with the day and the shortfall, and nothing is written. Quantities are
whole tonnes of CO2e, as registries issue and surrender them.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import or_, select

from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.text import shown
from cms_workflows.registers import service, tabular
from cms_workflows.registers.obligations import DOCUMENT_NUMBER
from cms_workflows.registers.operations_models import CarbonHolding, CarbonMovement
from cms_workflows.registers.tabular import Column, Register

KINDS = ("allowance", "ccer", "project_reduction", "other")
MOVES = ("issue", "purchase", "sale", "surrender", "transfer")
ADDS, TAKES = ("issue", "purchase"), ("sale", "surrender")
MAX_QUANTITY = 10**12  # tCO2e: far above any company's holding, below any integer column's limit

REGISTER = Register("assets", (
    Column("code", required=True, max_length=32),
    Column("kind", "choice", required=True, choices=KINDS),
    Column("vintage", "int", required=True, low=2005, high=2100),
    Column("registry_account", required=True, max_length=64),
    Column("description", max_length=300),
    Column("quantity", "int", computed=True),
), sheet="assets")

# a movement as typed or exported (the holding by its code)
MOVEMENTS = Register("asset_movements", (
    Column("holding", required=True, max_length=32),
    Column("moved_on", "date", required=True),
    Column("kind", "choice", required=True, choices=MOVES),
    Column("quantity", "int", required=True, low=1, high=MAX_QUANTITY),
    Column("to_holding", max_length=32),
    Column("counterparty", max_length=200),
    Column("document", max_length=120),
    Column("note", max_length=500),
), key="holding", sheet="movements")

SPEC = service.Spec(REGISTER, CarbonHolding, "carbon_asset", "CA")


@command("registers.carbon_asset.create", action="manage", resource=service.new_resource(SPEC),
         audit_object="reg_carbon_holding")
def add_holding(cmd: Command, **values) -> CarbonHolding:
    """Open a holding (R-8.7): its quantity starts at zero and changes only by movements."""
    return service.create(cmd, SPEC, values)


@command("registers.carbon_asset.change", action="manage", resource=service.row_resource(SPEC),
         audit_object="reg_carbon_holding")
def change_holding(cmd: Command, code: str, **changes) -> CarbonHolding:
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.carbon_asset.import", action="manage", resource=service.plan_resource(SPEC),
         audit_object="reg_carbon_holding")
def import_holdings_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_holdings(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_holdings_now)


# ------------------------------------------------------------------ movements


def _holding(uow, code: str, *_args, **_kwargs) -> Resource:
    obj = service.get(uow, SPEC, code)
    return Resource("carbon_asset", site=COMPANY_WIDE, id=obj.id, subject=obj)


def _locked(uow, holding_id: int) -> CarbonHolding:
    """The holding row, locked until the transaction ends (PostgreSQL; SQLite's write lock serialises)."""
    q = select(CarbonHolding).where(CarbonHolding.id == holding_id).with_for_update()
    return uow.exec(q.execution_options(populate_existing=True)).one()


def _movement_values(uow, code: str, values: dict) -> tuple[dict, CarbonHolding | None]:
    """Typed values of a movement, the transfer's receiving holding, or every problem."""
    clean, problems = tabular.validate_values(MOVEMENTS, {"holding": code, **values})
    target = None
    if not problems:
        if clean["moved_on"] > uow.clock.today():
            problems.append(problem(MOVEMENTS.field("moved_on"), "registers.problem.in_future"))
        if clean["document"] and not DOCUMENT_NUMBER.match(clean["document"]):
            problems.append(problem(MOVEMENTS.field("document"), "registers.problem.bad_movement_reference",
                                    value=shown(clean["document"], 40)))
        problems += _transfer_problems(uow, code, clean)
        if clean["kind"] == "transfer" and not problems:
            target = service.find(uow, SPEC, clean["to_holding"])
    if problems:
        raise ValidationFailed("registers.invalid_movement", problems=problems, code=shown(code, 40))
    return clean, target


def _transfer_problems(uow, code: str, clean: dict) -> list[dict]:
    field = MOVEMENTS.field("to_holding")
    to = clean["to_holding"]
    if clean["kind"] != "transfer":
        return [problem(field, "registers.problem.only_for_transfer")] if to else []
    if not to:
        return [problem(field, "registers.problem.required")]
    target = service.find(uow, SPEC, to)
    if target is None or to == code:
        return [problem(field, "registers.problem.unknown_holding", value=shown(to, 40))]
    source = service.find(uow, SPEC, code)
    if (target.kind, target.vintage) != (source.kind, source.vintage):
        return [problem(field, "registers.problem.transfer_mismatch", value=shown(to, 40))]
    return []


def delta(movement: CarbonMovement, holding_id: int) -> int:
    """What a movement adds to (or takes from) one holding."""
    if movement.kind in ADDS:
        return movement.quantity
    if movement.kind == "transfer" and movement.to_holding_id == holding_id:
        return movement.quantity
    return -movement.quantity


def movements_of(uow, holding_id: int) -> list[CarbonMovement]:
    q = select(CarbonMovement).where(or_(CarbonMovement.holding_id == holding_id,
                                         CarbonMovement.to_holding_id == holding_id))
    return list(uow.exec(q.order_by(CarbonMovement.moved_on, CarbonMovement.id)))


def recompute(uow, holding: CarbonHolding) -> list[dict]:
    """Set the holding's quantity from its movements; the days it would fall below zero, as problems."""
    balance, problems = 0, []
    found = movements_of(uow, holding.id)
    for i, m in enumerate(found):
        balance += delta(m, holding.id)
        last_of_day = i + 1 == len(found) or found[i + 1].moved_on != m.moved_on  # a day nets its movements
        if balance < 0 and last_of_day:
            problems.append(problem(MOVEMENTS.field("quantity"), "registers.problem.below_zero", code=holding.code,
                                    day=m.moved_on.isoformat(), balance=f"{balance:,}"))
    holding.quantity = balance
    return problems


@command("registers.carbon_asset.move", action="manage", resource=_holding, audit_object="reg_carbon_holding")
def move(cmd: Command, code: str, **values) -> CarbonMovement:
    """Record a movement of a holding (R-8.7) and recompute the holdings it touches; never below zero."""
    uow = cmd.uow
    source = _locked(uow, cmd.subject.id)
    clean, target = _movement_values(uow, code, values)
    touched = [source] + ([_locked(uow, target.id)] if target is not None else [])
    record = CarbonMovement(holding_id=source.id, to_holding_id=target.id if target else None, moved_on=clean["moved_on"],
                            kind=clean["kind"], quantity=clean["quantity"], counterparty=clean["counterparty"],
                            document=clean["document"], note=clean["note"], recorded_by=cmd.actor,
                            recorded_at=uow.clock.now())
    uow.add(record)
    uow.flush()
    problems = [p for h in touched for p in recompute(uow, h)]
    if problems:  # the unit of work is rolled back: the movement is not kept
        raise ValidationFailed("registers.asset_below_zero", problems=problems, code=source.code)
    for h in touched:
        h.changed_at = uow.clock.now()
        uow.add(h)
    cmd.object_id = source.id
    cmd.payload = {"code": source.code, "movement_id": record.id, "values": service.jsonable(clean),
                   "quantities": {h.code: h.quantity for h in touched}}
    return record


def movement_values(m: CarbonMovement, codes: dict[int, str]) -> dict:
    """A movement as a row of the movements file (holdings by code)."""
    return {"holding": codes.get(m.holding_id), "moved_on": m.moved_on, "kind": m.kind, "quantity": m.quantity,
            "to_holding": codes.get(m.to_holding_id) if m.to_holding_id else "", "counterparty": m.counterparty,
            "document": m.document, "note": m.note}


def balance_on(uow, holding: CarbonHolding, day: date) -> int:
    """A holding's quantity at the end of a day, from its movements."""
    return sum(delta(m, holding.id) for m in movements_of(uow, holding.id) if m.moved_on <= day)
