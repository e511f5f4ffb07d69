"""schema.sql: the schema at head as the migrations build it (the fixture's
here; yours: tests/migrations/), stable from run to run, rebuilt by
`make schema` without touching the database it is given, and refreshed only
when the revision files changed, applying only the new ones."""

import difflib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from migrator import schema
from tests.helpers import add_revision, edit, query, run_migrator, version
from tests.toolkit.conftest import FIRST, FIXTURE, HEAD
from tests.toolkit.test_check import PHONE_MODULE

PHONE = 'op.add_column("address", sa.Column("phone", sa.String(20)))'
# Nothing listens here: a refresh that tried to connect would fail.
NOWHERE = URL.create("postgresql+psycopg2", "nobody", "x", "127.0.0.1", 9, "nothing")


@pytest.fixture
def scratch(database_url: URL, admin: Engine) -> Iterator[URL]:
    """The scratch database kept next to ``database_url``, dropped after the test."""
    yield schema.scratch_url(database_url)
    with admin.connect() as connection:
        connection.execute(
            text(f'DROP DATABASE IF EXISTS "{database_url.database}_schema" WITH (FORCE)')
        )


@pytest.fixture
def in_project(project: Path, monkeypatch) -> Config:
    """Alembic's config for in-process refreshes in the project copy."""
    monkeypatch.chdir(project)
    # Alembic puts the project on sys.path for good: undone after the test.
    monkeypatch.setattr(sys, "path", list(sys.path))
    return Config("alembic.ini")


def applied_at(url: URL) -> dict[str, object]:
    return dict(query(url, "SELECT revision, applied_at FROM alembic_checksums"))


def body(path: Path) -> list[str]:
    return schema.without_key(path.read_text()).splitlines()


def test_schema_sql_is_the_schema_the_migrations_build(migrated_url):
    assert schema.dump(migrated_url) == schema.without_key((FIXTURE / "schema.sql").read_text())


def test_schema_sql_records_the_key_of_the_revisions_it_was_built_from(in_project):
    # So a fresh clone knows its schema.sql is current without building anything.
    script = ScriptDirectory.from_config(in_project)
    assert schema.recorded_key() is None  # the copy has no schema.sql yet
    shutil.copy(FIXTURE / "schema.sql", "schema.sql")
    assert schema.recorded_key() == schema.key(script)
    assert (FIXTURE / "schema.sql").read_text().splitlines()[:2] == [
        schema.HEADER.rstrip("\n"),
        f"-- Revisions: sha256 {schema.key(script)}",
    ]


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
    project, database_url, scratch, admin: Engine
):
    add_revision(project, "c0ffee000001", HEAD, PHONE)

    result = run_migrator("schema", url=database_url, cwd=project)

    assert result.returncode == 0, result.stderr
    before, after = body(FIXTURE / "schema.sql"), body(project / "schema.sql")
    assert [line for line in difflib.ndiff(before, after) if line[:1] in "+-"] == [
        "-     temporary_addr character varying(100)",
        "+     temporary_addr character varying(100),",
        "+     phone character varying(20)",
    ]
    # The database it was given is untouched; the one scratch database is kept
    # at head for the next refresh, and nothing else is left behind.
    assert "CREATE TABLE" not in schema.dump(database_url)
    assert version(scratch) == ["c0ffee000001"]
    with admin.connect() as connection:
        names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    assert not [name for name in names if name.startswith(f"{database_url.database}_schema_")]
    assert f"{database_url.database}_schema" in names


def test_make_schema_starts_the_scratch_database_from_empty(project, database_url, scratch):
    assert run_migrator("schema", url=database_url, cwd=project).returncode == 0
    first = applied_at(scratch)

    assert run_migrator("schema", url=database_url, cwd=project).returncode == 0

    # Rebuilt: every revision ran again.
    again = applied_at(scratch)
    assert sorted(again) == sorted(first) == sorted([FIRST, HEAD])
    assert all(again[revision] > first[revision] for revision in first)


def test_unchanged_revisions_rebuild_nothing_and_connect_to_no_database(in_project):
    shutil.copy(FIXTURE / "schema.sql", "schema.sql")
    written = Path("schema.sql").stat().st_mtime_ns

    assert schema.refresh(in_project, NOWHERE) is False

    assert Path("schema.sql").stat().st_mtime_ns == written


def test_after_a_new_revision_only_it_runs_on_the_kept_scratch_database(
    in_project, project, database_url, scratch, capsys
):
    schema.write(in_project, database_url)
    before = applied_at(scratch)
    add_revision(project, "c0ffee000001", HEAD, PHONE)

    assert schema.refresh(in_project, database_url) is True

    after = applied_at(scratch)
    assert {revision: after[revision] for revision in before} == before
    assert sorted(after) == sorted([FIRST, HEAD, "c0ffee000001"])
    assert "+     phone character varying(20)" in difflib.ndiff(
        body(FIXTURE / "schema.sql"), body(Path("schema.sql"))
    )
    assert schema.recorded_key() == schema.key(ScriptDirectory.from_config(in_project))
    assert schema.refresh(in_project, database_url) is False
    assert capsys.readouterr().out.count("schema.sql: the schema at head, rebuilt") == 2


def test_a_revision_edited_or_removed_after_the_scratch_database_ran_it_rebuilds_it(
    in_project, project, database_url, scratch
):
    new = add_revision(project, "c0ffee000001", HEAD, PHONE)
    assert schema.refresh(in_project, database_url) is True
    ran = applied_at(scratch)

    edit(new, '"phone", sa.String(20)', '"mobile", sa.String(30)')
    assert schema.refresh(in_project, database_url) is True

    rebuilt = applied_at(scratch)
    assert all(rebuilt[revision] > ran[revision] for revision in ran)
    text_now = Path("schema.sql").read_text()
    assert "mobile character varying(30)" in text_now and "phone" not in text_now

    new.unlink()
    assert schema.refresh(in_project, database_url) is True

    assert version(scratch) == [HEAD]
    assert Path("schema.sql").read_text() == (FIXTURE / "schema.sql").read_text()


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
