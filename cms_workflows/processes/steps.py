"""The human steps of every process (issue 11, 12): the commands of the processes' service modules
(`processes.<kind>.<step>`, e.g. `plan`, `evaluate`, `record_finding`), their fields (the commands' own
parameters) and how given values become the parameters' types (dates as YYYY-MM-DD, lists as a,b,c or JSON,
mappings and lists of mappings as JSON). One table for both interfaces: `cms cases steps|open|do`
(cli/cases.py) and the web's step forms (web/cases.py). The command itself validates, authorizes and
records, exactly as when the demo or a form calls it.
"""

from __future__ import annotations

import inspect
import json
import typing
from functools import lru_cache

from cms_workflows.core.errors import NotFound, ValidationFailed, problem
from cms_workflows.core.text import shown

OPEN = "open"


@lru_cache(maxsize=1)
def steps() -> dict[str, dict[str, typing.Callable]]:
    """kind -> step -> command, from the processes' modules (what `processes.registry` lists)."""
    import importlib

    from cms_workflows.audit.commands import declared_commands
    from cms_workflows.processes.registry import MODULES, processes

    kinds = set(processes())
    found: dict[str, dict[str, typing.Callable]] = {k: {} for k in kinds}
    for fn in declared_commands(*(importlib.import_module(m) for m in MODULES)).values():
        _domain, kind, verb = fn.command.event.split(".")
        if kind in found:
            found[kind][verb] = fn
    return found


def step_of(kind: str, verb: str) -> typing.Callable:
    known = steps()
    if kind not in known:
        raise NotFound("cli.cases.unknown_kind", kind=shown(kind), known=", ".join(sorted(known)))
    if verb not in known[kind]:
        raise NotFound("cli.cases.unknown_step", step=shown(verb), kind=kind, known=", ".join(sorted(known[kind])))
    return known[kind][verb]


def fields_of(fn) -> dict[str, inspect.Parameter]:
    """The fields a user gives: the body's parameters after `cmd` (and the case number, given apart)."""
    params = list(inspect.signature(fn.__wrapped__).parameters.values())[1:]
    return {p.name: p for p in params if p.name != "number" and p.kind is not p.VAR_KEYWORD}


def _hints(fn) -> dict:
    return typing.get_type_hints(fn.__wrapped__)


def _convert(name: str, raw: str, hint):
    from pydantic import TypeAdapter, ValidationError

    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        hint, origin = args[0], typing.get_origin(args[0])
    value: object = raw
    try:
        if "bytes" in str(hint):  # a file: FIELD=PATH, given to the command as (name, content)
            from pathlib import Path

            path = Path(raw)
            return (path.name, path.read_bytes())
        if origin in (list, tuple, dict) or hint in (list, dict):
            text = raw.strip()
            value = json.loads(text) if text[:1] in "[{" else [v.strip() for v in text.split(",") if v.strip()]
        return TypeAdapter(hint).validate_python(value)
    except OSError as exc:
        raise ValidationFailed("cli.cases.bad_fields", problems=[
            problem(name, "cli.cases.unreadable_file", path=shown(raw), reason=exc.strerror or str(exc))]) from None
    except (ValidationError, ValueError, TypeError):
        raise ValidationFailed("cli.cases.bad_fields", problems=[
            problem(name, "cli.cases.bad_value", value=shown(raw))]) from None


def arguments(fn, pairs: list[str]) -> dict:
    """FIELD=VALUE pairs as the command's keyword arguments, every problem reported at once by field."""
    fields, hints, found, values = fields_of(fn), _hints(fn), [], {}
    extra = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn.__wrapped__).parameters.values())
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            found.append(problem("FIELD=VALUE", "cli.cases.bad_pair", value=shown(pair)))
        elif name not in fields and not extra:
            found.append(problem(name, "cli.cases.unknown_field", known=", ".join(fields)))
        else:
            try:
                values[name] = _convert(name, raw, hints.get(name, str)) if name in fields else raw
            except ValidationFailed as exc:
                found += exc.problems
    for name, param in fields.items():
        if param.default is param.empty and name not in values:
            found.append(problem(name, "cli.cases.missing_field"))
    if found:
        raise ValidationFailed("cli.cases.bad_fields", problems=found)
    return values


def describe(fn) -> list[tuple[str, str, bool]]:
    """(field, type, required) of a step, for `cms cases steps`."""
    hints = _hints(fn)
    return [(name, _type_name(hints.get(name, str)), p.default is p.empty) for name, p in fields_of(fn).items()]


def _type_name(hint) -> str:
    """How a value of the field is typed on the command line."""
    text = str(hint).replace("typing.", "").replace(" | None", "").replace("Optional[", "")
    if "bytes" in text:
        return "PATH"
    if text.startswith(("list[dict", "dict")):
        return "JSON"
    if text.startswith("list"):
        return "a,b,…"
    if "date" in text:
        return "YYYY-MM-DD"
    return getattr(hint, "__name__", None) or text
