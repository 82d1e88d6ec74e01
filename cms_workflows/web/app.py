"""The FastAPI application: page and API routers of each domain module, error pages, the request's
language and the security headers. `cms serve` runs it with uvicorn beside the scheduler."""

from __future__ import annotations

from importlib import import_module

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from cms_workflows.core.i18n import using_locale
from cms_workflows.web import errors
from cms_workflows.web.session import LANGUAGE_COOKIE

# one module per domain; each has `pages` (HTML) and/or `api` (JSON under /api/v1) routers
MODULES = ["account", "documents_files", "documents", "documents_steps", "documents_api", "accounting", "accounting_api", "accounting_setup", "accounting_baselines", "admin", "evidence", "dashboard", "work", "tasks_api", "cases", "registers", "registers_forms", "registers_scope"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # everything the pages use is served from the package itself: no CDN, no inline script
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
}


def create_app(db=None) -> FastAPI:
    """The web application on a database (default: the configured installation)."""
    from cms_workflows.bootstrap import configure
    from cms_workflows.core.db import Database

    configure()
    app = FastAPI(title="cms_workflows", version="1", openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs",
                  redoc_url=None, swagger_ui_parameters={"defaultModelsExpandDepth": 0})
    app.state.db = db or Database.from_settings()
    app.mount("/static", StaticFiles(packages=[("cms_workflows.web", "static")]), name="static")
    for name in MODULES:
        module = import_module(f"cms_workflows.web.{name}")
        if hasattr(module, "pages"):
            app.include_router(module.pages)
        if hasattr(module, "api"):
            app.include_router(module.api, prefix="/api/v1")
    errors.install(app)

    @app.get("/api/v1/health", tags=["health"])
    def health() -> dict:
        """Whether the app answers (no sign-in, no database): for a load balancer, and bench/web.py's baseline."""
        return {"status": "ok"}

    @app.middleware("http")
    async def language_and_headers(request: Request, call_next):
        with using_locale(request.cookies.get(LANGUAGE_COOKIE)):
            response = await call_next(request)
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return app
