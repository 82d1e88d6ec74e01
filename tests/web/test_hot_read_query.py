"""The hot reads' query parameters (`paging.ListQuery`, validated by `OneStep.query` rather than by FastAPI): a
wrong one is the same 422 problem as a parameter FastAPI checks, with the field named in the user's language, and
nothing is read for it; an unknown parameter is ignored, as FastAPI ignores one; the OpenAPI document lists them
as FastAPI lists the parameters it checks itself."""

from __future__ import annotations

import pytest

from cms_workflows.web.session import LANGUAGE_COOKIE
from tests.documents.conftest import new_procedure
from tests.web.conftest import DATA_ADMIN_HN01, selects_sent

HOT_READS = ["/api/v1/documents", "/api/v1/tasks"]
FASTAPI_CHECKED = "/api/v1/users"  # the same paging parameters, declared to FastAPI


@pytest.mark.parametrize("path", HOT_READS)
@pytest.mark.parametrize("query", ["per_page=0", "per_page=201", "page=0", "page=abc", "page=2&per_page=x"])
def test_a_wrong_parameter_is_fastapis_own_problem_and_nothing_is_read(db, api, path, query):
    expected, reader = api("admin").get(f"{FASTAPI_CHECKED}?{query}"), api(DATA_ADMIN_HN01)
    sent = selects_sent(db)
    answer = reader.get(f"{path}?{query}")
    assert answer.status_code == expected.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"] == expected.json()["errors"] and answer.json()["errors"]
    assert sent == []  # not even the sign-in: the parameters tell nothing of the data


def test_the_problem_names_the_field_in_the_users_language(api):
    reader = api(DATA_ADMIN_HN01)
    messages = {}
    for language in ("zh-CN", "en"):
        reader.cookies.set(LANGUAGE_COOKIE, language)
        [error] = reader.get("/api/v1/tasks?page=abc").json()["errors"]
        assert error["field"] == "page" and error["code"] == "web.form.not_an_integer"
        messages[language] = error["message"]
    assert messages["zh-CN"] != messages["en"] and all(messages.values())


def test_the_parameters_are_read_and_an_unknown_one_is_ignored(db, api):
    for n in range(5):
        new_procedure(db, title=f"程序 {n}")
    reader = api("gm")
    everything = reader.get("/api/v1/documents?per_page=200").json()
    assert everything["total"] >= 5
    second = reader.get("/api/v1/documents?per_page=2&page=2&colour=red").json()
    assert (second["page"], second["per_page"], second["total"]) == (2, 2, everything["total"])
    assert second["items"] == everything["items"][2:4]
    assert reader.get("/api/v1/documents?type=policy").json()["total"] == 0
    assert reader.get("/api/v1/documents?type=procedure&site=HN01").json()["total"] == 5


def test_the_openapi_document_lists_them_as_fastapi_lists_its_own(app):
    operations = {path: op["get"] for path, op in app.openapi()["paths"].items() if path in [*HOT_READS, FASTAPI_CHECKED]}
    own = {p["name"]: p for p in operations[FASTAPI_CHECKED]["parameters"]}
    for path, names in (("/api/v1/documents", ["page", "per_page", "site", "type", "state"]),
                        ("/api/v1/tasks", ["page", "per_page", "site", "status"])):
        listed = {p["name"]: p for p in operations[path]["parameters"]}
        assert list(listed) == names
        assert listed["page"] == own["page"] and listed["per_page"] == own["per_page"]
        assert all(p["in"] == "query" and not p["required"] and p["description"] for p in listed.values())
