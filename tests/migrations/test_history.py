"""Your migrations, whatever their number, ids, branches or tables: each is
proved on a real PostgreSQL. A failure names the revision (id and message) and
what differs."""

import pytest
from alembic import command
from sqlalchemy.engine import URL

from migrator import erd, schema
from migrator.catalog import describe, differences
from migrator.settings import PROJECT_ROOT, models_metadata
from tests import stairway
from tests.helpers import run_migrator
from tests.migrations.conftest import CONFIG_FILE, SCRIPT
from tests.stairway import heads_of, named

# Oldest first, a segment per test worker, none shorter than 30 revisions
# unless the history is (tests/stairway.py).
SEGMENTS = stairway.this_runs_segments(stairway.oldest_first(SCRIPT))


def schema_of(config) -> dict[str, str]:
    """The schema of the database ``config`` migrates (the migrate fixture)."""
    with config.attributes["connection"].connect() as connection:
        return describe(connection, leave_out=stairway.BOOKKEEPING)


def test_there_is_exactly_one_head_or_no_revision_yet():
    heads = [named(SCRIPT.get_revision(head)) for head in SCRIPT.get_heads()]
    assert len(heads) <= 1, f"{len(heads)} heads: {', '.join(heads)}; join them with make merge"


@pytest.mark.parametrize("segment", SEGMENTS, ids=stairway.span)
def test_stairway_every_revision_goes_up_down_and_up_again(admin, segment):
    """Each revision starts from a database exactly at its parents, and one
    run names every fault (tests/stairway.py)."""
    faults = stairway.walk(admin, CONFIG_FILE, SCRIPT, segment)
    assert not faults, f"{len(faults)} revision(s) fail the stairway:\n" + "\n".join(faults)


def test_base_to_head_on_an_empty_database_and_back_to_base_leaves_only_bookkeeping(migrate):
    empty = schema_of(migrate)
    command.upgrade(migrate, "heads")
    assert heads_of(migrate.attributes["connection"]) == set(SCRIPT.get_heads())

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
