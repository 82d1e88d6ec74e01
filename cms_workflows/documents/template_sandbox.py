"""The Jinja environment Word templates render in: a sandbox in which a template reads data and nothing else
(X-4, R-7.5; issue 14 item 2).

A company template is a file a person uploads; rendered with a plain Jinja environment, one line such
as `{{ cycler.__init__.__globals__.os.popen('id').read() }}` ran a shell command in the process that
holds the database credentials and the audit key. Here:

- `jinja2.sandbox.ImmutableSandboxedEnvironment` refuses attributes starting with `_` and the
  internals of functions, frames and code, and any call that would change a list, dict or set;
- no filters (the project's templates use none: variables, attribute access, `for` and `if` only,
  checked in tests/documents/test_template_sandbox.py), so a filter is a template error;
- Jinja's default globals (range, dict, lipsum, cycler, joiner, namespace) are withheld: each name
  is bound to an object that refuses every use, so it is reported as unsafe, not as missing data;
- a template calls nothing but its own macros and the loop's helpers (`loop.cycle`), so no method
  of the data (`str.format`, `ljust` …) is reachable;
- `*`, `**` and `%` are checked when run (and never folded while compiling): no repeating strings or
  lists, no string formatting, no powers — ways to fill the memory with one short expression;
- `include`, `import` and `extends` find nothing: the loader is empty.

Whatever a template tries ends in the error `documents.template_unsafe`: raised here for what this module
refuses, turned into it by `rendering.render` for Jinja's own `SecurityError`.
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.i18n import Message

# The filters the project's templates use (document_templates/*.docx): none. Add one here only with a test.
TEMPLATE_FILTERS: dict[str, Any] = {}


def _unsafe(reason: Message) -> ValidationFailed:
    # a template is input like any upload: an unsafe one is refused with the same key rendering gives Jinja's own refusals
    return ValidationFailed("documents.template_unsafe", reason=reason)


class Withheld:
    """A Jinja default global taken away: any use of it (print, call, attribute, item, loop, test of truth)
    is refused as unsafe."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def _refuse(self, *_args, **_kwargs):
        raise _unsafe(Message("documents.template_unsafe_reason.withheld", name=self.name))

    __call__ = __getattr__ = __getitem__ = __iter__ = __str__ = __html__ = __bool__ = __len__ = _refuse

    def __repr__(self) -> str:
        return f"<withheld {self.name}>"


class DocumentSandbox(ImmutableSandboxedEnvironment):
    """See the module's docstring."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=True, loader=jinja2.DictLoader({}))
        self.filters = dict(TEMPLATE_FILTERS)
        self.globals = {name: Withheld(name) for name in DEFAULT_NAMESPACE}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Withheld):  # name the withheld global, not the attribute asked of it
            obj._refuse()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Withheld):
            obj._refuse()
        return super().getitem(obj, argument)

    def is_safe_callable(self, obj: Any) -> bool:
        return isinstance(obj, Macro) or (isinstance(getattr(obj, "__self__", None), LoopContext)
                                          and super().is_safe_callable(obj))

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        sequences = (str, bytes, list, tuple)
        if operator == "**" or (operator == "%" and isinstance(left, (str, bytes))) or (
                operator == "*" and (isinstance(left, sequences) or isinstance(right, sequences))):
            raise _unsafe(Message("documents.template_unsafe_reason.operator", operator=operator))
        return super().call_binop(context, operator, left, right)


def environment() -> DocumentSandbox:
    return DocumentSandbox()
