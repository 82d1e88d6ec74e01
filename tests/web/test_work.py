"""The user's own work through the web: dashboard, inbox, a task's page (claim, complete), the calendar
and its .ics file, the approvals waiting, and the tasks API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from icalendar import Calendar

from cms_workflows.documents import service as docs
from cms_workflows.tasks import queries as task_queries
from tests.documents.conftest import AUTHOR, REVIEWER, new_procedure
from tests.tasks.helpers import events, new_task

HN01_ADMIN = "energy_data_admin.hn01"
HN02_ADMIN = "energy_data_admin.hn02"


def _task(db, key: str = "web:test:1", due: date | None = None, **fields) -> int:
    with db.unit_of_work() as uow:
        due = due or uow.clock.today() + timedelta(days=5)
        return new_task(uow, key, due=due, **fields).id


def _status(db, task_id: int) -> str:
    with db.read() as uow:
        return task_queries.get_task(uow, task_id).status


@pytest.mark.parametrize("username", ["gm", "strategy_manager.hn01"])
def test_the_dashboard_renders_in_chinese_then_english(browser, username):
    user = browser(username)
    page = user.get("/dashboard")
    assert page.status_code == 200, page.text
    assert "我的待办任务" in page.text and "等待我审批" in page.text and "即将到期的例行工作" in page.text
    assert user.submit("/language", {"locale": "en", "next": "/dashboard"}).status_code == 303
    page = user.get("/dashboard")
    assert page.status_code == 200 and "My open tasks" in page.text and "我的待办任务" not in page.text


def test_the_dashboard_lists_the_users_next_duties_and_omits_what_they_may_not_read(browser):
    gm = browser("gm").get("/dashboard")
    assert 'id="duties"' in gm.text and "R-6.2.2" in gm.text  # the yearly compliance obligations review
    assert "全公司排放" in gm.text  # may read calculation results: the section is there
    site_user = browser(HN01_ADMIN).get("/dashboard")
    assert site_user.status_code == 200 and "全公司排放" not in site_user.text and "chart-trend" not in site_user.text
    assert browser(HN01_ADMIN).get("/dashboard/charts/trend.png").status_code == 403


def test_charts_are_pngs_of_the_closed_results(db, browser, plan):
    from cms_workflows.accounting import service as acc
    from tests.accounting.conftest import ACCOUNTANT, DATA_ADMIN, csv_bytes, year_rows

    gm = browser("gm")
    assert "还没有已批准并锁定的核算结果" in gm.get("/dashboard").text
    assert gm.get("/dashboard/charts/trend.png").status_code == 404
    with db.unit_of_work() as uow:
        acc.import_activity(uow, DATA_ADMIN, csv_bytes(year_rows(2023)), "hn01-2023.csv")
    with db.unit_of_work() as uow:
        run_id = acc.calculate(uow, ACCOUNTANT, "2023-01", "2023-12", ["HN01"]).run_id
    with db.unit_of_work() as uow:
        acc.approve_run(uow, "gm", run_id)
    assert 'id="chart-trend"' in gm.get("/dashboard").text
    for kind in ("trend", "categories"):
        image = gm.get(f"/dashboard/charts/{kind}.png")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
    assert gm.get("/dashboard/charts/pie.png").status_code == 404


def test_a_position_task_shows_in_its_holders_inbox_only(db, browser):
    task_id = _task(db)
    mine = browser(HN01_ADMIN).get("/inbox")
    assert mine.status_code == 200 and f'href="/tasks/{task_id}"' in mine.text
    assert "HN01" in mine.text and "提交 2026-03 月度活动数据" in mine.text
    other = browser(HN02_ADMIN).get("/inbox")
    assert other.status_code == 200 and f'href="/tasks/{task_id}"' not in other.text
    assert browser(HN02_ADMIN).get(f"/tasks/{task_id}").status_code == 403  # not theirs, may not read tasks
    assert browser("gm").get(f"/tasks/{task_id}").status_code == 200  # a reader of tasks company-wide


def test_completing_through_the_page_leaves_the_task_done_and_audited(db, browser):
    task_id = _task(db, evidence="none")
    user = browser(HN01_ADMIN)
    page = user.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and 'id="form-task_complete"' in page.text and "认领此任务" in page.text
    done = user.submit(f"/tasks/{task_id}/complete", {"outcome": "已提交3月数据", "comment": "按计划完成"})
    assert done.status_code == 303 and done.headers["location"] == f"/tasks/{task_id}?flash=completed"
    assert _status(db, task_id) == "done"
    completed = events(db, "tasks.task.complete")
    assert [(e.actor, e.object_id) for e in completed] == [(HN01_ADMIN, str(task_id))]
    after = user.get(done.headers["location"])
    assert "任务已完成" in after.text and "已提交3月数据" in after.text and "完成" in after.text


def test_a_completion_without_the_csrf_token_is_refused(db, browser):
    task_id = _task(db, evidence="none")
    response = browser(HN01_ADMIN).post(f"/tasks/{task_id}/complete", data={"outcome": "done"})
    assert response.status_code == 403
    assert _status(db, task_id) == "open" and not events(db, "tasks.task.complete")


def test_another_user_cannot_complete_it(db, browser):
    task_id = _task(db, evidence="none")
    response = browser(HN02_ADMIN).submit(f"/tasks/{task_id}/complete", {"outcome": "done"})
    assert response.status_code == 403 and "能源数据管理员" in response.text and "HN01" in response.text
    assert _status(db, task_id) == "open"


def test_a_missing_outcome_comes_back_next_to_the_field(db, browser):
    task_id = _task(db, evidence="none")
    response = browser(HN01_ADMIN).submit(f"/tasks/{task_id}/complete", {"outcome": "", "comment": "我的备注"})
    assert response.status_code == 422 and 'id="error-outcome"' in response.text and "我的备注" in response.text
    assert _status(db, task_id) == "open"


def test_the_evidence_the_task_needs_is_asked_for_and_a_file_is_kept(db, browser):
    task_id = _task(db, evidence="file")
    user = browser(HN01_ADMIN)
    refused = user.submit(f"/tasks/{task_id}/complete", {"outcome": "已完成"})
    assert refused.status_code == 422 and "文件" in refused.text and _status(db, task_id) == "open"
    done = user.submit(f"/tasks/{task_id}/complete", {"outcome": "已完成"},
                       files={"file": ("记录.txt", "三月数据".encode(), "text/plain")})
    assert done.status_code == 303 and _status(db, task_id) == "done"
    with db.read() as uow:
        task = task_queries.get_task(uow, task_id)
    assert task.evidence_name == "记录.txt" and task.evidence_ref.startswith("file:")


def test_claiming_hides_the_task_from_the_other_holders(db, browser, company):
    task_id = _task(db)
    user = browser(HN01_ADMIN)
    claimed = user.submit(f"/tasks/{task_id}/claim", {"task": task_id})
    assert claimed.status_code == 303 and _status(db, task_id) == "claimed"
    assert "已由 energy_data_admin.hn01 认领" in user.get(f"/tasks/{task_id}").text
    assert user.submit(f"/tasks/{task_id}/claim", {"task": task_id + 1}).status_code == 422


def test_a_case_task_links_to_its_case(db, browser):
    task_id = _task(db, key="case:CAPA-2026-001:analyse")
    page = browser(HN01_ADMIN).get(f"/tasks/{task_id}")
    assert 'href="/cases/CAPA-2026-001"' in page.text


def test_the_calendar_shows_the_task_on_its_due_day_and_the_ics_parses(db, browser):
    due = date(2026, 12, 15)
    task_id = _task(db, due=due)
    user = browser(HN01_ADMIN)
    page = user.get("/calendar?month=2026-12")
    assert page.status_code == 200
    cell = page.text.split('id="day-2026-12-15"', 1)[1].split("</td>", 1)[0]
    assert f'href="/tasks/{task_id}"' in cell
    assert 'href="/calendar?month=2026-11"' in page.text and 'href="/calendar?month=2027-01"' in page.text
    assert user.get("/calendar?month=2026-13").status_code == 422
    ics = user.get("/calendar.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    events_ = [c for c in Calendar.from_ical(ics.content).walk("VEVENT")]
    assert [e.decoded("dtstart") for e in events_] == [due]


def test_approvals_waiting_appear_for_the_pending_decider(db, browser, api):
    number = new_procedure(db)
    with db.unit_of_work() as uow:
        docs.submit(uow, AUTHOR, number, change_reason="首次发布")
    inbox = browser(REVIEWER).get("/inbox")
    assert f'href="/documents/{number}"' in inbox.text
    assert f'href="/documents/{number}"' not in browser(HN02_ADMIN).get("/inbox").text
    assert f'href="/documents/{number}"' in browser(REVIEWER).get("/dashboard").text
    body = api(REVIEWER).get("/api/v1/me/approvals").json()
    assert body["total"] == 1 and body["items"][0]["document"] == number and body["items"][0]["action"] == "review"
    assert api(AUTHOR).get("/api/v1/me/approvals").json()["total"] == 0


def test_the_api_pages_my_tasks_and_completes_one(db, api, browser):
    ids = [_task(db, key=f"web:api:{n}") for n in range(3)]
    me = api(HN01_ADMIN)
    first = me.get("/api/v1/tasks?per_page=2").json()
    assert first["total"] == 3 and len(first["items"]) == 2 and first["page"] == 1
    second = me.get("/api/v1/tasks?per_page=2&page=2").json()
    assert [t["id"] for t in first["items"] + second["items"]] == ids
    assert me.get("/api/v1/tasks?site=HN02").json()["total"] == 0
    assert api(HN02_ADMIN).get("/api/v1/tasks").json()["total"] == 0
    one = me.get(f"/api/v1/tasks/{ids[0]}").json()
    assert one["title"] and one["history"][0]["action"] == "tasks.task.create"
    refused = api(HN02_ADMIN).get(f"/api/v1/tasks/{ids[0]}")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")


def test_the_api_completion_validates_and_checks_csrf(db, api, browser):
    task_id = _task(db, evidence="record")
    bad = api(HN01_ADMIN).post(f"/api/v1/tasks/{task_id}/completion", json={"outcome": "", "colour": "red"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} >= {"outcome", "colour"}
    no_csrf = browser(HN01_ADMIN).post(f"/api/v1/tasks/{task_id}/completion", json={"outcome": "完成", "record": "R-1"})
    assert no_csrf.status_code == 403 and _status(db, task_id) == "open"
    done = browser(HN01_ADMIN).api_write("POST", f"/api/v1/tasks/{task_id}/completion",
                                         json={"outcome": "完成", "record": "REC-2026-001"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["evidence_ref"] == "record:REC-2026-001"
    assert api(HN01_ADMIN).get("/api/v1/tasks?status=done").json()["total"] == 1



def test_the_objectives_progress_is_the_mean_of_their_plans(db, browser):
    from tests.registers.test_performance import LEAD, ROWS, _add
    from cms_workflows.registers import actions

    _add(db, "parameters")
    _add(db, "objectives")
    _add(db, "actions")
    _add(db, "actions", code="AP-02", title="2# 窑变频改造")
    with db.unit_of_work() as uow:
        actions.record_progress(uow, LEAD, "AP-01", date(2025, 6, 30), 60, evidence="HN01-RF-017")
    page = browser("gm").get("/dashboard")
    row = page.text.split('id="objectives"', 1)[1].split("</table>", 1)[0]
    assert ROWS["objectives"]["title"] in row and "0.92 tCO2e/万元" in row and "30%" in row and "2 个行动方案" in row
    other = browser("purchaser.hn02").get("/dashboard")  # may not read the objectives: left out, no error
    assert other.status_code == 200 and "碳目标进展" not in other.text
