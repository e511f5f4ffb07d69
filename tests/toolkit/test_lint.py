"""`make sql` and `make lint`: the SQL an upgrade would run, shown without
running it, and squawk's verdict on each revision's SQL."""

import re
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from migrator import MigratorError, commands, offline
from migrator.lint import lint, lint_revision
from migrator.settings import PROJECT_ROOT
from tests.helpers import add_revision, assert_one_line_error, run_migrator, version

FIRST, HEAD = "1a2b3c4d5e6f", "7e8f9a0b1c2d"
NOWHERE = "postgresql+psycopg2://nobody:x@127.0.0.1:9/nothing"


def test_sql_prints_what_the_database_lacks_and_runs_nothing(alembic_config, database_url):
    command.upgrade(alembic_config, FIRST)

    result = run_migrator("sql", url=database_url)

    assert result.returncode == 0, result.stderr
    assert "ALTER TABLE address ADD COLUMN temporary_addr VARCHAR(100);" in result.stdout
    assert f"UPDATE alembic_version SET version_num='{HEAD}'" in result.stdout
    assert "CREATE TABLE address" not in result.stdout
    assert version(database_url) == [FIRST]


def test_sql_at_head_says_there_is_nothing_to_run(
    migrated_url, fixture_project, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", migrated_url.render_as_string(False))
    commands.sql(Config(fixture_project / "alembic.ini"), None)
    assert capsys.readouterr().out == "-- nothing to run: the database is at head\n"


@pytest.fixture
def no_database(monkeypatch):
    """Alembic's offline mode never connects: a URL where nothing listens proves it."""
    monkeypatch.setenv("DATABASE_URL", NOWHERE)


def test_sql_of_a_range_needs_no_database(no_database, fixture_project, capsys):
    commands.sql(Config(fixture_project / "alembic.ini"), f"base:{FIRST}")
    out = capsys.readouterr().out
    assert "CREATE TABLE address (" in out
    assert "CREATE TABLE family (" in out
    assert "ALTER TABLE" not in out


def test_the_offline_sql_of_an_upgrade_refuses_a_target_that_is_not_a_range(
    no_database, fixture_project
):
    with pytest.raises(MigratorError, match="'head' is not a range: give <from>:<to>"):
        offline.upgrade_sql(Config(fixture_project / "alembic.ini"), "head")


def test_sql_of_one_revision_is_its_own_sql_as_lint_reads_it(no_database, fixture_project, capsys):
    commands.sql(Config(fixture_project / "alembic.ini"), HEAD)
    out = capsys.readouterr().out
    assert out.startswith("BEGIN;\n\n-- Running upgrade 1a2b3c4d5e6f -> 7e8f9a0b1c2d")
    assert "ALTER TABLE address ADD COLUMN temporary_addr VARCHAR(100);" in out
    assert "CREATE TABLE address" not in out


def test_the_hint_for_a_merge_revision_points_at_its_own_sql(linted, project, capfd):
    add_revision(project, "b1b1b1b1b1b1", HEAD, NOT_NULL)
    add_revision(project, "b2b2b2b2b2b2", HEAD, "pass")
    add_revision(
        project,
        "3e3e3e3e3e3e",
        ("b1b1b1b1b1b1", "b2b2b2b2b2b2"),
        NOT_NULL.replace("country", "region"),
    )

    with pytest.raises(MigratorError, match="make sql r=3e3e3e3e3e3e\\)") as failed:
        lint(linted)
    # squawk names the line where the statement begins (after the previous `;`,
    # its comment included) in what that hint prints.
    out = capfd.readouterr().out
    (line,) = re.findall(r"3e3e3e3e3e3e_test\.py:(\d+):\d+: warning: adding-required-field", out)
    commands.sql(linted, "3e3e3e3e3e3e")
    own = capfd.readouterr().out.splitlines()
    statement = own[int(line) - 1 :][:4]
    assert "ADD COLUMN region" in "\n".join(statement), (line, own)
    assert "make sql r=b1b1b1b1b1b1" in str(failed.value)


@pytest.fixture
def linted(project: Path, no_database, monkeypatch) -> Config:
    """A project copy with the project's squawk configuration, as the current folder."""
    shutil.copy(PROJECT_ROOT / ".squawk.toml", project)
    monkeypatch.chdir(project)
    return Config(project / "alembic.ini")


def findings(output: str) -> dict[str, set[str]]:
    """{file name: rules} from squawk's one-line-per-finding output."""
    found: dict[str, set[str]] = {}
    for path, rule in re.findall(r"^(\S+):\d+:\d+: warning: (\S+) ", output, re.MULTILINE):
        found.setdefault(Path(path).name, set()).add(rule)
    return found


def test_the_fixture_revisions_pass_lint(linted, capfd):
    lint(linted)
    *advice, last = capfd.readouterr().out.splitlines()
    assert last == "lint: 2 revision(s), no unsafe operation found"
    # Their SERIAL keys and VARCHAR columns get type advice, and nothing else.
    assert advice and all(": advice: " in line for line in advice), advice


def advised(output: str) -> dict[str, set[str]]:
    """{file name: rules} of the type advice lint printed."""
    found: dict[str, set[str]] = {}
    for path, rule in re.findall(r"^(\S+):\d+:\d+: advice: (\S+) ", output, re.MULTILINE):
        found.setdefault(Path(path).name, set()).add(rule)
    return found


# SQLAlchemy's defaults, each of which squawk advises against.
TYPES = """
op.create_table(
    "visit",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("seen_at", sa.DateTime(), nullable=True),
    sa.Column("country", sa.CHAR(2), nullable=True),
    sa.Column("rank", sa.SmallInteger(), nullable=True),
    sa.Column("note", sa.String(20), nullable=True),
)
"""


def test_type_advice_is_printed_and_never_fails(project):
    shutil.copy(PROJECT_ROOT / ".squawk.toml", project)
    path = add_revision(project, "c0ffee000001", HEAD, TYPES)

    # make lint
    result = run_migrator("lint", url=NOWHERE, cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert advised(result.stdout)[path.name] == {
        "prefer-timestamp-tz",
        "ban-char-field",
        "prefer-bigint-over-smallint",
        "prefer-bigint-over-int",
        "prefer-identity",
        "prefer-text-field",
    }
    assert path.name not in findings(result.stdout)
    assert "safe in Alembic" not in result.stdout
    assert result.stdout.endswith("lint: 3 revision(s), no unsafe operation found\n")


def test_a_revision_with_advice_and_an_unsafe_operation_fails_for_the_operation_alone(project):
    shutil.copy(PROJECT_ROOT / ".squawk.toml", project)
    naive = 'op.add_column("address", sa.Column("seen_at", sa.DateTime(), nullable=True))'
    path = add_revision(project, "c0ffee000001", HEAD, f"{NOT_NULL}\n{naive}")

    result = run_migrator("lint", url=NOWHERE, cwd=project)

    assert_one_line_error(result, "1 of 3 revision(s) fail squawk", path.name)
    assert findings(result.stdout) == {path.name: {"adding-required-field"}}
    # String(2) is VARCHAR(2): advice too.
    assert advised(result.stdout)[path.name] == {"prefer-timestamp-tz", "prefer-text-field"}
    assert "safe in Alembic, for adding-required-field" in result.stdout
    assert "prefer-timestamp-tz (see" not in result.stdout


def test_a_revisions_findings_as_data_point_at_their_line_in_its_sql(linted, project, capfd):
    """What `make review` reads: rule, line (in `make sql r=<rev>`), message, advice."""
    naive = 'op.add_column("address", sa.Column("seen_at", sa.DateTime(), nullable=True))'
    add_revision(project, "c0ffee000001", HEAD, f"{UNSAFE['ban-drop-column']}\n{naive}")
    revision = ScriptDirectory.from_config(linted).get_revision("c0ffee000001")
    commands.sql(linted, "c0ffee000001")
    sql = capfd.readouterr().out

    found = {finding.rule: finding for finding in lint_revision(revision, sql)}

    assert {rule: finding.advice for rule, finding in found.items()} == {
        "ban-drop-column": False,
        "prefer-timestamp-tz": True,
    }
    lines = sql.splitlines()
    assert "DROP COLUMN temporary_addr" in lines[found["ban-drop-column"].line - 1]
    assert "seen_at TIMESTAMP WITHOUT TIME ZONE" in lines[found["prefer-timestamp-tz"].line - 1]
    assert found["prefer-timestamp-tz"].message.startswith("When Postgres stores a datetime")


def test_a_history_with_no_revisions_passes_lint(linted, project, capfd):
    """The state `make remove-example` leaves: nothing to lint is no fault."""
    for revision in (project / "alembic" / "versions").glob("*.py"):
        revision.unlink()
    lint(linted)
    assert capfd.readouterr().out.splitlines() == ["lint: 0 revision(s), no unsafe operation found"]


NOT_NULL = 'op.add_column("address", sa.Column("country", sa.String(2), nullable=False))'


def test_a_not_null_column_without_default_is_flagged_with_rule_and_file(project):
    shutil.copy(PROJECT_ROOT / ".squawk.toml", project)
    path = add_revision(project, "c0ffee000001", HEAD, NOT_NULL)

    result = run_migrator("lint", url=NOWHERE, cwd=project)

    assert findings(result.stdout) == {path.name: {"adding-required-field"}}
    assert_one_line_error(result, "1 of 3 revision(s) fail squawk", path.name)


UNSAFE = {
    "require-concurrent-index-creation": 'op.create_index("ix_a", "address", ["permanent_addr"])',
    "ban-drop-column": 'op.drop_column("address", "temporary_addr")',
    "changing-column-type": 'op.alter_column("family", "permanent_addr", type_=sa.String(200))',
    "ban-drop-table": 'op.drop_table("family")',
}


def test_each_unsafe_operation_is_flagged_in_its_own_revision(linted, project, capfd):
    expected, down = {}, HEAD
    for number, (rule, operation) in enumerate(UNSAFE.items(), start=1):
        revision = f"c0ffee00000{number}"
        expected[add_revision(project, revision, down, operation).name] = rule
        down = revision

    with pytest.raises(MigratorError, match=f"{len(UNSAFE)} of {len(UNSAFE)} revision"):
        lint(linted, f"{HEAD}:heads")

    flagged = findings(capfd.readouterr().out)
    assert set(flagged) == set(expected)
    for name, rule in expected.items():
        assert rule in flagged[name]


def test_a_reviewed_exception_recorded_in_the_revision_lets_it_pass(linted, project, capfd):
    path = add_revision(project, "c0ffee000001", HEAD, NOT_NULL)
    reason = "address is empty in every environment (checked in #12)"
    exception = f"squawk_ignore = {{'adding-required-field': {reason!r}}}"
    path.write_text(f"{path.read_text()}\n{exception}\n")

    lint(linted)

    out = capfd.readouterr().out
    assert f"{path.relative_to(project)}: adding-required-field ignored, reviewed: {reason}" in out
    assert "lint: 3 revision(s), no unsafe operation found" in out


def test_an_exception_for_an_unknown_rule_is_flagged(linted, project, capfd):
    path = add_revision(project, "c0ffee000001", HEAD, UNSAFE["ban-drop-column"])
    path.write_text(path.read_text() + "\nsquawk_ignore = {'ban-drop-colum': 'typo'}\n")

    with pytest.raises(MigratorError, match="1 of 3 revision"):
        lint(linted)

    assert findings(capfd.readouterr().out) == {path.name: {"ban-drop-column", "unused-ignore"}}
