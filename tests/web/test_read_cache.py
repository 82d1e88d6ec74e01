"""The hot reads' answers kept until the installation changes (web/read_cache.py): a repeated read sends only the
sign-in statement, which reads the audit chain's head too (on SQLite not even that: the event loop answers it,
test_read_on_loop.py); any change (it appends an event, X-1), another language or a new day reads again; a
revoked token or an ended assignment takes effect at once; a refusal is never kept; CMS_WEB_READ_CACHE_MB=0
keeps nothing; the memory is bounded."""

from __future__ import annotations

from datetime import datetime, timedelta

from cms_workflows.audit.queries import SqliteHead, head_seq
from cms_workflows.core.clock import FixedClock
from cms_workflows.core.db import Database
from cms_workflows.identity import queries as identity_queries
from cms_workflows.identity import service as identity
from cms_workflows.org import service as org
from cms_workflows.web.app import create_app
from cms_workflows.web.read_cache import ReadCache
from cms_workflows.web.session import LANGUAGE_COOKIE
from tests.conftest import token_for
from tests.documents.conftest import new_procedure
from tests.tasks.helpers import new_task
from tests.web.conftest import DATA_ADMIN_HN01, DATA_ADMIN_HN02, BearerClient, selects_sent


def test_a_repeated_read_sends_only_the_sign_in_and_a_change_reads_again(db, api, app):
    with db.unit_of_work() as uow:
        new_task(uow, "duty:monthly_data:HN01-L1:2026-03")
    reader = api(DATA_ADMIN_HN01)
    first = reader.get("/api/v1/tasks")
    sent = selects_sent(db)
    again = reader.get("/api/v1/tasks")
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    if db.dialect == "sqlite":  # answered on the event loop, which reads the head with the driver (test_read_on_loop.py)
        assert sent == []
    else:
        assert len(sent) == 1 and "audit_event" in sent[0], sent  # the token, its user, the org version, the head
        assert SqliteHead.of(db) is None  # the event loop's way is SQLite's
    with db.read() as uow:  # the head signing in reads is the chain's (the key's other source, when none was read)
        identity_queries.authenticate(uow, reader.headers["Authorization"].removeprefix("Bearer "))
        assert uow.audit_head == head_seq(uow) > 0

    with db.unit_of_work() as uow:  # a change appends an event: the next read asks the database again
        new_task(uow, "duty:monthly_data:HN01-L1:2026-04", title_params={"period": "2026-04", "line": "HN01-L1"})
    assert [t["key"] for t in reader.get("/api/v1/tasks").json()["items"]] == [
        "duty:monthly_data:HN01-L1:2026-03", "duty:monthly_data:HN01-L1:2026-04"]
    # each user, each query string: an answer of its own
    assert reader.get("/api/v1/tasks?per_page=1").json()["items"][0]["key"] == "duty:monthly_data:HN01-L1:2026-03"
    assert api(DATA_ADMIN_HN02).get("/api/v1/tasks").json()["items"] == []
    assert len(app.state.read_cache) == 4


def test_a_revoked_token_is_refused_though_its_answer_was_kept(db, api):
    reader = api(DATA_ADMIN_HN01)
    assert reader.get("/api/v1/documents").status_code == 200
    assert reader.get("/api/v1/documents").status_code == 200  # kept
    token = reader.headers["Authorization"].removeprefix("Bearer ")
    with db.unit_of_work() as uow:
        identity.revoke_token(uow, DATA_ADMIN_HN01, identity_queries.token_row(uow, token).id)
    assert reader.get("/api/v1/documents").status_code == 401


def test_an_ended_assignment_is_seen_by_the_next_read(db, api):
    """The kept register of a user follows the org: the assignment's change is an event like any other."""
    number = new_procedure(db, title="HN01 的程序")
    reader = api(DATA_ADMIN_HN02)

    def shown() -> list[str]:
        return [d["number"] for d in reader.get("/api/v1/documents").json()["items"]]

    today = db.clock.today()
    with db.unit_of_work() as uow:
        row = org.assign(uow, "admin", DATA_ADMIN_HN02, "energy_data_admin", "HN01",
                         valid_from=today - timedelta(days=2))
    assert number in shown() and number in shown()  # read, then kept
    with db.unit_of_work() as uow:
        org.end_assignment(uow, "admin", row.id, today - timedelta(days=1), "调岗")
    assert number not in shown()


def test_a_refusal_is_not_kept_and_each_language_has_its_answer(db, api, app):
    assert api(DATA_ADMIN_HN01).get("/api/v1/documents?type=no_such_type").status_code in (400, 404, 422)
    assert len(app.state.read_cache) == 0
    with db.unit_of_work() as uow:
        new_task(uow, "duty:monthly_data:HN01-L1:2026-03")
    reader = api(DATA_ADMIN_HN01)
    labels = set()
    for language in ("zh-CN", "en", "zh-CN", "en"):
        reader.cookies.set(LANGUAGE_COOKIE, language)
        labels.add(reader.get("/api/v1/tasks").json()["items"][0]["title"])
    assert len(labels) == 2 and len(app.state.read_cache) == 2


def test_a_new_day_reads_again(db, company):
    clock = FixedClock(datetime(2026, 3, 10, 9, 0))
    dated = Database(db.url, settings=db.settings, clock=clock)
    try:
        app = create_app(dated)
        reader = BearerClient(app, token_for(db, DATA_ADMIN_HN01), DATA_ADMIN_HN01)
        assert reader.get("/api/v1/tasks").status_code == 200
        sent = selects_sent(dated)
        reader.get("/api/v1/tasks")
        assert len(sent) == (0 if dated.dialect == "sqlite" else 1)  # kept (SQLite: answered on the event loop)
        clock.moment += timedelta(days=1)
        reader.get("/api/v1/tasks")
        assert len(sent) > 2 and len(app.state.read_cache) == 2  # read again, kept for the new day
    finally:
        dated.dispose()


def test_nothing_is_kept_when_switched_off_and_the_memory_is_bounded(db, app, api):
    new_procedure(db, title="HN01 的程序")
    app.state.read_cache = ReadCache(0)
    reader = api("gm")
    reader.get("/api/v1/documents")  # warm: the access decisions are kept per org version
    sent = selects_sent(db)
    reader.get("/api/v1/documents")
    reader.get("/api/v1/documents")
    assert len(sent) == 2 * 3  # each: sign-in, pairs, page
    assert len(app.state.read_cache) == 0

    pages = [f"/api/v1/documents?per_page=1&page={page}" for page in (1, 2, 3)]
    sizes = [len(reader.get(page).content) for page in pages]
    app.state.read_cache = kept = ReadCache(sizes[1] + sizes[2])  # room for the last two pages, not all three
    for page in pages:
        assert reader.get(page).status_code == 200
    assert len(kept) == 2
    assert ReadCache(0).max_bytes == 0 and create_app(db).state.read_cache.max_bytes == \
        db.settings.web_read_cache_mb * 2**20
