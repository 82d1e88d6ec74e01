"""Progress bars for long work (issue 15 item 10): activity imports, calculations, `cms verify`, the demo.

Services know nothing of terminals: they take a callback `on_progress(done, total)` (default: none) and
the command passes the one this module gives. The bar is drawn on stderr and only when stdout is a
terminal, so piped or captured output (scripts, tests) is exactly what it was; it is cleared when the
work ends. Rich is imported only when a bar is asked for.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cms_workflows.core.i18n import t

OnProgress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """The default callback of a service: reports nothing."""


def shown() -> bool:
    """Whether a bar is drawn: stdout and stderr both a terminal."""
    return sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def progress(key: str, total: int | None = None, **params) -> Iterator[OnProgress]:
    """A bar titled with message `key`; yields `on_progress(done, total)` for the service to call."""
    if not shown():
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(t(key, **params), total=total)

        def on_progress(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, **({"total": total} if total is not None else {}))

        yield on_progress
