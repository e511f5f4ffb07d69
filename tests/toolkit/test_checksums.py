"""Checksums of applied revisions (Flyway's validate): written with each
revision, in its transaction; gone with its downgrade; an applied revision
edited afterwards stops `upgrade` before it applies anything, and fails `check`,
unless the edit is to its downgrade or its formatting, or `repair` recorded it."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from migrator.checksums import file_checksum, upgrade_checksum, validate
from tests.helpers import add_revision, assert_one_line_error, edit, query, run_migrator

FIRST, HEAD = "1a2b3c4d5e6f", "7e8f9a0b1c2d"


def rows(connection, sql: str) -> list[tuple]:
    connection.commit()
    return [tuple(row) for row in connection.execute(text(sql))]


def execute(url, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(sql))
    engine.dispose()


def recorded(connection) -> dict[str, str]:
    return dict(rows(connection, "SELECT revision, checksum FROM alembic_checksums"))


def test_each_revision_is_recorded_in_its_own_transaction(alembic_config, connection):
    command.upgrade(alembic_config, "head")

    files = ScriptDirectory.from_config(alembic_config).walk_revisions()
    assert recorded(connection) == {s.revision: upgrade_checksum(s.path) for s in files}
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
    first.write_bytes(original.replace(b'"address",', b'"addresses",', 1))
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


def first_revision(project):
    return next((project / "alembic" / "versions").glob(f"*{FIRST}*.py"))


def test_a_mended_downgrade_or_a_reformatted_file_is_no_edit(project, database_url):
    assert run_migrator("upgrade", FIRST, url=database_url, cwd=project).returncode == 0
    first = first_revision(project)
    # Mended: the downgrade drops one more thing; reformatted: quotes, a
    # comment, a line break, a trailing comma.
    edit(first, 'op.drop_table("address")', 'op.drop_table("address")\n    op.execute("SELECT 1")')
    edit(
        first,
        '"address",\n        sa.Column("id"',
        "# the place\n        'address', sa.Column('id'",
    )
    edit(first, 'op.f("pk_family")),\n', "op.f('pk_family'))\n")

    upgrade = run_migrator("upgrade", url=database_url, cwd=project)
    check = run_migrator("check", url=database_url, cwd=project)

    assert upgrade.returncode == 0, upgrade.stderr
    assert "applied 1 revision(s)" in upgrade.stdout
    assert check.returncode == 0, check.stderr


def test_a_checksum_recorded_over_the_whole_file_is_accepted_and_recorded_anew(
    project, database_url
):
    assert run_migrator("upgrade", FIRST, url=database_url, cwd=project).returncode == 0
    first = first_revision(project)
    # As the migrator recorded it before it left the downgrade out.
    execute(database_url, f"UPDATE alembic_checksums SET checksum = '{file_checksum(first)}'")

    upgrade = run_migrator("upgrade", url=database_url, cwd=project)

    assert upgrade.returncode == 0, upgrade.stderr
    assert query(database_url, "SELECT checksum FROM alembic_checksums ORDER BY applied_at") == [
        (upgrade_checksum(first),),
        (upgrade_checksum(next((project / "alembic" / "versions").glob(f"*{HEAD}*.py"))),),
    ]
    # From then on, its downgrade may be mended too.
    edit(first, 'op.drop_table("address")', 'op.drop_table("address")\n    op.execute("SELECT 1")')
    assert run_migrator("check", url=database_url, cwd=project).returncode == 0


def test_repair_records_a_reviewed_edit_so_upgrade_goes_on(project, database_url):
    assert run_migrator("upgrade", FIRST, url=database_url, cwd=project).returncode == 0
    first = first_revision(project)
    edit(
        first, '"permanent_addr", sa.String(length=100)', '"permanent_addr", sa.String(length=120)'
    )
    refused = run_migrator("upgrade", url=database_url, cwd=project)
    assert_one_line_error(refused, "was edited after it was applied", f"make repair r={FIRST}")

    repaired = run_migrator("repair", FIRST, url=database_url, cwd=project)
    again = run_migrator("repair", FIRST, url=database_url, cwd=project)
    upgrade = run_migrator("upgrade", url=database_url, cwd=project)

    assert repaired.returncode == 0, repaired.stderr
    assert f"revision {FIRST} (create address and family): recorded its file as it is now" in (
        repaired.stdout
    )
    assert "nothing to repair" in again.stdout
    assert upgrade.returncode == 0, upgrade.stderr
    assert "applied 1 revision(s)" in upgrade.stdout
    assert query(
        database_url, f"SELECT checksum FROM alembic_checksums WHERE revision = '{FIRST}'"
    ) == [(upgrade_checksum(first),)]


def test_repair_refuses_in_one_line_what_it_cannot_record(project, database_url):
    assert run_migrator("upgrade", FIRST, url=database_url, cwd=project).returncode == 0

    not_applied = run_migrator("repair", HEAD, url=database_url, cwd=project)
    unknown = run_migrator("repair", "abc999", url=database_url, cwd=project)
    base = run_migrator("repair", "base", url=database_url, cwd=project)

    assert_one_line_error(not_applied, f"revision {HEAD}", "is not applied to this database")
    assert_one_line_error(unknown, "abc999")
    assert_one_line_error(base, "'base' is not one revision")


def test_repair_of_a_stamped_revision_has_nothing_to_record(project, database_url):
    assert run_migrator("stamp", HEAD, url=database_url, cwd=project).returncode == 0

    result = run_migrator("repair", HEAD, url=database_url, cwd=project)

    assert result.returncode == 0, result.stderr
    assert "has no recorded checksum" in result.stdout
    assert query(database_url, "SELECT count(*) FROM alembic_checksums") == [(0,)]


def test_validating_checksums_leaves_the_callers_transaction_open(alembic_config, connection):
    command.upgrade(alembic_config, "head")
    connection.execute(text("CREATE TABLE scratch (id int)"))
    connection.execute(text("INSERT INTO scratch VALUES (1)"))

    validate(connection, ScriptDirectory.from_config(alembic_config))

    assert connection.in_transaction()
    connection.rollback()
    assert connection.execute(text("SELECT to_regclass('scratch')")).scalar() is None
