"""Every route's permission, declared once and decided by the access module (no second permission
system): `requires(object_type, action)` for a route about the company as a whole (users, the audit
trail), `requires(object_type, action, resource=loader)` for a route about a site or one object (the
loader finds the type and site: the page's `?site=`, or the object's, as the command pipeline's loaders
do), `OWN` for a route about the user's own things (their inbox, their calendar, their account).

The dependency runs before the form is read: a refused user learns nothing of the form's rules, and a
post with an empty form tells a permitted user (422) from a refused one (403). The authorization matrix
test (tests/web/test_authorization.py) walks the routes and reads these declarations.

A hot read (the register, "my tasks") declares its permission with `with_read=True` (or `OWN_READ`): the
dependency then costs no hop to the thread pool, and hands the route a `OneStep` that signs the user in,
decides the permission and runs the route's read in ONE worker call and one transaction (bench/web.py: each
hop and each dependency FastAPI solves was a large part of such a read); the read's answer is kept until the
installation changes, and while nothing changed the same token's repeat is answered on the event loop
(`read_cache`, which says why that needs no second decision). Such a route's query parameters are validated
before the permission is decided (they tell nothing of the data).
"""

from __future__ import annotations

import asyncio
from contextvars import copy_context
from typing import Any, Callable

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from cms_workflows.access import COMPANY_WIDE, Grant, Resource, require
from cms_workflows.web.read_cache import read_cache
from cms_workflows.web.session import Viewer, current_viewer, request_reads, signed_in_viewer

ResourceLoader = Callable[..., Resource]  # (uow, request) -> Resource


class Requires:
    """A route's permission (a FastAPI dependency that answers the Grant, or with `with_read` a OneStep)."""

    def __init__(self, object_type: str, action: str, resource: ResourceLoader | None = None, *,
                 with_read: bool = False) -> None:
        self.object_type, self.action, self.resource = object_type, action, resource
        self.with_read = with_read

    async def __call__(self, request: Request) -> Any:
        if self.with_read:
            return OneStep(request, self)  # decided in the route's own worker call, before its read
        return await run_in_threadpool(self.decide, request)

    def decide(self, request: Request) -> Grant:
        """Sign the user in and decide, in one worker thread and the request's read unit of work (bench/web.py:
        each hop to the thread pool and each unit of work was a large part of a simple read's cost)."""
        with request_reads(request).reading() as uow:  # signing in and deciding: one transaction
            viewer = signed_in_viewer(request)
            if self.resource is not None:
                resource = self.resource(uow, request)
            else:  # a company-level permission: a query parameter never narrows it to a site
                resource = Resource(self.object_type, site=COMPANY_WIDE)
            return require(uow, viewer.username, self.action, resource)

    def __repr__(self) -> str:
        return f"Requires({self.object_type!r}, {self.action!r})"


class OneStep:
    """What a hot read route is handed instead of a Grant: `await step.read(fn)` gives the answer kept for this
    token at the installation's current version from the event loop, if there is one; otherwise it signs the user
    in, decides the route's permission (if it has one) and calls `fn(uow, viewer)` (or takes its kept answer) in
    one worker call and one transaction. Nothing is read before the permission is granted."""

    __slots__ = ("request", "permission")

    def __init__(self, request: Request, permission: Requires | None) -> None:
        self.request, self.permission = request, permission

    def query(self, model: type[BaseModel]) -> BaseModel:
        """The request's query parameters validated by the route's model (`paging.ListQuery`); a wrong one is the
        same 422 as a parameter FastAPI checks."""
        try:
            return model.model_validate(dict(self.request.query_params))
        except ValidationError as exc:
            errors = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
            raise RequestValidationError(errors) from None

    async def read(self, fn: Callable[..., Any]) -> Any:
        kept = read_cache(self.request).kept_on_loop(self.request)  # nothing changed since this token's last read
        if kept is not None:
            return kept
        # the hot reads' own few threads (CMS_WEB_READ_THREADS, the app's lifespan owns them): they are short, and
        # more threads taking turns on one interpreter lock only slowed them. asyncio's own executor call: anyio's
        # (Starlette's threads) asks which async library runs and takes a capacity token on every call
        # (docs/web.md). The request's context (its language) goes with the call, as it does with anyio's.
        threads = getattr(self.request.app.state, "read_threads", None)  # None: the loop's default executor
        return await asyncio.get_running_loop().run_in_executor(
            threads, copy_context().run, self._signed_in_decided_read, fn)

    def _signed_in_decided_read(self, fn: Callable[..., Any]) -> Any:
        with request_reads(self.request).reading() as uow:
            viewer = signed_in_viewer(self.request)
            if self.permission is not None:
                self.permission.decide(self.request)
            # the read's answer as of the installation's current version, kept (read_cache.py)
            return read_cache(self.request).answer(uow, self.request, viewer.username, lambda: fn(uow, viewer))


def requires(object_type: str, action: str, resource: ResourceLoader | None = None, *, with_read: bool = False):
    """`dependencies=[requires(...)]` of a route (or a parameter: `grant: Grant = requires(...)`; with
    `with_read=True` a parameter `step: OneStep = requires(...)` whose `read` does the route's reading)."""
    return Depends(Requires(object_type, action, resource, with_read=with_read))


async def signed_in(viewer: Viewer = Depends(current_viewer)) -> Viewer:
    """A route about the signed-in user's own things: every user may open it and sees only their own."""
    return viewer


OWN = Depends(signed_in)


async def own_read(request: Request) -> OneStep:
    """A hot read of the signed-in user's own things (OWN): signing in and the read in one worker call."""
    return OneStep(request, None)


OWN_READ = Depends(own_read)


def declared(route) -> Requires | str | None:
    """What a route declares: its Requires, "own" for a signed-in user's own route, None if nothing."""
    for dependency in getattr(route, "dependant", None).dependencies if hasattr(route, "dependant") else []:
        if isinstance(dependency.call, Requires):
            return dependency.call
        if dependency.call is signed_in or dependency.call is own_read:
            return "own"
    return None
