"""What accounting is built on, maintained on pages: a data collection plan line, a month's production
output, a company emission factor and carbon baselines with their approval (and its comment). Each:
done with its audit event, a mistake beside its field (422, nothing written), a refusal naming the
positions (403)."""

from __future__ import annotations

import json

from cms_workflows import audit
from cms_workflows.accounting import service as acc
from tests.accounting.conftest import csv_bytes
from tests.accounting.test_service import counts
from tests.web.test_accounting import ACCOUNTANT1, ACCOUNTANT2, ADMIN1, ADMIN2, month

LINE = {"site": "HN01", "production_unit": "U3", "facility": "DRYER1", "facility_name": "烘干机", "category":
        "stationary_combustion", "material": "diesel", "unit": "t", "data_source": "invoice", "calibrated": ""}
OUTPUT = {"site": "HN01", "period": "2023-01", "product_t": "12000", "value_10k_cny": "3600.5"}
FACTOR = {"site": "HN01", "material": "natural_gas", "parameter": "carbon_content", "value": "0.0155", "unit": "",
          "evidence": "LAB-2023-17 检测报告", "source": "湖南省计量院", "year_from": "2023", "year_to": ""}
BASELINE = {"level": "site", "scope": "HN01", "base_from": "2023-01", "base_to": "2023-01", "method": "average"}


def events(db, object_type: str, action: str) -> list:
    with db.read() as uow:
        return audit.events_for(uow, object_type, event=action)


def test_the_carbon_accountant_adds_a_plan_line(db, plan, browser):
    accountant = browser(ACCOUNTANT1)
    shown = accountant.get("/accounting/plan?site=HN01")
    assert shown.status_code == 200 and 'id="form-accounting_plan_item"' in shown.text
    assert 'action="/accounting/plan?site=HN01"' in shown.text and "固定燃烧源" in shown.text
    assert 'id="form-accounting_plan_item"' not in browser(ADMIN1).get("/accounting/plan?site=HN01").text

    before = counts(db)
    unknown = accountant.submit("/accounting/plan?site=HN01", {**LINE, "material": "unobtainium", "unit": "furlong"})
    assert unknown.status_code == 422 and 'id="error-material"' in unknown.text and 'id="error-unit"' in unknown.text
    assert "未知燃料/物料 unobtainium" in unknown.text and 'value="unobtainium"' in unknown.text
    blank = accountant.submit("/accounting/plan?site=HN01", {**LINE, "facility": " "})
    assert blank.status_code == 422 and 'id="error-facility"' in blank.text
    duplicate = accountant.submit("/accounting/plan?site=HN01", {**LINE, "facility": "BOILER1", "material": "natural_gas"})
    assert duplicate.status_code == 409 and "已有" in duplicate.text
    assert counts(db) == before

    done = accountant.submit("/accounting/plan?site=HN01", {**LINE, "calibrated": "yes"})
    assert done.status_code == 303 and done.headers["location"].startswith("/accounting/plan?site=HN01")
    (event,) = [e for e in events(db, "acc_plan_item", "accounting.plan_item.create") if e.actor == ACCOUNTANT1
                and json.loads(e.payload)["facility"] == "DRYER1"]
    assert json.loads(event.payload)["meter_calibrated"] is True and event.site == "HN01"
    assert "DRYER1" in accountant.get("/accounting/plan?site=HN01").text


def test_a_plan_line_is_refused_to_whoever_does_not_keep_the_sites_plan(db, plan, browser):
    admin, other, accountant = browser(ADMIN1), browser(ACCOUNTANT2), browser(ACCOUNTANT1)  # (signing in is an event)
    before = counts(db)
    refused = admin.submit("/accounting/plan?site=HN01", LINE)
    assert refused.status_code == 403 and "碳核算与报告专员" in refused.text
    assert other.submit("/accounting/plan?site=HN01", LINE).status_code == 403
    swapped = accountant.submit("/accounting/plan?site=HN01", {**LINE, "site": "HN02"})
    assert swapped.status_code == 422 and counts(db) == before


