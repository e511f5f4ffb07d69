"""End to end (issue 23): `make squash r=<rev>` in a copy of the project, as a
user runs it: the history squashed and committed, the database that was at a
later revision goes on, and a fresh `make up` has the rows the data migration
had inserted."""

import os
import subprocess

from tests.e2e.conftest import output
from tests.helpers import add_revision
from tests.toolkit.conftest import HEAD

ROWS = "INSERT INTO address (permanent_addr) VALUES ('1 Main Street'), ('2 Side Road')"
VIEW = "CREATE VIEW street AS SELECT permanent_addr FROM address"


def ok(result) -> None:
    assert result.returncode == 0, output(result)[-3000:]


def git(copy, *args: str) -> None:
    done = subprocess.run(
        ["git", "-c", "safe.directory=*", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def committed(copy) -> None:
    """Everything committed, as the user who owns the copy (make runs as them)."""
    if not (copy / ".git").exists():
        git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "work")
    owner = copy.stat()
    for path in [copy / ".git", *(copy / ".git").rglob("*")]:
        os.chown(path, owner.st_uid, owner.st_gid)


def psql(make, sql: str) -> str:
    result = make(
        "docker",
        "compose",
        "exec",
        "-T",
        "db",
        "sh",
        "-c",
        f'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "{sql}"',
    )
    ok(result)
    return result.stdout.strip()


def test_make_squash_replaces_the_history_and_every_database_goes_on(project_copy):
    copy, make = project_copy
    add_revision(
        copy, "3c3c3c3c3c3c", HEAD, f'op.execute("{ROWS}")', 'op.execute("DELETE FROM address")'
    )
    add_revision(
        copy,
        "4d4d4d4d4d4d",
        "3c3c3c3c3c3c",
        f'op.execute("{VIEW}")',
        'op.execute("DROP VIEW street")',
    )
    ok(make("up"))
    committed(copy)

    refused = make("squash")
    assert refused.returncode == 2 and "error: a revision is required" in refused.stderr

    squashed = make("squash", "r=3c3c3c3c3c3c")
    ok(squashed)
    assert "squashed 3 revisions into alembic/versions/" in squashed.stdout
    assert len(list((copy / "alembic" / "versions").glob("*.py"))) == 2

    # The database at the 4th accepts the squashed file where the 3rd ran.
    again = make("upgrade")
    ok(again)
    assert "already at head" in again.stdout
    ok(make("check"))
    ok(make("lint"))

    ok(make("reset"))
    ok(make("up"))
    assert psql(make, "SELECT count(*) FROM street") == "2"
