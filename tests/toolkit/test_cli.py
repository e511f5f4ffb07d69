"""The migrator's command line as the containers run it: what it prints, and
that bad input gives one readable line and a non-zero exit."""

import pytest
from sqlalchemy import text

from tests.helpers import assert_one_line_error, run_migrator, version
from tests.toolkit.conftest import FIRST, HEAD


def test_upgrade_reports_what_it_applied_then_that_it_is_at_head(database_url):
    first = run_migrator("upgrade", url=database_url)
    assert first.returncode == 0, first.stderr
    assert "Running upgrade  -> 1a2b3c4d5e6f, create address and family" in first.stderr
    assert "applied 2 revision(s); database at head" in first.stdout

    second = run_migrator("upgrade", url=database_url)
    assert second.returncode == 0, second.stderr
    assert "already at head" in second.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("downgrade", "-3"), ("Relative revision -3",)),
        (("downgrade", "zzzz"), ("zzzz",)),
        (("upgrade", "zzzz"), ("zzzz",)),
    ],
    ids=["downgrade past base", "downgrade to unknown revision", "upgrade to unknown revision"],
)
def test_bad_targets_give_alembics_error_on_one_line(migrated_url, args, words):
    assert_one_line_error(run_migrator(*args, url=migrated_url), *words)


def test_alembics_global_options_reach_alembic(migrated_url, fixture_project):
    result = run_migrator(
        "-x", "a=1", "-c", str(fixture_project / "alembic.ini"), "current", url=migrated_url
    )
    assert result.returncode == 0, result.stderr
    assert "7e8f9a0b1c2d (head)" in result.stdout


def test_help_lists_every_command_with_its_one_line_doc():
    from migrator import commands

    shown = run_migrator("--help").stdout
    for function in commands.COMMANDS:
        name = function.__name__.replace("_", "-")
        first_line = " ".join(function.__doc__.split("\n\n")[0].split())
        assert f"  {name} " in shown and first_line[:40] in " ".join(shown.split()), name
    assert "Alembic's commands: " in shown and "history" in shown


def test_revision_on_a_database_behind_head_says_what_to_do(project, database_url):
    assert run_migrator("upgrade", FIRST, url=database_url, cwd=project).returncode == 0
    before = set((project / "alembic" / "versions").iterdir())

    result = run_migrator("revision", "--autogenerate", "-m", "x", url=database_url, cwd=project)

    assert_one_line_error(
        result,
        f"error: the database is at {FIRST}, behind head {HEAD}: "
        "make upgrade first, then make revision",
    )
    assert set((project / "alembic" / "versions").iterdir()) == before


OTHER_REVISION = '''"""the other section's own table"""
from alembic import op
import sqlalchemy as sa

revision = "0ther0000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("in_other_only", sa.Column("id", sa.Integer))


def downgrade():
    op.drop_table("in_other_only")
'''


def test_the_section_chosen_with_n_reaches_the_migrators_own_commands(project, database_url, admin):
    # [other]: the same project, its revisions in a folder of their own.
    other = project / "other_versions"
    other.mkdir()
    (other / "0ther0000001_own.py").write_text(OTHER_REVISION)
    ini = project / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + "\n[other]\nscript_location = %(here)s/alembic\nprepend_sys_path = %(here)s\n"
        "version_locations = %(here)s/other_versions\npath_separator = os\n"
    )

    sql = run_migrator("-n", "other", "sql", "base:head", url=database_url, cwd=project)
    try:
        # The dev container's refresh after the upgrade gets the same config.
        upgrade = run_migrator(
            "-n", "other", "upgrade", url=database_url, cwd=project, REFRESH_GENERATED="1"
        )
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{database_url.database}_schema" WITH (FORCE)')
            )

    assert sql.returncode == 0, sql.stderr
    assert "CREATE TABLE in_other_only" in sql.stdout
    assert "CREATE TABLE address" not in sql.stdout
    assert upgrade.returncode == 0, upgrade.stderr
    assert version(database_url) == ["0ther0000001"]
    assert "CREATE TABLE public.in_other_only" in (project / "schema.sql").read_text()


def test_quiet_reaches_the_migrators_own_commands(database_url):
    result = run_migrator("-q", "upgrade", url=database_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert version(database_url) == [HEAD]