def test_production_output_is_recorded_for_the_intensity(db, plan, browser):
    admin, other, gm = browser(ADMIN1), browser(ADMIN2), browser("gm")
    shown = admin.get("/accounting/output?site=HN01")
    assert shown.status_code == 200 and 'id="form-accounting_output"' in shown.text

    before = counts(db)
    bad = admin.submit("/accounting/output?site=HN01", {**OUTPUT, "product_t": "-5", "period": "2023-13"})
    assert bad.status_code == 422 and 'id="error-product_t"' in bad.text and 'id="error-period"' in bad.text
    assert 'value="-5"' in bad.text
    words = admin.submit("/accounting/output?site=HN01", {**OUTPUT, "value_10k_cny": "lots"})
    assert words.status_code == 422 and 'id="error-value_10k_cny"' in words.text
    refused = other.submit("/accounting/output?site=HN01", OUTPUT)
    assert refused.status_code == 403 and "能源数据管理员" in refused.text
    assert gm.submit("/accounting/output?site=HN01", OUTPUT).status_code == 403
    assert counts(db) == before

    assert admin.submit("/accounting/output?site=HN01", OUTPUT).status_code == 303
    (event,) = events(db, "acc_output", "accounting.production_output.record")
    assert json.loads(event.payload)["product_t"] == 12000.0 and event.actor == ADMIN1
    listed = admin.get("/accounting/output?site=HN01").text
    assert "12000.000" in listed and "3600.500" in listed


def test_the_factor_library_in_force_and_a_company_value(db, plan, browser):
    accountant, admin, gm = browser(ACCOUNTANT1), browser(ADMIN1), browser("gm")
    shown = accountant.get("/accounting/factors?site=HN01")
    assert shown.status_code == 200 and "<code>natural_gas</code>" in shown.text and 'id="factor-version"' in shown.text
    assert 'id="form-accounting_factor"' in shown.text
    version = shown.text.split('id="factor-version">')[1].split("<")[0]

    before = counts(db)
    bad = accountant.submit("/accounting/factors?site=HN01", {**FACTOR, "value": "0", "evidence": "LAB"})
    assert bad.status_code == 422 and 'id="error-value"' in bad.text and "应为正数" in bad.text
    missing = accountant.submit("/accounting/factors?site=HN01", {**FACTOR, "evidence": ""})
    assert missing.status_code == 422 and 'id="error-evidence"' in missing.text
    years = accountant.submit("/accounting/factors?site=HN01", {**FACTOR, "year_from": "二〇二三"})
    assert years.status_code == 422 and 'id="error-year_from"' in years.text
    assert counts(db) == before

    # company-wide values need a company-wide holder; a data admin keeps no factors at all
    assert accountant.submit("/accounting/factors?site=*", {**FACTOR, "site": "*"}).status_code == 403
    refused = admin.submit("/accounting/factors?site=HN01", FACTOR)
    assert refused.status_code == 403 and "碳核算与报告专员" in refused.text
    assert admin.get("/accounting/factors?site=HN01").status_code == 403
    assert counts(db) == before

    assert accountant.submit("/accounting/factors?site=HN01", FACTOR).status_code == 303
    (event,) = events(db, "acc_factor_override", "accounting.factor_override.create")
    payload = json.loads(event.payload)
    assert payload["value"] == 0.0155 and payload["evidence"] == "LAB-2023-17 检测报告" and payload["site"] == "HN01"
    after = gm.get("/accounting/factors?site=HN01").text
    assert "LAB-2023-17 检测报告" in after and version not in after  # a new library version is in force


def _official_january(db) -> None:
    with db.unit_of_work() as uow:
        acc.import_activity(uow, ADMIN1, csv_bytes(month()), "hn01.csv")
    with db.unit_of_work() as uow:
        run_id = acc.calculate(uow, ACCOUNTANT1, "2023-01", "2023-01", ["HN01"]).run_id
    with db.unit_of_work() as uow:
        acc.approve_run(uow, "gm", run_id)


