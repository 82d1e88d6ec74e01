"""The processes and what the engine needs of each: its lifecycle, number prefix, object type, the
report it ends in, the hooks run when a case enters a stage, the conditions that move a case on by
itself, and the triggers that open cases (a schedule's duty, an event in another domain).

Each process module declares one `Process` and registers it here; `processes()` imports them all, so
the engine never names a process.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cms_workflows.core.lifecycle import Lifecycle

MODULES = (
    "cms_workflows.processes.carbon_review",
    "cms_workflows.processes.compliance",
    "cms_workflows.processes.internal_audit",
    "cms_workflows.processes.management_review",
    "cms_workflows.processes.corrective_action",
    "cms_workflows.processes.deviation",
)


@dataclass(frozen=True)
class AutoStep:
    """A transition the engine takes by itself when `ready(uow, case)` holds (all stage tasks done, the
    document route decided, an approved calculation run exists…)."""

    command: str
    ready: Callable


@dataclass
class Process:
    kind: str  # carbon_review …
    prefix: str  # case numbers: CR-2026-01
    lifecycle: Lifecycle
    clause: str  # the guide's requirement, for its tasks
    owner_position: str  # who runs the case (its tasks go there unless a stage says otherwise)
    report_template: str | None = None  # document_templates key of the report it ends in
    report_doc_type: str = "report"
    on_enter: dict[str, Callable] = field(default_factory=dict)  # state -> fn(cmd, case)
    auto: dict[str, list[AutoStep]] = field(default_factory=dict)  # state -> steps the engine may take
    triggers: list[Callable] = field(default_factory=list)  # fn(db, day) -> cases opened

    @property
    def object_type(self) -> str:
        return f"case.{self.kind}"


_REGISTERED: dict[str, Process] = {}


def register(process: Process) -> Process:
    _REGISTERED[process.kind] = process
    return process


def processes() -> dict[str, Process]:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a process not written yet (issue 11 lands process by process)
            if exc.name != name:
                raise
    return dict(_REGISTERED)


def process(kind: str) -> Process:
    found = processes().get(kind)
    if found is None:
        raise RuntimeError(f"no process {kind!r}")
    return found
