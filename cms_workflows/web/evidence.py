"""Evidence for the external verifier: the evidence pack (`cms export-evidence`) as a download, the
installation check (`cms verify`), and the audit trail as pages (filter, page through, open an event
with its hashes) and through the API.

The pack is the same signed zip the CLI writes, built by the same bootstrap function as the viewer
(audit_trail export); it is written to a private temporary folder and removed once it has been sent.
The check reads the whole chain and re-hashes the stored files without recording an anchor (a page
view writes nothing)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from cms_workflows.core.errors import CmsError, ValidationFailed, problem
from cms_workflows.core.i18n import pick, t
from cms_workflows.web.authorization import requires
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.paging import Paging, as_json, paging
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["audit"])

FORM = "evidence_export"
# which field a refusal of the scope belongs to, by the message key's domain
_FIELD_OF = (("org.unknown_site", "site"), ("documents.", "documents"), ("processes.", "cases"))


def _site_choices(uow) -> list[tuple[str, str]]:
    from cms_workflows.org import queries as org_queries

    return [(s.code, f"{pick(s.name_zh, s.name_en)} ({s.code})") for s in org_queries.list_sites(uow)]


def _export_page(request: Request, viewer: Viewer, status_code: int = 200, values=None, errors=None):
    with viewer.reading() as uow:
        choices = {"site": _site_choices(uow)}
    return page(request, "evidence.html", status_code=status_code, title=form(FORM).title, form=form(FORM),
                values=values or {}, errors=errors or {}, choices=choices)


@pages.get("/evidence", dependencies=[requires("audit_trail", "export")])
def export_form(request: Request, viewer: Viewer = Depends(current_viewer)):
    return _export_page(request, viewer)


def _numbers(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in re.split(r"[\s,，;；]+", text or "") if n))


def _scope(posted, choices):
    """The pack's scope from the form, as `cms export-evidence --from --to --site --doc --case`."""
    from cms_workflows.audit.evidence import Scope

    data = form(FORM).parse(posted, choices=choices)
    if data["date_from"] and data["date_to"] and data["date_to"] < data["date_from"]:
        raise ValidationFailed("web.form.invalid", form=form(FORM).title,
                               problems=[problem("date_to", "web.evidence.to_before_from")])
    return Scope(data["date_from"], data["date_to"], data["site"], _numbers(data["documents"]), None,
                 _numbers(data["cases"]))


def _scope_errors(exc: CmsError) -> dict[str, str]:
    if isinstance(exc, ValidationFailed) and exc.problems:
        return field_errors(exc)
    name = next((f for prefix, f in _FIELD_OF if exc.key.startswith(prefix)), "")
    return {name: exc.message()}


