"""End to end: the toolbox (scripts/toolbox) as make reaches it, in a copy of
the project: a stopped make stops its command, a stopped toolbox never runs a
command twice, and each command runs as the user who ran make (issue 20)."""

import contextlib
import os
import pty
import signal
import subprocess
import threading
import time

import pytest

from tests.e2e.conftest import output
from tests.helpers import wait_for
from tests.toolkit.conftest import HEAD

PSQL = ("docker", "compose", "exec", "-T", "db", "sh", "-c")

SLOW_REVISION = f'''"""slow

Revision ID: 5105105105aa
Revises: {HEAD}
Create Date: 2026-12-01 00:00:00+00:00
"""

from alembic import op

revision = "5105105105aa"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE slow_marker (id integer)")
    op.execute("SELECT pg_sleep(120)")


def downgrade() -> None:
    op.execute("DROP TABLE slow_marker")
'''
SLEEPING = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE state = 'active' AND query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()"
)
STATE = (
    f"{SLEEPING}; SELECT version_num FROM alembic_version;"
    " SELECT count(*) FROM pg_locks WHERE locktype = 'advisory';"
    " SELECT to_regclass('slow_marker') IS NULL"
)


def sql(make, query: str) -> list[str]:
    done = make(*PSQL, f'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "{query}"')
    assert done.returncode == 0, output(done)
    return done.stdout.split()


# How make is stopped: as `kill`, an IDE's stop button or a CI cancel do; as
# `timeout -s INT` does (the whole process group); as `timeout` does (the
# docker client in the group ends too, and the command's last words with it).
STOPS = {
    "SIGTERM to make": lambda pid: os.kill(pid, signal.SIGTERM),
    "SIGINT to its process group": lambda pid: os.killpg(pid, signal.SIGINT),
    "SIGTERM to its process group": lambda pid: os.killpg(pid, signal.SIGTERM),
}


@pytest.mark.parametrize("how", STOPS)
def test_a_stopped_make_returns_only_once_its_revision_rolled_back_and_the_lock_is_free(
    project_copy, how
):
    copy, make = project_copy
    upgrade = slow_upgrade(copy, make)

    STOPS[how](upgrade.pid)
    stopped = time.monotonic()
    stdout, stderr = upgrade.communicate(timeout=100)

    assert_stopped_in_time(make, upgrade, stopped, stdout + stderr)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: interrupted"), stdout + stderr


def test_ctrl_c_in_a_terminal_still_stops_the_revision(project_copy):
    """With a terminal, docker exec -t passes Ctrl-C on itself."""
    copy, make = project_copy
    controller, terminal = pty.openpty()
    shown = []
    upgrade = slow_upgrade(copy, make, terminal=terminal)
    os.close(terminal)
    reader = threading.Thread(target=read_all, args=(controller, shown))
    reader.start()

    os.write(controller, b"\x03")
    stopped = time.monotonic()
    upgrade.wait(timeout=100)
    reader.join(timeout=10)

    assert_stopped_in_time(make, upgrade, stopped, b"".join(shown).decode())
    assert "error: interrupted" in b"".join(shown).decode()


def read_all(descriptor: int, into: list[bytes]) -> None:
    with contextlib.suppress(OSError):  # EIO once make and its children closed it
        while chunk := os.read(descriptor, 4096):
            into.append(chunk)
    os.close(descriptor)


def slow_upgrade(copy, make, **options) -> subprocess.Popen:
    """`make upgrade` started on a migrated database, once its slow revision runs."""
    up = make("up")
    assert up.returncode == 0, output(up)
    (copy / "alembic" / "versions" / "2026_12_01_0000-5105105105aa_slow.py").write_text(
        SLOW_REVISION
    )
    upgrade = make("upgrade", background=True, **options)
    wait_for(lambda: sql(make, SLEEPING) == ["1"], "the slow revision to start", timeout=120)
    return upgrade


def assert_stopped_in_time(make, upgrade, stopped: float, shown: str) -> None:
    took = time.monotonic() - stopped
    # At the moment make returned: nothing runs, the revision is rolled back
    # (version and table), and the migration lock is free.
    assert sql(make, STATE) == ["0", HEAD, "0", "t"], shown
    assert upgrade.returncode != 0, shown
    assert took < 60, f"make waited {took:.0f} s: the revision was not stopped"


def test_a_toolbox_stopped_mid_snapshot_does_not_run_the_downgrade_again(project_copy):
    """Nor leaves a snapshot cut short where make restore would find it."""
    copy, make = project_copy
    up = make("up")
    assert up.returncode == 0, output(up)
    # A few million rows: pg_dump takes seconds.
    rows = "SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 3000000) AS g"
    sql(make, f"CREATE TABLE bulk AS {rows}")
    snapshots = copy / "snapshots"
    running = make("current")  # the toolbox, running when make downgrade starts
    assert running.returncode == 0, output(running)

    downgrade = make("downgrade", background=True)
    # pg_dump has begun writing: stop the toolbox under it.
    wait_for(
        lambda: snapshots.is_dir() and any(snapshots.iterdir()), "pg_dump to start", timeout=120
    )
    stop = make("docker", "stop", f"{copy.name}-dev-1")
    assert stop.returncode == 0, output(stop)
    stdout, stderr = downgrade.communicate(timeout=300)

    assert downgrade.returncode != 0, stdout + stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "stopped while the command ran" in errors[0], stderr
    assert sql(make, "SELECT version_num FROM alembic_version") == [HEAD]
    offered = [path.name for path in snapshots.iterdir() if not path.name.startswith(".")]
    assert offered == [], "a snapshot cut short is offered to make restore"


def test_each_command_runs_as_the_user_who_ran_make_not_the_one_who_started_the_toolbox(
    project_copy,
):
    copy, make = project_copy
    owner = copy.stat().st_uid
    first = make("upgrade")  # starts the toolbox as the copy's owner
    assert first.returncode == 0, output(first)

    later = make("snapshot", uid=0)  # `sudo make snapshot`, say

    assert later.returncode == 0, output(later)
    (snapshot,) = (copy / "snapshots").glob("*.dump")
    assert (snapshot.stat().st_uid, snapshot.stat().st_gid) == (0, 0)
    assert owner != 0
