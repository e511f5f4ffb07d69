"""Issue 10 on a real PostgreSQL: a migration on a table in use waits for its
lock at most LOCK_TIMEOUT at a time, so the application's queries never queue
behind it for long; it is retried until the blocker ends, or gives up cleanly."""

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from migrator.db import MIGRATION_LOCK_ID
from tests.helpers import (
    add_revision,
    assert_one_line_error,
    columns,
    migrator_process,
    query,
    run_migrator,
    version,
    wait_for,
)

HEAD, NEW = "7e8f9a0b1c2d", "b5b5b5b5b5b5"
ADD_PHONE = 'op.add_column("address", sa.Column("phone", sa.String(20)))'
INDEX = "ix_address_permanent_addr"
# Small waits keep the tests fast; retries enough to outlast any blocker the
# test ends itself.
LOCK_TIMEOUT = 0.5
PATIENT = {"LOCK_TIMEOUT": str(LOCK_TIMEOUT), "LOCK_RETRIES": "30", "LOCK_RETRY_PAUSE": "0.1"}


@contextmanager
def holding(url, statement: str) -> Iterator[int]:
    """A session that ran ``statement`` and keeps its transaction open: the
    long report (a SELECT) or the slow writer (an INSERT) a migration meets in
    production. Yields its pid."""
    engine = create_engine(url)
    with engine.connect() as connection:
        pid = connection.scalar(text("SELECT pg_backend_pid()"))
        connection.execute(text(statement))
        yield pid
        connection.rollback()
    engine.dispose()


@contextmanager
def readers(url, sql: str) -> Iterator[list[float]]:
    """Another session running ``sql`` again and again meanwhile; yields how
    long each run took, in seconds."""
    waits: list[float] = []
    stop = threading.Event()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def read() -> None:
        with engine.connect() as connection:
            while not stop.is_set():
                start = time.monotonic()
                connection.execute(text(sql))
                waits.append(time.monotonic() - start)
                time.sleep(0.02)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        yield waits
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def waits_logged(log, at_least: int) -> bool:
    return log.read_text().count("; retry ") >= at_least


def test_readers_wait_at_most_lock_timeout_and_the_migration_ends_after_the_blocker(
    project, migrated_url, tmp_path
):
    add_revision(project, NEW, HEAD, ADD_PHONE)
    log = tmp_path / "upgrade.log"
    with readers(migrated_url, "SELECT count(*) FROM address") as waits:
        with holding(migrated_url, "SELECT count(*) FROM address") as blocker:
            migrator = migrator_process(
                "upgrade", url=migrated_url, cwd=project, log=log, **PATIENT
            )
            # Two tries and a retry: the readers queued behind each ALTER.
            wait_for(lambda: waits_logged(log, 2), "two lock waits")
        assert migrator.wait(timeout=30) == 0, log.read_text()

    out = log.read_text()
    assert f"waiting for a lock on address: pid {blocker}, running " in out
    assert ": SELECT count(*) FROM address; retry 1/30 in 0.1 s" in out
    assert max(waits) <= LOCK_TIMEOUT + 1, sorted(waits)[-3:]
    assert version(migrated_url) == [NEW]
    assert "phone" in columns(migrated_url, "address")


def test_a_blocker_that_outlives_every_retry_fails_the_revision_and_changes_nothing(
    project, migrated_url
):
    add_revision(project, NEW, HEAD, ADD_PHONE)
    with holding(migrated_url, "SELECT permanent_addr FROM address") as blocker:
        result = run_migrator(
            "upgrade",
            url=migrated_url,
            cwd=project,
            LOCK_TIMEOUT="0.2",
            LOCK_RETRIES="2",
            LOCK_RETRY_PAUSE="0.1",
        )

    assert_one_line_error(
        result,
        f"revision {NEW} (test revision {NEW}) gave up after 2 retries",
        f"a lock on address: pid {blocker}, running ",
        ": SELECT permanent_addr FROM address; nothing of it was applied",
    )
    assert result.returncode == 1
    assert result.stderr.count("; retry ") == 2, result.stderr
    assert version(migrated_url) == [HEAD]
    assert columns(migrated_url, "address") == ["id", "permanent_addr", "temporary_addr"]


