"""The command pipeline: the one way state changes (X-1, X-2, DESIGN "every state change is a command").

A command is declared once, with the event it leaves (`domain.object.verb`, docs/events.md),
the action it needs and how to find what it acts on:

    @command("documents.revision.submit", action="submit", resource=open_revision_of, audit_object="doc_document")
    def submit(cmd: Command, number: str, *, change_reason: str | None = None) -> Revision:
        ...                      # validate and change; cmd.resource.subject is what the loader found
        cmd.payload.update(...)  # what the event records
        return revision

and called as `submit(uow, "li.si", "HN01-PR-001")`. The pipeline, in this order:
1. loads the resource (`resource(uow, *args, **kwargs)`): enough to know its site, department
   and authors, so that access can decide;
2. authorizes (`access.require`, segregation of duties included) — or, for a command whose
   authority is not a plain permission (a decision in an approval route, several sites at once),
   the declared `authorize(control, uow, actor, action, resource) -> Grant`;
3. runs the command body, which validates and changes state;
4. appends the declared event in the same unit of work, naming the grant (user, position, site).
A user acting for another under a delegation (`access.Actor.delegate`) is named in every event
as `delegate`, and may not act, for someone else, on what they authored themselves.
Nothing is half-done: an error anywhere rolls the unit of work back, and a unit of work refuses
to commit a write that has no event (`core.uow`).

A command whose outcome has its own evidence (a decision that completes a route is also an
approval) declares those events in `emits` and appends them with `cmd.also(...)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cms_workflows.access import Grant, Resource, get_access
from cms_workflows.audit import recording
from cms_workflows.core.errors import AccessDenied


@dataclass(frozen=True)
class CommandSpec:
    event: str
    action: str
    audit_object: str
    emits: tuple[str, ...] = ()
    name: str = ""


@dataclass
class Command:
    """A running command: the unit of work, who acts, the grant that authorized it, and its event."""

    uow: Any
    actor: str
    grant: Grant
    resource: Resource
    spec: CommandSpec
    object_id: Any = None
    payload: dict = field(default_factory=dict)

    @property
    def subject(self) -> Any:
        return self.resource.subject

    @property
    def today(self):
        return self.uow.clock.today()

    def also(self, event: str, payload: dict | None = None, *, object_id: Any = None) -> None:
        """Append a further declared event now (before the command's own, which closes the command)."""
        if event not in self.spec.emits:
            raise RuntimeError(f"{self.spec.name}: event {event} is not declared in emits={self.spec.emits}")
        recording.record(self.uow, self.grant, event, self.spec.audit_object,
                         self.object_id if object_id is None else object_id, _with_delegate(self.actor, payload or {}))


def _with_delegate(actor: str, payload: dict) -> dict:
    delegate = getattr(actor, "delegate", None)
    return {**payload, "delegate": delegate} if delegate else payload


def _check_event_name(event: str) -> None:
    parts = event.split(".")
    if len(parts) != 3 or not all(p and p.replace("_", "").isalnum() and p.islower() for p in parts):
        raise RuntimeError(f"event name {event!r} is not domain.object.verb")


def command(event: str, *, action: str, resource: Callable[..., Resource] | str, audit_object: str,
            emits: tuple[str, ...] = (), authorize: Callable | None = None):
    """Declare a state-changing command (see the module's docstring)."""
    for name in (event, *emits):
        _check_event_name(name)

    def declare(body: Callable) -> Callable:
        spec = CommandSpec(event, action, audit_object, tuple(emits), f"{body.__module__}.{body.__qualname__}")

        @functools.wraps(body)
        def run(uow, actor: str, *args, **kwargs):
            target = resource(uow, *args, **kwargs) if callable(resource) else Resource(resource)
            control = get_access()
            delegate = getattr(actor, "delegate", None)
            if delegate and delegate in target.authors:
                raise AccessDenied("access.sod_own_work", username=delegate, action=action, object_type=target.type)
            if authorize is None:
                grant = control.decide(uow, actor, action, target)
            else:
                grant = authorize(control, uow, actor, action, target)
            cmd = Command(uow, actor, grant, target, spec, object_id=target.id)
            result = body(cmd, *args, **kwargs)
            recording.record(uow, cmd.grant, spec.event, spec.audit_object, cmd.object_id,
                             _with_delegate(actor, cmd.payload))
            return result

        run.command = spec
        return run

    return declare


# The installation acting for itself: schema, reference data, the first administrator.
INSTALLER = Grant(username="system", position="system_agent", site="*")


def installer_command(event: str, *, audit_object: str):
    """A command the installation runs for itself (`cms init`): no user to authorize, the event names the
    system agent. Called as `body(uow, *args)`."""
    _check_event_name(event)

    def declare(body: Callable) -> Callable:
        spec = CommandSpec(event, "install", audit_object, (), f"{body.__module__}.{body.__qualname__}")

        @functools.wraps(body)
        def run(uow, *args, **kwargs):
            cmd = Command(uow, INSTALLER.username, INSTALLER, Resource("installation"), spec)
            result = body(cmd, *args, **kwargs)
            if cmd.payload or cmd.object_id is not None:  # nothing changed, nothing to record
                recording.record(uow, INSTALLER, spec.event, spec.audit_object, cmd.object_id, cmd.payload)
            return result

        run.command = spec
        return run

    return declare


def declared_commands(*modules) -> dict[str, Callable]:
    """The commands declared in the given modules, by qualified name (the bootstrap lists the modules)."""
    found: dict[str, Callable] = {}
    for module in modules:
        for value in vars(module).values():
            spec = getattr(value, "command", None)
            if isinstance(spec, CommandSpec) and value.__module__ == module.__name__:
                found[spec.name] = value
    return found
