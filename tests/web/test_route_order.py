"""The order of the app's routes (web/app.py): Starlette tries them in turn, so the load balancer's probe comes
first, then the API, then the pages. Moving the API ahead of the pages changes no match: no page's path can match
an API route's and no API route's path can match a page's."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from cms_workflows.web.app import create_app


def _example(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_the_probe_comes_first_and_the_api_before_the_pages_without_changing_a_match(db):
    routes = [r for r in create_app(db).routes if isinstance(r, APIRoute)]
    assert routes[0].path == "/api/v1/health"
    api = [r for r in routes if r.path.startswith("/api/")]
    pages = [r for r in routes if not r.path.startswith("/api/")]
    assert len(api) > 50 and len(pages) > 100
    assert routes[:len(api)] == api  # every API route ahead of every page
    for group, others in ((api, pages), (pages, api)):
        for route in group:
            example = _example(route.path)
            assert route.path_regex.match(example), route.path
            assert not [o.path for o in others if o.path_regex.match(example)], route.path
