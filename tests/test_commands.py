"""Every declared command (issue 9): a clear CmsError for bad input, never a traceback, and nothing written.

The bootstrap lists the modules that declare commands; each command must have a case here, so a
new command cannot arrive without its bad-input case."""

from __future__ import annotations

from datetime import date

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
    "documents.template.approve": (GM, (999_999,), {}, "documents.unknown_company_template"),
    "documents.disposition.request": ("doccontrol", ("HN01-PR-999", "burn", "x"), {}, "documents.unknown_document"),
    "documents.disposition.decide": (GM, (999_999, True), {}, "documents.unknown_disposition"),
    "identity.password.set": (ADMIN, ("admin", "short"), {}, "identity.bad_password"),
    "identity.login.succeed": (ADMIN, ("admin", "not the password"), {}, "identity.bad_credentials"),
    "identity.token.create": (ADMIN, ("admin",), {"days": 0}, "identity.bad_token_days"),
    "identity.token.revoke": (ADMIN, (999_999,), {}, "identity.unknown_token"),
    "identity.delegation.grant": (GM, ("gm", date(2026, 1, 1), date(2026, 1, 2), "出差"), {}, "identity.invalid_delegation"),
    "identity.delegation.revoke": (GM, (999_999,), {}, "identity.unknown_delegation"),
    # registers (issue 10, item 3)
    "registers.swot_issue.create": ("carbon.lead", (), {"context": "inside", "kind": "strength", "description": "x"}, "registers.invalid_row"),
    "registers.swot_issue.change": ("carbon.lead", ("S-999",), {"source": "x"}, "registers.unknown_row"),
    "registers.swot_issue.import": ("carbon.lead", (b"", "swot.csv"), {}, "registers.bad_file"),
    "registers.interested_party.create": ("carbon.lead", (), {"name": "", "side": "external", "category": "regulator"}, "registers.invalid_row"),
    "registers.interested_party.change": ("carbon.lead", ("IP-999",), {"needs": "x"}, "registers.unknown_row"),
    "registers.interested_party.import": ("carbon.lead", (b"\x00\x01", "parties.csv"), {}, "registers.bad_file"),
    "registers.risk.create": ("compliance.lead", (), {"nature": "risk", "category": "market", "description": "x", "likelihood": 6, "impact": 1}, "registers.invalid_row"),
    "registers.risk.change": ("compliance.lead", ("RO-999",), {"impact": 2}, "registers.unknown_row"),
    "registers.risk.import": ("compliance.lead", (b"PK\x03\x04broken", "risks.xlsx"), {}, "registers.bad_file"),
    "registers.obligation.create": ("compliance.lead", (), {"kind": "decree", "title": "x"}, "registers.invalid_row"),
    "registers.obligation.change": ("compliance.lead", ("CO-999",), {"clause": "x"}, "registers.unknown_row"),
    "registers.obligation.import": ("compliance.lead", (b"code\n", "obligations.csv"), {}, "registers.bad_file"),
    "registers.instrument.create": ("energy_engineer.hn01", (), {"name": "x", "accuracy_class": "1.0", "site": "HN01", "measures": "电", "interval_months": 0}, "registers.invalid_row"),
    "registers.instrument.change": ("energy_engineer.hn01", ("MI-999",), {"name": "x"}, "registers.unknown_row"),
    "registers.instrument.import": ("energy_engineer.hn01", (b"", "instruments.csv"), {}, "registers.bad_file"),
    "registers.instrument.calibrate": ("energy_data_admin.hn01", ("MI-999", date(2025, 1, 1), "JL-1"), {}, "registers.unknown_row"),
    # data quality control plan, R-8.7 carbon assets
    "registers.quality_plan.create": ("energy_data_admin.hn01", (), {"site": "HN01", "facility": "K1", "material": "electricity", "data_source": "meter", "qa_qc": "x", "responsible_position": "energy_data_admin", "check_frequency": "monthly"}, "registers.invalid_row"),
    "registers.quality_plan.change": ("energy_data_admin.hn01", ("DQ-999",), {"qa_qc": "x"}, "registers.unknown_row"),
    "registers.quality_plan.import": ("energy_data_admin.hn01", (b"", "quality.csv"), {}, "registers.bad_file"),
    "registers.carbon_asset.create": ("carbon.trader", (), {"kind": "allowance", "vintage": 1999, "registry_account": "A-1"}, "registers.invalid_row"),
    "registers.carbon_asset.change": ("carbon.trader", ("CA-999",), {"description": "x"}, "registers.unknown_row"),
    "registers.carbon_asset.import": ("carbon.trader", (b"\x00\x01", "assets.csv"), {}, "registers.bad_file"),
    "registers.carbon_asset.move": ("carbon.trader", ("CA-999",), {"moved_on": "2025-01-01", "kind": "sale", "quantity": "5"}, "registers.unknown_row"),
    "registers.scope.draft": ("carbon.lead", (), {"note": "\x1b[31m"}, "registers.bad_text"),
    "registers.scope_element.add": ("carbon.lead", (), {"code": "X", "kind": "planet", "name": "x"}, "registers.scope_no_draft"),
    "registers.scope_element.remove": ("carbon.lead", ("X",), {}, "registers.scope_no_draft"),
    "registers.scope.import": ("carbon.lead", (b"", "scope.csv"), {}, "registers.scope_no_draft"),
    "registers.scope.submit": ("carbon.lead", (), {}, "registers.scope_no_draft"),
    "registers.scope.approve": (GM, (), {}, "registers.scope_no_draft"),
    # carbon performance
    "registers.carbon_parameter.create": ("carbon.lead", (), {"level": "plant", "name": "x", "unit": "t", "abnormal_rule": "none"}, "registers.invalid_row"),
    "registers.carbon_parameter.change": ("carbon.lead", ("CP-999",), {"unit": "t"}, "registers.unknown_row"),
    "registers.carbon_parameter.import": ("carbon.lead", (b"", "parameters.csv"), {}, "registers.bad_file"),
    "registers.carbon_objective.create": ("carbon.lead", (), {"level": "company", "title": "x", "target_value": "lots", "deadline": date(2030, 12, 31), "evaluation_criteria": "x", "owner_position": "strategy_manager"}, "registers.invalid_row"),
    "registers.carbon_objective.change": ("carbon.lead", ("OBJ-999",), {"unit": "t"}, "registers.unknown_row"),
    "registers.carbon_objective.import": ("carbon.lead", (b"\x00\x01", "objectives.csv"), {}, "registers.bad_file"),
    "registers.action_plan.create": ("carbon.lead", (), {"objective": "OBJ-999", "title": "x", "owner_position": "strategy_manager", "starts_on": date(2026, 1, 1), "ends_on": date(2026, 6, 30)}, "registers.invalid_row"),
    "registers.action_plan.change": ("carbon.lead", ("AP-999",), {"title": "x"}, "registers.unknown_row"),
    "registers.action_plan.import": ("carbon.lead", (b"code\n", "actions.csv"), {}, "registers.bad_file"),
    "registers.action_progress.record": ("carbon.lead", ("AP-999", date(2025, 1, 1), 10), {}, "registers.unknown_row"),
    # planned changes and people
    "registers.change.create": ("carbon.lead", (), {"title": "x", "kind": "merger", "purpose": "x"}, "registers.invalid_row"),
    "registers.change.change": ("carbon.lead", ("CHG-999",), {"purpose": "x"}, "registers.unknown_row"),
    "registers.change.import": ("carbon.lead", (b"", "changes.csv"), {}, "registers.bad_file"),
    "registers.change.raise_review": ("carbon.lead", ("CHG-999", "新窑线投产"), {}, "registers.unknown_row"),
    "registers.change.review_done": ("carbon.lead", ("CHG-999", "CR-1999-99"), {}, "registers.unknown_row"),
    "registers.competence.create": ("training_specialist.hn01", (), {"position": "chief_dreamer", "site": "HN01", "competence": "x", "acquired_by": "training"}, "registers.invalid_row"),
    "registers.competence.change": ("training_specialist.hn01", ("CMP-999",), {"competence": "x"}, "registers.unknown_row"),
    "registers.competence.import": ("training_specialist.hn01", (b"\x00\x01", "competence.csv"), {}, "registers.bad_file"),
    "registers.training.create": ("training_specialist.hn01", (), {"course": "x", "topic": "astrology", "site": "HN01"}, "registers.invalid_row"),
    "registers.training.change": ("training_specialist.hn01", ("TRN-999",), {"trainer": "x"}, "registers.unknown_row"),
    "registers.training.import": ("training_specialist.hn01", (b"code\n", "training.csv"), {}, "registers.bad_file"),
    "registers.training.record": ("training_specialist.hn01", ("TRN-999", "x", date(2025, 1, 1), "passed"), {}, "registers.unknown_row"),
    "registers.communication.create": ("carbon.lead", (), {"direction": "sideways", "what": "x", "timing": "x", "audience": "x", "channel": "x", "responsible_position": "strategy_manager"}, "registers.invalid_row"),
    "registers.communication.change": ("carbon.lead", ("COM-999",), {"what": "x"}, "registers.unknown_row"),
    "registers.communication.import": ("carbon.lead", (b"PK\x03\x04broken", "communication.xlsx"), {}, "registers.bad_file"),
    "registers.disclosure.create": ("carbon.lead", (), {"disclosed_on": date(2025, 1, 1), "audience": "x", "channel": "x", "mode": "voluntary", "approved_by": "carbon.lead"}, "registers.invalid_row"),
    "registers.disclosure.change": ("carbon.lead", ("DIS-999",), {"audience": "x"}, "registers.unknown_row"),
    "registers.disclosure.import": ("carbon.lead", (b"", "disclosures.csv"), {}, "registers.bad_file"),
    # tasks
    "tasks.task.create": ("carbon.lead", (), {"key": "bad key!", "title_key": "tasks.title.nope", "clause": "6.3", "site": "HN01", "due": date(2026, 1, 1), "position": "chief_dreamer"}, "tasks.invalid_task"),
    "tasks.task.claim": ("energy_engineer.hn01", (999_999,), {}, "tasks.unknown_task"),
    "tasks.task.release": ("energy_engineer.hn01", (999_999,), {}, "tasks.unknown_task"),
    "tasks.task.complete": ("energy_engineer.hn01", ("no:such:task",), {"outcome": "ok"}, "tasks.unknown_task"),
    "tasks.task.cancel": ("carbon.lead", (999_999, "不再需要"), {}, "tasks.unknown_task"),
    "tasks.task.resolve": ("system", (999_999,), {"done_by": "gm", "outcome": "x", "record": "NC-1"}, "tasks.unknown_task"),
    "processes.case.advance": ("system", ("NC-1999-99",), {}, "processes.unknown_case"),
    "processes.case.cancel": ("carbon.lead", ("NC-1999-99", "重复"), {}, "processes.unknown_case"),
    # compliance evaluation
    "processes.compliance_evaluation.open": ("compliance.lead", ("HN01", "rumour", " "), {}, "processes.invalid_input"),
    "processes.compliance_evaluation.start": ("compliance.lead", ("CE-1999-01", "2026-01-01", "2026-12-31", ["compliance.lead"]), {}, "processes.unknown_case"),
    "processes.compliance_evaluation.evaluate": ("compliance.lead", ("CE-1999-01", 1, "mostly", ""), {}, "processes.unknown_case"),
    "processes.compliance_evaluation.draft_report": ("compliance.lead", ("CE-1999-01", "x"), {}, "processes.unknown_case"),
    "processes.compliance_evaluation.submit_report": ("compliance.lead", ("CE-1999-01",), {}, "processes.unknown_case"),
    "tasks.task.remind": ("system", (999_999,), {}, "tasks.unknown_task"),
    "tasks.task.escalate": ("system", (999_999,), {}, "tasks.unknown_task"),
    "tasks.message.dispatch": ("system", (999_999,), {}, "tasks.unknown_message"),
    "tasks.message.deliver": ("system", (999_999,), {}, "tasks.unknown_message"),
    "tasks.message.fail": ("system", (999_999, "refused"), {}, "tasks.unknown_message"),
    "tasks.preference.set": (ADMIN, ("admin", "fr"), {}, "tasks.bad_locale"),
    # management review
    "processes.management_review.open": (GM, (), {"meeting_date": "2026-12-20"}, "processes.invalid_input"),
    "processes.management_review.refresh_inputs": ("carbon.lead", ("MR-1999-99",), {}, "processes.unknown_case"),
    "processes.management_review.confirm_inputs": ("carbon.lead", ("MR-1999-99",), {}, "processes.unknown_case"),
    "processes.management_review.record_decision": (GM, ("MR-1999-99",), {"output": "other", "decision": "x", "owner_position": "strategy_manager", "site": "*", "due": date(2099, 1, 1)}, "processes.unknown_case"),
    "processes.management_review.close_meeting": (GM, ("MR-1999-99",), {"chair": GM, "attendees": [GM], "conclusion": "x", "meeting_date": date(2026, 1, 1)}, "processes.unknown_case"),
    "processes.management_review.revise_minutes": ("carbon.lead", ("MR-1999-99",), {"conclusion": "x"}, "processes.unknown_case"),
    "processes.management_review.draft_report": ("carbon.lead", ("MR-1999-99",), {}, "processes.unknown_case"),
    "processes.management_review.submit_report": ("carbon.lead", ("MR-1999-99",), {}, "processes.unknown_case"),
    # nonconformity and corrective action, baseline deviation investigation (R-9.1.1.3)
    "processes.carbon_review.open": ("carbon.lead", (), {"year": 1066, "trigger": "whim"}, "processes.invalid_input"),
    "processes.carbon_review.plan": ("carbon.lead", ("CR-1999-99",), {"period_start": date(2025, 1, 1), "period_end": date(2025, 12, 31), "base_year": 2024, "team": ["carbon.lead"], "company_profile": "x"}, "processes.unknown_case"),
    "processes.carbon_review.record_analysis": ("carbon.lead", ("CR-1999-99",), {"conclusions": "x"}, "processes.unknown_case"),
    "processes.carbon_review.add_benchmark": ("carbon.lead", ("CR-1999-99",), {"name": "x", "value": 1.0, "basis": "per_t", "source": "x"}, "processes.unknown_case"),
    "processes.carbon_review.finish_analysis": ("carbon.lead", ("CR-1999-99",), {}, "processes.unknown_case"),
    "processes.carbon_review.draft_report": ("carbon.lead", ("CR-1999-99",), {}, "processes.unknown_case"),
    "processes.carbon_review.submit_report": ("carbon.lead", ("CR-1999-99",), {}, "processes.unknown_case"),
    "processes.corrective_action.open": ("strategy_manager.hn01", (), {"site": "HN01", "source": "rumour", "description": "x"}, "processes.invalid_input"),
    "processes.corrective_action.contain": ("energy_engineer.hn01", ("NC-1999-99", "x", "y"), {}, "processes.unknown_case"),
    "processes.corrective_action.analyse": ("strategy_manager.hn01", ("NC-1999-99", "x", "y"), {}, "processes.unknown_case"),
    "processes.corrective_action.plan_actions": ("strategy_manager.hn01", ("NC-1999-99", []), {}, "processes.unknown_case"),
    "processes.corrective_action.review_effectiveness": ("carbon.lead", ("NC-1999-99", True, "x"), {}, "processes.unknown_case"),
    "processes.corrective_action.write": ("strategy_manager.hn01", ("NC-1999-99", {"root_cause": "x"}), {}, "processes.unknown_case"),
    "processes.corrective_action.draft_report": ("strategy_manager.hn01", ("NC-1999-99",), {}, "processes.unknown_case"),
    "processes.corrective_action.submit_report": ("strategy_manager.hn01", ("NC-1999-99",), {}, "processes.unknown_case"),
    "processes.deviation.open": ("system", (), {"key": "deviation:x", "site": "HN01", "baseline_id": 1, "level": "site", "scope": "HN01", "period": "2025-13", "actual": 1.0, "baseline": 1.0, "deviation": 0.0}, "processes.invalid_input"),
    "processes.deviation.add_months": ("system", ("DEV-1999-99", [{"period": "2025-13"}]), {}, "processes.unknown_case"),
    "processes.deviation.investigate": ("carbon_accountant.hn01", ("DEV-1999-99", "x", "y"), {}, "processes.unknown_case"),
    "processes.deviation.close_investigation": ("carbon_accountant.hn01", ("DEV-1999-99",), {}, "processes.unknown_case"),
    "processes.deviation.escalate": ("carbon_accountant.hn01", ("DEV-1999-99", "energy_engineer"), {}, "processes.unknown_case"),
    # internal audit
    "processes.audit_programme.open": ("auditor1", (), {"year": 1999}, "processes.invalid_input"),
    "processes.audit_programme.plan_audit": ("auditor1", ("AP-1999-99",), {"site": "HN01", "departments": ["production"], "scope": "x", "criteria": "y", "start": "2026-01-01", "end": "2026-01-02"}, "processes.unknown_case"),
    "processes.audit_programme.finish": ("auditor1", ("AP-1999-99",), {}, "processes.unknown_case"),
    "processes.audit_programme.draft_report": ("auditor1", ("AP-1999-99",), {}, "processes.unknown_case"),
    "processes.audit_programme.submit_report": ("auditor1", ("AP-1999-99",), {}, "processes.unknown_case"),
    "processes.internal_audit.open": ("auditor1", (), {"site": "HN01", "departments": [], "scope": "", "criteria": "", "start": "x", "end": "y"}, "processes.invalid_input"),
    "processes.internal_audit.plan": ("auditor1", ("IA-1999-99",), {"lead_auditor": "auditor1"}, "processes.unknown_case"),
    "processes.internal_audit.answer_checklist": ("auditor1", ("IA-1999-99", 1), {"result": "conforming", "evidence": "x"}, "processes.unknown_case"),
    "processes.internal_audit.record_finding": ("auditor1", ("IA-1999-99",), {"category": "conformity", "clause": "7.5", "department": "production", "description": "x", "evidence": "y"}, "processes.unknown_case"),
    "processes.internal_audit.finish_fieldwork": ("auditor1", ("IA-1999-99",), {}, "processes.unknown_case"),
    "processes.internal_audit.draft_report": ("auditor1", ("IA-1999-99",), {"conclusion": "x"}, "processes.unknown_case"),
    "processes.internal_audit.submit_report": ("auditor1", ("IA-1999-99",), {}, "processes.unknown_case"),
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
