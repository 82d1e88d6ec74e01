"""Accounting commands through the pipeline: event names, authorization before validation, lifecycle refusals,
options checked by the service, messages as keys in both locales."""

from __future__ import annotations

import pytest

from cms_workflows import audit
from cms_workflows.accounting import reports
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.factors import Options
from cms_workflows.accounting.states import BASELINE, LIFECYCLES, RUN
from cms_workflows.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from cms_workflows.core.i18n import catalog

from .conftest import ACCOUNTANT, DATA_ADMIN, GM, csv_bytes, year_rows
from .test_service import counts, do_import


def test_events_follow_domain_object_verb(db, plan):
    r = do_import(db, csv_bytes(year_rows(2023)))
    with db.unit_of_work() as s:
        run = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12")
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run.run_id)
    with db.read() as s:
        assert [e.action for e in audit.events_for(s, "acc_import", r.import_id)] == ["accounting.import_batch.create"]
        assert [e.action for e in audit.events_for(s, "acc_run", run.run_id)] == [
            "accounting.run.calculate", "accounting.run.approve"]
        assert {e.action for e in audit.events_for(s, "acc_plan_item")} == {"accounting.plan_item.create"}


def test_authorization_comes_before_validation(db, plan):
    do_import(db, csv_bytes(year_rows(2023)))
    before = counts(db)
    # a data admin may not run calculations: refused even with a malformed period or bad options
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.calculate(s, DATA_ADMIN, "2023-1", "2023-12", options=Options(gwp_set="AR9"))
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.set_baseline(s, DATA_ADMIN, "nonsense", "HN01", "x", "y")
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.record_trigger(s, DATA_ADMIN, "HN01", "weather", "")
    assert counts(db) == before


def test_calculation_options_are_checked_by_the_service(db, plan):
    do_import(db, csv_bytes(year_rows(2023)))
    with pytest.raises(ValidationFailed) as e, db.unit_of_work() as s:
        acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12", options=Options(electricity_kind="bogus", gwp_set="AR9"))
    assert e.value.key == "accounting.invalid_options"
    assert [(p["field"], p["key"]) for p in e.value.problems] == [
        ("electricity_kind", "accounting.problem.one_of"), ("gwp_set", "accounting.problem.one_of")]
    assert "AR5" in e.value.message("en") and "AR9" in e.value.message("zh-CN")


def test_lifecycle_refusals_change_nothing(db, plan):
    do_import(db, csv_bytes(year_rows(2023)))
    with db.unit_of_work() as s:
        run = acc.calculate(s, ACCOUNTANT, "2023-01", "2023-12")
    with db.unit_of_work() as s:
        acc.approve_run(s, GM, run.run_id)
    with db.unit_of_work() as s:
        bid = acc.set_baseline(s, ACCOUNTANT, "site", "HN01", "2023-01", "2023-12")
    with db.unit_of_work() as s:
        acc.approve_baseline(s, GM, bid)
    before = counts(db)
    with pytest.raises(InvalidTransition) as e, db.unit_of_work() as s:
        acc.approve_run(s, GM, run.run_id)
    assert "正式" in e.value.message("zh-CN")  # the state by its label, not its code
    with pytest.raises(InvalidTransition), db.unit_of_work() as s:
        acc.approve_baseline(s, GM, bid)
    with pytest.raises(AccessDenied), db.unit_of_work() as s:  # not told the state: not allowed to approve at all
        acc.approve_run(s, DATA_ADMIN, run.run_id)
    assert counts(db) == before


def test_result_tables_are_checked_in_the_report_function(db, plan):
    with pytest.raises(ValidationFailed) as e, db.read() as s:
        reports.results_table(s, GM, first="2023-01", last="2023-12", level="planet", by="week")
    assert {p["field"] for p in e.value.problems} == {"level", "by"}
    with pytest.raises(ValidationFailed), db.read() as s:
        reports.results_table(s, GM, level="site")


def test_states_and_commands_have_labels_in_both_locales():
    for locale in ("zh-CN", "en"):
        keys = catalog(locale)
        for lifecycle in LIFECYCLES:
            assert all(f"{lifecycle.label_prefix}{state}" in keys for state in lifecycle.states)
            assert all(f"lifecycle.command.{c}" in keys for c in lifecycle.commands())
    assert RUN.target("draft", "approve_run") == "official" and BASELINE.target("approved", "supersede_baseline") == "superseded"


def test_accounting_messages_exist_in_both_locales():
    zh, en = catalog("zh-CN"), catalog("en")
    ours = {k for k in zh if k.startswith("accounting.")} | {k for k in en if k.startswith("accounting.")}
    assert ours <= set(zh) and ours <= set(en)