def test_a_stop_signal_in_a_retry_pause_leaves_no_transaction_and_no_lock(
    project, migrated_url, tmp_path
):
    add_revision(project, NEW, HEAD, ADD_PHONE)
    log = tmp_path / "upgrade.log"
    with holding(migrated_url, "SELECT count(*) FROM address"):
        migrator = migrator_process(
            "upgrade",
            url=migrated_url,
            cwd=project,
            log=log,
            LOCK_TIMEOUT="0.2",
            LOCK_RETRY_PAUSE="60",
        )
        wait_for(lambda: waits_logged(log, 1), "the first retry pause")
        migrator.send_signal(signal.SIGTERM)
        assert migrator.wait(timeout=10) == 130, log.read_text()

        assert "error: interrupted" in log.read_text()
        # Only the blocker and this query's session remain: the migrator's are
        # gone, and with them any transaction or lock (the server ends them
        # a moment after the process).
        wait_for(
            lambda: (
                query(
                    migrated_url,
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
                )
                == [(2,)]
            ),
            "the migrator's sessions to end",
            timeout=5,
        )
    assert query(migrated_url, f"SELECT pg_try_advisory_lock({MIGRATION_LOCK_ID})") == [(True,)]
    assert version(migrated_url) == [HEAD]
    assert "phone" not in columns(migrated_url, "address")


CONCURRENT_INDEX = f"""
with op.get_context().autocommit_block():
    op.create_index(
        "{INDEX}", "address", ["permanent_addr"], postgresql_concurrently=True, if_not_exists=True
    )
"""


def test_a_concurrent_index_build_that_failed_is_dropped_and_built_again_valid(
    project, migrated_url, tmp_path
):
    add_revision(project, NEW, HEAD, CONCURRENT_INDEX)
    log = tmp_path / "upgrade.log"
    # A writer's open transaction: CREATE INDEX CONCURRENTLY creates its index,
    # then waits for it, and gives up with the index left INVALID.
    with holding(migrated_url, "INSERT INTO address (id, permanent_addr) VALUES (1, 'x')"):
        migrator = migrator_process("upgrade", url=migrated_url, cwd=project, log=log, **PATIENT)
        wait_for(lambda: waits_logged(log, 2), "two lock waits")
        assert query(migrated_url, f"SELECT to_regclass('{INDEX}') IS NOT NULL") == [(True,)]
    assert migrator.wait(timeout=30) == 0, log.read_text()

    assert f"dropped the INVALID index {INDEX}" in log.read_text()
    indexes = query(
        migrated_url,
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'address'::regclass ORDER BY 1",
    )
    assert indexes == [(INDEX, True), ("pk_address", True)]
    assert version(migrated_url) == [NEW]


def test_an_index_build_out_of_retries_names_the_invalid_index_it_could_not_drop(
    project, migrated_url
):
    add_revision(project, NEW, HEAD, CONCURRENT_INDEX)
    with holding(migrated_url, "INSERT INTO address (id, permanent_addr) VALUES (1, 'x')"):
        result = run_migrator(
            "upgrade", url=migrated_url, cwd=project, LOCK_TIMEOUT="0.2", LOCK_RETRIES="0"
        )

    assert_one_line_error(
        result,
        f"revision {NEW}",
        f"left the INVALID index {INDEX}: run DROP INDEX CONCURRENTLY {INDEX} before",
    )
    valid = f"SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('{INDEX}')"
    assert query(migrated_url, valid) == [(False,)]
    assert version(migrated_url) == [HEAD]


def test_a_downgrade_meeting_a_blocker_gives_up_after_lock_timeout_rolled_back(
    migrated_url, tmp_path
):
    with holding(migrated_url, "SELECT count(*) FROM address"):
        result = run_migrator(
            "downgrade", "-1", url=migrated_url, LOCK_TIMEOUT="0.2", SNAPSHOT_DIR=str(tmp_path)
        )

    assert_one_line_error(result, f"revision {HEAD}", "rolled back", "lock timeout")
    assert version(migrated_url) == [HEAD]
    assert "temporary_addr" in columns(migrated_url, "address")


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("LOCK_TIMEOUT", "soon", "LOCK_TIMEOUT must be a number of seconds, not 'soon'"),
        ("LOCK_RETRIES", "-1", "LOCK_RETRIES and LOCK_RETRY_PAUSE must be 0 or more"),
    ],
)
def test_a_bad_lock_wait_setting_is_one_error_line_and_nothing_runs(
    database_url, setting, value, words
):
    result = run_migrator("upgrade", url=database_url, **{setting: value})

    assert_one_line_error(result, words)
    assert query(database_url, "SELECT to_regclass('alembic_version')") == [(None,)]
