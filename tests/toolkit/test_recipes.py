"""The safe recipe for each squawk rule: `make lint` prints it after the
findings, docs/busy-database.md shows it, and each one, as a revision in
recipes/, passes lint and migrates up, down and up again on a real PostgreSQL."""

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, text

from migrator import checksums
from migrator.catalog import describe, differences
from migrator.recipes import DOCS, RECIPES
from migrator.settings import PROJECT_ROOT
from tests.helpers import add_revision, assert_one_line_error, run_migrator

HEAD = "7e8f9a0b1c2d"
RECIPE_REVISIONS = sorted((Path(__file__).parent / "recipes").glob("*.py"))
NOWHERE = "postgresql+psycopg2://nobody:x@127.0.0.1:9/nothing"


@pytest.fixture
def connection(migrated_url) -> Iterator[Connection]:
    """A connection to a database at the fixture's head."""
    engine = create_engine(migrated_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def with_recipes(project: Path) -> Path:
    """The fixture project with every recipe revision on top of its head."""
    for path in RECIPE_REVISIONS:
        shutil.copy(path, project / "alembic" / "versions")
    return project


def test_every_recipe_revision_passes_lint(with_recipes):
    result = run_migrator("lint", url=NOWHERE, cwd=with_recipes)

    assert result.returncode == 0, result.stdout + result.stderr
    total = len(RECIPE_REVISIONS) + 2
    assert f"lint: {total} revision(s), no unsafe operation found" in result.stdout


def test_the_recipe_revisions_migrate_up_down_and_up_again_on_rows(
    with_recipes, connection, monkeypatch
):
    connection.execute(text("INSERT INTO address (id) SELECT generate_series(1, 2500)"))
    connection.execute(text("INSERT INTO family (id, permanent_addr) VALUES (1, '1 Elm St')"))
    connection.commit()
    # Alembic puts the project on sys.path for good: undone after the test.
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = Config(with_recipes / "alembic.ini")
    config.attributes["connection"] = connection
    config.attributes["without_models"] = True

    def schema() -> dict[str, str]:
        connection.commit()  # sees what the migrations committed
        found = describe(connection, leave_out={"alembic_version", checksums.TABLE})
        connection.commit()  # so that Alembic begins its own transactions
        return found

    at_fixture_head = schema()
    command.upgrade(config, "head")
    # The backfills ran in batches over every row.
    assert connection.execute(text("SELECT country, count(*) FROM address GROUP BY 1")).all() == [
        ("FR", 2500)
    ]
    assert connection.scalar(text("SELECT permanent_address FROM family")) == "1 Elm St"
    at_head = schema()
    assert at_head["column address.country"] == "character varying(2) NOT NULL"
    assert "NOT VALID" not in at_head["constraint family.fk_family_address_id_address"]

    command.downgrade(config, HEAD)
    assert differences(at_fixture_head, schema()) == []
    command.upgrade(config, "head")
    assert differences(at_head, schema()) == []


# One revision per rule, each doing what the rule flags the plain way.
PLAIN = {
    "require-concurrent-index-creation": 'op.create_index("ix_a", "address", ["permanent_addr"])',
    "require-concurrent-index-deletion": 'op.drop_index("ix_b", "address")',
    "prefer-robust-stmts": """
        with op.get_context().autocommit_block():
            op.create_index("ix_c", "family", ["id"], postgresql_concurrently=True)
    """,
    "adding-foreign-key-constraint": (
        'op.create_foreign_key("fk", "family", "address", ["id"], ["id"])'
    ),
    "constraint-missing-not-valid": 'op.create_check_constraint("ck", "address", "id > 0")',
    "adding-required-field": 'op.add_column("address", sa.Column("c", sa.Text(), nullable=False))',
    "adding-not-nullable-field": 'op.alter_column("family", "permanent_addr", nullable=False)',
    "changing-column-type": 'op.alter_column("family", "temporary_addr", type_=sa.Text())',
    "renaming-column": 'op.alter_column("address", "temporary_addr", new_column_name="t")',
    "renaming-table": 'op.rename_table("family", "household")',
    "ban-drop-column": 'op.drop_column("address", "permanent_addr")',
    "ban-drop-table": 'op.drop_table("family")',
    "disallowed-unique-constraint": 'op.create_unique_constraint("uq", "address", ["id"])',
}


def test_lint_ends_each_finding_with_the_safe_recipe_for_its_rule(project):
    names, down = {}, HEAD
    for number, (rule, operation) in enumerate(PLAIN.items(), start=1):
        revision = f"de{number:010d}"
        names[rule] = add_revision(project, revision, down, operation).name
        down = revision

    result = run_migrator("lint", url=NOWHERE, cwd=project)

    assert_one_line_error(result, f"{len(PLAIN)} of {len(PLAIN) + 2} revision(s) fail squawk")
    lines = result.stdout.splitlines()
    for rule, name in names.items():
        # The revision's own output: from its first finding to the next revision's.
        start = next(i for i, line in enumerate(lines) if name in line)
        end = next(
            (
                i
                for i, line in enumerate(lines[start:], start)
                if ".py:" in line and name not in line
            ),
            len(lines),
        )
        own = "\n".join(lines[start:end])
        assert f"warning: {rule} " in own, own
        advice = [line for line in lines[start:end] if line.startswith("safe in Alembic, for")]
        assert any(rule in line and DOCS in line for line in advice), own
        first_code_line = next(line for line in RECIPES[rule].splitlines() if line.strip())
        assert f"    {first_code_line}" in own, own


def test_the_clean_fixture_gets_no_recipe(fixture_project):
    result = run_migrator("lint", url=NOWHERE, cwd=fixture_project)
    assert result.returncode == 0, result.stderr
    assert "safe in Alembic" not in result.stdout


def test_the_documentation_shows_every_recipe_as_lint_prints_it():
    docs = (PROJECT_ROOT / DOCS).read_text()
    for rule, recipe in RECIPES.items():
        assert f"`{rule}`" in docs, rule
        assert recipe.strip("\n") in docs, rule
