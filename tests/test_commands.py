"""Every declared command (issue 9): a clear CmsError for bad input, never a traceback, and nothing written.

The bootstrap lists the modules that declare commands; each command must have a case here, so a
new command cannot arrive without its bad-input case."""

from __future__ import annotations

import pytest

from cms_workflows import audit
from cms_workflows.audit.commands import declared_commands
from cms_workflows.bootstrap import command_modules
from cms_workflows.core.errors import CmsError

GM, ADMIN = "gm", "admin"

# event -> (actor, args, kwargs, expected message key): a bad input for each command
BAD_INPUT: dict[str, tuple[str, tuple, dict, str]] = {
    "org.site.create": (ADMIN, ("hn-lower", "长沙"), {}, "org.invalid_site"),
    "org.user.create": (ADMIN, ("Bad Name", "张三"), {"email": "not-mail"}, "org.invalid_user"),
    "org.assignment.create": (ADMIN, ("gm", "chief_dreamer", "*"), {}, "org.unknown_position"),
    "org.assignment.end": (ADMIN, (999_999,), {"reason": "调岗"}, "org.unknown_assignment"),
    "org.user.deactivate": (ADMIN, ("gm", "  "), {}, "org.reason_required"),
    "audit.evidence.export": ("purchaser.hn01", ("pack.zip",), {}, "access.denied"),
    "accounting.plan_item.create": ("carbon_accountant.hn01", (), {"site": "HN01", "production_unit": "U1", "facility": "B1", "category": "nope", "material": "natural_gas", "unit": "t"}, "accounting.invalid_plan_item"),
    "accounting.factor_override.create": ("carbon_accountant.hn01", (), {"material": "natural_gas", "parameter": "ncv", "value": -1, "evidence": "x", "site": "HN01"}, "accounting.invalid_factor"),
    "accounting.import_batch.create": ("energy_data_admin.hn01", (b"", "e.csv"), {}, "accounting.bad_file"),
    "accounting.production_output.record": ("energy_data_admin.hn01", ("HN01", "2023-13", 1.0, 1.0), {}, "accounting.bad_period"),
    "accounting.run.calculate": ("carbon_accountant.hn01", ("2023-1", "2023-12"), {}, "accounting.bad_period"),
    "accounting.run.approve": (GM, (999_999,), {}, "accounting.unknown_run"),
    "accounting.baseline.create": ("carbon_accountant.hn01", ("site", "HN01", "2023-01", "2023-12"), {"method": "median"}, "accounting.bad_method"),
    "accounting.baseline.approve": (GM, (999_999,), {}, "accounting.unknown_baseline"),
    "accounting.baseline_trigger.record": ("carbon_accountant.hn01", ("HN01", "weather", "x"), {}, "accounting.bad_trigger"),
    "documents.document.create": ("strategy_manager.hn01", (), {"doc_type": "procedure", "site": "HN01", "title": "", "owner_department": "nowhere"}, "documents.bad_register_entry"),
    "documents.revision.edit": ("strategy_manager.hn01", ("HN01-PR-999",), {"title": "x"}, "documents.unknown_document"),
    "documents.revision.open": ("strategy_manager.hn01", ("HN01-PR-999",), {"change_reason": "x"}, "documents.unknown_document"),
    "documents.revision.submit": ("strategy_manager.hn01", ("HN01-PR-999",), {}, "documents.unknown_document"),
    "documents.revision.make_effective": ("doccontrol", ("HN01-PR-999",), {}, "documents.unknown_document"),
    "documents.document.obsolete": ("doccontrol", ("HN01-PR-999", "作废"), {}, "documents.unknown_document"),
    "documents.document.periodic_review": ("doccontrol", ("HN01-PR-999", "x"), {}, "documents.unknown_document"),
    "documents.revision.decide": (GM, ("HN01-PR-999", "maybe"), {}, "documents.unknown_document"),
    "documents.route.add_reviewer": ("doccontrol", ("HN01-PR-999", "nobody"), {}, "documents.unknown_document"),
    "documents.distribution.create": ("doccontrol", ("HN01-PR-999", [("chief_dreamer", "HN77")]), {}, "documents.unknown_document"),
    "documents.acknowledgement.create": ("energy_engineer.hn01", ("HN01-PR-999",), {}, "documents.unknown_document"),
    "documents.revision.import": ("strategy_manager.hn01", (b"not a word file", "old.doc"), {"doc_type": "procedure", "site": "HN01", "title": "旧", "owner_department": "carbon_management"}, "documents.not_docx"),
    "documents.template.register": ("doccontrol", ("procedure", b"PK\x03\x04broken", "t.docx"), {}, "documents.not_docx"),
    "documents.disposition.request": ("doccontrol", ("HN01-PR-999", "burn", "x"), {}, "documents.unknown_document"),
    "documents.disposition.decide": (GM, (999_999, True), {}, "documents.unknown_disposition"),
}


def _all_commands() -> dict:
    """User commands by event name (the installation's own commands are run by `cms init` only)."""
    return {fn.command.event: fn for fn in declared_commands(*command_modules()).values()
            if fn.command.action != "install"}


def test_every_command_has_a_bad_input_case():
    commands = _all_commands()
    assert len(commands) >= 6
    assert sorted(set(commands) - set(BAD_INPUT)) == []


@pytest.mark.parametrize("event", sorted(BAD_INPUT))
def test_bad_input_is_a_clear_error_and_writes_nothing(db, company, event):
    fn = _all_commands()[event]
    actor, args, kwargs, key = BAD_INPUT[event]
    with db.read() as uow:
        before = len(audit.events_for(uow))
    with pytest.raises(CmsError) as raised, db.unit_of_work() as uow:
        fn(uow, actor, *args, **kwargs)
    assert raised.value.key == key
    for locale in ("zh-CN", "en"):
        text = raised.value.message(locale)
        assert text and key not in text and "Traceback" not in text
    with db.read() as uow:
        assert len(audit.events_for(uow)) == before


def test_each_event_is_declared_by_one_user_command():
    seen: dict[str, str] = {}
    for fn in declared_commands(*command_modules()).values():
        if fn.command.action != "install":
            assert fn.command.event not in seen, (fn.command.event, seen[fn.command.event], fn.command.name)
            seen[fn.command.event] = fn.command.name


def test_renamed_events_name_events_in_force():
    from cms_workflows.audit.recording import _renamed, names_for

    in_force = {fn.command.event for fn in declared_commands(*command_modules()).values()}
    in_force |= {e for fn in declared_commands(*command_modules()).values() for e in fn.command.emits}
    assert sorted(set(_renamed().values()) - in_force) == []
    assert "documents.approved" in names_for("documents.revision.approve")
