"""Your migrations, whatever their number, ids, branches or tables: each is
proved on a real PostgreSQL. A failure names the revision (id and message) and
what differs. (Exactly one head: pytest-alembic's test, in test_pytest_alembic.py.)"""

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from migrator import checksums, db, erd, schema
from migrator.settings import PROJECT_ROOT, models_metadata
from tests.catalog import describe, differences
from tests.conftest import new_database
from tests.helpers import run_migrator
from tests.migrations.conftest import SCRIPT, named, project_config

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


def migrating(url: URL):
    engine = create_engine(url)
    config = project_config()
    config.attributes["connection"] = engine
    config.attributes["without_models"] = True
    return config, engine


def run(what: str, step, config, target: str) -> None:
    try:
        (command.upgrade if what.endswith("upgrade") else command.downgrade)(config, target)
    except Exception as exc:  # the database's words, whatever raised them
        raise Fault(f"{what} of {named(step)} failed: {db.reason(exc)}") from None


def climb(url: URL, step) -> None:
    """Up, down and up again, comparing the schema each way."""
    config, engine = migrating(url)
    try:
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
            raise Fault(
                f"second upgrade of {named(step)} differs from the first: {'; '.join(again)}"
            )
    finally:
        engine.dispose()


def rebuilt_at(admin: Engine, step):
    """A new database with ``step`` applied, to carry on past a fault."""
    databases = new_database(admin)
    url = next(databases)
    config, engine = migrating(url)
    try:
        command.upgrade(config, step.revision)
    except Exception:  # noqa: S110  (reported with the revision that follows)
        pass
    finally:
        engine.dispose()
    return url, databases


def test_stairway_every_revision_goes_up_down_and_up_again(admin):
    """One database walks the whole history; after a fault the walk goes on
    from a database rebuilt at that revision, so one run names every fault."""
    databases = new_database(admin)
    url, faults = next(databases), []
    for step in REVISIONS:
        try:
            climb(url, step)
        except Fault as fault:
            faults.append(str(fault))
            next(databases, None)  # drops the database
            url, databases = rebuilt_at(admin, step)
    next(databases, None)
    assert not faults, f"{len(faults)} revision(s) fail the stairway:\n" + "\n".join(faults)


def test_base_to_head_on_an_empty_database_and_back_to_base_leaves_only_bookkeeping(
    migrate, database_url
):
    empty = schema_of(database_url)
    command.upgrade(migrate, "heads")
    assert set(db_version(database_url)) == set(SCRIPT.get_heads())

    command.downgrade(migrate, "base")

    left = differences(empty, schema_of(database_url))
    assert not left, "downgrade to base " + "; ".join(left)


def db_version(url: URL) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    return found


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
