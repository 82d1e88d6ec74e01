"""R-6.2.1 Risks and opportunities, seeded with Annex B table B.1 (policy, technology, market).

Each row is assessed as likelihood × impact (1–5 each): the score is their product and the level
follows from it (1–6 low, 8–12 medium, 15–25 high). It has a response, an owner (a position or a
named user) and a review date. The seeded rows keep the guide's text as a message key, so they read
in the user's language; a row whose description a user rewrites keeps the user's text instead.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from cms_workflows.audit.commands import Command, command, installer_command
from cms_workflows.core.errors import problem
from cms_workflows.core.i18n import LOCALES, t
from cms_workflows.registers import service
from cms_workflows.registers.models import Risk
from cms_workflows.registers.tabular import Column, Register

LEVELS = ("low", "medium", "high")

REGISTER = Register("risks", (
    Column("code", required=True, max_length=32),
    Column("nature", "choice", required=True, choices=("risk", "opportunity")),
    Column("category", "choice", required=True, choices=("policy", "technology", "market", "other")),
    Column("description", "multiline", required=True, max_length=1000),
    Column("likelihood", "int", low=1, high=5),
    Column("impact", "int", low=1, high=5),
    Column("score", "int", computed=True),
    Column("level", "choice", choices=LEVELS, computed=True),
    Column("response", "multiline", max_length=1000),
    Column("owner_position", "position", max_length=64),
    Column("owner_user", max_length=64),
    Column("review_date", "date"),
    Column("source", "choice", choices=("annex_b", "user"), computed=True),
), sheet="risks")


def level_of(score: int | None) -> str | None:
    if score is None:
        return None
    return "low" if score <= 6 else "medium" if score <= 12 else "high"


def _derive(values: dict) -> dict:
    likelihood, impact = values.get("likelihood"), values.get("impact")
    score = likelihood * impact if likelihood and impact else None
    return {"score": score, "level": level_of(score)}


def _check(uow, values: dict, row: int | None) -> list[dict]:
    found = []
    if (values.get("likelihood") is None) != (values.get("impact") is None):
        missing = "impact" if values.get("impact") is None else "likelihood"
        found.append(problem(REGISTER.field(missing), "registers.problem.assess_both", row=row))
    found += service.position_problems(REGISTER.field("owner_position"), values.get("owner_position"), row)
    found += service.user_problems(uow, REGISTER.field("owner_user"), values.get("owner_user"), row)
    return found


def _shown(obj: Risk, locale: str | None) -> dict:
    values = service.current_values(SPEC, obj)
    if obj.text_key:
        values["description"] = t(obj.text_key, locale)
    return values


def _same(obj: Risk, values: dict) -> dict:
    """A seeded row's text read back in either language is the same text; other text replaces it."""
    if not obj.text_key or "description" not in values:
        return values
    out = dict(values)
    if values["description"] in {t(obj.text_key, loc) for loc in LOCALES}:
        del out["description"]
    else:
        out["text_key"] = None
    return out


SPEC = service.Spec(REGISTER, Risk, "risk", "RO", check=_check, derive=_derive, export_values=_shown, same=_same)


@lru_cache(maxsize=1)
def annex_b() -> list[tuple[str, str, str, str]]:
    """(code, nature, category, message key) of each example of Annex B table B.1, in the table's order."""
    data = yaml.safe_load((resources.files("cms_workflows") / "data" / "registers" / "annex_b.yaml").read_text("utf-8"))
    return [(code, nature, category, "registers.annex_b." + code.lower().replace("-", "_"))
            for nature, categories in data.items() for category, codes in categories.items() for code in codes]


@installer_command("registers.risk.seed", audit_object="reg_risk")
def seed_annex_b(cmd: Command) -> list[str]:
    """Add the examples of Annex B table B.1 that are not in the register yet (by code); `cms init` runs it,
    so a release that brings more examples adds them, with their event, and nothing twice."""
    uow = cmd.uow
    added = []
    for code, nature, category, key in annex_b():
        if service.find(uow, SPEC, code) is None:
            uow.add(Risk(code=code, nature=nature, category=category, text_key=key, source="annex_b",
                         created_by=cmd.actor, created_at=uow.clock.now()))
            added.append(code)
    if added:
        uow.flush()
        cmd.object_id, cmd.payload = "annex_b", {"codes": added}
    return added


@command("registers.risk.create", action="manage", resource=service.new_resource(SPEC), audit_object="reg_risk")
def add_risk(cmd: Command, **values) -> Risk:
    """Add a risk or opportunity (R-6.2.1)."""
    return service.create(cmd, SPEC, values)


@command("registers.risk.change", action="manage", resource=service.row_resource(SPEC), audit_object="reg_risk")
def change_risk(cmd: Command, code: str, **changes) -> Risk:
    """Assess, respond, assign an owner, set the review date (R-6.2.1)."""
    return service.change(cmd, SPEC, cmd.subject, changes)


@command("registers.risk.import", action="manage", resource=service.plan_resource(SPEC), audit_object="reg_risk")
def import_risks_now(cmd: Command, data: bytes, filename: str, plan=None) -> service.ImportResult:
    return service.apply_import(cmd, SPEC)


def import_risks(uow, actor: str, data: bytes, filename: str) -> service.ImportResult:
    return service.import_file(uow, actor, SPEC, data, filename, import_risks_now)
