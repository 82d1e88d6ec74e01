"""The registers' forms: add a row, change a row, import a file (all or nothing, a row/field report), the
registers' own commands (calibrate), the scope's draft → submit → approve, refusals naming the positions and
the JSON API with its problems."""

from __future__ import annotations

from sqlmodel import func, select

from cms_workflows.audit.models import AuditEvent
from cms_workflows.org import service as org
from cms_workflows.registers.models import Calibration, Instrument, Risk, ScopeVersion
from tests.web.test_registers import add_instruments

RISK = {"code": "", "nature": "risk", "category": "policy", "description": "全国碳市场扩围至水泥行业",
        "likelihood": "4", "impact": "5", "response": "提前核查配额缺口", "owner_position": "strategy_manager",
        "owner_user": "", "review_date": "2026-12-31"}


def count(db, model) -> int:
    with db.read() as uow:
        return uow.exec(select(func.count()).select_from(model)).one()


def events(db, action: str) -> list[AuditEvent]:
    with db.read() as uow:
        return list(uow.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_risk_added_through_the_page_is_listed_with_its_event(db, browser):
    lead = browser("carbon.lead")
    page = lead.get("/registers/risks")
    assert page.status_code == 200 and 'id="form-register_risks_add"' in page.text and "新增：" in page.text
    before = count(db, Risk)
    done = lead.submit("/registers/risks", RISK)
    assert done.status_code == 303, done.text[:500]
    code = done.headers["location"].split("code=")[1]
    listed = lead.get(done.headers["location"])
    assert f"已新增 {code}" in listed.text and "全国碳市场扩围至水泥行业" in listed.text
    assert count(db, Risk) == before + 1
    assert [e.actor for e in events(db, "registers.risk.create")] == ["carbon.lead"]


def test_a_mistake_comes_back_beside_its_field_and_nothing_is_written(db, browser):
    lead = browser("carbon.lead")
    before = count(db, Risk)
    bad = lead.submit("/registers/risks", {**RISK, "likelihood": "9", "impact": ""})
    assert bad.status_code == 422
    error = bad.text.split('id="error-likelihood"')[1].split("</p>")[0]
    assert "可能性" in error and "5" in error
    assert "全国碳市场扩围至水泥行业" in bad.text  # what was typed is shown again
    both = lead.submit("/registers/risks", {**RISK, "likelihood": "3", "impact": ""})  # the service's own rule
    assert both.status_code == 422 and 'id="error-impact"' in both.text
    assert count(db, Risk) == before and events(db, "registers.risk.create") == []


def test_a_row_is_changed_from_its_page_with_its_values_filled_in(db, browser):
    add_instruments(db)
    engineer = browser("energy_engineer.hn01")
    form = engineer.get("/registers/instruments/MI-001/change")
    assert form.status_code == 200 and 'value="1号电能表"' in form.text and 'value="0.5S"' in form.text
    values = {"name": "1号电能表（更换）", "accuracy_class": "0.2S", "site": "HN01", "location": "总配电室",
              "measures": "电力（外购）", "interval_months": "12", "last_calibrated": "", "certificate": ""}
    done = engineer.submit("/registers/instruments/MI-001/change", values)
    assert done.status_code == 303, done.text[:500]
    assert "0.2S" in engineer.get(done.headers["location"]).text
    assert len(events(db, "registers.instrument.change")) == 1
    bad = engineer.submit("/registers/instruments/MI-001/change", {**values, "interval_months": "0"})
    assert bad.status_code == 422 and 'id="error-interval_months"' in bad.text


def test_an_import_with_a_bad_row_is_reported_by_row_and_column_and_writes_nothing(db, browser):
    lead = browser("carbon.lead")
    before = count(db, Risk)
    csv = ("编号,风险/机遇,类型,描述,可能性,影响程度\n"
           "RO-901,风险,政策,碳价上涨,3,4\n"
           "RO-902,风险,天气,暴雨,3,9\n").encode("utf-8")
    refused = lead.submit("/registers/risks/import", files={"file": ("risks.csv", csv, "text/csv")})
    assert refused.status_code == 422
    report = refused.text.split('id="import-report"')[1].split("</table>")[0]
    assert "<td>3</td>" in report and "类型" in report
    assert count(db, Risk) == before and events(db, "registers.risk.import") == []
    good = lead.submit("/registers/risks/import", files={"file": ("risks.csv", csv.replace("天气".encode(), "市场".encode())
                                                                      .replace(b",9\n", b",5\n"), "text/csv")})
    assert good.status_code == 303 and "done=imported" in good.headers["location"]
    assert count(db, Risk) == before + 2


def test_an_instrument_is_calibrated_by_the_data_admin(db, browser):
    add_instruments(db)
    admin = browser("energy_data_admin.hn01")
    page = admin.get("/registers/instruments/MI-001")
    assert 'id="form-register_instruments_calibrate"' in page.text
    assert 'id="form-register_instruments_change"' not in page.text  # calibrates, does not manage
    done = admin.submit("/registers/instruments/MI-001/calibrate", {"calibrated_on": "2025-01-15", "certificate": "JD-2025-001"},
                        files={"file": ("cert.pdf", b"%PDF-1.4 certificate", "application/pdf")})
    assert done.status_code == 303, done.text[:500]
    with db.read() as uow:
        inst = uow.exec(select(Instrument).where(Instrument.code == "MI-001")).one()
        assert str(inst.next_due) == "2026-01-15" and inst.certificate_sha256
    assert count(db, Calibration) == 1
    future = admin.submit("/registers/instruments/MI-001/calibrate", {"calibrated_on": "2999-01-01", "certificate": "X"})
    assert future.status_code == 422 and count(db, Calibration) == 1
    assert browser("energy_data_admin.hn02").submit("/registers/instruments/MI-001/calibrate",
                                                     {"calibrated_on": "2025-02-01", "certificate": "X"}).status_code == 403


def test_the_scope_is_drafted_submitted_and_approved_by_top_management_never_by_its_drafter(db, browser):
    with db.unit_of_work() as uow:  # the general manager also drafts here: still may not approve own work
        org.assign(uow, "admin", "gm", "strategy_manager", "*")
    lead, gm = browser("carbon.lead"), browser("gm")
    assert lead.submit("/registers/scope/draft", {"note": "2026 年范围"}).status_code == 303
    page = lead.get("/registers/scope")
    assert 'id="form-register_scope_add"' in page.text and "carbon.lead" in page.text
    assert lead.submit("/registers/scope/add", {"code": "HN01", "kind": "site", "name": "长沙水泥厂", "site": ""}).status_code == 303
    bad = lead.submit("/registers/scope/add", {"code": "HN09", "kind": "site", "name": "不存在", "site": ""})
    assert bad.status_code == 422 and 'id="error-code"' in bad.text
    assert lead.submit("/registers/scope/submit", {}).status_code == 303
    assert lead.submit("/registers/scope/approve", {}).status_code == 403  # not top management
    assert 'id="form-register_scope_approve"' in gm.get("/registers/scope").text
    assert gm.submit("/registers/scope/approve", {}).status_code == 303
    page = gm.get("/registers/scope")
    assert "第 1 版" in page.text and "长沙水泥厂" in page.text
    # the general manager drafts and submits the next version: approving it is refused as own work
    assert gm.submit("/registers/scope/draft", {}).status_code == 303
    assert gm.submit("/registers/scope/submit", {}).status_code == 303
    assert 'id="form-register_scope_approve"' not in gm.get("/registers/scope").text
    assert gm.submit("/registers/scope/approve", {}).status_code == 403
    with db.read() as uow:
        assert uow.exec(select(ScopeVersion).where(ScopeVersion.status == "submitted")).one().drafted_by == "gm"


def test_a_user_who_may_not_manage_is_refused_with_the_positions(db, browser):
    add_instruments(db)
    refused = browser("energy_data_admin.hn01").submit("/registers/risks", RISK)
    assert refused.status_code == 403 and "strategy_manager" in refused.text
    other = browser("energy_engineer.hn02").get("/registers/instruments/MI-001/change")
    assert other.status_code == 403 and "energy_engineer" in other.text
    assert 'id="form-register_risks_add"' not in browser("auditor1").get("/registers/risks").text


def test_the_api_creates_and_changes_rows_and_answers_problems(db, api):
    lead = api("carbon.lead")
    body = {"nature": "opportunity", "category": "market", "description": "CCER 重启", "likelihood": 3, "impact": 3}
    made = lead.post("/api/v1/registers/risks", json=body)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert made.json()["score"] == 9
    changed = lead.post(f"/api/v1/registers/risks/{code}", json={"impact": 5})
    assert changed.status_code == 200 and changed.json()["score"] == 15 and changed.json()["description"] == "CCER 重启"
    bad = lead.post("/api/v1/registers/risks", json={**body, "likelihood": 7, "approved_by": "gm"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} == {"likelihood", "approved_by"}
    refused = api("energy_data_admin.hn01").post("/api/v1/registers/risks", json=body)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")


def test_the_own_commands_progress_move_and_raise_review(db, browser):
    from tests.web.register_rows import make_rows

    rows = make_rows(db)
    plan = rows[("actions", "HN01")]
    done = browser("project_manager.hn01").submit(f"/registers/actions/{plan}/progress", {"on": "2025-03-01", "percent": "30"})
    assert done.status_code == 303 and len(events(db, "registers.action_progress.record")) == 1
    assert browser("project_manager.hn02").submit(f"/registers/actions/{plan}/progress",
                                                   {"on": "2025-03-02", "percent": "40"}).status_code == 403
    moved = browser("carbon.trader").submit(f"/registers/assets/{rows[('assets', 'HN01')]}/move",
                                            {"moved_on": "2025-03-01", "kind": "sale", "quantity": "1000"})
    assert moved.status_code == 422  # never below zero: nothing held yet
    changes = f"/registers/changes/{rows[('changes', 'HN01')]}/raise_review"
    assert browser("carbon.lead").submit(changes, {"reason": "工艺变更"}).status_code == 303
    assert browser("carbon.lead").submit(changes, {"reason": "再次"}).status_code == 409
