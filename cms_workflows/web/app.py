"""The FastAPI application: page and API routers of each domain module, error pages, the request's
language and the security headers. `cms serve` runs it with uvicorn beside the scheduler."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import import_module

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from cms_workflows.core.i18n import using_locale
from cms_workflows.web import errors
from cms_workflows.web.read_cache import ReadCache
from cms_workflows.web.session import LANGUAGE_COOKIE

# one module per domain; each has `pages` (HTML) and/or `api` (JSON under /api/v1) routers
MODULES = ["account", "documents_files", "documents_import", "documents", "documents_steps", "documents_api", "accounting", "accounting_api", "accounting_setup", "accounting_baselines", "accounting_indicators", "admin", "evidence", "dashboard", "work", "tasks_api", "cases", "registers", "registers_forms", "registers_scope"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # everything the pages use is served from the package itself: no CDN, no inline script
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
}


class LanguageAndHeaders:
    """Each request speaks its user's language (the language cookie); each response carries the security
    headers. A plain ASGI middleware: Starlette's BaseHTTPMiddleware cost most of a simple request."""

    def __init__(self, app) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _value in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in self.headers if h[0] not in present)]
            await send(message)

        with using_locale(Request(scope).cookies.get(LANGUAGE_COOKIE)):
            await self.app(scope, receive, with_headers)


def _add_routes(app: FastAPI, router: APIRouter, prefix: str = "") -> None:
    """The router's routes as the app's own. `include_router` keeps a router per module that FastAPI walks on
    every request (all ~270 routes, several times): most of the cost of a simple request (bench/web.py)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r}: only API routes are expected in a web module")
        app.router.add_api_route(
            prefix + route.path, route.endpoint, methods=route.methods, name=route.name, tags=route.tags,
            dependencies=route.dependencies, status_code=route.status_code, summary=route.summary,
            description=route.description, responses=route.responses, response_model=route.response_model,
            response_class=route.response_class, include_in_schema=route.include_in_schema,
            openapi_extra=route.openapi_extra, deprecated=route.deprecated, operation_id=route.operation_id)


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Fewer threads than Starlette's 40 for the routes' database work: they share one interpreter lock (and,
    on SQLite, one file), so more threads only contend (bench/web.py: a few threads served more reads,
    with a shorter tail).

    The garbage collector, while the app serves: what the start-up loaded (about 200,000 objects: the routes,
    the ORM, the policy, the messages) is frozen out of its reach, and the young generation is collected every
    10,000 allocations rather than 700. Otherwise every full collection walked it all, 100-300 ms with every
    request stalled (bench/web.py: 15 such pauses in one run, most of each route's p99), and the young
    collections took about 4% of the time."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.db.settings.web_threads
    app.state.read_threads = ThreadPoolExecutor(app.state.db.settings.web_read_threads,  # authorization.OneStep
                                                thread_name_prefix="cms-web-read")
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # done by the first query otherwise: part of what start-up loads
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        app.state.read_threads.shutdown()
        del app.state.read_threads  # a request after this runs on the loop's default executor
        app.state.read_cache.close()


def create_app(db=None) -> FastAPI:
    """The web application on a database (default: the configured installation)."""
    from cms_workflows.bootstrap import configure
    from cms_workflows.core.db import Database

    configure()
    # the OpenAPI document only: FastAPI's browsable docs load their scripts from a CDN
    app = FastAPI(title="cms_workflows", version="1", openapi_url="/api/v1/openapi.json", docs_url=None,
                  redoc_url=None, lifespan=_lifespan)
    app.state.db = db or Database.from_settings()
    app.state.read_cache = ReadCache(app.state.db.settings.web_read_cache_mb * 2**20, app.state.db)

    @app.get("/api/v1/health", tags=["health"])
    async def health() -> dict:
        """Whether the app answers (no sign-in, no database): for a load balancer, and bench/web.py's baseline.
        Async: it waits for nothing, so it takes no worker thread (a plain `def` route is run in one)."""
        return {"status": "ok"}

    # Starlette tries the routes in turn, a regular expression each: the load balancer's probe first, then the API
    # (scripts), then the pages; no page's path lies under /api/, so this order changes no match (tested)
    modules = [import_module(f"cms_workflows.web.{name}") for name in MODULES]
    for module in modules:
        if hasattr(module, "api"):
            _add_routes(app, module.api, prefix="/api/v1")
    app.mount("/static", StaticFiles(packages=[("cms_workflows.web", "static")]), name="static")
    for module in modules:
        if hasattr(module, "pages"):
            _add_routes(app, module.pages)
    errors.install(app)
    app.add_middleware(LanguageAndHeaders)
    return app
