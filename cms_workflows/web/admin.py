"""Administration of the organisation (users, position assignments, password resets, the positions and
who holds them) and the signed-in user's own account (positions, password, access tokens).

Every change is the org or identity service command the CLI runs (`cms users …`, `cms users password`,
`cms tokens …`); a generated password or a new token is shown once on the response page and kept
nowhere else (the page is sent with Cache-Control: no-store)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from cms_workflows.access import Resource, can, held_positions
from cms_workflows.core.errors import AuthenticationFailed, CmsError, NotFound, ValidationFailed, problem
from cms_workflows.core.i18n import pick, t
from cms_workflows.web.authorization import OWN, requires
from cms_workflows.web.forms import field_errors, form
from cms_workflows.web.paging import Paging, json_page, paging
from cms_workflows.web.rendering import page
from cms_workflows.web.session import Viewer, checked_form, current_viewer

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["admin"])

COMPANY_WIDE = "*"


def form_errors(exc: CmsError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """A refused submission's messages by field (renamed to the form's fields), or above the form."""
    errors = field_errors(exc) if isinstance(exc, ValidationFailed) and exc.problems else {}
    errors = {(rename or {}).get(k, k): v for k, v in errors.items()}
    return errors or {"": exc.message()}


def _values(posted, name: str) -> dict:
    """What the user typed into a form (never a password), to show it again."""
    return {f.name: posted.get(f.name, "") for f in form(name).fields if f.type != "password"}


def _site_label(site) -> str:
    return f"{pick(site.name_zh, site.name_en)} ({site.code})"


def _choices(uow) -> dict[str, list[tuple[str, str]]]:
    from cms_workflows.org import queries as org_queries

    positions = [(p.code, f"{pick(p.name_zh, p.name_en)} ({p.code})") for p in org_queries.list_positions(uow)
                 if p.code != "system_agent"]
    sites = [(COMPANY_WIDE, t("web.admin.company_wide"))] + [(s.code, _site_label(s)) for s in org_queries.list_sites(uow)]
    return {"position": positions, "site": sites}


def _position_names(uow) -> dict[str, str]:
    from cms_workflows.org import queries as org_queries

    return {p.code: pick(p.name_zh, p.name_en) for p in org_queries.list_positions(uow)}


# ---------------------------------------------------------------- users


@pages.get("/admin/users", dependencies=[requires("user", "read")])
def users(request: Request, viewer: Viewer = Depends(current_viewer)):
    from cms_workflows.org import queries as org_queries

    with viewer.reading() as uow:
        today = uow.clock.today()
        rows = [(u, [a for a in assignments if org_queries.is_held(a, today)])
                for u, assignments in org_queries.users_with_assignments(uow, viewer.username)]
        names = _position_names(uow)
        manage = can(uow, viewer.username, "manage", Resource("user"))
    return page(request, "admin_users.html", title=t("web.admin.users_title"), rows=rows, names=names, manage=manage)


def _new_user_page(request: Request, status_code: int = 200, values=None, errors=None):
    return page(request, "admin_user_new.html", status_code=status_code, title=form("admin_user_new").title,
                form=form("admin_user_new"), values=values or {}, errors=errors or {})


@pages.get("/admin/users/new", dependencies=[requires("user", "manage")])
def new_user_form(request: Request):
    return _new_user_page(request)


@pages.post("/admin/users/new", dependencies=[requires("user", "manage")])
def new_user(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.org import service as org

    try:
        data = form("admin_user_new").parse(posted)
        user = viewer.act(org.create_user, data["username"], data["display_name"], data["email"])
    except ValidationFailed as exc:
        return _new_user_page(request, 422, _values(posted, "admin_user_new"), form_errors(exc))
    return RedirectResponse(f"/admin/users/{user.username}", status_code=303)


def _user_history(uow, viewer: Viewer, username: str) -> list:
    """The audit events about the user's account, for a viewer who may read the audit trail."""
    from cms_workflows.audit.queries import EventFilter, search_events

    if not can(uow, viewer.username, "read", Resource("audit_trail")):
        return []
    rows, _total = search_events(uow, viewer.username, EventFilter(object_type="user", object_id=username), limit=200)
    return rows


def _user_page(request: Request, viewer: Viewer, username: str, status_code: int = 200, **forms_state):
    """The user's detail page; `forms_state` carries one form's values and errors after a refused post."""
    from cms_workflows.org import queries as org_queries

    with viewer.reading() as uow:
        user = org_queries.get_user(uow, username)
        today = uow.clock.today()
        assignments = [(a, org_queries.is_held(a, today)) for a, _u in org_queries.list_assignments(uow, username)]
        context = dict(user=user, assignments=assignments, names=_position_names(uow), choices=_choices(uow),
                       history=_user_history(uow, viewer, username),
                       manage_users=can(uow, viewer.username, "manage", Resource("user")),
                       manage_assignments=can(uow, viewer.username, "manage", Resource("assignment")))
    context.update(values=forms_state.get("values", {}), errors=forms_state.get("errors", {}),
                   failed=forms_state.get("failed", ""), failed_id=forms_state.get("failed_id"))
    return page(request, "admin_user.html", status_code=status_code, title=t("web.admin.user_title", username=username),
                forms={n: form(n) for n in ("admin_assign", "admin_assignment_end", "admin_password_reset",
                                            "admin_user_deactivate")}, **context)


