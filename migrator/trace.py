"""`make review`'s tracer: each statement a revision sends, as it runs, with
the locks it took, the relations it rewrote, the columns and tables it
dropped, how long it ran and how long its locks stayed held.

It listens to SQLAlchemy's cursor events on the one connection the upgrade
runs on. A statement is the revision's when a revision file's code is on the
Python stack as it is sent; the rest (the migration lock, the session's
settings, alembic_version, alembic_checksums) is the migrator's bookkeeping,
left out. Right before and after each statement the tracer asks the same
session, on the raw DBAPI connection (no event sees it, and what it reads is
inside the revision's transaction):

- its locks on relations (pg_locks, lockwait.relation_locks): those the
  statement added, on relations that existed before it; a lock the revision
  already held from an earlier statement stays on that statement;
- each relation's pg_class.relfilenode: a changed one is a rewrite;
- before a statement that may drop data, the non-null values of every column
  of each table it names; after it, which columns became attisdropped and
  which tables are gone (by their number, not their name: a rename is no loss).

The locks of a statement in a transaction are held until that transaction
commits (held_ms). In an autocommit block each statement commits by itself,
so its locks are gone when it ends: a second session watches pg_locks while
it runs; if it saw none (a statement faster than its polls), a concurrent
index build is given the lock PostgreSQL's documentation states for it.

The tracer's own queries take time inside the revision's transaction: it is
taken out of every figure."""

import re
import sys
import threading
import time
from dataclasses import dataclass, field

from psycopg2.extensions import quote_ident
from sqlalchemy import Connection, event

from migrator import catalog, checksums, lockwait

# PostgreSQL's table-level lock modes, weakest first, and which modes each
# conflicts with (the documentation's "Conflicting Lock Modes" table).
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
CONFLICTS = {
    "AccessShareLock": MODES[7:],
    "RowShareLock": MODES[6:],
    "RowExclusiveLock": MODES[4:],
    "ShareUpdateExclusiveLock": MODES[3:],
    "ShareLock": (MODES[2], MODES[3], *MODES[5:]),
    "ShareRowExclusiveLock": MODES[2:],
    "ExclusiveLock": MODES[1:],
    "AccessExclusiveLock": MODES,
}
# What a lock blocks of ordinary statements: SELECT takes AccessShareLock,
# INSERT, UPDATE and DELETE take RowExclusiveLock.
BLOCKS = ("nothing", "writes", "reads and writes")


def blocks(mode: str) -> str:
    conflicts = CONFLICTS.get(mode, ())
    if "AccessShareLock" in conflicts:
        return BLOCKS[2]
    return BLOCKS[1] if "RowExclusiveLock" in conflicts else BLOCKS[0]


# The application's relations (tables, indexes, materialized views), the
# migrations' bookkeeping tables and their indexes left out. ``name`` as the
# catalog reader writes it (its schemas, its prefix), ``qualified`` for SQL.
_RELATIONS = (
    catalog.SCHEMAS
    + f"""
SELECT c.oid, ns.prefix || c.relname, c.oid::regclass::text, c.relfilenode, c.relkind
FROM pg_class c
JOIN ns ON ns.oid = c.relnamespace
LEFT JOIN pg_index x ON x.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = x.indrelid
WHERE c.relkind IN ('r', 'p', 'i', 'I', 'm')
  AND coalesce(t.relname, c.relname) NOT IN ('alembic_version', '{checksums.TABLE}')
"""
)
_COLUMNS = """
SELECT attrelid, attnum, attname, attisdropped FROM pg_attribute
WHERE attrelid = ANY(%s) AND attnum > 0
"""
# Statements that may drop something: checked after they ran. Those that may
# drop a column or a table have the values of the tables they name counted first.
_MAY_DROP = re.compile(r"\bDROP\b", re.IGNORECASE)
_NOT_DATA = r"CONSTRAINT|DEFAULT|NOT\s+NULL|INDEX|IDENTITY|EXPRESSION|TRIGGER|POLICY|VIEW"
_MAY_DROP_DATA = re.compile(rf"\bDROP\b(?!\s+(?:{_NOT_DATA})\b)", re.IGNORECASE)
# Between two looks at pg_locks from the watching session.
POLL = 0.002


