"""What every API list shares: pagination, the site filter and rows as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import orjson
from fastapi import Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, Field

MAX_PER_PAGE = 200


# the dependencies here are `async def`: a plain `def` dependency costs a hop to the thread pool

@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int


PAGE_HELP = "page number, from 1"
PER_PAGE_HELP = "rows per page"
SITE_HELP = "only this site's rows (a site code, or * for company-wide)"


async def paging(page: int = Query(1, ge=1, description=PAGE_HELP),
                 per_page: int = Query(50, ge=1, le=MAX_PER_PAGE, description=PER_PAGE_HELP)) -> Paging:
    """The paging parameters as one dependency."""
    return Paging(page, per_page)


class ListQuery(BaseModel):
    """A hot read's query parameters: paging and the site filter, a route's own filters in a subclass. The route
    validates its query with the model in one call (`OneStep.query`) and lists the model's fields as its OpenAPI
    parameters (`openapi_extra=query_parameters(model)`): FastAPI, given the parameters one by one, looked each
    up twice and inspected its declared type on every request (docs/web.md). `paging` declares the same bounds
    for the other lists (tests/web/test_hot_read_query.py compares the two in the OpenAPI document)."""

    page: int = Field(1, ge=1, description=PAGE_HELP)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE, description=PER_PAGE_HELP)
    site: str | None = Field(None, description=SITE_HELP)

    @property
    def paging(self) -> Paging:
        return Paging(self.page, self.per_page)


def query_parameters(model: type[BaseModel]) -> dict:
    """The model's fields as an operation's query parameters, for a route's `openapi_extra`: written as FastAPI
    writes a parameter it checks itself (tested)."""
    schema = model.model_json_schema()
    return {"parameters": [{"name": name, "in": "query", "required": name in schema.get("required", ()),
                            "schema": field, "description": field.get("description", "")}
                           for name, field in schema["properties"].items()]}


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
