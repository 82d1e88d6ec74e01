"""Authorization of every route (issue 12), generated from the policy: each route × each position × the
position's own site and another site. A user holding one position (at HN01, or company-wide for the
company-level positions) asks every route; the answer must be exactly what an independent reading of
policy.csv says for what the route declares (`web/authorization.py`): zero unauthorized successes, zero
wrong denials.

A refusal is a 403 whose `X-CMS-Error` is an `access.` key. Reads are asked for real. A post is sent with
the session cookie but a wrong CSRF token, so nothing is ever written: a permitted user gets past the
route's permission to the CSRF refusal (`web.csrf_refused`), a refused one does not.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import select

from cms_workflows.access.roles import known_position_codes
from cms_workflows.accounting import service as acc
from cms_workflows.demo.company import PER_SITE_EXCLUDED
from cms_workflows.documents import registry
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import Document, Revision
from cms_workflows.org import service as org
from cms_workflows.web.authorization import Requires, declared
from cms_workflows.web.session import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE
from tests.conftest import token_for
from tests.test_access import oracle, read_policy_csv
from tests.web.test_accounting import ACCOUNTANT1, ACCOUNTANT2, ADMIN1, ADMIN2, csv_bytes, month
from tests.web.test_cases import raise_nc
from tests.web.register_rows import make_rows

pytestmark = pytest.mark.slow
LINES = read_policy_csv()
POSITIONS = sorted(known_position_codes() - {"system_agent"})
SITES = ("HN01", "HN02")
# routes anyone may call, signed in or not
PUBLIC = {"/login", "/api/v1/health"}
# routes whose permission is "a site where the user may": the register, a new document, a new case
ANYWHERE = {"/documents", "/api/v1/documents", "/documents/new", "/documents/import", "/cases/new"}
# routes whose answer is the step's command's own rule (a case step: its action, or the owner's position),
# proven in tests/web/test_cases.py; their declaration is "case.* *"
COMMAND_DECIDES = {"/cases/{number}/steps/{step}", "/api/v1/cases/{number}/steps/{step}"}


def routes(app) -> list[tuple[str, str, APIRoute]]:
    out = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            out += [(method, context.path, route) for method in sorted(route.methods - {"HEAD"})]
    return out


def holding(position: str) -> str:
    return "*" if position in PER_SITE_EXCLUDED else "HN01"


def allowed(position: str, object_type: str, action: str, site: str) -> bool:
    return oracle(LINES, position, holding(position), site, object_type, action)


@pytest.fixture
def samples(db, plan):
    """One object of each kind a route is about, at HN01 and at HN02, made through the services."""
    made: dict[str, dict[str, str]] = defaultdict(dict)
    for site in SITES:
        author = f"strategy_manager.{site.lower()}"
        with db.unit_of_work() as uow:
            docs.create(uow, author, doc_type="procedure", site=site, title=f"文件控制程序 {site}",
                        owner_department="carbon_management", content=dict(registry.template("controlled_document").example))
        made["case"][site] = raise_nc(db, site)
    with db.read() as uow:
        for doc, rev in uow.exec(select(Document, Revision).join(Revision, Revision.document_id == Document.id)):
            made["number"][doc.site], made["label"][doc.site] = doc.number, rev.label
    with db.unit_of_work() as uow:
        acc.import_activity(uow, ADMIN1, csv_bytes(month()), "hn01.csv")
        acc.import_activity(uow, ADMIN2, csv_bytes(month(site="HN02")), "hn02.csv")
    for site, who in (("HN01", ACCOUNTANT1), ("HN02", ACCOUNTANT2)):
        with db.unit_of_work() as uow:
            made["run_id"][site] = str(acc.calculate(uow, who, "2023-01", "2023-01", [site]).run_id)
    for site, who in (("HN01", ACCOUNTANT1), ("HN02", ACCOUNTANT2)):  # a proposed baseline on approved figures
        with db.unit_of_work() as uow:
            acc.approve_run(uow, "gm", int(made["run_id"][site]))
        with db.unit_of_work() as uow:
            made["baseline_id"][site] = str(acc.set_baseline(uow, who, "site", site, "2023-01", "2023-01"))
    made["row"] = make_rows(db)  # {(register, site): code} of every register
    return made


@pytest.fixture
def people(db, app):
    """A signed-in client per position: `mx.<position>` holds only that position."""
    from fastapi.testclient import TestClient

    clients = {}
    with db.unit_of_work() as uow:
        for position in POSITIONS:
            org.create_user(uow, "admin", f"mx.{position}", position)
            org.assign(uow, "admin", f"mx.{position}", position, holding(position))
    for position in POSITIONS:
        client = TestClient(app, follow_redirects=False)
        client.cookies.set(SESSION_COOKIE, token_for(db, f"mx.{position}"))
        clients[position] = client
    return clients


def _path(template: str, site: str, samples) -> str:
    path = template
    if "{row_id}" in path:
        path = path.replace("{row_id}", samples["row"][(template.split("/registers/")[1].split("/")[0], site)])
    if "{number}" in path:
        path = path.replace("{number}", samples["case" if "/cases/" in template else "number"][site])
    for name, value in (("{label}", samples["label"][site]), ("{run_id}", samples["run_id"][site]),
                        ("{baseline_id}", samples["baseline_id"][site]),
                        ("{step}", "contain"), ("{name}", "monthly_trend"), ("{kind}", "trend"),
                        ("{seq}", "1"), ("{username}", "energy_data_admin.hn01"), ("{template_id}", "1")):
        path = path.replace(name, value)
    return path


def _object_type(requirement: Requires, template: str) -> str:
    if requirement.object_type == "doc.*":
        return "doc.procedure"
    if requirement.object_type == "case.*":
        return "case.corrective_action"
    return requirement.object_type


def _expected(position: str, requirement: Requires, template: str, site: str) -> bool:
    object_type = _object_type(requirement, template)
    if template in ANYWHERE:
        if requirement.object_type == "doc.*":  # a new document: any type with a template
            types = [dt.object_type for dt in registry.doc_types().values() if dt.template]
        else:
            types = [object_type]
        return any(allowed(position, t, requirement.action, s) for t in types for s in (*SITES, "*"))
    if requirement.resource is None:  # a company-level permission
        return allowed(position, object_type, requirement.action, "*")
    return allowed(position, object_type, requirement.action, site)


def _about_an_object(template: str) -> bool:
    return any(f"{{{name}}}" in template for name in ("number", "run_id", "seq", "username", "label", "baseline_id"))


def _ask(client, method: str, path: str, template: str, site: str):
    query = {} if _about_an_object(template) else {"site": site}
    if template == "/cases/new":
        query = {"kind": "corrective_action"}
    if method == "GET":
        return client.get(path, params=query)
    if path.startswith("/api/"):
        return client.request(method, path, params=query, json={}, headers={CSRF_HEADER: "forged"})
    return client.request(method, path, params=query, data={CSRF_FIELD: "forged"})


def test_every_route_declares_its_permission(app):
    undeclared = [(m, p) for m, p, r in routes(app) if declared(r) is None and p not in PUBLIC]
    assert undeclared == []


def test_every_route_answers_every_position_as_the_policy_says(app, samples, people):
    wrong = []
    for method, template, route in routes(app):
        requirement = declared(route)
        if not isinstance(requirement, Requires) or template in COMMAND_DECIDES:
            continue
        for site in SITES:
            path = _path(template, site, samples)
            for position, client in people.items():
                answer = _ask(client, method, path, template, site)
                denied = answer.status_code == 403 and answer.headers.get("x-cms-error", "").startswith("access.")
                if answer.status_code >= 500 or answer.status_code == 401:
                    wrong.append((method, path, position, answer.status_code, answer.text[:200]))
                elif denied == _expected(position, requirement, template, site):
                    kind = "unauthorized success" if not denied else "wrong denial"
                    wrong.append((method, path, site, position, answer.status_code, kind))
    assert wrong == [], "\n".join(map(str, wrong[:60])) + f"\n… {len(wrong)} in all"


def test_own_pages_open_for_every_position(app, people):
    """A signed-in user's own pages (dashboard, inbox, calendar, my tasks, my account) are everyone's."""
    for method, template, route in routes(app):
        if method != "GET" or declared(route) != "own" or "{" in template:
            continue
        for position, client in people.items():
            answer = client.get(template)
            assert answer.status_code in (200, 303), (template, position, answer.status_code, answer.text[:300])
