"""The hot API reads (bench/web.py) in few statements: "my tasks" signs in (the token, its user, the
organisation's version and the audit chain's head in one statement) and reads the tasks; the register decides
per (type, site) pair (the decisions kept with the user's access decisions, so until the org changes) and lets
the database cut the page and join its revisions. Counted with SQLAlchemy's `before_cursor_execute` on the real
database, and each answer checked against the unpaged reads it replaces. These are the reads' own statements,
with nothing kept: with their answers kept (web/read_cache.py), a repeated read sends only the sign-in
statement (test_read_cache.py), and on SQLite none through the engine (test_read_on_loop.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cms_workflows.documents import queries as doc_queries
from cms_workflows.org import service as org
from cms_workflows.tasks import queries as task_queries
from cms_workflows.web.read_cache import ReadCache
from tests.documents.conftest import new_procedure
from tests.tasks.helpers import new_task
from tests.web.conftest import DATA_ADMIN_HN01, DATA_ADMIN_HN02, selects_sent

@pytest.fixture(autouse=True)
def nothing_kept(app) -> None:
    app.state.read_cache = ReadCache(0)


def test_my_tasks_is_one_sign_in_statement_and_one_read_and_shows_only_the_users_tasks(db, api):
    with db.unit_of_work() as uow:
        new_task(uow, "duty:monthly_data:HN01-L1:2026-03")
        new_task(uow, "duty:monthly_data:HN02-L1:2026-03", site="HN02",
                 title_params={"period": "2026-03", "line": "HN02-L1"})
    reader = api(DATA_ADMIN_HN01)
    assert reader.get("/api/v1/tasks").status_code == 200  # warm: the access table is cached per org version
    sent = selects_sent(db)
    answer = reader.get("/api/v1/tasks")
    assert answer.status_code == 200
    assert len(sent) == 2, sent  # the token + user + org version; the tasks
    assert [t["key"] for t in answer.json()["items"]] == ["duty:monthly_data:HN01-L1:2026-03"]
    assert [t["key"] for t in api(DATA_ADMIN_HN02).get("/api/v1/tasks").json()["items"]] == \
        ["duty:monthly_data:HN02-L1:2026-03"]
    with db.read() as uow:  # the same as the unpaged query the dashboard uses
        assert [t["id"] for t in answer.json()["items"]] == [t.id for t in task_queries.tasks_for_user(uow, DATA_ADMIN_HN01)]

    with db.unit_of_work() as uow:  # a write is seen by the next read
        new_task(uow, "duty:monthly_data:HN01-L1:2026-04", title_params={"period": "2026-04", "line": "HN01-L1"})
    assert reader.get("/api/v1/tasks").json()["total"] == 2


def test_a_register_page_is_three_statements_whatever_the_register_holds_and_matches_the_unpaged_list(db, api):
    for n in range(5):
        new_procedure(db, title=f"程序 {n}")
    reader = api("gm")
    assert reader.get("/api/v1/documents?per_page=2").status_code == 200  # warm
    with db.read() as uow:
        expected = [doc.number for doc, _e, _o in doc_queries.list_documents(uow, "gm")]
    assert len(expected) >= 5

    pages, counts = [], []
    for page in range(1, len(expected) // 2 + 3):
        sent = selects_sent(db)
        answer = reader.get(f"/api/v1/documents?per_page=2&page={page}")
        counts.append(len(sent))
        body = answer.json()
        assert answer.status_code == 200 and body["total"] == len(expected) and body["per_page"] == 2
        pages += [d["number"] for d in body["items"]]
    assert pages == expected  # every page cut by the database, in the register's order, nothing twice
    # sign-in, the (type, site) pairs, the page with its total and its revisions: the same for every page with
    # rows; a page past the end counts the total in a fourth
    assert counts[:-1] == [3] * (len(counts) - 1) and counts[-1] == 4, counts
    with db.read() as uow:  # the revisions shown are the unpaged list's
        unpaged = {doc.number: (e and e.label, o and o.label, o and o.status)
                   for doc, e, o in doc_queries.list_documents(uow, "gm")}
    shown = {d["number"]: ((d["effective_revision"] or {}).get("label"), (d["open_revision"] or {}).get("label"),
                           (d["open_revision"] or {}).get("status"))
             for d in reader.get("/api/v1/documents?per_page=200").json()["items"]}
    assert shown == unpaged


def test_the_register_page_shows_a_user_only_what_access_allows(db, api):
    new_procedure(db, title="HN01 的程序")
    for username in ("gm", DATA_ADMIN_HN01, DATA_ADMIN_HN02):
        with db.read() as uow:
            expected = [doc.number for doc, _e, _o in doc_queries.list_documents(uow, username)]
        body = api(username).get("/api/v1/documents").json()
        assert [d["number"] for d in body["items"]] == expected and body["total"] == len(expected)
    hn02 = [d["site"] for d in api(DATA_ADMIN_HN02).get("/api/v1/documents").json()["items"]]
    assert "HN01" not in hn02  # a plant's user does not read the other plant's documents


def test_the_remembered_register_decisions_follow_the_org(db, api):
    """The (type, site) pairs a user may read are decided once per org version: an assignment given or ended
    is seen by the very next read."""
    number = new_procedure(db, title="HN01 的程序")
    reader = api(DATA_ADMIN_HN02)

    def shown() -> list[str]:
        return [d["number"] for d in reader.get("/api/v1/documents").json()["items"]]

    assert number not in shown() and number not in shown()  # refused, then refused from what was kept
    today = db.clock.today()
    with db.unit_of_work() as uow:
        row = org.assign(uow, "admin", DATA_ADMIN_HN02, "energy_data_admin", "HN01",
                         valid_from=today - timedelta(days=2))
    assert number in shown()
    with db.read() as uow:
        assert shown() == [doc.number for doc, _e, _o in doc_queries.list_documents(uow, DATA_ADMIN_HN02)]
    with db.unit_of_work() as uow:
        org.end_assignment(uow, "admin", row.id, today - timedelta(days=1), "调岗")
    assert number not in shown()


def test_a_hot_read_without_a_valid_sign_in_is_refused_before_anything_is_read(db, anonymous):
    sent = selects_sent(db)
    assert anonymous.get("/api/v1/tasks").status_code == 401
    assert anonymous.get("/api/v1/documents").status_code == 401
    assert sent == []  # no token: nothing asked of the database
    answer = anonymous.get("/api/v1/documents", headers={"Authorization": "Bearer cms_not-a-token"})
    assert answer.status_code == 401 and len(sent) == 1  # only the sign-in statement
