"""The cases' pages and API: a nonconformity listed and shown with its timeline, a step taken through its form
(the stage and the trail move), a mistake shown next to its field with nothing written, refusals naming the
positions, the API's paging and site filter, opening a case by hand, and one form per step of the CLI."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlmodel import select

from cms_workflows.access import Policy
from cms_workflows.audit.models import AuditEvent
from cms_workflows.bootstrap import configure
from cms_workflows.processes.steps import fields_of, steps
from cms_workflows.processes import cases, corrective_action as ca
from cms_workflows.processes.registry import process
from cms_workflows.web.forms import definitions

LEAD, ENGINEER = "strategy_manager.hn01", "energy_engineer.hn01"
DESCRIPTION = "锅炉房天然气流量计检定证书已过期，未安排送检"
FORMS = Path(__file__).resolve().parents[2] / "forms"


def raise_nc(db, site: str = "HN01", description: str = DESCRIPTION) -> str:
    configure()
    actor = f"strategy_manager.{site.lower()}"
    with db.unit_of_work() as uow:
        return ca.raise_nonconformity(uow, actor, site=site, source="audit", description=description,
                                      owner_position="energy_engineer").number


def stage(db, number: str) -> str:
    with db.read() as uow:
        return cases.get_case(uow, number).status


def events(db, number: str, action: str) -> list[AuditEvent]:
    with db.read() as uow:
        return list(uow.exec(select(AuditEvent).where(AuditEvent.object_id == number, AuditEvent.action == action)))


def test_a_case_is_listed_and_shown_with_its_stage_tasks_and_timeline(db, browser):
    number = raise_nc(db)
    lead = browser("carbon.lead")
    listing = lead.get("/cases?kind=corrective_action")
    assert listing.status_code == 200 and f'href="/cases/{number}"' in listing.text
    assert "不符合与纠正措施" in listing.text and "控制与纠正" in listing.text
    assert number not in lead.get("/cases?kind=carbon_review").text
    assert number not in lead.get("/cases?stage=closed").text
    shown = lead.get(f"/cases/{number}")
    assert shown.status_code == 200
    assert DESCRIPTION in shown.text and 'id="stage">控制与纠正<' in shown.text
    timeline = shown.text.split('id="timeline"')[1]
    assert "开启不符合与纠正措施" in timeline and LEAD in timeline and "创建任务" in timeline
    assert "不符合 " in shown.text.split('id="tasks"')[1]  # the containment task, titled in Chinese


def test_a_step_through_its_form_moves_the_case_and_is_in_the_timeline(db, browser):
    number = raise_nc(db)
    engineer = browser(ENGINEER)
    shown = engineer.get(f"/cases/{number}")
    assert 'id="form-case_corrective_action_contain"' in shown.text
    assert 'id="form-case_corrective_action_analyse"' not in shown.text  # not this stage, not this person
    response = engineer.submit(f"/cases/{number}/steps/contain",
                               {"containment": "停用该流量计读数，改用结算单核对", "correction": "当月数据已更正"})
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{number}?done=contain"
    assert stage(db, number) == "analysing"
    after = engineer.get(response.headers["location"])
    assert "已完成“控制与纠正”" in after.text and 'id="stage">分析<' in after.text
    timeline = after.text.split('id="timeline"')[1]
    assert "控制与纠正" in timeline and "控制与纠正 → 分析" in timeline and ENGINEER in timeline
    [event] = events(db, number, "processes.corrective_action.contain")
    assert event.actor == ENGINEER
    lead = browser(LEAD)
    assert 'id="form-case_corrective_action_analyse"' in lead.get(f"/cases/{number}").text


def test_a_mistake_comes_back_next_to_its_field_in_chinese_and_nothing_is_written(db, browser):
    number = raise_nc(db)
    response = browser(ENGINEER).submit(f"/cases/{number}/steps/contain", {"containment": "", "correction": "已更正"})
    assert response.status_code == 422
    form = response.text.split('id="form-case_corrective_action_contain"')[1].split("</form>")[0]
    assert 'id="error-containment"' in form and "必填" in form and "已更正" in form  # what was typed stays
    assert stage(db, number) == "containing" and events(db, number, "processes.corrective_action.contain") == []
    too_long = browser(ENGINEER).submit(f"/cases/{number}/steps/contain",
                                        {"containment": "甲" * 5000, "correction": "已更正"})
    assert too_long.status_code == 422 and 'id="error-containment"' in too_long.text


def test_refusals_name_the_positions_needed(db, browser):
    number = raise_nc(db)
    other_site = browser("energy_engineer.hn02")
    refused = other_site.get(f"/cases/{number}")
    assert refused.status_code == 403 and "strategy_manager" in refused.text
    assert number not in other_site.get("/cases").text
    step = browser("energy_data_admin.hn02").submit(f"/cases/{number}/steps/contain", {})
    assert step.status_code == 403 and "strategy_manager" in step.text  # before any validation
    cancel = browser(ENGINEER).submit(f"/cases/{number}/cancel", {"reason": "误开"})
    assert cancel.status_code == 403 and "strategy_manager" in cancel.text
    assert stage(db, number) == "containing"
    assert browser(ENGINEER).post(f"/cases/{number}/steps/contain",
                                  data={"containment": "x", "correction": "y"}).status_code == 403  # no CSRF token


def test_the_lead_cancels_a_case_with_its_reason(db, browser):
    number = raise_nc(db)
    lead = browser("carbon.lead")
    assert lead.submit(f"/cases/{number}/cancel", {"reason": ""}).status_code == 422
    response = lead.submit(f"/cases/{number}/cancel", {"reason": "重复登记"})
    assert response.status_code == 303 and stage(db, number) == "cancelled"


def test_the_api_lists_pages_and_filters_by_site_and_shows_a_case(db, api):
    first = raise_nc(db)
    raise_nc(db, description="第二项")
    third = raise_nc(db, "HN02", "株洲的不符合")
    lead = api("carbon.lead")
    page = lead.get("/api/v1/cases?per_page=2")
    assert page.status_code == 200 and page.json()["total"] == 3 and len(page.json()["items"]) == 2
    assert lead.get("/api/v1/cases?per_page=2&page=2").json()["items"][0]["number"] == first
    only = lead.get("/api/v1/cases?site=HN02").json()
    assert only["total"] == 1 and only["items"][0]["number"] == third
    assert api("energy_engineer.hn02").get("/api/v1/cases").json()["total"] == 1
    case = lead.get(f"/api/v1/cases/{first}").json()
    assert case["stage"] == "containing" and case["texts"]["description"] == DESCRIPTION
    assert case["tasks"][0]["key"] == f"case:{first}:contain"
    timeline = lead.get(f"/api/v1/cases/{first}/timeline").json()["events"]
    opened = next(e for e in timeline if e["event"] == "processes.corrective_action.open")
    assert opened["actor"] == LEAD and opened["label"] == "开启不符合与纠正措施"
    assert [e["seq"] for e in timeline] == sorted(e["seq"] for e in timeline)
    refused = api("energy_engineer.hn02").get(f"/api/v1/cases/{first}")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")


def test_a_step_through_the_api(db, api, browser):
    number = raise_nc(db)
    engineer = api(ENGINEER)
    bad = engineer.post(f"/api/v1/cases/{number}/steps/contain", json={"containment": "已停用"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in bad.json()["errors"]] == ["correction"]
    unknown = engineer.post(f"/api/v1/cases/{number}/steps/contain", json={"containment": "a", "correction": "b", "x": 1})
    assert unknown.status_code == 422 and stage(db, number) == "containing"
    done = engineer.post(f"/api/v1/cases/{number}/steps/contain", json={"containment": "已停用", "correction": "已更正"})
    assert done.status_code == 200 and done.json()["stage"] == "analysing"
    cookie = browser(LEAD)
    no_header = cookie.post(f"/api/v1/cases/{number}/steps/analyse", json={"root_cause": "a", "similar_conclusion": "b"})
    assert no_header.status_code == 403  # a session call without its CSRF header


def test_a_compliance_evaluation_is_opened_by_hand(db, browser):
    officer = browser("compliance.lead")
    assert 'href="/cases/new?kind=compliance_evaluation"' in officer.get("/cases").text
    assert 'href="/cases/new?kind=deviation"' not in officer.get("/cases").text
    assert officer.get("/cases/new?kind=compliance_evaluation").status_code == 200
    bad = officer.submit("/cases/new?kind=compliance_evaluation", {"trigger": "nonsense", "reason": "法规修订"})
    assert bad.status_code == 422 and 'id="error-trigger"' in bad.text
    response = officer.submit("/cases/new?kind=compliance_evaluation",
                              {"trigger": "external", "reason": "《碳排放权交易管理暂行条例》施行", "site": "*"})
    assert response.status_code == 303
    number = response.headers["location"].split("/cases/")[1].split("?")[0]
    assert number.startswith("CE-") and stage(db, number) == "planning"
    assert browser(ENGINEER).get("/cases/new?kind=compliance_evaluation").status_code == 403
    assert browser("carbon.lead").get("/cases/new?kind=deviation").status_code == 404  # opened by the engine only


def test_every_step_the_cli_can_run_has_a_form_and_every_case_form_a_step():
    configure()
    policy, known = Policy(), definitions()
    expected = {f"case_{kind}_{verb}": fn for kind, found in steps().items() for verb, fn in found.items()}
    forms = {name for name in known if name.startswith("case_") and name != "case_cancel"}
    assert forms == set(expected)
    for name, fn in expected.items():
        kind = next(k for k in steps() if name.startswith(f"case_{k}_") and fn in steps()[k].values())
        definition = known[name]
        assert definition.command == fn.command.event, name
        assert set(definition.fill) == set(policy.holders_of[(f"case.{kind}", fn.command.action)]), name
        params = fields_of(fn)
        assert [f.name for f in definition.fields] == list(params), name
        raw = yaml.safe_load((FORMS / f"{name}.yaml").read_text(encoding="utf-8"))
        if not name.endswith("_open"):
            states = {s.value for s in process(kind).lifecycle.states}
            assert raw["stages"] and set(raw["stages"]) <= states, name
    assert set(known["case_cancel"].fill) == set(policy.holders_of[("case.corrective_action", "cancel")])


def test_a_step_with_a_json_field_and_a_date_goes_through_the_clis_conversion(db, browser):
    from datetime import date, timedelta

    number = raise_nc(db)
    browser(ENGINEER).submit(f"/cases/{number}/steps/contain", {"containment": "已停用", "correction": "已更正"})
    lead = browser(LEAD)
    assert lead.submit(f"/cases/{number}/steps/analyse",
                       {"root_cause": "检定计划未交接", "similar_conclusion": "未发现类似"}).status_code == 303
    bad = lead.submit(f"/cases/{number}/steps/plan_actions", {"actions": "[{not json", "review_after_days": "30"})
    assert bad.status_code == 422 and 'id="error-actions"' in bad.text and stage(db, number) == "analysing"
    due = (date.today() + timedelta(days=20)).isoformat()
    actions = f'[{{"action": "完成流量计检定并更新台账", "owner": "maintenance_engineer.hn01", "due": "{due}"}}]'
    done = lead.submit(f"/cases/{number}/steps/plan_actions", {"actions": actions, "review_after_days": "30"})
    assert done.status_code == 303 and stage(db, number) == "implementing"
    assert "完成流量计检定并更新台账" in lead.get(f"/cases/{number}").text
