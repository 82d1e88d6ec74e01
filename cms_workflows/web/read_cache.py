"""The hot reads' answers, kept until the installation changes (bench/web.py).

The installation's version is the head of its audit chain (`audit.queries.head_seq`): every committed change
appends an event in its own transaction (X-1: a unit of work refuses to commit a write without one), and
appenders are serialised, so the head moves with every commit that changed anything, whichever process made it.
An answer is kept under what it depends on: the request (path and query string), the user, their language, the
installation's day, the access control in force and the head, which signing in reads in its statement, before
the read it would replace (so an answer is never older than its key). The next change of any kind, a new day or
another language asks the database again; nothing is ever invalidated by hand.

An answer is kept only after the read's permission was granted, and only a plain 200 (never a refusal or a
validation error). `CMS_WEB_READ_CACHE_MB` bounds the memory (least recently used answers go first; 0: nothing
is kept).

Given on the event loop (SQLite): a request whose token signed in at the installation's current version and has
not expired since, with an answer kept under that version, is answered without a worker thread, without the ORM
and without deciding the permission again. The head is read by SQLite's own driver on a read-only connection
that never waits (`audit.queries.SqliteHead`); the permission needs no second decision because the answer exists
only because it was granted to the same user, for the same route and query, on the same day, under the same
access control and at the same version of the installation, and the decision depends on nothing else. Anything
else (no sign-in known at this version, an expired token, no kept answer, a busy database, PostgreSQL) goes to a
worker thread, which signs in and decides as every request does (`authorization.OneStep`). So a revoked token,
an ended session or an ended assignment takes effect at once: each is a change, and moves the head."""

from __future__ import annotations

import threading
from typing import Any, Callable

from cachetools import LRUCache
from fastapi import Request
from starlette.responses import Response

from cms_workflows.access.control import get_access
from cms_workflows.audit.queries import SqliteHead, head_seq
from cms_workflows.core.i18n import current_locale
from cms_workflows.identity.queries import token_digest
from cms_workflows.web.session import request_token

SIGN_INS_KEPT = 10_000  # tokens known to have signed in at the current version (a few hundred bytes each)


class ReadCache:
    """Answers (body and media type) by (path, query, user, language, day, access control, audit head), within a
    byte budget; and, for the event loop, the tokens that signed in at a version (user, head, expiry)."""

    def __init__(self, max_bytes: int, database=None) -> None:
        self.max_bytes = max_bytes
        self._kept: LRUCache = LRUCache(maxsize=max(max_bytes, 1), getsizeof=lambda kept: len(kept[0]))
        self._signed_in: LRUCache = LRUCache(maxsize=SIGN_INS_KEPT)
        self._lock = threading.Lock()  # the loop and the worker threads share both; cachetools' are not thread-safe
        self._clock = database.clock if database is not None else None
        self._head = SqliteHead.of(database) if database is not None and max_bytes else None

    def __len__(self) -> int:
        return len(self._kept)

    def _key(self, request: Request, username: str, today, head: int) -> tuple:
        return (request.scope["path"], request.scope["query_string"], username, current_locale(), today,
                get_access(), head)

    def answer(self, uow, request: Request, username: str, read: Callable[[], Any]) -> Any:
        """The kept answer to this request as of the installation's current version, else `read()`'s (kept
        when it is a 200 that fits). Call it in the transaction `read` reads in, after the permission."""
        if self.max_bytes == 0:
            return read()
        head = uow.audit_head if uow.audit_head is not None else head_seq(uow)  # signing in read it: no query
        key = self._key(request, username, uow.clock.today(), head)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None:
            answer = Response(kept[0], media_type=kept[1])
        else:
            answer = read()
            if not (isinstance(answer, Response) and answer.status_code == 200 and not answer.background
                    and "set-cookie" not in answer.headers and len(answer.body) <= self.max_bytes):
                return answer
            with self._lock:
                self._kept[key] = (bytes(answer.body), answer.media_type)
        self._note_sign_in(request, username, uow)
        return answer

    def _note_sign_in(self, request: Request, username: str, uow) -> None:
        """The request's token signed in as `username` at the version this unit of work read (for the loop)."""
        if self._head is None or uow.audit_head is None or uow.signed_in_until is None:
            return
        token, _via = request_token(request)
        with self._lock:
            self._signed_in[token_digest(token)] = (username, uow.audit_head, uow.signed_in_until)

    def kept_on_loop(self, request: Request) -> Response | None:
        """The kept answer, if it can be given on the event loop (see the module's docstring); None: the read
        goes to a worker thread."""
        if self._head is None:
            return None
        token, _via = request_token(request)
        if not token:
            return None
        with self._lock:
            signed_in = self._signed_in.get(token_digest(token))
        if signed_in is None:
            return None
        username, head, until = signed_in
        if self._clock.now() >= until or self._head.read() != head:  # expired since, or the installation changed
            return None
        with self._lock:
            kept = self._kept.get(self._key(request, username, self._clock.today(), head))
        return None if kept is None else Response(kept[0], media_type=kept[1])

    def close(self) -> None:
        if self._head is not None:
            self._head.close()


def read_cache(request: Request) -> ReadCache:
    """The app's read cache (`create_app` makes one from the settings)."""
    return request.app.state.read_cache
