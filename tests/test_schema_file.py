"""schema.sql: the schema at head as the migrations build it, stable from run to
run, rebuilt by `make schema` without touching the database it is given."""

import difflib

from sqlalchemy import Engine, text

from migrator import schema
from migrator.settings import PROJECT_ROOT
from tests.conftest import add_revision, run_migrator

HEAD = "7e8f9a0b1c2d"


def test_schema_sql_is_the_schema_the_migrations_build(migrated_url):
    assert schema.dump(migrated_url) == (PROJECT_ROOT / "schema.sql").read_text(), (
        "schema.sql is out of date with the migrations: run `make schema` and commit it"
    )


def test_the_dump_is_the_same_from_run_to_run(migrated_url):
    first = schema.dump(migrated_url)
    assert schema.dump(migrated_url) == first
    # pg_dump's banners and \restrict key are gone, the application's tables are
    # there and the migrations' bookkeeping is not.
    noise = ("\\restrict", "\\unrestrict", "-- Dumped", "SET ")
    assert [line for line in first.splitlines() if line.startswith(noise)] == []
    assert "alembic_" not in first
    assert "CREATE TABLE public.address (" in first


def test_make_schema_builds_from_the_migrations_on_a_scratch_database(
    project, database_url, admin: Engine
):
    add_revision(
        project, "c0ffee000001", HEAD, 'op.add_column("address", sa.Column("phone", sa.String(20)))'
    )

    result = run_migrator("schema", url=database_url, cwd=project)

    assert result.returncode == 0, result.stderr
    before = (PROJECT_ROOT / "schema.sql").read_text().splitlines()
    after = (project / "schema.sql").read_text().splitlines()
    assert [line for line in difflib.ndiff(before, after) if line[:1] in "+-"] == [
        "-     temporary_addr character varying(100)",
        "+     temporary_addr character varying(100),",
        "+     phone character varying(20)",
    ]
    # The database it was given is untouched, and the scratch one is gone.
    assert "CREATE TABLE" not in schema.dump(database_url)
    with admin.connect() as connection:
        names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    assert not [name for name in names if name.startswith(f"{database_url.database}_schema_")]