@pages.post("/evidence", dependencies=[requires("audit_trail", "export")])
def export(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    """Build the pack as the viewer and send it as a download (a read: the export's own event is the
    only thing it records, as the CLI's does)."""
    from cms_workflows.bootstrap import export_evidence

    with viewer.reading() as uow:
        choices = {"site": _site_choices(uow)}
        today = uow.clock.today()
    folder = Path(tempfile.mkdtemp(prefix="cms-evidence-"))
    out = folder / f"evidence-{today.isoformat()}.zip"
    try:
        export_evidence(viewer.db, viewer.actor, out, _scope(posted, choices))
    except CmsError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if exc.http_status == 403:
            raise
        values = {f.name: posted.get(f.name, "") for f in form(FORM).fields}
        errors = _scope_errors(exc)
        status = 422 if isinstance(exc, ValidationFailed) or "" not in errors else exc.http_status
        return _export_page(request, viewer, status, values, errors)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out, media_type="application/zip", filename=out.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@pages.get("/verify", dependencies=[requires("audit_trail", "verify")])
def verify(request: Request, viewer: Viewer = Depends(current_viewer)):
    """`cms verify` (chain, MACs, anchors, stored files) without recording an anchor."""
    from cms_workflows.bootstrap import verify_installation

    report = verify_installation(viewer.db, record_anchor=False)
    return page(request, "evidence_verify.html", status_code=200 if report.ok else 409,
                title=t("web.evidence.verify_title"), report=report)


# ---------------------------------------------------------------- API: the audit trail


def _event_json(row) -> dict:
    data = as_json(row)
    data.pop("mac", None)
    data["payload"] = json.loads(row.payload) if row.payload else {}
    return data


def _filter(date_from: date | None, date_to: date | None, object_type, object_id, actor, site):
    from cms_workflows.audit.queries import EventFilter

    if date_from and date_to and date_to < date_from:
        raise ValidationFailed("web.form.invalid_request", problems=[problem("to", "web.evidence.to_before_from")])
    return EventFilter(object_type or None, object_id or None, actor or None, site or None, date_from, date_to)


AUDIT_FILTERS = ("object_type", "object_id", "actor", "site", "from", "to")


@pages.get("/audit", dependencies=[requires("audit_trail", "read")])
def audit_page(request: Request, viewer: Viewer = Depends(current_viewer), page_: Paging = Depends(paging),
               object_type: str | None = Query(None, max_length=64), object_id: str | None = Query(None, max_length=200),
               actor: str | None = Query(None, max_length=64), site: str | None = Query(None, max_length=32),
               date_from: date | None = Query(None, alias="from"), date_to: date | None = Query(None, alias="to")):
    """The audit trail, newest filter first: who did what, when, in which position and at which site."""
    from cms_workflows.audit.queries import search_events

    where = _filter(date_from, date_to, object_type, object_id, actor, site)
    with viewer.reading() as uow:
        rows, total = search_events(uow, viewer.username, where, (page_.page - 1) * page_.per_page, page_.per_page)
    chosen = {k: request.query_params.get(k, "") for k in AUDIT_FILTERS}
    return page(request, "audit.html", title=t("web.evidence.audit_title"), rows=rows, total=total, paging=page_,
                chosen=chosen, query={**{k: v for k, v in chosen.items() if v}, "per_page": page_.per_page},
                pages=max(1, -(-total // page_.per_page)))


@pages.get("/audit/{seq}", dependencies=[requires("audit_trail", "read")])
def audit_event_page(request: Request, seq: int, viewer: Viewer = Depends(current_viewer)):
    from cms_workflows.audit.queries import get_event

    with viewer.reading() as uow:
        row = get_event(uow, viewer.username, seq)
    payload = json.dumps(json.loads(row.payload) if row.payload else {}, ensure_ascii=False, indent=2, sort_keys=True)
    return page(request, "audit_event.html", title=t("web.evidence.event_title", seq=row.seq), row=row, payload=payload)


@api.get("/audit/events", dependencies=[requires("audit_trail", "read")])
def events(viewer: Viewer = Depends(current_viewer), page_: Paging = Depends(paging),
           object_type: str | None = Query(None, max_length=64), object_id: str | None = Query(None, max_length=200),
           actor: str | None = Query(None, max_length=64),
           date_from: date | None = Query(None, alias="from", description="from this local day"),
           date_to: date | None = Query(None, alias="to", description="to this local day (inclusive)"),
           site: str | None = Query(None, max_length=32, description="events at this site (* = company level)")):
    """The audit events matching every filter given, in chain order (seq), one page at a time."""
    from cms_workflows.audit.queries import search_events

    where = _filter(date_from, date_to, object_type, object_id, actor, site)
    with viewer.reading() as uow:
        rows, total = search_events(uow, viewer.username, where, (page_.page - 1) * page_.per_page, page_.per_page)
    return {"items": [_event_json(r) for r in rows], "page": page_.page, "per_page": page_.per_page, "total": total}


@api.get("/audit/events/{seq}", dependencies=[requires("audit_trail", "read")])
def event(seq: int, viewer: Viewer = Depends(current_viewer)):
    from cms_workflows.audit.queries import get_event

    with viewer.reading() as uow:
        return _event_json(get_event(uow, viewer.username, seq))
