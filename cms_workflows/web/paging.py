"""What every API list shares: pagination, the site filter and rows as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import orjson
from fastapi import Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

MAX_PER_PAGE = 200


# the dependencies here are `async def`: a plain `def` dependency costs a hop to the thread pool

@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int


def page_query():
    return Query(1, ge=1, description="page number, from 1")


def per_page_query():
    return Query(50, ge=1, le=MAX_PER_PAGE, description="rows per page")


async def paging(page: int = page_query(), per_page: int = per_page_query()) -> Paging:
    """The paging parameters as one dependency (a hot read takes `page_query()`, `per_page_query()` as its own
    parameters instead: one dependency fewer for FastAPI to solve)."""
    return Paging(page, per_page)


async def site_filter(site: str | None = Query(None, description="only this site's rows (a site code, or * for company-wide)")):
    return site


def as_json(row: Any) -> Any:
    """A row (SQLModel, dataclass, dict) as plain JSON values."""
    if hasattr(row, "model_dump"):
        row = row.model_dump()
    return jsonable_encoder(row)


def paged(rows: Iterable[Any], page: Paging, shape=as_json) -> dict:
    """One page of rows: {items, page, per_page, total}."""
    rows = list(rows)
    start = (page.page - 1) * page.per_page
    return {"items": [shape(r) for r in rows[start:start + page.per_page]], "page": page.page,
            "per_page": page.per_page, "total": len(rows)}


def one_page(rows: Iterable[Any], total: int, page: Paging, shape=as_json) -> "ApiJson":
    """A page the database already cut (LIMIT/OFFSET) and the total it counted, as the route's answer."""
    return ApiJson({"items": [shape(r) for r in rows], "page": page.page, "per_page": page.per_page,
                    "total": total})


class ApiJson(Response):
    """A JSON answer encoded by orjson, which writes dates, datetimes and enums itself; anything else goes
    through FastAPI's encoder. A list route returns one: FastAPI's own encoding walked every value of every
    row in Python, most of a register page's cost (bench/web.py)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=jsonable_encoder, option=orjson.OPT_NON_STR_KEYS)


def json_page(rows: Iterable[Any], page: Paging, shape=as_json) -> ApiJson:
    """`paged` as the route's answer."""
    return ApiJson(paged(rows, page, shape))
