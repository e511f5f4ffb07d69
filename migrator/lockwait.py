"""Bounded lock waits. The migrating session gives up a lock after LOCK_TIMEOUT
(db.bound_waits), so the queries queued behind a waiting ALTER wait no longer
than that; the revision whose statement gave up rolls back alone (one
transaction per revision), and the run is retried from there after a growing
pause, naming the session it waited for, until LOCK_RETRIES runs out.

The migration lock is released during each pause (each try is a whole Alembic
run): another migrator may go ahead meanwhile, and a stop signal in a pause
leaves no transaction and no lock behind.

A ``CREATE INDEX CONCURRENTLY`` that gave up after creating its index leaves it
INVALID, and its ``IF NOT EXISTS`` would then skip the retry: that index, the
one the failed statement names, is dropped (concurrently) before the retry."""

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from migrator import MigratorError, db, revision_module, shortened
from migrator.settings import database_url, seconds, whole

log = logging.getLogger("migrator")

# PostgreSQL's lock_not_available: lock_timeout (or NOWAIT) gave up the lock.
LOCK_NOT_AVAILABLE = "55P03"

_NAME = r'"[^"]+"|[\w$]+'
_CONCURRENT_INDEX = re.compile(
    rf"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<index>{_NAME})"
    rf"\s+ON\s+(?:ONLY\s+)?(?P<table>(?:{_NAME})(?:\.(?:{_NAME}))?)",
    re.IGNORECASE,
)

# Who holds a lock on which table (not index) of this database, oldest transaction first.
_HOLDERS = text(
    """
    SELECT DISTINCT c.relname, a.pid, a.xact_start,
           extract(epoch FROM now() - coalesce(a.xact_start, a.query_start)), a.query
    FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.granted AND a.pid <> pg_backend_pid() AND a.datname = current_database()
      AND c.relnamespace <> 'pg_catalog'::regnamespace AND c.relkind IN ('r', 'p', 'm', 'f')
    ORDER BY a.xact_start NULLS LAST
    """
)

_INVALID_INDEX = text(
    """
    SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE NOT i.indisvalid AND c.relname = :index AND i.indrelid = to_regclass(:table)
    """
)


# The locks one session holds on relations of this database (raw DBAPI
# paramstyle: `make review` asks from inside the statements it traces).
_RELATION_LOCKS = """
    SELECT relation, mode FROM pg_locks
    WHERE pid = %s AND locktype = 'relation' AND granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def relation_locks(cursor, pid: int) -> set[tuple[int, str]]:
    """(relation oid, mode) of each lock session ``pid`` holds, read on a DBAPI cursor."""
    cursor.execute(_RELATION_LOCKS, (pid,))
    return set(cursor.fetchall())


def retrying(migrate: Callable[[], None]) -> None:
    """``migrate()`` (an Alembic run), run again after each lock timeout."""
    retries, pause = whole("LOCK_RETRIES"), seconds("LOCK_RETRY_PAUSE")
    if retries < 0 or pause < 0:
        raise MigratorError("LOCK_RETRIES and LOCK_RETRY_PAUSE must be 0 or more")
    invalid: tuple[str, str] | None = None
    revision = "the upgrade"
    for attempt in range(1, retries + 2):
        try:
            if invalid is not None:
                drop_invalid_index(*invalid)
                invalid = None
            migrate()
            return
        except DBAPIError as exc:
            if getattr(exc.orig, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            revision = failed_revision(exc) or revision
            invalid = invalid or concurrent_index(exc.statement)
            blocker = blocked_by(exc.statement)
            if attempt > retries:
                raise MigratorError(
                    f"{revision} gave up after {retries} retries waiting for {blocker}; "
                    + left(exc, invalid)
                ) from None
        delay = pause * attempt
        log.info("waiting for %s; retry %d/%d in %g s", blocker, attempt, retries, delay)
        time.sleep(delay)


def failed_revision(exc: BaseException) -> str | None:
    found = revision_module(exc)
    if found is None:
        return None
    title = "".join((found.get("__doc__") or "").strip().splitlines()[:1])
    return f"revision {found['revision']} ({title})"


def concurrent_index(statement: str | None) -> tuple[str, str] | None:
    """(index, table) when ``statement`` builds an index concurrently."""
    match = _CONCURRENT_INDEX.search(statement or "")
    if match is None:
        return None
    index = match["index"]
    return (index[1:-1] if index.startswith('"') else index.lower()), match["table"]


def drop_invalid_index(index: str, table: str) -> None:
    """Drop ``index`` on ``table`` if a failed concurrent build left it INVALID,
    under the migration lock (another migrator's build in progress is INVALID
    too) and the same bounded waits."""
    with db.connect(database_url()) as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        with db.migration_lock(autocommit):
            found = autocommit.scalar(_INVALID_INDEX, {"index": index, "table": table})
            if found is not None:
                autocommit.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {found}"))
                log.info(
                    "dropped the INVALID index %s a failed build left, to build it again", found
                )


def left(exc: BaseException, invalid: tuple[str, str] | None) -> str:
    """What the failed revision left behind: nothing, when its transaction rolled
    back, but an autocommit block's statements commit one by one."""
    if invalid is not None:
        try:
            drop_invalid_index(*invalid)
        except DBAPIError:
            return (
                f"its failed index build left the INVALID index {invalid[0]}: run "
                f"DROP INDEX CONCURRENTLY {invalid[0]} before the next upgrade"
            )
    found = revision_module(exc)
    if found and "autocommit_block" in Path(found["__file__"]).read_text():
        return "what its autocommit block ran before this stays committed (and runs again)"
    return "nothing of it was applied"


def blocked_by(statement: str | None) -> str:
    """'a lock on TABLE: pid N, running S s: QUERY…', the session holding a lock
    on a table the statement names (else the oldest one holding any)."""
    with db.connect(database_url()) as connection:
        holders = connection.execute(_HOLDERS).all()
    named = [h for h in holders if mentions(statement or "", h[0])]
    if not (named or holders):
        return "a lock (its holder has finished since)"
    relation, pid, _, age, query = (named or holders)[0]
    return f"a lock on {relation}: pid {pid}, running {age:.0f} s: {shortened(query, 60)}"


def mentions(statement: str, name: str) -> bool:
    word = rf"(?<![\w$]){re.escape(name)}(?![\w$])"
    return re.search(word, statement, re.IGNORECASE) is not None
