"""schema.sql: the schema at head as the migrations build it (the fixture's
here; yours: tests/migrations/), stable from run to run, rebuilt by
`make schema` without touching the database it is given."""

import difflib
import shutil

from sqlalchemy import Engine, text

from migrator import schema
from tests.helpers import add_revision, run_migrator
from tests.toolkit.conftest import FIXTURE
from tests.toolkit.test_check import PHONE_MODULE

HEAD = "7e8f9a0b1c2d"


def test_schema_sql_is_the_schema_the_migrations_build(migrated_url):
    assert schema.dump(migrated_url) == (FIXTURE / "schema.sql").read_text()


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
    before = (FIXTURE / "schema.sql").read_text().splitlines()
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


def test_in_the_dev_container_a_new_revision_and_an_upgrade_refresh_schema_and_erd(
    project, migrated_url
):
    shutil.copytree(FIXTURE / "docs", project / "docs")
    (project / "models" / "phone.py").write_text(PHONE_MODULE)

    written = run_migrator(
        "revision",
        "--autogenerate",
        "-m",
        "add phone",
        url=migrated_url,
        cwd=project,
        REFRESH_GENERATED="1",
    )

    assert written.returncode == 0, written.stderr
    assert "CREATE TABLE public.phone (" in (project / "schema.sql").read_text()
    assert "phone {" in (project / "docs" / "erd.md").read_text()
    assert "phone" in (project / "docs" / "erd.svg").read_text()

    (project / "schema.sql").unlink()
    applied = run_migrator("upgrade", url=migrated_url, cwd=project, REFRESH_GENERATED="1")
    assert applied.returncode == 0, applied.stderr
    assert "CREATE TABLE public.phone (" in (project / "schema.sql").read_text()


def test_outside_the_dev_container_nothing_but_the_database_changes(project, database_url):
    assert run_migrator("upgrade", url=database_url, cwd=project).returncode == 0
    assert not (project / "schema.sql").exists()


def test_a_refresh_that_fails_is_a_warning_after_a_successful_upgrade(project, database_url):
    # No docs/erd.md in the copy: the ER diagram has nowhere to go.
    result = run_migrator("upgrade", url=database_url, cwd=project, REFRESH_GENERATED="1")

    assert result.returncode == 0, result.stderr
    assert "applied 2 revision(s)" in result.stdout
    assert "warning: schema.sql and the ER diagram not refreshed" in result.stderr
