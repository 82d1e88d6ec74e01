"""The hot reads' answers, kept until the installation changes (bench/web.py).

The installation's version is the head of its audit chain (`audit.queries.head_seq`): every committed change
appends an event in its own transaction (X-1: a unit of work refuses to commit a write without one), and
appenders are serialised, so the head moves with every commit that changed anything. An answer is kept under
what it depends on: the request (path and query string), the user, their language, the installation's day
and the head, which signing in reads in its statement, before the read it would replace (so an answer is never
older than its key). The next change of any kind, a new day or another language asks the database again;
nothing is ever invalidated by hand.

Only the read after the permission is kept: signing in and the route's permission are decided on every
request first, so a revoked token, an ended session or an ended assignment takes effect at once. An answer
that is not a plain 200 (a refusal, a validation error) is never kept. `CMS_WEB_READ_CACHE_MB` bounds the
memory (least recently used answers go first; 0: nothing is kept)."""

from __future__ import annotations

import threading
from typing import Any, Callable

from cachetools import LRUCache
from fastapi import Request
from starlette.responses import Response

from cms_workflows.audit.queries import head_seq
from cms_workflows.core.i18n import current_locale


class ReadCache:
    """Answers (body and media type) by (path, query, user, language, day, audit head), within a byte budget."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._kept: LRUCache = LRUCache(maxsize=max(max_bytes, 1), getsizeof=lambda kept: len(kept[0]))
        self._lock = threading.Lock()  # the worker threads share it; cachetools' caches are not thread-safe

    def __len__(self) -> int:
        return len(self._kept)

    def answer(self, uow, request: Request, username: str, read: Callable[[], Any]) -> Any:
        """The kept answer to this request as of the installation's current version, else `read()`'s (kept
        when it is a 200 that fits). Call it in the transaction `read` reads in, after the permission."""
        if self.max_bytes == 0:
            return read()
        head = uow.audit_head if uow.audit_head is not None else head_seq(uow)  # signing in read it: no query
        key = (request.scope["path"], request.scope["query_string"], username, current_locale(), uow.clock.today(),
               head)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None:
            return Response(kept[0], media_type=kept[1])
        answer = read()
        if isinstance(answer, Response) and answer.status_code == 200 and not answer.background \
                and "set-cookie" not in answer.headers and len(answer.body) <= self.max_bytes:
            with self._lock:
                self._kept[key] = (bytes(answer.body), answer.media_type)
        return answer


def read_cache(request: Request) -> ReadCache:
    """The app's read cache (`create_app` makes one from the settings)."""
    return request.app.state.read_cache
