"""The stairway that tests/migrations/test_history.py walks over your history
(and tests/toolkit/test_stairway.py over the toolkit's own): every revision
goes up, down and up again from a database exactly at its parents, its schema
read from PostgreSQL's catalogs (migrator/catalog.py) and compared each way.

The history is cut into segments of consecutive revisions, oldest first, one
per test worker and none shorter than SEGMENT_MIN: each segment starts from a
database built up to its first revision's parents, so the segments run side
by side and a long history costs the time of its longest segment, not of the
whole walk. Generic over any history: its ids, file names, branches and
merges."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from itertools import pairwise
from pathlib import Path

from alembic import util
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from migrator import alembic_private, checksums, db
from migrator.catalog import describe, differences
from tests.conftest import create_database, drop_database, workers

BOOKKEEPING = {"alembic_version", checksums.TABLE}


class Fault(Exception):
    """A revision that does not go up, down and up again cleanly."""


def named(revision: Script) -> str:
    """A revision as a failure names it: its id and its message."""
    return f"{revision.revision} ({revision.doc})"


def oldest_first(script: ScriptDirectory) -> list[Script]:
    """Every revision after those it depends on."""
    return list(reversed(list(script.walk_revisions())))


def segments(revisions: list[Script], count: int) -> list[list[Script]]:
    """``revisions`` (oldest first) cut into ``count`` runs of consecutive
    revisions of nearly equal length (fewer if there are fewer revisions; one,
    empty, if there are none)."""
    count = max(1, min(count, len(revisions)))
    cuts = [len(revisions) * k // count for k in range(count + 1)]
    return [revisions[start:end] for start, end in pairwise(cuts)]


# Fewer revisions than this to a segment are walked in fewer segments: each
# segment first builds a database up to its start (a squashed history's first
# revision alone builds every table), which costs more than the few seconds a
# short walk saves by running side by side.
SEGMENT_MIN = 30


def this_runs_segments(revisions: list[Script]) -> list[list[Script]]:
    """``revisions`` cut for this run: a segment per test worker, none shorter
    than SEGMENT_MIN revisions unless the history is."""
    return segments(revisions, min(workers(), len(revisions) // SEGMENT_MIN))


def span(segment: list[Script]) -> str:
    """A segment as a test id names it: its first and last revision."""
    ids = [segment[0].revision, segment[-1].revision] if segment else ["none"]
    return "..".join(dict.fromkeys(ids))


def parents(step: Script) -> set[str]:
    return set(util.to_tuple(step.down_revision, default=()))


def heads_of(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


@contextmanager
def migrating(url: URL, config_file: Path) -> Iterator[Config]:
    """The Alembic config in ``config_file`` on the database at ``url``, run as
    `make upgrade` runs it: each revision in its own transaction,
    autocommit_block() included."""
    engine = create_engine(url)
    config = Config(config_file)
    config.attributes["connection"] = engine
    config.attributes["without_models"] = True
    try:
        yield config
    finally:
        engine.dispose()


class Database:
    """The database a walk is on: created empty, dropped by close(). It keeps
    the schema it last read while nothing else changes the database, so that a
    revision's second upgrade is read once: it is the next revision's start."""

    def __init__(self, admin: Engine, config_file: Path, script: ScriptDirectory) -> None:
        self.admin, self.script = admin, script
        self.url = create_database(admin)
        self.opened = ExitStack()
        self.config = self.opened.enter_context(migrating(self.url, config_file))
        self.engine: Engine = self.config.attributes["connection"]
        self.schema: dict[str, str] | None = None

    def close(self) -> None:
        self.opened.close()
        drop_database(self.admin, self.url)

    def read(self) -> dict[str, str]:
        with self.engine.connect() as connection:
            return describe(connection, leave_out=BOOKKEEPING)

    def upgrade_to(self, revisions: set[str]) -> None:
        """``revisions`` and what they build on, applied (an empty database)."""
        for revision in sorted(revisions):
            alembic_private.move(self.config, self.script, revision, up=True)

    def run(self, what: str, step: Script, target: str) -> None:
        self.schema = None
        try:
            alembic_private.move(self.config, self.script, target, up=what.endswith("upgrade"))
        except Exception as exc:  # the database's words, whatever raised them
            raise Fault(f"{what} of {named(step)} failed: {db.reason(exc)}") from None

    def climb(self, step: Script) -> None:
        """Up, down and up again from the revision's parents, comparing the
        schema each way."""
        before = self.schema or self.read()
        self.run("upgrade", step, step.revision)
        after = self.read()
        # To one parent: a merge comes undone to all of them (heads again).
        self.run("downgrade", step, min(parents(step), default="base"))
        left = differences(before, self.read())
        if left:
            raise Fault(f"downgrade of {named(step)} {'; '.join(left)}")
        self.run("second upgrade", step, step.revision)
        again = self.read()
        differs = differences(after, again)
        if differs:
            raise Fault(f"second upgrade of {named(step)} differs: {'; '.join(differs)}")
        self.schema = again


def walk(
    admin: Engine, config_file: Path, script: ScriptDirectory, segment: list[Script]
) -> list[str]:
    """Every revision of ``segment`` up, down and up again, oldest first; the
    faults, one line each. Each revision starts from a database exactly at its
    parents: in a linear history that is where the one before left it; at the
    segment's start, a branch or a merge, or after a fault, a new database is
    built there. So one run names every fault."""
    faults: list[str] = []
    database: Database | None = None
    try:
        for step in segment:
            if database is not None and heads_of(database.engine) != parents(step):
                database.close()
                database = None
            if database is None:
                database = Database(admin, config_file, script)
                try:
                    database.upgrade_to(parents(step))
                except Exception as exc:  # a parent's own fault, reported with it
                    faults.append(f"{named(step)} not checked: its parents fail: {db.reason(exc)}")
                    database.close()
                    database = None
                    continue
            try:
                database.climb(step)
            except Fault as fault:
                faults.append(str(fault))
                database.close()
                database = None
    finally:
        if database is not None:
            database.close()
    return faults
