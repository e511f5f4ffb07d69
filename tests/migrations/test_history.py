"""Your migrations, whatever their number, ids, branches or tables: each is
proved on a real PostgreSQL. A failure names the revision (id and message) and
what differs."""

import contextlib

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from migrator import checksums, db, erd, schema
from migrator.settings import PROJECT_ROOT, models_metadata
from tests.catalog import describe, differences
from tests.conftest import create_database, drop_database
from tests.helpers import run_migrator, version
from tests.migrations.conftest import SCRIPT, migrating, named

# Oldest first: every revision comes after those it depends on.
REVISIONS = list(reversed(list(SCRIPT.walk_revisions())))
BOOKKEEPING = {"alembic_version", checksums.TABLE}


def schema_of(url: URL) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = describe(connection, leave_out=BOOKKEEPING)
    engine.dispose()
    return found


class Fault(Exception):
    """A revision that does not go up, down and up again cleanly."""


def run(what: str, step, config, target: str) -> None:
    try:
        (command.upgrade if what.endswith("upgrade") else command.downgrade)(config, target)
    except Exception as exc:  # the database's words, whatever raised them
        raise Fault(f"{what} of {named(step)} failed: {db.reason(exc)}") from None


def climb(url: URL, step) -> None:
    """Up, down and up again, comparing the schema each way."""
    with migrating(url) as config:
        for parent in step._all_down_revisions:
            run("upgrade to the parent", step, config, parent)
        before = schema_of(url)
        run("upgrade", step, config, step.revision)
        after = schema_of(url)
        run("downgrade", step, config, f"{step.revision}-1")
        left = differences(before, schema_of(url))
        if left:
            raise Fault(f"downgrade of {named(step)} {'; '.join(left)}")
        run("second upgrade", step, config, step.revision)
        again = differences(after, schema_of(url))
        if again:
            raise Fault(f"second upgrade of {named(step)} differs: {'; '.join(again)}")


def rebuilt_at(admin: Engine, step) -> URL:
    """A new database with ``step`` applied, to carry on past a fault (if even
    that fails, the revisions after it report it)."""
    url = create_database(admin)
    with migrating(url) as config, contextlib.suppress(Exception):
        command.upgrade(config, step.revision)
    return url


def test_there_is_exactly_one_head_or_no_revision_yet():
    heads = [named(SCRIPT.get_revision(head)) for head in SCRIPT.get_heads()]
    assert len(heads) <= 1, f"{len(heads)} heads: {', '.join(heads)}; join them with make merge"


def test_stairway_every_revision_goes_up_down_and_up_again(admin):
    """One database walks the whole history; after a fault the walk goes on
    from a database rebuilt at that revision, so one run names every fault."""
    url, faults = create_database(admin), []
    try:
        for step in REVISIONS:
            try:
                climb(url, step)
            except Fault as fault:
                faults.append(str(fault))
                drop_database(admin, url)
                url = rebuilt_at(admin, step)
    finally:
        drop_database(admin, url)
    assert not faults, f"{len(faults)} revision(s) fail the stairway:\n" + "\n".join(faults)


def test_base_to_head_on_an_empty_database_and_back_to_base_leaves_only_bookkeeping(
    migrate, database_url
):
    empty = schema_of(database_url)
    command.upgrade(migrate, "heads")
    assert set(version(database_url)) == set(SCRIPT.get_heads())

    command.downgrade(migrate, "base")

    left = differences(empty, schema_of(database_url))
    assert not left, "downgrade to base " + "; ".join(left)


@pytest.fixture
def at_head(migrate, database_url) -> URL:
    command.upgrade(migrate, "heads")
    return database_url


def test_the_models_match_the_migrations_at_head(at_head):
    result = run_migrator("check", url=at_head)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_sql_is_the_schema_the_migrations_build(at_head):
    assert schema.dump(at_head) == (PROJECT_ROOT / "schema.sql").read_text(), (
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
