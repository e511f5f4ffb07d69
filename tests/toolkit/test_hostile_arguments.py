"""Make arguments are data, never shell (issue 16): every variable, given values
from the hostile list, through `make` as a user runs it, on a real database that
holds a marker row. Each value is either taken literally or refused with one
`error:` line; in every case no file appears outside the project, the marker
row stays, and the database version changes only when the command means to.

`docker` is a stand-in that runs the toolbox's command right here (the test
container is the dev image) against the test's database, so the Makefile and
scripts/toolbox run for real and only the container hop is skipped (the
end-to-end tests in tests/e2e/ take that hop). Its `python -m migrator` is
forked from the test worker's fork server (tests/forked.py), as run_migrator's
are: a process of its own, without importing the libraries every time."""

import os
import shlex
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, text

from migrator.settings import PROJECT_ROOT
from tests import forked
from tests.conftest import new_database
from tests.helpers import migrator_environment, query, version
from tests.toolkit.conftest import copy_project

CANARY = "{outside}/pwned"
VALUES = {
    "semicolon": "head;touch " + CANARY,
    "and": "head && touch " + CANARY,
    "pipe": "head | touch " + CANARY,
    "backtick": "`touch " + CANARY + "`",
    "dollar-paren": "$(touch " + CANARY + ")",
    "make-shell": "$(shell touch " + CANARY + ")",
    "single quote": "1'; touch " + CANARY + "; echo '",
    "double quote": 'say "hi" "; touch ' + CANARY + '; "',
    "newline": "one\ntouch " + CANARY,
    "spaces": "two words",
    "empty": "",
    "300 characters": "a" * 300,
    "unicode": "café ✓ ünï",
}
# (variable, target, extra arguments): each variable, where it is used.
VARIABLES = [
    ("r", "upgrade", []),
    ("r", "downgrade", []),
    ("r", "stamp", []),
    ("r", "repair", []),
    ("r", "sql", []),
    ("r", "lint", []),
    ("r", "review", []),
    ("format", "review", []),
    ("r", "squash", []),
    ("n", "downgrade", []),
    ("m", "revision", ["empty=1"]),
    ("f", "restore", []),
    ("empty", "revision", ["m=x"]),
    ("BENCH_RUNS", "bench", []),
    ("BENCH_ITEMS", "bench", []),
    ("rename", "revision", ["m=x"]),
]
# Values a variable takes literally (the rest must be refused): a message and a
# file name are free text on one line; a revision is Alembic's syntax.
FREE_TEXT = {"m", "f"}
LITERAL_FOR_ALL = {"empty", "300 characters"}
CHANGES_VERSION = {"upgrade", "downgrade", "stamp"}
# How a value reaches the migrator when it is not an argument of its own.
ARRIVES_AS = {"rename": "rename="}

SHIM = """#!/bin/sh
printf '%s\\n' "$@" >> "{log}"
printf -- '--\\n' >> "{log}"
[ "$1" = container ] && echo true
[ "$1" = exec ] || exit 0
shift
while [ "${{1#-}}" != "$1" ]; do shift; done
shift
[ "$1" = python ] && shift && exec {python} "$@"
exec "$@"
"""


def expected_literal(variable: str, target: str, name: str) -> bool:
    if name == "empty":
        # An empty message, file or revision (stamp, repair, squash) is a missing one: refused.
        return not (variable in FREE_TEXT or target in ("stamp", "repair", "squash"))
    if name == "newline":
        return False
    if variable in FREE_TEXT:
        return True
    if variable == "BENCH_ITEMS":
        return name == "300 characters"
    if variable == "rename":
        # A name of 300 letters is well-formed for make; the migrator refuses it.
        return name == "300 characters"
    if variable == "format":
        return False  # text, markdown or json
    # A revision of 300 letters is well-formed (Alembic then finds no such
    # revision); lint and review want a range.
    return variable == "r" and name == "300 characters" and target not in ("lint", "review")


@pytest.fixture(scope="module")
def shared_url(admin, fixture_template):
    """One database for every case: each checks its own effect on it."""
    yield from new_database(admin, fixture_template)


@pytest.fixture(scope="module")
def shared(shared_url):
    """The cases' checks, on one pool: a new connection each would cost more
    than most cases."""
    engine = create_engine(shared_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def forked_python(tmp_path_factory):
    """The stand-in docker's `python`: forked from this worker's fork server."""
    with forked.relay(tmp_path_factory.mktemp("relay") / "socket") as command:
        yield command


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, shared, forked_python):
    """The fixture project with the Makefile and toolbox script, a stand-in
    docker, a folder outside the project, and a marker row in the database."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    project = copy_project(tmp_path_factory.mktemp("project"))
    shutil.copy(PROJECT_ROOT / "Makefile", project)
    shutil.copytree(PROJECT_ROOT / "scripts", project / "scripts")
    outside = tmp_path / "outside"
    outside.mkdir()
    log = tmp_path / "docker-calls"
    shim = tmp_path / "bin" / "docker"
    shim.parent.mkdir()
    shim.write_text(SHIM.format(log=log, python=shlex.join(forked_python)))
    shim.chmod(0o755)
    with shared.begin() as connection:
        connection.execute(text("CREATE TABLE marker (note text)"))
        connection.execute(text("INSERT INTO marker VALUES ('kept')"))
    environ = migrator_environment(
        shared.url,
        PATH=f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
        SNAPSHOT_DIR=str(tmp_path),
    )
    return project, outside, log, environ


@pytest.mark.parametrize("name", VALUES)
@pytest.mark.parametrize(
    ("variable", "target", "extra"), VARIABLES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_hostile_value_is_taken_literally_or_refused_in_one_line(
    workspace, shared, variable, target, extra, name
):
    project, outside, log, environ = workspace
    value = VALUES[name].format(outside=outside)
    before = version(shared)
    log.unlink(missing_ok=True)

    result = subprocess.run(
        ["make", "--no-print-directory", target, f"{variable}={value}", *extra],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )

    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    if expected_literal(variable, target, name):
        assert log.exists(), result.stderr
        arguments = log.read_text().split("\n")
        if name != "empty" and variable not in ("BENCH_RUNS", "BENCH_ITEMS"):
            given = ARRIVES_AS.get(variable, "") + value
            assert given in arguments, f"{given!r} did not arrive as one argument: {arguments}"
        assert result.returncode == 0 or len(errors) == 1, result.stderr
        if variable == "m" and target == "revision":
            written = list((project / "alembic" / "versions").glob("*.py"))
            assert any(path.read_text().startswith(f'"""{value}\n') for path in written)
    else:
        assert result.returncode == 2, result.stdout + result.stderr
        assert len(result.stderr.splitlines()) == 1 and len(errors) == 1, result.stderr
        assert not log.exists(), "a refused value still reached docker"
    assert list(outside.iterdir()) == [], "a file appeared outside the project"
    assert query(shared, "SELECT note FROM marker") == [("kept",)]
    if (
        target not in CHANGES_VERSION
        or not expected_literal(variable, target, name)
        or result.returncode
    ):
        assert version(shared) == before
