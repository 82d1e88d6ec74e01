"""The unit of work: one command's transaction and everything a service needs besides the database.

A CLI command, a web request and a Prefect task all build it the same way,
`database.unit_of_work()` (or `database.read()` for queries), and pass it to the services.
It is a SQLModel session (services query through it) that also carries, as declared
attributes rather than a bag of `info` keys:

- `settings`, `clock` (one time zone for every recorded date), `files` (the content-addressed
  store joined to this transaction);
- the audit chain head this transaction has written (`chain_head`) and how many events it
  appended (`events`), kept by `cms_workflows.audit`;
- the access decisions cached for this transaction (`access_tables`, `org_version`,
  `org_changed`), kept by `cms_workflows.access` and invalidated by `org_changed()`;
- the audit chain's head as signing in read it (`audit_head`), which the web app's kept answers are keyed by,
  and when the token it accepted expires (`signed_in_until`).

A writing unit refuses to commit a change that has no audit event (X-1): every ORM flush
and every INSERT/UPDATE/DELETE executed through it is noted, and `commit()` raises
`UnauditedWrite` if there were writes but no event. That is a programming error, not a
user's mistake, so it is not a CmsError.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from cms_workflows.core.columns import check_flushed
from cms_workflows.core.filestore import StoredFile, sha256_bytes

# Tables written without an event of their own: the trail itself.
UNAUDITED_TABLES = frozenset({"audit_event"})


class UnauditedWrite(RuntimeError):
    """A unit of work changed data without appending an audit event."""


class UnitOfWork(Session):
    def __init__(self, database, *, bind) -> None:  # database: core.db.Database
        super().__init__(bind, expire_on_commit=False)
        self.database = database
        self.settings = database.settings
        self.clock = database.clock
        self.files = TransactionFiles(self)
        self.chain_head: tuple[int, str] | None = None  # (seq, hash) last appended in this transaction
        self.events = 0
        self.writes: list[str] = []  # what was written, for the UnauditedWrite message
        self.access_tables: dict[str, Any] = {}
        self.org_version: int | None = None
        self.org_changed_here = False
        self.audit_head: int | None = None  # the audit chain's head as signing in read it (web/read_cache.py)
        self.signed_in_until: datetime | None = None  # when the token signing in accepted expires (the same)

    def org_changed(self) -> None:
        """Org data changed in this transaction: later decisions in it must see the change."""
        self.org_changed_here = True
        self.org_version = None
        self.access_tables.clear()

    def check_audited(self) -> None:
        if self.writes and not self.events:
            raise UnauditedWrite(f"unit of work wrote {sorted(set(self.writes))} without an audit event")


@event.listens_for(UnitOfWork, "before_flush")
def _note_flushed_writes(session: UnitOfWork, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", type(obj).__name__)
        if table not in UNAUDITED_TABLES and (obj not in session.dirty or session.is_modified(obj)):
            session.writes.append(table)


@event.listens_for(UnitOfWork, "before_flush")
def _check_text_columns(session: UnitOfWork, _context, _instances) -> None:
    # lengths and characters checked here, so SQLite and PostgreSQL refuse the same values the same way
    check_flushed(session)


@event.listens_for(UnitOfWork, "do_orm_execute")
def _note_executed_writes(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", str(table))
        if name not in UNAUDITED_TABLES:
            state.session.writes.append(name)


@event.listens_for(UnitOfWork, "before_commit")
def _refuse_unaudited(session: UnitOfWork) -> None:
    session.flush()
    session.check_audited()


class TransactionFiles:
    """The file store as one transaction sees it.

    A file put here is written at once (the command may need to read or hash it), but it
    belongs to the transaction: if the transaction rolls back, files it created are removed;
    after a commit, each file it put is checked to be present (another transaction that
    created the same bytes may have rolled back and removed them in between) and written
    again from memory if not.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.store = uow.database.files
        self.created: dict[str, bytes] = {}
        self.put_here: dict[str, bytes] = {}

    def put(self, data: bytes) -> StoredFile:
        digest = sha256_bytes(data)
        existed = self.store.exists(digest)
        stored = self.store.put(data)
        self.put_here[digest] = data
        if not existed:
            self.created[digest] = data
        return stored

    def get(self, sha256: str) -> bytes:
        return self.store.get(sha256)

    def exists(self, sha256: str) -> bool:
        return self.store.exists(sha256)

    def path_for(self, sha256: str):
        return self.store.path_for(sha256)

    def committed(self) -> None:
        for digest, data in self.put_here.items():
            if not self.store.exists(digest):
                self.store.put(data)
        self.created.clear()
        self.put_here.clear()

    def rolled_back(self) -> None:
        for digest in self.created:
            self.store.remove(digest)
        self.created.clear()
        self.put_here.clear()
