"""Your migrations, whatever their number, ids, branches or tables: each is
proved on a real PostgreSQL. A failure names the revision (id and message) and
what differs."""

import pytest
from alembic import command, util
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from migrator import checksums, db, erd, schema
from migrator.catalog import describe, differences
from migrator.settings import PROJECT_ROOT, models_metadata
from tests.conftest import create_database, drop_database
from tests.helpers import run_migrator
from tests.migrations.conftest import SCRIPT, migrating, named

# Oldest first: every revision comes after those it depends on.
REVISIONS = list(reversed(list(SCRIPT.walk_revisions())))
BOOKKEEPING = {"alembic_version", checksums.TABLE}


def schema_of(config) -> dict[str, str]:
    """The schema of the database ``config`` migrates (see migrating())."""
    with config.attributes["connection"].connect() as connection:
        return describe(connection, leave_out=BOOKKEEPING)


class Fault(Exception):
    """A revision that does not go up, down and up again cleanly."""


def move(config, target: str, up: bool) -> None:
    """Alembic's command.upgrade or command.downgrade, on the history read once
    (SCRIPT): each command would read every revision file again, a quarter of
    the stairway's time at 50 revisions."""

    def steps(rev, context):
        return SCRIPT._upgrade_revs(target, rev) if up else SCRIPT._downgrade_revs(target, rev)

    with EnvironmentContext(config, SCRIPT, fn=steps, destination_rev=target):
        SCRIPT.run_env()


def run(what: str, step, config, target: str) -> None:
    try:
        move(config, target, up=what.endswith("upgrade"))
    except Exception as exc:  # the database's words, whatever raised them
        raise Fault(f"{what} of {named(step)} failed: {db.reason(exc)}") from None


def heads_of(url: URL) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        heads = set(MigrationContext.configure(connection).get_current_heads())
    engine.dispose()
    return heads


def parents(step) -> set[str]:
    return set(util.to_tuple(step.down_revision, default=()))


def climb(url: URL, step) -> None:
    """Up, down and up again from a database exactly at the revision's parents,
    comparing the schema each way."""
    with migrating(url) as config:
        before = schema_of(config)
        run("upgrade", step, config, step.revision)
        after = schema_of(config)
        # To one parent: a merge comes undone to all of them (heads again).
        run("downgrade", step, config, min(parents(step), default="base"))
        left = differences(before, schema_of(config))
        if left:
            raise Fault(f"downgrade of {named(step)} {'; '.join(left)}")
        run("second upgrade", step, config, step.revision)
        again = differences(after, schema_of(config))
        if again:
            raise Fault(f"second upgrade of {named(step)} differs: {'; '.join(again)}")


def database_at(admin: Engine, revisions: set[str]) -> URL:
    """A new database with ``revisions`` (and what they build on) applied."""
    url = create_database(admin)
    with migrating(url) as config:
        for revision in sorted(revisions):
            move(config, revision, up=True)
    return url


def test_there_is_exactly_one_head_or_no_revision_yet():
    heads = [named(SCRIPT.get_revision(head)) for head in SCRIPT.get_heads()]
    assert len(heads) <= 1, f"{len(heads)} heads: {', '.join(heads)}; join them with make merge"


def test_stairway_every_revision_goes_up_down_and_up_again(admin):
    """One database walks the whole history, oldest first. Each revision starts
    from a database exactly at its parents: in a linear history that is where
    the one before left it; at a branch or a merge, or after a fault, a
    database is built there. So one run names every fault."""
    url, faults = create_database(admin), []
    try:
        for step in REVISIONS:
            if heads_of(url) != parents(step):
                drop_database(admin, url)
                try:
                    url = database_at(admin, parents(step))
                except Exception as exc:  # a parent's own fault, reported with it
                    url = create_database(admin)
                    faults.append(f"{named(step)} not checked: its parents fail: {db.reason(exc)}")
                    continue
            try:
                climb(url, step)
            except Fault as fault:
                faults.append(str(fault))
                drop_database(admin, url)
                url = create_database(admin)
    finally:
        drop_database(admin, url)
    assert not faults, f"{len(faults)} revision(s) fail the stairway:\n" + "\n".join(faults)


def test_base_to_head_on_an_empty_database_and_back_to_base_leaves_only_bookkeeping(
    migrate, database_url
):
    empty = schema_of(migrate)
    command.upgrade(migrate, "heads")
    assert heads_of(database_url) == set(SCRIPT.get_heads())

    command.downgrade(migrate, "base")

    left = differences(empty, schema_of(migrate))
    assert not left, "downgrade to base " + "; ".join(left)


@pytest.fixture
def at_head(migrate, database_url) -> URL:
    command.upgrade(migrate, "heads")
    return database_url


def test_the_models_match_the_migrations_at_head(at_head):
    result = run_migrator("check", url=at_head)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_sql_is_the_schema_the_migrations_build(at_head):
    committed = schema.without_key((PROJECT_ROOT / "schema.sql").read_text())
    assert schema.dump(at_head) == committed, (
        "schema.sql is out of date with the migrations: run `make schema` and commit it"
    )


def test_the_er_diagram_is_current_with_the_models():
    metadata = models_metadata()
    page = (PROJECT_ROOT / erd.DIAGRAM).read_text()
    stale = f"run `make erd` and commit {erd.DIAGRAM} and {erd.SVG}"
    assert erd.embedded(page) == erd.readme_block(metadata), stale
    assert erd.stamp(erd.dot(metadata)) in (PROJECT_ROOT / erd.SVG).read_text(), stale


def test_every_revision_passes_lint_or_carries_a_reviewed_exception():
    result = run_migrator("lint", url="postgresql+psycopg2://nobody:x@127.0.0.1:9/offline")
    assert result.returncode == 0, result.stdout + result.stderr
