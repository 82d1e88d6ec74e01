"""Evidence for the external verifier: the pack as a download, the installation check, the audit trail
API, and that the verifier can change nothing through any page or API route."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import func
from sqlmodel import select

from cms_workflows.audit.models import AuditEvent
from cms_workflows.web.authorization import Requires, declared

PROBLEM = "application/problem+json"
# POST routes a verifier may use: the export is a read; signing out ends only their own session
READS_OR_OWN_SESSION = {"/evidence", "/logout", "/login"}


@pytest.fixture
def signing_key(db, tmp_path):
    """The installation's signing key (`cms init --signing-key`): packs are signed with it."""
    from cms_workflows.audit import signing

    db.settings.signing_key = tmp_path / "keys" / "signing.pem"
    signing.create_key(db.settings.signing_key)
    return db.settings.signing_key


def _routes(app):
    """(path, methods, route) of every route, through included routers (prefixes applied)."""
    for context in iter_route_contexts(app.routes):
        if hasattr(context.original_route, "dependant"):
            yield context.path, context.methods or set(), context.original_route


def _today(db) -> str:
    with db.read() as uow:
        return uow.clock.today().isoformat()


def _count(db, **where) -> int:
    with db.read() as uow:
        q = select(func.count()).select_from(AuditEvent)
        for name, value in where.items():
            q = q.where(getattr(AuditEvent, name) == value)
        return uow.exec(q).one()


def test_the_verifier_downloads_an_evidence_pack_for_a_period(db, browser, signing_key):
    verifier = browser("verifier")
    form = verifier.get("/evidence")
    assert form.status_code == 200 and 'name="date_from"' in form.text and "HN01" in form.text
    today = _today(db)
    response = verifier.submit("/evidence", {"date_from": today, "date_to": today, "site": ""})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/zip"
    assert re.match(r'attachment; filename="evidence-\d{4}-\d{2}-\d{2}\.zip"', response.headers["content-disposition"])
    with zipfile.ZipFile(io.BytesIO(response.content)) as pack:
        names = set(pack.namelist())
        manifest = json.loads(pack.read("manifest.json"))
    assert {"manifest.json", "manifest.sig", "events.jsonl", "chain.jsonl", "verify_evidence.py"} <= names
    assert manifest["scope"]["from"] == today and manifest["scope"]["to"] == today
    assert manifest["exporter"] == "verifier" and manifest["events_in_scope"] > 0
    with db.read() as uow:
        recorded = uow.exec(select(AuditEvent).where(AuditEvent.action == "audit.evidence.export")).all()
    assert [e.actor for e in recorded] == ["verifier"]