@dataclass(frozen=True)
class Relation:
    name: str
    qualified: str
    filenode: int
    kind: str


@dataclass
class Statement:
    revision: str
    sql: str
    autocommit: bool
    started: float = 0.0
    ms: float = 0.0
    held_ms: float | None = None
    locks: list[tuple[str, str]] = field(default_factory=list)  # (relation, mode)
    documented: bool = False  # the locks are the documentation's, none was seen
    rewrites: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str, int | None]] = field(default_factory=list)  # kind, name, values
    probed: float = 0.0  # the tracer's own time when the statement started

    @property
    def blocks(self) -> str:
        return max((blocks(mode) for _, mode in self.locks), key=BLOCKS.index, default=BLOCKS[0])

    @property
    def strongest(self) -> tuple[str, str] | None:
        return max(self.locks, key=lambda lock: MODES.index(lock[1]), default=None)


def revision_on_stack() -> str | None:
    """The revision whose file's code is running, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        found = frame.f_globals
        if "down_revision" in found and isinstance(found.get("revision"), str):
            return found["revision"]
        frame = frame.f_back
    return None


def relations(cursor) -> dict[int, Relation]:
    cursor.execute(_RELATIONS)
    return {oid: Relation(*rest) for oid, *rest in cursor.fetchall()}


class Watcher:
    """A second session polling pg_locks for the traced one while an
    autocommit statement runs: its locks are gone once it ends."""

    def __init__(self, cursor, pid: int):
        self.cursor, self.pid, self.seen = cursor, pid, set()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self) -> None:
        while True:
            self.seen |= lockwait.relation_locks(self.cursor, self.pid)
            if self.done.wait(POLL):
                return

    def stop(self) -> set[tuple[int, str]]:
        self.done.set()
        self.thread.join()
        return self.seen


class Tracer:
    """Traces the revisions' statements on ``connection``; ``watching`` is a
    second session on the same database, in autocommit."""

    def __init__(self, connection: Connection, watching: Connection):
        self.connection = connection
        self.pid = connection.connection.dbapi_connection.get_backend_pid()
        self.watch_cursor = watching.connection.dbapi_connection.cursor()
        self.statements: list[Statement] = []
        self.failed: Statement | None = None
        self.probing = 0.0  # seconds the tracer's own queries took, in all
        self.values: dict[str, int] = {}  # "table" (rows) or "table.column", counted before a drop
        self._pending: tuple[Statement, dict, set, dict, Watcher | None] | None = None
        self._open: list[Statement] = []  # in the transaction, its locks held until commit
        self._listeners = {
            "before_cursor_execute": self.before,
            "after_cursor_execute": self.after,
            "handle_error": self.error,
            "commit": self.commit,
            "rollback": self.rollback,
        }

    def __enter__(self) -> "Tracer":
        for name, listener in self._listeners.items():
            event.listen(self.target(name), name, listener)
        return self

    def target(self, name: str):
        # SQLAlchemy takes handle_error only on a whole Engine (the copy's own).
        return self.connection.engine if name == "handle_error" else self.connection

    def __exit__(self, *exc) -> None:
        for name, listener in self._listeners.items():
            event.remove(self.target(name), name, listener)
        if self._pending is not None and self._pending[4] is not None:
            self._pending[4].stop()

    # ---- the events ------------------------------------------------------------

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        revision = revision_on_stack()
        if revision is None:
            return
        start = time.perf_counter()
        raw = cursor.connection
        traced = Statement(revision, statement, autocommit=raw.autocommit)
        with raw.cursor() as probe:
            before = relations(probe)
            columns = self.columns(probe, before) if _MAY_DROP.search(statement) else {}
            if _MAY_DROP_DATA.search(statement):
                self.count_values(probe, statement, before)
            # After the counting, whose own AccessShareLocks are not the statement's.
            held = set() if traced.autocommit else lockwait.relation_locks(probe, self.pid)
        watcher = Watcher(self.watch_cursor, self.pid) if traced.autocommit else None
        self.probing += time.perf_counter() - start
        traced.probed = self.probing
        self._pending = (traced, before, held, columns, watcher)
        traced.started = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self._pending is None:
            return
        end = time.perf_counter()
        traced, before, held, columns, watcher = self._pending
        self._pending = None
        traced.ms = (end - traced.started) * 1000
        with cursor.connection.cursor() as probe:
            if watcher is not None:
                locks = watcher.stop()
            else:
                locks = lockwait.relation_locks(probe, self.pid) - held
            after = relations(probe)
            if columns:
                traced.dropped = self.drops(probe, before, after, columns)
        traced.locks = sorted({(before[oid].name, mode) for oid, mode in locks if oid in before})
        if traced.autocommit and not traced.locks:
            traced.locks, traced.documented = documented_locks(statement), True
        traced.rewrites = sorted(
            relation.name
            for oid, relation in before.items()
            if oid in after and after[oid].filenode != relation.filenode
        )
        self.statements.append(traced)
        if traced.autocommit:
            traced.held_ms = traced.ms if traced.locks else None
        else:
            self._open.append(traced)
        self.probing += time.perf_counter() - end

    def error(self, context) -> None:
        if self._pending is not None:
            traced, *_, watcher = self._pending
            if watcher is not None:
                watcher.stop()
            self.failed, self._pending = traced, None

    def commit(self, conn) -> None:
        now = time.perf_counter()
        for traced in self._open:
            if traced.locks:
                held = (now - traced.started) - (self.probing - traced.probed)
                traced.held_ms = held * 1000
        self._open = []

    def rollback(self, conn) -> None:
        self._open = []

    # ---- what may be dropped ------------------------------------------------------

    def columns(self, cursor, before: dict[int, Relation]) -> dict[tuple[int, int], str]:
        """{(table, number): "table.column"} of every live column."""
        tables = [oid for oid, relation in before.items() if relation.kind in "rpm"]
        cursor.execute(_COLUMNS, (tables,))
        return {
            (table, number): f"{before[table].name}.{name}"
            for table, number, name, dropped in cursor.fetchall()
            if not dropped
        }

    def count_values(self, cursor, statement: str, before: dict[int, Relation]) -> None:
        """Rows and non-null values of each table the statement names, in one scan each."""
        for oid, relation in before.items():
            bare = relation.name.rsplit(".", 1)[-1]
            if relation.kind not in "rp" or not lockwait.mentions(statement, bare):
                continue
            names = [name for (table, _), name in self.columns(cursor, {oid: relation}).items()]
            counted = "".join(
                f", count({quote_ident(name.rsplit('.', 1)[-1], cursor)})" for name in names
            )
            cursor.execute(f"SELECT count(*){counted} FROM {relation.qualified}")
            rows, *values = cursor.fetchone()
            self.values[relation.name] = rows
            self.values.update(zip(names, values, strict=True))

    def drops(self, cursor, before, after, columns) -> list[tuple[str, str, int | None]]:
        """The tables gone and the columns dropped from tables still there."""
        gone = [
            oid for oid, relation in before.items() if relation.kind in "rp" and oid not in after
        ]
        lost = [("table", before[oid].name, self.values.get(before[oid].name)) for oid in gone]
        now = self.columns(cursor, after)
        lost += [
            ("column", name, self.values.get(name))
            for (table, number), name in columns.items()
            if table in after and (table, number) not in now
        ]
        return lost


def documented_locks(statement: str) -> list[tuple[str, str]]:
    """The locks PostgreSQL's documentation gives a statement that commits by
    itself: CREATE INDEX CONCURRENTLY holds SHARE UPDATE EXCLUSIVE on its table."""
    index = lockwait.concurrent_index(statement)
    # The table as the catalog reader names it: no quotes.
    return [(index[1].replace('"', ""), "ShareUpdateExclusiveLock")] if index else []
