"""One read unit of work per request (web.session.RequestReads): signing in, the permission decision and the
route's reads share it; each step gives its connection back when it ends; a command's write is seen by the
reads after it. A route of two steps (the permission, then its reads) checks the connection out twice."""

from __future__ import annotations

from sqlalchemy import event

from cms_workflows.org.queries import get_user
from cms_workflows.web.read_cache import ReadCache
from cms_workflows.web.session import RequestReads


def _checkouts(db) -> list[int]:
    taken: list[int] = []
    event.listen(db.engine.pool, "checkout", lambda *_args: taken.append(1))
    return taken


def test_a_read_route_signs_in_decides_and_reads_with_one_checkout_and_keeps_none(db, api, app):
    app.state.read_cache = ReadCache(0)  # the worker's way (a kept repeat takes no connection: test_read_on_loop.py)
    reader = api("gm")
    assert reader.get("/api/v1/documents").status_code == 200  # warm: the access tables are cached
    taken = _checkouts(db)
    answer = reader.get("/api/v1/documents")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    # signing in, the permission and the route's own reads: one worker call, one transaction (OneStep)
    assert len(taken) == 1
    assert db.engine.pool.checkedout() == 0  # nothing held once the response is sent


def test_steps_share_one_session_and_a_write_is_seen_by_the_reads_after_it(db, company):
    reads = RequestReads(db)
    with reads.reading() as outer:
        with reads.reading() as inner:
            assert inner is outer
            name = get_user(inner, "gm").display_name
        assert outer.in_transaction()  # the outermost step still holds its transaction
    assert not outer.in_transaction()  # ... and gives it back when it ends
    with reads.reading() as again:
        assert again is outer  # the same unit (its access caches) for the next step

    from cms_workflows.access import Actor
    from cms_workflows.org import service

    with db.unit_of_work() as uow:  # a command, as Viewer.act runs it
        service.create_user(uow, Actor("admin"), "new.hire", "新员工")
    reads.written()
    with reads.reading() as fresh:
        assert fresh is not outer and get_user(fresh, "new.hire").display_name == "新员工"
    assert name


def test_a_two_step_route_checks_out_twice_and_keeps_none(db, api):
    reader = api("gm")
    assert reader.get("/api/v1/documents/nonexistent").status_code == 404  # warm
    from cms_workflows.documents import registry, service as docs

    with db.unit_of_work() as uow:
        rev = docs.create(uow, "strategy_manager.hn01", doc_type="procedure", site="HN01", title="程序",
                          owner_department="carbon_management",
                          content=dict(registry.template("controlled_document").example))
    from cms_workflows.documents.queries import document_number

    with db.read() as uow:
        number = document_number(uow, rev.document_id)
    assert reader.get(f"/api/v1/documents/{number}").status_code == 200
    taken = _checkouts(db)
    assert reader.get(f"/api/v1/documents/{number}").status_code == 200
    assert len(taken) == 2  # the permission (its own worker call), then the route's reads
    assert db.engine.pool.checkedout() == 0