def test_a_scope_the_service_refuses_comes_back_next_to_its_field(db, browser, signing_key):
    verifier = browser("verifier")
    before = _count(db)
    unknown_doc = verifier.submit("/evidence", {"documents": "NO-SUCH-DOC-001"})
    assert unknown_doc.status_code == 422 and 'id="error-documents"' in unknown_doc.text
    assert 'value="NO-SUCH-DOC-001"' in unknown_doc.text
    unknown_case = verifier.submit("/evidence", {"cases": "NO-SUCH-CASE"})
    assert unknown_case.status_code == 422 and 'id="error-cases"' in unknown_case.text
    backwards = verifier.submit("/evidence", {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert backwards.status_code == 422 and 'id="error-date_to"' in backwards.text
    bad_site = verifier.submit("/evidence", {"site": "XX99"})
    assert bad_site.status_code == 422 and 'id="error-site"' in bad_site.text
    bad_date = verifier.submit("/evidence", {"date_from": "yesterday"})
    assert bad_date.status_code == 422 and 'id="error-date_from"' in bad_date.text
    assert _count(db) == before  # no pack, no export event


def test_evidence_export_needs_audit_trail_export(db, browser):
    for username in ("gm", "carbon.lead"):
        client = browser(username)
        assert client.get("/evidence").status_code == 403
        refused = client.submit("/evidence", {})
        assert refused.status_code == 403 and "外部核查员" in refused.text
    assert _count(db, action="audit.evidence.export") == 0


def _filled(path: str) -> str:
    return re.sub(r"{[^}]+}", "1", path)


def test_the_verifier_can_change_nothing(db, app, browser, api):
    """Every POST/PUT/PATCH/DELETE route of the app, as the verifier with a CSRF-valid empty form (pages)
    or an empty JSON body (API), path parameters "1": none succeeds; a route that declares a permission
    refuses with 403 (404 where its object does not exist); and the trail holds no new event by the verifier.
    Not walked: the export (a read) and the routes about one's own account (OWN: sign-out, language,
    password, tokens), which every user has for their own credentials."""
    verifier, script = browser("verifier"), api("verifier")
    before = _count(db, actor="verifier")
    tried = 0
    for route_path, methods, route in _routes(app):
        if route_path in READS_OR_OWN_SESSION or declared(route) == "own":
            continue  # the export is a read; one's own session, password and tokens are one's own
        for method in methods - {"GET", "HEAD", "OPTIONS"}:
            path = _filled(route_path)
            if path.startswith("/api/"):
                response = script.request(method, path, json={})
            else:
                response = verifier.request(method, path, data={"csrf_token": verifier.csrf})
            tried += 1
            assert not 200 <= response.status_code < 400, (method, route_path, response.status_code)
            permission = declared(route)
            if isinstance(permission, Requires):  # refused before the form is read (an unknown object: 404)
                allowed = {403} if permission.resource is None else {403, 404}
                assert response.status_code in allowed, (method, route_path, response.status_code)
    assert tried >= 8
    assert _count(db, actor="verifier") == before


def test_every_route_of_admin_and_evidence_declares_its_permission(app):
    mine = [(path, route) for path, _m, route in _routes(app)
            if route.endpoint.__module__ in ("cms_workflows.web.admin", "cms_workflows.web.evidence")]
    assert len(mine) >= 20
    for path, route in mine:
        assert declared(route) is not None, path


def test_without_the_signing_key_the_export_is_refused_on_the_form(db, browser):
    response = browser("verifier").submit("/evidence", {})
    assert response.status_code >= 400 and "CMS_SIGNING_KEY" in response.text and "form-error" in response.text
    assert _count(db, action="audit.evidence.export") == 0


def test_verify_runs_the_installation_check(browser):
    response = browser("verifier").get("/verify")
    assert response.status_code == 200 and 'id="verify-result"' in response.text
    assert browser("carbon.trader").get("/verify").status_code == 403


def test_audit_events_are_paged_and_filtered(db, api):
    verifier = api("verifier")
    first = verifier.get("/api/v1/audit/events?per_page=5").json()
    second = verifier.get("/api/v1/audit/events?per_page=5&page=2").json()
    assert first["total"] == _count(db) and len(first["items"]) == 5
    assert [e["seq"] for e in first["items"]] == sorted(e["seq"] for e in first["items"])
    assert max(e["seq"] for e in first["items"]) < min(e["seq"] for e in second["items"])
    assert "mac" not in first["items"][0] and isinstance(first["items"][0]["payload"], dict)

    about_gm = verifier.get("/api/v1/audit/events", params={"object_type": "user", "object_id": "gm"}).json()
    assert about_gm["total"] == _count(db, object_type="user", object_id="gm") > 0
    assert all(e["object_type"] == "user" and e["object_id"] == "gm" for e in about_gm["items"])
    by_admin = verifier.get("/api/v1/audit/events", params={"actor": "admin", "per_page": 200}).json()
    assert by_admin["total"] == _count(db, actor="admin") and all(e["actor"] == "admin" for e in by_admin["items"])
    at_hn01 = verifier.get("/api/v1/audit/events", params={"site": "HN01"}).json()
    assert at_hn01["total"] == _count(db, site="HN01") and all(e["site"] == "HN01" for e in at_hn01["items"])
    today = _today(db)
    recent = verifier.get("/api/v1/audit/events", params={"from": today, "to": today}).json()
    assert recent["total"] > 0
    assert verifier.get("/api/v1/audit/events", params={"to": "2000-01-01"}).json()["total"] == 0

    seq = about_gm["items"][0]["seq"]
    one = verifier.get(f"/api/v1/audit/events/{seq}")
    assert one.status_code == 200 and one.json()["object_id"] == "gm"
    missing = verifier.get("/api/v1/audit/events/999999999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)


def test_a_bad_filter_is_a_problem_document(api):
    verifier = api("verifier")
    bad = verifier.get("/api/v1/audit/events", params={"from": "2026-13-45"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in bad.json()["errors"]] == ["from"]
    backwards = verifier.get("/api/v1/audit/events", params={"from": "2026-03-01", "to": "2026-01-01"})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"
    assert verifier.get("/api/v1/audit/events/abc").status_code == 422
    refused = api("energy_data_admin.hn01").get("/api/v1/audit/events")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)
    assert {p["code"] for p in refused.json()["positions_needed"]} >= {"external_verifier", "system_admin"}


def test_the_audit_trail_pages_filter_page_through_and_open_an_event(db, browser):
    verifier = browser("verifier")
    listing = verifier.get("/audit", params={"actor": "admin", "per_page": 5})
    assert listing.status_code == 200 and 'id="events"' in listing.text
    rows = listing.text.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 5 and "<td>admin</td>" in rows and "gm</td>" not in rows
    assert "第 1 / " in listing.text and "/audit?actor=admin&amp;per_page=5&amp;page=2" in listing.text
    event = verifier.get("/audit/1")
    assert event.status_code == 200 and "审核事件 #1" in event.text
    with db.read() as uow:
        first = uow.get(AuditEvent, 1)
    assert first.hash in event.text and first.action in event.text
    bad = verifier.get("/audit", params={"from": "2026-03-01", "to": "2026-02-01"})
    assert bad.status_code == 422 and "截止日期不能早于起始日期" in bad.text
    refused = browser("carbon.lead").get("/audit")
    assert refused.status_code == 403 and "外部核查员" in refused.text  # the positions that may read it are named
