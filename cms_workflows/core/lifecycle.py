"""Lifecycles as declared tables: states, transitions and the command each transition belongs to.

Each domain declares its lifecycles in its `states.py`; services ask the table instead of comparing
status strings (`LIFECYCLE.check(state, "submit")` returns the target state or raises a clear
InvalidTransition naming the state in the reader's language). `docs/lifecycles.md` shows every
table as a Mermaid diagram generated from it (`tools/lifecycles.py`; a test keeps it current).
A plain table rather than a state-machine library: our objects are database rows moved by
commands inside a unit of work, and a library's object-bound machines would add a second
source of truth for the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cms_workflows.core.errors import InvalidTransition
from cms_workflows.core.i18n import Message


@dataclass(frozen=True)
class Transition:
    command: str
    sources: tuple[str, ...]
    target: str


class Lifecycle:
    def __init__(self, name: str, states: type[StrEnum], initial: str, transitions: list[tuple[str, tuple | str, str]],
                 *, label_prefix: str) -> None:
        """`transitions`: (command, source state or states, target state); `label_prefix` + state is the
        message key naming a state."""
        self.name = name
        self.states = states
        self.initial = states(initial)
        self.label_prefix = label_prefix
        self.transitions: list[Transition] = []
        for command, sources, target in transitions:
            sources = (sources,) if isinstance(sources, str) else tuple(sources)
            for state in (*sources, target):
                states(state)  # an unknown state is a programming error, caught at import
            self.transitions.append(Transition(command, tuple(states(s) for s in sources), states(target)))
        self._targets = {(s, t.command): t.target for t in self.transitions for s in t.sources}

    def commands(self) -> set[str]:
        return {t.command for t in self.transitions}

    def allows(self, state: str, command: str) -> bool:
        return (state, command) in self._targets

    def target(self, state: str, command: str) -> str:
        """The state `command` leads to from `state`, or InvalidTransition."""
        if command not in self.commands():
            raise RuntimeError(f"{self.name}: no command {command!r}")
        try:
            return self._targets[(state, command)]
        except KeyError:
            raise InvalidTransition("error.invalid_transition", action=self.command_label(command),
                                    state=self.label(state)) from None

    def sources(self, command: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for t in self.transitions if t.command == command for s in t.sources))

    def label(self, state: str) -> Message:
        """The state's name, translated when the message naming it is shown."""
        return Message(f"{self.label_prefix}{state}")

    def command_label(self, command: str) -> Message:
        return Message(f"lifecycle.command.{command}")

    def mermaid(self) -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for t in self.transitions:
            for source in t.sources:
                lines.append(f"    {source.value} --> {t.target.value}: {t.command}")
        return "\n".join(lines)
