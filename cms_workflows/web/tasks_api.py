"""The user's own work as JSON (/api/v1): their tasks (paged), one task, completing it, and the approvals
waiting for their decision. All OWN: a task is shown to whoever may see it (`tasks.queries.visible_task`)
and completed by whoever the task command allows (see `web.work`)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Body, Depends, Request
from pydantic import Field

from cms_workflows.web.authorization import OWN, OWN_READ, OneStep
from cms_workflows.web.forms import form
from cms_workflows.web.paging import ListQuery, Paging, as_json, json_page, paging, query_parameters
from cms_workflows.web.session import Viewer, check_api_csrf, current_viewer
from cms_workflows.web.work import case_of, complete_task, move_case

api = APIRouter(tags=["tasks"])

TASK_FIELDS = ("id", "key", "clause", "site", "position", "assignee", "due", "status", "evidence_kind", "claimed_by",
               "claimed_at", "outcome", "comment", "evidence_ref", "evidence_name", "completed_by", "completed_at")


def task_json(task) -> dict:
    from cms_workflows.tasks.queries import title

    out = {name: getattr(task, name) for name in TASK_FIELDS}
    out.update(title=title(task), title_key=task.title_key, title_params=json.loads(task.title_params or "{}"),
               case=case_of(task), url=f"/tasks/{task.id}")
    return out


class MyTasksQuery(ListQuery):
    status: str | None = Field(None, description="open, claimed, done or cancelled (default: open and claimed)")


@api.get("/tasks", openapi_extra=query_parameters(MyTasksQuery))
async def my_tasks(step: OneStep = OWN_READ):
    """The signed-in user's tasks: named to them, claimed by them, or unclaimed for a position they hold."""
    from cms_workflows.tasks import queries

    query = step.query(MyTasksQuery)
    site, status = query.site, query.status

    def read(uow, viewer: Viewer):  # signing in and the read: one worker call (OWN_READ)
        found = queries.tasks_for_user(uow, viewer.username, active_only=status is None)
        rows = [x for x in found if (not site or x.site == site) and (not status or x.status == status)]
        return json_page(rows, query.paging, task_json)

    return await step.read(read)


@api.get("/tasks/{task_id}", dependencies=[OWN])
def one_task(task_id: int, viewer: Viewer = Depends(current_viewer)):
    """A task its workers, its claimer or completer, or a reader of tasks at its site may see."""
    from cms_workflows.audit import events_for
    from cms_workflows.tasks import queries

    with viewer.reading() as uow:
        task = queries.visible_task(uow, viewer.username, task_id)
        history = [{"at": e.occurred_at, "actor": e.actor, "action": e.action}
                   for e in events_for(uow, "task_task", task.id)]
        return {**task_json(task), "history": history}


@api.post("/tasks/{task_id}/completion", dependencies=[OWN], openapi_extra=form("task_complete").openapi_body())
def complete(request: Request, task_id: int, body=Body(None), viewer: Viewer = Depends(current_viewer)):
    """Complete the task (outcome, comment, a document revision or record id as its evidence); a case the
    task belongs to moves on. A file as evidence is given through the task's page."""
    from cms_workflows.tasks import queries

    check_api_csrf(request, viewer)
    data = form("task_complete").parse(body, api=True)
    moved = move_case(viewer.db, complete_task(viewer, task_id, data).key)
    with viewer.reading() as uow:
        return {**task_json(queries.get_task(uow, task_id)), "case_moved": moved == "case_moved"}


def _approval_json(item) -> dict:
    return {"document": item.doc.number, "title": item.doc.title, "doc_type": item.doc.doc_type, "site": item.doc.site,
            "revision": item.rev.label, "step": item.step.name, "action": item.step.action, "capacity": item.capacity,
            "submitted_at": as_json(item.rev.submitted_at), "url": f"/documents/{item.doc.number}"}


@api.get("/me/approvals", dependencies=[OWN])
def my_approvals(viewer: Viewer = Depends(current_viewer), page: Paging = Depends(paging)):
    """The running approval steps the signed-in user may decide now."""
    from cms_workflows.documents.approval import awaiting

    with viewer.reading() as uow:
        return json_page(awaiting(uow, viewer.username), page, _approval_json)
