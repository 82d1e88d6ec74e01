"""Pages and API of the guide's registers (R-4.1–R-4.3, R-6.2, R-6.3, R-6.4, R-7.2–R-7.4, R-8.6, R-8.7, R-9.1):
the registers a user may read with their row counts, one register's rows (its columns and choice labels in
the reader's language, ?site, paged) and its .xlsx export (`registers.queries.export`, the CLI's file).

Each register's routes are declared one by one with `read` on the register's own object type; a register read
at its sites (instruments, parameters…) is permitted to a reader at the company level or at any site, as
`registers.queries.readable_sites` decides (with ?site, at that site). The register page also carries the
add and import forms of a user who may manage the register (`registers_forms` has their routes).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cms_workflows.access import COMPANY_WIDE, Resource, can
from cms_workflows.core.errors import AccessDenied
from cms_workflows.core.i18n import current_locale, t
from cms_workflows.org.queries import site_codes
from cms_workflows.registers import queries, tabular
from cms_workflows.web.authorization import OWN, requires
from cms_workflows.web.forms import form
from cms_workflows.web.paging import Paging, as_json, paged, paging
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, current_viewer

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["registers"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 50


def title(name: str) -> str:
    return t(f"registers.{queries.spec(name).register.name}.title")


def reader_resource(name: str):
    """The route's loader: the register at ?site, else at the company level or the first site the reader may
    read it at (nowhere: the company level, whose refusal names the positions)."""
    object_type = queries.spec(name).object_type

    def load(uow, request: Request) -> Resource:
        site = request.query_params.get("site")
        if site:
            return Resource(object_type, site=site)
        try:
            sites = queries.readable_sites(uow, str(request.state.viewer.actor), object_type)
        except AccessDenied:
            return Resource(object_type, site=COMPANY_WIDE)
        return Resource(object_type, site=COMPANY_WIDE if COMPANY_WIDE in sites else sorted(sites)[0])

    return load


def readable(viewer: Viewer) -> list[dict]:
    """The registers the viewer may read, with their row counts."""
    out = []
    with viewer.reading() as uow:
        for name in queries.SPECS:
            try:
                count = len(queries.rows(uow, viewer.username, name))
            except AccessDenied:
                continue
            out.append({"name": name, "title": title(name), "count": count})
    return out


def site_rows(viewer: Viewer, name: str, site: str | None) -> list[dict]:
    """The rows the viewer may read as they see them, of one site when asked (a site register only)."""
    spec = queries.spec(name)
    with viewer.reading() as uow:
        rows = queries.shown_rows(uow, viewer.username, name, current_locale())
    if site and spec.site_field:
        rows = [r for r in rows if (r.get(spec.site_field) or COMPANY_WIDE) == site]
    return rows


def table(name: str, rows: list[dict]) -> tuple[list[str], list[list]]:
    """Header labels and cells in the reader's language."""
    register, locale = queries.spec(name).register, current_locale()
    cells = [[tabular.shown_value(register, c, r.get(c.name), locale, csv_out=False) for c in register.columns]
             for r in rows]
    return tabular.header(register, locale), cells


def manage_sites(uow, username: str, name: str, action: str = "manage") -> list[str]:
    """Where the user may take the action on the register: "*" (company level) and the sites."""
    spec = queries.spec(name)
    candidates = [COMPANY_WIDE, *(sorted(site_codes(uow)) if spec.site_field else [])]
    return [s for s in candidates if can(uow, username, action, Resource(spec.object_type, site=s))]


def site_choices(uow) -> list[tuple[str, str]]:
    """The sites a row may name (an optional site left empty: the company level)."""
    return [(code, code) for code in sorted(site_codes(uow))]


def position_choices() -> list[tuple[str, str]]:
    from cms_workflows.access.roles import position_labels
    from cms_workflows.web.rendering import position_name

    return sorted(((code, f"{position_name(code)} ({code})") for code in position_labels()), key=lambda c: c[0])


