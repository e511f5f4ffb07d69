"""Checksums of applied revisions (Flyway's validate): written with each
revision, in its transaction; gone with its downgrade; an applied revision
edited afterwards stops `upgrade` before it applies anything, and fails `check`."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from migrator.checksums import checksum, validate
from tests.helpers import add_revision, assert_one_line_error, run_migrator

FIRST, HEAD = "1a2b3c4d5e6f", "7e8f9a0b1c2d"


def rows(connection, sql: str) -> list[tuple]:
    connection.commit()
    return [tuple(row) for row in connection.execute(text(sql))]


def recorded(connection) -> dict[str, str]:
    return dict(rows(connection, "SELECT revision, checksum FROM alembic_checksums"))


def test_each_revision_is_recorded_in_its_own_transaction(alembic_config, connection):
    command.upgrade(alembic_config, "head")

    files = ScriptDirectory.from_config(alembic_config).walk_revisions()
    assert recorded(connection) == {s.revision: checksum(s.path) for s in files}
    # The row and alembic_version's update share a transaction id: one commit.
    [(version_xmin,)] = rows(connection, "SELECT xmin::text FROM alembic_version")
    xmins = dict(rows(connection, "SELECT revision, xmin::text FROM alembic_checksums"))
    assert xmins[HEAD] == version_xmin
    assert xmins[FIRST] != version_xmin


def test_downgrade_forgets_the_reverted_revision_and_base_keeps_no_table(
    alembic_config, connection
):
    command.upgrade(alembic_config, "head")

    command.downgrade(alembic_config, "-1")
    assert list(recorded(connection)) == [FIRST]

    command.downgrade(alembic_config, "base")
    assert rows(connection, "SELECT to_regclass('alembic_checksums')") == [(None,)]


def test_stamp_records_nothing_it_did_not_run_and_forgets_what_it_unstamps(
    alembic_config, connection
):
    command.stamp(alembic_config, "head")
    assert recorded(connection) == {}

    command.stamp(alembic_config, "base")
    command.upgrade(alembic_config, "head")
    command.stamp(alembic_config, FIRST)
    assert list(recorded(connection)) == [FIRST]


def test_an_applied_revision_edited_afterwards_stops_upgrade_and_check(project, database_url):
    assert run_migrator("upgrade", url=database_url, cwd=project).returncode == 0
    first = next((project / "alembic" / "versions").glob(f"*{FIRST}*.py"))
    original = first.read_bytes()
    first.write_bytes(original.replace(b"def upgrade() -> None:", b"def upgrade() -> None:  # !"))
    add_revision(
        project, "3c3c3c3c3c3c", HEAD, 'op.create_table("later", sa.Column("id", sa.Integer))'
    )

    upgrade = run_migrator("upgrade", url=database_url, cwd=project)
    check = run_migrator("check", url=database_url, cwd=project)

    message = (
        f"revision {FIRST} (create address and family) was edited after it was applied "
        "(file checksum differs)"
    )
    assert_one_line_error(upgrade, message)
    assert "Running upgrade" not in upgrade.stderr
    assert_one_line_error(check, message)
    assert "the database is at 7e8f9a0b1c2d, not at head 3c3c3c3c3c3c" in check.stderr

    # The same file checked out with Windows line endings is not an edit.
    first.write_bytes(original.replace(b"\n", b"\r\n"))
    again = run_migrator("upgrade", url=database_url, cwd=project)
    assert again.returncode == 0, again.stderr
    assert "applied 1 revision(s)" in again.stdout


def test_validating_checksums_leaves_the_callers_transaction_open(alembic_config, connection):
    command.upgrade(alembic_config, "head")
    connection.execute(text("CREATE TABLE scratch (id int)"))
    connection.execute(text("INSERT INTO scratch VALUES (1)"))

    validate(connection, ScriptDirectory.from_config(alembic_config))

    assert connection.in_transaction()
    connection.rollback()
    assert connection.execute(text("SELECT to_regclass('scratch')")).scalar() is None
