"""Files the toolkit writes are written aside, then renamed (migrator/files.py):
a reader sees the old file or the whole new one, a writer killed half-way
leaves only a hidden partial file, and the next write removes it."""

import fcntl
import os
import signal
import time

import pytest
from sqlalchemy import create_engine, text

from migrator import files
from tests.helpers import migrator_process, query, run_migrator, wait_for


def partials(folder) -> list:
    return sorted(folder.glob(f".*{files.PARTIAL}"))


def age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_new_text_replaces_the_file_only_once_it_is_whole(tmp_path):
    path = tmp_path / "schema.sql"
    path.write_text("old\n")
    path.chmod(0o640)

    with files.written_aside(path) as aside:
        aside.write_text("new, half")
        assert path.read_text() == "old\n"
        assert aside.parent == tmp_path and aside.name.startswith(".schema.sql.")
        assert aside.name.endswith(files.PARTIAL)
        aside.write_text("new\n")

    assert path.read_text() == "new\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert partials(tmp_path) == []


def test_a_write_that_fails_keeps_the_old_file_and_leaves_nothing_aside(tmp_path):
    path = tmp_path / "erd.svg"
    path.write_text("old\n")

    with pytest.raises(KeyboardInterrupt), files.written_aside(path) as aside:
        aside.write_text("new, half")
        raise KeyboardInterrupt

    assert path.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_a_new_file_gets_the_usual_mode_and_a_link_stays_a_link(tmp_path):
    mask = os.umask(0o022)
    try:
        files.write_text(tmp_path / "new.sql", "x\n")
    finally:
        os.umask(mask)
    assert (tmp_path / "new.sql").stat().st_mode & 0o777 == 0o644

    (tmp_path / "real.md").write_text("old\n")
    (tmp_path / "link.md").symlink_to("real.md")
    files.write_text(tmp_path / "link.md", "new\n")
    assert (tmp_path / "link.md").is_symlink()
    assert (tmp_path / "real.md").read_text() == "new\n"


def test_the_next_write_removes_stale_partials_but_not_one_still_being_written(tmp_path):
    stale, recent, held = (tmp_path / f".{name}.x{files.PARTIAL}" for name in "abc")
    for path in (stale, recent, held):
        path.write_text("cut short")
    age(stale, 3600)
    age(held, 3600)
    holder = os.open(held, os.O_RDONLY)  # a live writer's lock
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        files.write_text(tmp_path / "schema.sql", "new\n")
    finally:
        os.close(holder)

    assert partials(tmp_path) == sorted([recent, held])


def test_a_snapshot_killed_mid_dump_leaves_no_snapshot_and_the_next_one_cleans_up(
    migrated_url, tmp_path
):
    """SIGKILL, as when the toolbox container stops: no cleanup code runs."""
    # pg_dump waits for a table another session holds locked: killed there.
    engine = create_engine(migrated_url)
    with engine.connect() as holder:
        holder.execute(text("LOCK TABLE address IN ACCESS EXCLUSIVE MODE"))
        process = migrator_process("snapshot", url=migrated_url, SNAPSHOT_DIR=str(tmp_path))
        dumping = (
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'"
        )
        wait_for(lambda: query(migrated_url, dumping), "pg_dump to wait for the locked table")
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=20)
        holder.execute(text(f"SELECT pg_terminate_backend(pid) FROM ({dumping}) AS d"))
        holder.rollback()
    engine.dispose()

    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
    (partial,) = partials(tmp_path)
    age(partial, 3600)
    again = run_migrator("snapshot", url=migrated_url, SNAPSHOT_DIR=str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert [p.suffix for p in tmp_path.iterdir()] == [".dump"]
