"""Pages: Jinja2 templates from the package, every text a message key in the request's language."""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from cms_workflows.access.roles import position_labels
from cms_workflows.core.i18n import LOCALES, current_locale, pick, t


def _local(moment: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC moment as local time of the installation; a day as YYYY-MM-DD."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):  # the trail's moments are ISO 8601 text
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if isinstance(moment, datetime):
        from cms_workflows.core.config import get_settings

        aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return aware.astimezone(ZoneInfo(get_settings().timezone)).strftime(pattern)
    if isinstance(moment, date):
        return moment.isoformat()
    return str(moment)


def _term(key_prefix: str, code: Any) -> str:
    """The translated name of a configured code (a state, a document type…), else the code."""
    if code in (None, ""):
        return ""
    key = f"{key_prefix}.{code}"
    text = t(key)
    return str(code) if text == key else text


def position_name(code: str | None) -> str:
    """A position's name in the request's language (Annex A, roles.yaml); the code if it is not one."""
    names = position_labels().get(code or "")
    return pick(*names, current_locale()) if names else (code or "")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("cms_workflows.web", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(t=t, pick=lambda zh, en: pick(zh, en, current_locale()), locales=LOCALES,
                       current_locale=current_locale, term=_term,
                       position_name=position_name)
    env.filters["local"] = _local
    return env


templates = Jinja2Templates(env=environment())


def page(request: Request, template: str, status_code: int = 200, **context: Any):
    """A rendered page; `viewer` (the signed-in user, or None) and the menu come with every page."""
    viewer = getattr(request.state, "viewer", None)
    context.setdefault("viewer", viewer)
    context.setdefault("title", "")
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