def test_a_baseline_is_proposed_and_approved_with_a_comment(db, plan, browser):
    _official_january(db)
    accountant, gm, admin, other, lead = (browser(u) for u in (ACCOUNTANT1, "gm", ADMIN1, ACCOUNTANT2, "carbon.lead"))
    empty = accountant.get("/accounting/baselines?site=HN01")
    assert empty.status_code == 200 and 'id="no-baselines"' in empty.text and 'id="form-accounting_baseline"' in empty.text

    before = counts(db)
    no_data = accountant.submit("/accounting/baselines?site=HN01", {**BASELINE, "base_from": "2019-01", "base_to": "2019-02"})
    assert no_data.status_code == 422 and 'id="error-base_from"' in no_data.text and "没有正式核算结果" in no_data.text
    bad = accountant.submit("/accounting/baselines?site=HN01", {**BASELINE, "base_to": "2023-1", "level": "planet"})
    assert bad.status_code == 422 and 'id="error-base_to"' in bad.text and 'id="error-level"' in bad.text
    refused = admin.submit("/accounting/baselines?site=HN01", BASELINE)
    assert refused.status_code == 403 and "战略经理" in refused.text and "碳核算与报告专员" in refused.text
    elsewhere = accountant.submit("/accounting/baselines?site=HN01", {**BASELINE, "scope": "HN02"})
    assert elsewhere.status_code == 403  # the command authorizes at the scope's site
    assert counts(db) == before

    assert accountant.submit("/accounting/baselines?site=HN01", BASELINE).status_code == 303
    (created,) = events(db, "acc_baseline", "accounting.baseline.create")
    baseline_id = int(created.object_id)
    listed = accountant.get("/accounting/baselines?site=HN01").text
    assert f'id="baseline-{baseline_id}"' in listed and "已提出，待批准" in listed
    assert "按职责分离" in listed and 'id="form-accounting_baseline_approve"' not in listed
    assert f'id="baseline-{baseline_id}"' not in other.get("/accounting/baselines?site=HN02").text

    approve_url = f"/accounting/baselines/{baseline_id}/approve"
    own = accountant.submit(approve_url, {"confirm": "on", "comment": "自批"})
    assert own.status_code == 403 and "公司法人/总经理" in own.text
    assert lead.submit(approve_url, {"confirm": "on"}).status_code == 403
    shown = gm.get("/accounting/baselines")
    assert 'id="form-accounting_baseline_approve"' in shown.text and "<textarea" in shown.text
    unconfirmed = gm.submit(approve_url, {"comment": "基准期数据已核对"})
    assert unconfirmed.status_code == 422 and 'id="error-confirm"' in unconfirmed.text
    assert "基准期数据已核对</textarea>" in unconfirmed.text
    assert counts(db) == before[:2] + (before[2] + 1,)  # only the proposal

    assert gm.submit(approve_url, {"confirm": "on", "comment": "基准期数据已核对，方法合理。"}).status_code == 303
    (approved,) = events(db, "acc_baseline", "accounting.baseline.approve")
    assert approved.actor == "gm" and json.loads(approved.payload)["comment"] == "基准期数据已核对，方法合理。"
    after = accountant.get("/accounting/baselines?site=HN01").text
    assert "已批准" in after and "基准期数据已核对，方法合理。" in after
    again = gm.submit(approve_url, {"confirm": "on"})
    assert again.status_code == 409 and len(events(db, "acc_baseline", "accounting.baseline.approve")) == 1


def test_the_run_form_chooses_the_carbonate_table_and_the_plan_shows_purities(db, plan, browser):
    """The web run form offers SAR/AR4 and the carbonate table (issue 15 item 3); the plan lists each line's
    default purity."""
    from sqlmodel import select

    from cms_workflows.accounting.models import CalculationRun
    from tests.web.test_accounting import RUN_FORM, upload

    with db.unit_of_work() as s:
        acc.add_plan_item(s, ACCOUNTANT1, site="HN01", production_unit="U1", facility="KILN2", category="process",
                          material="limestone_caco3", unit="t", data_source="invoice", purity=0.92)
    accountant = browser(ACCOUNTANT1)
    plan_page = accountant.get("/accounting/plan?site=HN01")
    assert "纯度（默认）" in plan_page.text and '<td class="num">0.92</td>' in plan_page.text
    form_page = accountant.get("/accounting/runs?site=HN01")
    assert 'value="stoichiometric"' in form_page.text and 'value="SAR"' in form_page.text
    assert upload(browser(ADMIN1), month()).status_code == 200
    started = accountant.submit("/accounting/runs?site=HN01", {**RUN_FORM, "carbonate_table": "stoichiometric"})
    assert started.status_code == 303, started.text
    with db.read() as s:
        run = s.exec(select(CalculationRun).order_by(CalculationRun.id.desc())).first()
    assert json.loads(run.options)["carbonate_table"] == "stoichiometric"
