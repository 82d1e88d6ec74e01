"""What a refused or mistaken request gets back: a page in the user's language for the browser, an
RFC 9457 problem document (`application/problem+json`) with field details for the API. A user's
mistake is never a 500; a bug still is (and is logged by uvicorn)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cms_workflows.access.roles import position_labels
from cms_workflows.core.errors import AccessDenied, CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import pick, t
from cms_workflows.web.rendering import page
from cms_workflows.web.session import NotSignedIn

PROBLEM_JSON = "application/problem+json"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problem_lines(exc: CmsError) -> list[dict]:
    out = []
    for p in getattr(exc, "problems", []) or []:
        message = t(p["key"], **p.get("params", {})) if "key" in p else p.get("message", "")
        out.append({"field": p.get("field") or "", "row": p.get("row"), "code": p.get("key", ""), "message": message})
    return out


def problem_response(status: int, key: str, detail: str, errors: list[dict] | None = None, **extra) -> JSONResponse:
    title = t(f"web.status.{status}")
    body = {"type": "about:blank", "title": detail if title == f"web.status.{status}" else title, "status": status,
            "detail": detail, "code": key, **extra}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _positions(exc: AccessDenied) -> list[dict]:
    """The positions that would have been needed, with their names in the user's language."""
    labels = position_labels()
    codes = getattr(exc.params.get("positions"), "codes", ())
    return [{"code": c, "name": pick(*labels[c]) if c in labels else c} for c in codes]


def cms_error(request: Request, exc: CmsError):
    """The error's message key also travels in the `X-CMS-Error` header (a refusal by access and one by the
    CSRF check are both 403s; tests and scripts tell them apart without reading the page)."""
    status = getattr(exc, "http_status", 400)
    head = t(exc.key, **exc.params)
    if is_api(request):
        extra = {}
        if isinstance(exc, AccessDenied):
            extra["positions_needed"] = _positions(exc)
        response = problem_response(status, exc.key, head, _problem_lines(exc), **extra)
    elif isinstance(exc, NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    else:
        response = page(request, "error.html", status_code=status, title=t(f"web.status.{status}"), message=head,
                        problems=_problem_lines(exc),
                        positions=_positions(exc) if isinstance(exc, AccessDenied) else [])
    response.headers["X-CMS-Error"] = exc.key
    return response


def request_invalid(request: Request, exc: RequestValidationError):
    """A malformed parameter of the URL or body (a letter where an id goes): the same problems as a form's."""
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        key = {"missing": "web.form.required", "int_parsing": "web.form.not_an_integer"}.get(error["type"],
                                                                                            "web.form.invalid_value")
        problems.append(problem(".".join(location), key, label=".".join(location), maximum="", minimum=""))
    return cms_error(request, ValidationFailed("web.form.invalid_request", problems=problems))


def http_error(request: Request, exc: StarletteHTTPException):
    status = exc.status_code
    key = f"web.status.{status}"
    detail = t(key) if t(key) != key else str(exc.detail)
    if is_api(request):
        return problem_response(status, key, detail)
    return page(request, "error.html", status_code=status, title=detail, message=detail, problems=[], positions=[])


def install(app: FastAPI) -> None:
    app.add_exception_handler(CmsError, cms_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
