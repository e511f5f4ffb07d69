"""Connecting to PostgreSQL, holding the migration lock, reading the database's revision."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions
import psycopg2.extras
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from migrator import MigratorError
from migrator.settings import database_url, seconds

log = logging.getLogger("migrator")

# libpq blocks signals until a statement ends; waiting in Python instead lets
# Ctrl-C and SIGTERM cancel the running statement, so its transaction rolls
# back at once rather than after the statement has run to its end.
psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)

# Errors that waiting cannot fix (credentials, names, permissions): reported at
# once instead of retried until DB_WAIT_TIMEOUT.
_FINAL_ERRORS = (
    "authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "permission denied",
    "no password supplied",
    "does not support SSL",
)

# Any fixed number works: advisory locks are per database, and only our
# migrators take this one.
MIGRATION_LOCK_ID = 4_242_000_001


def target(url: URL) -> str:
    """What we try to reach, for messages: never the password."""
    return f"{url.host}:{url.port or 5432} (database {url.database}, user {url.username})"


def reason(exc: BaseException) -> str:
    """The database's own words, on one line."""
    words = str(getattr(exc, "orig", None) or exc).strip()
    for prefix in ("FATAL:", "ERROR:"):
        if prefix in words:
            words = words[words.index(prefix) + len(prefix) :]
    return " ".join(words.split())


@contextmanager
def connect(url: URL) -> Iterator[Connection]:
    """One connection for the whole run, waiting up to DB_WAIT_TIMEOUT seconds
    for a database that is still starting."""
    deadline = time.monotonic() + seconds("DB_WAIT_TIMEOUT")
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    next_report = time.monotonic() + 2
    while True:
        try:
            connection = engine.connect()
            break
        except DBAPIError as exc:
            why = reason(exc)
            if any(words in why for words in _FINAL_ERRORS):
                raise MigratorError(f"cannot connect to {target(url)}: {why}") from None
            now = time.monotonic()
            if now >= deadline:
                raise MigratorError(
                    f"database not reachable at {target(url)} within DB_WAIT_TIMEOUT: {why}"
                ) from None
            if now >= next_report:
                log.info("waiting for the database at %s: %s", target(url), why)
                next_report = now + 3
            # Each try is cheap while the server is away or starting (a
            # refused connection, or its one-line "starting up"): trying often
            # lets the migrator in the moment the server is up.
            time.sleep(0.05)
    try:
        yield connection
    finally:
        connection.close()
        engine.dispose()


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the database's migration lock: concurrent migrators (replicas that
    all migrate at start, `--scale migrator=3`) run one after the other, so each
    revision is applied once. A session lock: a crashed migrator's connection
    closes and releases it."""
    timeout = seconds("MIGRATION_LOCK_TIMEOUT")
    deadline = time.monotonic() + timeout
    lock = text("SELECT pg_try_advisory_lock(:id)").bindparams(id=MIGRATION_LOCK_ID)
    waiting = False
    while not connection.scalar(lock):
        if time.monotonic() >= deadline:
            raise MigratorError(
                f"another migrator held the migration lock for more than {timeout:g} s "
                "(MIGRATION_LOCK_TIMEOUT); nothing was changed"
            )
        if not waiting:
            log.info("waiting for another migrator to finish (up to %g s)...", timeout)
            waiting = True
        time.sleep(0.2)
    bound_waits(connection)
    # The lock and the timeouts outlive this commit; Alembic must start its own
    # transactions.
    connection.commit()
    try:
        yield
    finally:
        try:
            connection.rollback()
            connection.execute(
                text("SELECT pg_advisory_unlock(:id)").bindparams(id=MIGRATION_LOCK_ID)
            )
            connection.commit()
        except DBAPIError:
            pass  # a broken connection: closing it releases the lock


def bound_waits(connection: Connection) -> None:
    """The session's lock_timeout and statement_timeout (LOCK_TIMEOUT,
    STATEMENT_TIMEOUT): a migration statement queueing for a table's lock makes
    every later query on that table queue behind it, so it gives up soon and
    is retried (migrator/lockwait.py) rather than stall the application. The
    timeouts rules of .squawk.toml are off because of this."""
    for name in ("lock_timeout", "statement_timeout"):
        milliseconds = round(seconds(name.upper()) * 1000)
        connection.execute(
            text("SELECT set_config(:name, :value, false)").bindparams(
                name=name, value=f"{milliseconds}ms"
            )
        )


@contextmanager
def autocommit(url: URL) -> Iterator[Connection]:
    """connect(), each statement committing by itself (CREATE DATABASE needs it)."""
    with connect(url) as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


# PostgreSQL's own quoting rules: a name is quoted where it must be (capitals,
# reserved words, other characters) and left bare where it reads the same.
PREPARER = postgresql.dialect().identifier_preparer


def quoted(*names: str | None) -> str:
    """Names as one SQL identifier: ``quoted(schema, table)`` is schema-qualified,
    or the bare table when there is no schema."""
    return ".".join(PREPARER.quote(name) for name in names if name)


def create_database(server: Connection, name: str, template: str = "template0") -> None:
    """CREATE DATABASE ``name`` as a copy of ``template``, on an autocommit
    ``server`` session (connected to another database: a template may have no
    other session)."""
    server.execute(text(f"CREATE DATABASE {quoted(name)} TEMPLATE {quoted(template)}"))


def drop_database(server: Connection, name: str) -> None:
    """Drop ``name`` if it exists, ending the sessions still in it."""
    server.execute(text(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)"))


def current_heads() -> tuple[str, ...]:
    """The revisions the configured database is at (empty at base)."""
    with connect(database_url()) as connection:
        return MigrationContext.configure(connection).get_current_heads()