@pages.get("/admin/users/{username}", dependencies=[requires("user", "read")])
def user_detail(request: Request, username: str, viewer: Viewer = Depends(current_viewer)):
    return _user_page(request, viewer, username)


def _refused(request, viewer, username, name, posted, exc, failed_id=None, rename=None):
    status = exc.http_status if exc.http_status in (404, 409, 422) else 422
    return _user_page(request, viewer, username, status, failed=name, failed_id=failed_id,
                      values=_values(posted, name), errors=form_errors(exc, rename))


@pages.post("/admin/users/{username}/assignments", dependencies=[requires("assignment", "manage")])
def assign(request: Request, username: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.org import queries as org_queries
    from cms_workflows.org import service as org

    with viewer.reading() as uow:
        org_queries.get_user(uow, username)
        choices = _choices(uow)
    try:
        data = form("admin_assign").parse(posted, choices=choices)
        viewer.act(org.assign, username, data["position"], data["site"], data["valid_from"], data["valid_to"])
    except ValidationFailed as exc:
        return _refused(request, viewer, username, "admin_assign", posted, exc)
    return RedirectResponse(f"/admin/users/{username}", status_code=303)


@pages.post("/admin/users/{username}/assignments/{assignment_id}/end", dependencies=[requires("assignment", "manage")])
def end_assignment(request: Request, username: str, assignment_id: int, viewer: Viewer = Depends(current_viewer),
                   posted=Depends(checked_form)):
    from cms_workflows.org import queries as org_queries
    from cms_workflows.org import service as org

    with viewer.reading() as uow:
        if assignment_id not in {a.id for a, _u in org_queries.list_assignments(uow, username)}:
            raise NotFound("org.unknown_assignment", id=assignment_id)
    try:
        data = form("admin_assignment_end").parse(posted)
        viewer.act(org.end_assignment, assignment_id, data["end_date"], data["reason"])
    except ValidationFailed as exc:
        return _refused(request, viewer, username, "admin_assignment_end", posted, exc, assignment_id)
    return RedirectResponse(f"/admin/users/{username}", status_code=303)


@pages.post("/admin/users/{username}/password", dependencies=[requires("user", "manage")])
def reset_password(request: Request, username: str, viewer: Viewer = Depends(current_viewer),
                   posted=Depends(checked_form)):
    """A generated password, shown once on this response (as `cms users password --generate`); every
    sign-in of the user ends with the reset (identity revokes their tokens)."""
    from cms_workflows.identity import service as identity

    try:
        data = form("admin_password_reset").parse(posted)
        if not data["confirm"]:
            raise ValidationFailed("web.form.invalid", form=form("admin_password_reset").title,
                                   problems=[problem("confirm", "web.admin.confirm_reset")])
        if username == viewer.username:
            raise ValidationFailed("web.admin.reset_own")
        new = identity.generated_password()
        viewer.act(identity.set_password, username, new)
    except ValidationFailed as exc:
        return _refused(request, viewer, username, "admin_password_reset", posted, exc)
    return page(request, "admin_password.html", title=t("web.admin.password_reset_title", username=username),
                username=username, password=new)


@pages.post("/admin/users/{username}/deactivate", dependencies=[requires("user", "manage")])
def deactivate(request: Request, username: str, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.org import service as org

    try:
        data = form("admin_user_deactivate").parse(posted)
        viewer.act(org.deactivate_user, username, data["reason"])
    except CmsError as exc:
        if exc.http_status == 403:
            raise
        return _refused(request, viewer, username, "admin_user_deactivate", posted, exc)
    return RedirectResponse(f"/admin/users/{username}", status_code=303)


# ---------------------------------------------------------------- positions


def _positions_table(uow) -> tuple[list, list[str]]:
    """[(department, position, {site: [usernames]})] of the Annex A reference data, and the site columns."""
    from cms_workflows.org import queries as org_queries

    departments = {d.code: d for d in org_queries.list_departments(uow)}
    held: dict[tuple[str, str], list[str]] = {}
    for username, position, site in org_queries.active_assignments(uow):
        held.setdefault((position, site), []).append(username)
    sites = [COMPANY_WIDE] + [s.code for s in org_queries.list_sites(uow)]
    rows = [(departments[p.department_code], p, {s: sorted(held.get((p.code, s), [])) for s in sites})
            for p in org_queries.list_positions(uow)]
    return rows, sites


@pages.get("/admin/positions", dependencies=[requires("assignment", "read")])
def positions(request: Request, viewer: Viewer = Depends(current_viewer)):
    with viewer.reading() as uow:
        rows, sites = _positions_table(uow)
    return page(request, "admin_positions.html", title=t("web.admin.positions_title"), rows=rows, sites=sites)


# ---------------------------------------------------------------- my account


def _account_page(request: Request, viewer: Viewer, status_code: int = 200, **state):
    from cms_workflows.identity import queries as identity_queries

    with viewer.reading() as uow:
        held = held_positions(uow, viewer.username)
        names = _position_names(uow)
        tokens = identity_queries.tokens_of(uow, viewer.username)
        current = identity_queries.token_row(uow, viewer.token).id
    return page(request, "tokens.html", status_code=status_code, title=t("web.admin.account_title"), held=held,
                names=names, tokens=tokens, current=current, password_form=form("account_password"),
                token_form=form("token_create"), failed=state.get("failed", ""), values=state.get("values", {}),
                errors=state.get("errors", {}), done=request.query_params.get("done", ""))


@pages.get("/account", dependencies=[OWN])
def account(request: Request, viewer: Viewer = Depends(current_viewer)):
    return _account_page(request, viewer)


def _new_password(posted) -> dict:
    data = form("account_password").parse(posted)
    if data["new_password"] != data["new_password_again"]:
        raise ValidationFailed("web.form.invalid", form=form("account_password").title,
                               problems=[problem("new_password_again", "web.admin.passwords_differ")])
    return data


@pages.post("/account/password", dependencies=[OWN])
def change_password(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    from cms_workflows.identity import service as identity

    try:
        data = _new_password(posted)
        viewer.act(identity.set_password, viewer.username, data["new_password"], data["current_password"])
    except AuthenticationFailed:
        errors = {"current_password": t("web.admin.wrong_current_password")}
        return _account_page(request, viewer, 422, failed="account_password", errors=errors)
    except ValidationFailed as exc:
        return _account_page(request, viewer, 422, failed="account_password",
                             errors=form_errors(exc, {"password": "new_password"}))
    return RedirectResponse("/account?done=password", status_code=303)


@pages.post("/account/tokens", dependencies=[OWN])
def create_token(request: Request, viewer: Viewer = Depends(current_viewer), posted=Depends(checked_form)):
    """A new token for the signed-in user, shown once on this response."""
    from cms_workflows.identity import service as identity

    try:
        data = form("token_create").parse(posted)
        row, token = viewer.act(identity.create_token, viewer.username, label=data["label"] or "", days=data["days"])
    except ValidationFailed as exc:
        return _account_page(request, viewer, 422, failed="token_create", values=_values(posted, "token_create"),
                             errors=form_errors(exc))
    return page(request, "tokens_created.html", title=t("web.admin.token_created_title"), row=row, token=token)


@pages.post("/account/tokens/{token_id}/revoke", dependencies=[OWN])
def revoke_token(token_id: int, viewer: Viewer = Depends(current_viewer), _form=Depends(checked_form)):
    from cms_workflows.identity import queries as identity_queries
    from cms_workflows.identity import service as identity

    with viewer.reading() as uow:
        if token_id not in {r.id for r in identity_queries.tokens_of(uow, viewer.username)}:
            raise NotFound("identity.unknown_token", id=token_id)
        current = identity_queries.token_row(uow, viewer.token).id
    viewer.act(identity.revoke_token, token_id)
    return RedirectResponse("/login" if token_id == current else "/account?done=revoked", status_code=303)


# ---------------------------------------------------------------- API


def _user_json(user, assignments, today) -> dict:
    from cms_workflows.org.queries import is_held

    return {"username": user.username, "display_name": user.display_name, "email": user.email, "active": user.active,
            "assignments": [{"id": a.id, "position": a.position_code, "site": a.site_code, "valid_from": a.valid_from,
                             "valid_to": a.valid_to, "held": is_held(a, today), "end_reason": a.end_reason}
                            for a in assignments]}


@api.get("/users", dependencies=[requires("user", "read")])
def users_api(viewer: Viewer = Depends(current_viewer), page_: Paging = Depends(paging)):
    """Every user with their assignments (held today or not)."""
    from cms_workflows.org import queries as org_queries

    with viewer.reading() as uow:
        today = uow.clock.today()
        rows = org_queries.users_with_assignments(uow, viewer.username)
    return json_page(rows, page_, lambda row: _user_json(row[0], row[1], today))


@api.get("/positions", dependencies=[requires("assignment", "read")])
def positions_api(viewer: Viewer = Depends(current_viewer)):
    """The departments and positions (Annex A and added), and who holds each today at each site."""
    with viewer.reading() as uow:
        rows, _sites = _positions_table(uow)
    return {"items": [{"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "source": p.source,
                       "department": {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en},
                       "holders": [{"site": s, "username": u} for s, names in held.items() for u in names]}
                      for d, p, held in rows]}