def choices_for(uow, definition) -> dict[str, list[tuple[str, str]]]:
    """The choices a form's dynamic fields offer: sites for `site`, positions for the others."""
    out = {}
    for f in definition.fields:
        if f.dynamic_choices:
            out[f.name] = site_choices(uow) if f.name == "site" else position_choices()
    return out


def render_register(request: Request, viewer: Viewer, name: str, site: str | None, paging_: Paging, *,
                    status_code: int = 200, failed: tuple[str, dict, dict] = ("", {}, {}), report=None):
    """The register page; `failed`: (form name, what was typed, errors by field) of a refused add or import,
    `report`: the rows and fields a refused file was refused for."""
    spec = queries.spec(name)
    rows = site_rows(viewer, name, site)
    shown = paged(rows, paging_, shape=lambda r: r)
    header, cells = table(name, shown["items"])
    pages_count = max(1, -(-shown["total"] // paging_.per_page))
    with viewer.reading() as uow:
        manageable = manage_sites(uow, viewer.username, name)
        add = form(f"register_{name}_add")
        choices = choices_for(uow, add)
    return page(request, "register.html", status_code=status_code, title=title(name), name=name, header=header,
                cells=cells, codes=[r.get(spec.register.key) for r in shown["items"]], total=shown["total"],
                page_no=paging_.page, pages=pages_count, per_page=paging_.per_page, site=site or "",
                by_site=bool(spec.site_field), manageable=bool(manageable), add_form=add,
                import_form=form(f"register_{name}_import"), choices=choices, failed=failed, report=report or [],
                flash=flash_text(request))


def flash_text(request: Request) -> str:
    """What the last post did, said on the page it led to (?done=…&code=…)."""
    done = request.query_params.get("done")
    if done not in {"added", "changed", "imported", "unchanged", "calibrate", "progress", "move", "raise_review"}:
        return ""
    params = {k: request.query_params.get(k, "") for k in ("code", "created", "updated", "unchanged")}
    return t(f"web.registers.done.{done}", **params)


@pages.get("/registers", dependencies=[OWN])
def register_list(request: Request, viewer: Viewer = Depends(current_viewer)):
    return page(request, "registers.html", title=t("web.registers.title"), registers=readable(viewer))


@api.get("/registers", dependencies=[OWN])
def api_registers(viewer: Viewer = Depends(current_viewer)):
    """The registers the user may read, with their row counts."""
    return {"items": readable(viewer)}


def _routes(name: str) -> None:
    """The page, the export and the API route of one register, each declaring `read` on its object type."""
    spec = queries.spec(name)
    needed = requires(spec.object_type, "read", resource=reader_resource(name))

    def register_page(request: Request, site: str | None = None, paging_: Paging = Depends(paging),
                      viewer: Viewer = Depends(current_viewer)):
        return render_register(request, viewer, name, site, paging_)

    def register_file(viewer: Viewer = Depends(current_viewer)):
        with viewer.reading() as uow:
            data = queries.export(uow, viewer.username, name, "xlsx", current_locale())
        return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})

    def register_api(site: str | None = None, paging_: Paging = Depends(paging),
                     viewer: Viewer = Depends(current_viewer)):
        return {"register": name, "title": title(name), **paged(site_rows(viewer, name, site), paging_, as_json)}

    register_api.__doc__ = f"The rows of the register `{name}` the user may read (?site), paged."
    pages.add_api_route(f"/registers/{name}", register_page, methods=["GET"], dependencies=[needed],
                        name=f"register_{name}")
    pages.add_api_route(f"/registers/{name}.xlsx", register_file, methods=["GET"], dependencies=[needed],
                        name=f"register_{name}_xlsx")
    api.add_api_route(f"/registers/{name}", register_api, methods=["GET"], dependencies=[needed],
                      name=f"api_register_{name}")


for _name in queries.SPECS:
    _routes(_name)
