"""Shared by the duty and sweep tests (X-3): a database seen through a clock the test moves, and the
subjects duties are generated for — plan lines (R-6.3.5), instruments (R-9.1), an obligation (R-6.2.2),
a risk (R-6.2.1) and a controlled document with its review period (R-7.5)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlmodel import select

from cms_workflows import audit
from cms_workflows.core.clock import FixedClock
from cms_workflows.core.db import Database
from cms_workflows.tasks.models import OutboxMessage, Task, TaskNotice

# a year when every demo assignment and the system agent's are held (they start last year and today)
Y = date.today().year + 1
ACCOUNTANT = {"HN01": "carbon_accountant.hn01", "HN02": "carbon_accountant.hn02"}
PLAN = [("HN01", "熟料车间", "BOILER1", "stationary_combustion", "natural_gas", "10^4Nm3"),
        ("HN02", "装配车间", "GRID", "purchased_electricity", "electricity", "MWh")]


def clocked_database(db: Database, day: date) -> Database:
    return Database(db.url, settings=db.settings, clock=FixedClock(datetime(day.year, day.month, day.day, 6, 0)))


def at(database: Database, day: date) -> None:
    database.clock.moment = datetime(day.year, day.month, day.day, 6, 0, tzinfo=database.clock.zone)


def add_plan(database: Database) -> None:
    from cms_workflows.accounting import service as acc

    for site, unit, facility, category, material, u in PLAN:
        with database.unit_of_work() as uow:
            acc.add_plan_item(uow, ACCOUNTANT[site], site=site, production_unit=unit, facility=facility,
                              category=category, material=material, unit=u)


def add_instrument(database: Database, code: str, last: date | None, months: int = 12, site: str = "HN01") -> None:
    from cms_workflows.registers import instruments

    with database.unit_of_work() as uow:
        instruments.add_instrument(uow, f"energy_engineer.{site.lower()}", code=code, name=f"{code} 电能表", accuracy_class="0.5S",
                                   site=site, location="总配电室", measures="电力（外购）", interval_months=months,
                                   last_calibrated=last, certificate="JL-0001" if last else "")


def calibrate(database: Database, code: str, on: date) -> None:
    from cms_workflows.registers import instruments

    with database.unit_of_work() as uow:
        instruments.calibrate(uow, "energy_engineer.hn01", code, on, f"JL-{on:%Y%m%d}")


def add_obligation(database: Database, next_review: date) -> None:
    from cms_workflows.registers import obligations

    with database.unit_of_work() as uow:
        obligations.add_obligation(uow, "compliance.lead", code="CO-01", kind="regulation", title="碳排放权交易管理暂行条例",
                                   issuer="国务院", clause="第十一条", applicability="重点排放单位",
                                   owner_position="legal_specialist", next_review=next_review)


def add_risk(database: Database, review: date) -> None:
    from cms_workflows.registers import risks

    with database.unit_of_work() as uow:
        risks.add_risk(uow, "compliance.lead", code="RO-101", nature="risk", category="market",
                       description="出口客户要求提供产品碳足迹", likelihood=4, impact=4, response="开展 LCA",
                       owner_position="strategy_manager", owner_user="carbon.lead", review_date=review)


def effective_document(database: Database, on: date, review_months: int) -> str:
    """A procedure of HN01 made effective on `on`, reviewed every `review_months` months."""
    from cms_workflows.documents import approval, registry
    from cms_workflows.documents import queries as doc_queries
    from cms_workflows.documents import service as docs

    at(database, on)
    with database.unit_of_work() as uow:
        rev = docs.create(uow, "strategy_manager.hn01", doc_type="procedure", site="HN01", title="碳数据管理程序",
                          owner_department="carbon_management", review_months=review_months,
                          content=dict(registry.template("controlled_document").example))
        number = doc_queries.document_number(uow, rev.document_id)
    with database.unit_of_work() as uow:
        docs.submit(uow, "strategy_manager.hn01", number)
    with database.unit_of_work() as uow:
        approval.decide(uow, "quality_system_engineer.hn01", number, "approve", "内容符合要求", expect="review")
    with database.unit_of_work() as uow:
        approval.decide(uow, "gm", number, "approve", "同意发布", expect="approve", today=on)
    with database.unit_of_work() as uow:
        docs.make_effective(uow, "doccontrol", number, today=on)
    return number


def tasks(database: Database) -> dict[str, Task]:
    with database.read() as uow:
        return {t.key: t for t in uow.exec(select(Task))}


def keys_of(database: Database, duty: str) -> list[str]:
    return sorted(k for k in tasks(database) if k.startswith(duty + ":"))


def snapshot(database: Database) -> dict:
    """What a sweep changes: tasks, notices, outbox messages and events, counted."""
    with database.read() as uow:
        return {
            "tasks": sorted(uow.exec(select(Task.key))),
            "notices": sorted((n.task_id, n.kind, n.step) for n in uow.exec(select(TaskNotice))),
            "outbox": Counter((m.recipient, m.task_id, m.message_key, m.params) for m in uow.exec(select(OutboxMessage))),
            "events": Counter(e.action for e in audit.events_for(uow)),
        }
