"""Issue 3's promises, each with its fault injected on a real PostgreSQL:
concurrent migrators, a revision failing half-way, SIGTERM mid-migration,
snapshots before downgrades, a database that is down or refuses us, two heads."""

import os
import signal
import subprocess

import pytest
from sqlalchemy import create_engine, text

from migrator.db import MIGRATION_LOCK_ID
from tests import helpers
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

HEAD = "7e8f9a0b1c2d"


# ---- concurrency


def test_concurrent_migrators_apply_each_revision_once(database_url):
    # The test holds the lock until all four are connected and waiting for it.
    engine = create_engine(database_url)
    with engine.connect() as holder:
        holder.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))
        holder.commit()
        processes = [migrator_process("upgrade", url=database_url) for _ in range(4)]
        wait_for(
            lambda: (
                query(
                    database_url,
                    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                    f"AND datname = '{database_url.database}' AND query LIKE '%pg_try_advisory%'",
                )
                == [(4,)]
            ),
            "four migrators waiting for the lock",
        )
    engine.dispose()
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
    logs = "".join(err for _, err in outputs)
    for revision in ("1a2b3c4d5e6f", HEAD):
        assert logs.count(f"-> {revision},") == 1, logs
    assert logs.count("waiting for another migrator") == 4, logs
    assert version(database_url) == [HEAD]


def test_a_migrator_gives_up_after_migration_lock_timeout(database_url):
    engine = create_engine(database_url)
    with engine.connect() as holder:
        holder.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))
        result = run_migrator("upgrade", url=database_url, MIGRATION_LOCK_TIMEOUT="1")
    engine.dispose()

    assert_one_line_error(result, "another migrator held the migration lock", "1 s")
    assert query(database_url, "SELECT to_regclass('alembic_version')") == [(None,)]


# ---- failure is atomic


def test_a_revision_failing_half_way_rolls_back_alone(project, database_url):
    add_revision(
        project,
        "badbadbad001",
        HEAD,
        """
        op.add_column("address", sa.Column("phone", sa.String(20)))
        op.execute("SELECT 1 / 0")
        """,
    )

    result = run_migrator("upgrade", url=database_url, cwd=project)

    assert_one_line_error(result, "revision badbadbad001", "division by zero")
    # The two revisions before it stay applied; none of its own work remains.
    assert version(database_url) == [HEAD]
    assert columns(database_url, "address") == ["id", "permanent_addr", "temporary_addr"]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["docker stop", "Ctrl-C"])
def test_a_stop_signal_rolls_back_releases_the_lock_and_a_later_run_finishes(
    project, database_url, stop
):
    slow = add_revision(
        project,
        "51ee951ee900",
        HEAD,
        """
        op.add_column("address", sa.Column("phone", sa.String(20)))
        op.execute("SELECT pg_sleep(60)")
        """,
    )
    process = migrator_process("upgrade", url=database_url, cwd=project)
    wait_for(
        lambda: (
            query(
                database_url,
                "SELECT count(*) FROM pg_stat_activity "
                f"WHERE datname = '{database_url.database}' AND query LIKE 'SELECT pg_sleep%'",
            )
            == [(1,)]
        ),
        "the slow revision to start",
    )

    process.send_signal(stop)
    _, stderr = process.communicate(timeout=20)

    assert process.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert version(database_url) == [HEAD]
    assert "phone" not in columns(database_url, "address")
    assert query(database_url, f"SELECT pg_try_advisory_lock({MIGRATION_LOCK_ID})") == [(True,)]

    slow.write_text(slow.read_text().replace("pg_sleep(60)", "pg_sleep(0)"))
    assert run_migrator("upgrade", url=database_url, cwd=project).returncode == 0
    assert version(database_url) == ["51ee951ee900"]
    assert "phone" in columns(database_url, "address")


# ---- nothing lost on downgrade


def test_downgrade_snapshots_first_and_restore_brings_every_row_back(migrated_url, tmp_path):
    rows = [(1, "1 Elm St", "2 Oak Ave"), (2, "3 Pine Rd", "4 Birch Ln")]
    engine = create_engine(migrated_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO address VALUES (:i, :p, :t)"),
            [dict(zip("ipt", row, strict=True)) for row in rows],
        )
    engine.dispose()

    down = run_migrator("downgrade", "-1", url=migrated_url, SNAPSHOT_DIR=str(tmp_path))
    assert down.returncode == 0, down.stderr
    (snapshot,) = tmp_path.glob(f"*-at-{HEAD}.dump")
    assert f"snapshot saved: {os.path.relpath(snapshot, helpers.DEFAULT_CWD)}" in down.stdout
    assert "make restore f=" in down.stdout
    assert "temporary_addr" not in columns(migrated_url, "address")

    restored = run_migrator("restore", str(snapshot), url=migrated_url, SNAPSHOT_DIR=str(tmp_path))
    assert restored.returncode == 0, restored.stderr
    # What the restore replaced was saved first: the database one revision down.
    assert len(list(tmp_path.glob("*-at-1a2b3c4d5e6f.dump"))) == 1
    assert query(migrated_url, "SELECT * FROM address ORDER BY id") == rows
    assert version(migrated_url) == [HEAD]


@pytest.mark.parametrize("damage", ["missing", "not a dump"])
def test_restore_refuses_a_missing_or_corrupt_snapshot_and_touches_nothing(
    migrated_url, tmp_path, damage
):
    snapshot = tmp_path / "broken.dump"
    if damage == "not a dump":
        snapshot.write_bytes(b"PGDMP but not really" * 100)

    result = run_migrator("restore", str(snapshot), url=migrated_url)

    assert_one_line_error(result, str(snapshot))
    assert version(migrated_url) == [HEAD]
    assert "temporary_addr" in columns(migrated_url, "address")


def test_snapshot_takes_a_snapshot_on_demand(migrated_url, tmp_path):
    result = run_migrator("snapshot", url=migrated_url, SNAPSHOT_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    (snapshot,) = tmp_path.glob(f"*-at-{HEAD}.dump")
    assert (
        subprocess.run(["pg_restore", "--list", str(snapshot)], capture_output=True).returncode == 0
    )


def test_an_interrupted_snapshot_leaves_no_file_behind(migrated_url, tmp_path):
    # pg_dump waits for a table another session holds locked: stopped there.
    engine = create_engine(migrated_url)
    with engine.connect() as holder:
        holder.execute(text("LOCK TABLE address IN ACCESS EXCLUSIVE MODE"))
        process = migrator_process("snapshot", url=migrated_url, SNAPSHOT_DIR=str(tmp_path))
        wait_for(
            lambda: (
                query(
                    migrated_url,
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'",
                )
                == [(1,)]
            ),
            "pg_dump to wait for the locked table",
        )
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        holder.rollback()
    engine.dispose()

    assert process.returncode == 130, stderr
    assert "nothing was left half-done" in stderr
    assert list(tmp_path.iterdir()) == []


# ---- the database is down, slow, or wrong


def test_an_unreachable_database_fails_after_db_wait_timeout_naming_what_it_tried(database_url):
    down = database_url.set(host="127.0.0.1", port=1)

    result = run_migrator("upgrade", url=down, DB_WAIT_TIMEOUT="2.5")

    assert_one_line_error(
        result,
        "database not reachable at 127.0.0.1:1",
        f"database {down.database}",
        f"user {down.username}",
        "DB_WAIT_TIMEOUT",
    )
    assert "waiting for the database at 127.0.0.1:1" in result.stderr
    assert down.password not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"password": "wrong-password"}, "password authentication failed"),
        ({"database": "no_such_database"}, 'database "no_such_database" does not exist'),
        ({"username": "nobody", "password": "wrong-password"}, "authentication failed"),
        ({"query": {"sslmode": "require"}}, "does not support SSL"),
    ],
    ids=["wrong password", "unknown database", "unknown role", "TLS the server lacks"],
)
def test_credentials_and_names_fail_at_once_without_retrying(database_url, change, words):
    # A retry loop would run into the subprocess's timeout, not into the answer.
    result = run_migrator("upgrade", url=database_url.set(**change), DB_WAIT_TIMEOUT="600")

    assert_one_line_error(result, "cannot connect to", words)
    assert "wrong-password" not in result.stdout + result.stderr


def test_the_password_can_come_from_a_docker_secret_file(database_url, tmp_path):
    secret = tmp_path / "password"
    secret.write_text(database_url.password + "\n")
    result = run_migrator(
        "upgrade",
        POSTGRES_HOST=database_url.host,
        POSTGRES_PORT=str(database_url.port),
        POSTGRES_USER=database_url.username,
        POSTGRES_DB=database_url.database,
        POSTGRES_PASSWORD="not-this-one",
        POSTGRES_PASSWORD_FILE=str(secret),
        DATABASE_URL="",  # unset: it would win over POSTGRES_*
    )
    assert result.returncode == 0, result.stderr
    assert version(database_url) == [HEAD]


# ---- multiple heads


def test_two_heads_fail_before_touching_the_database(project, database_url):
    add_revision(project, "aaaa00000001", HEAD, "pass")
    add_revision(project, "bbbb00000002", HEAD, "pass")

    result = run_migrator("upgrade", url=database_url, cwd=project)

    assert_one_line_error(result, "multiple heads", "aaaa00000001", "bbbb00000002", "make merge")
    assert query(database_url, "SELECT to_regclass('alembic_version')") == [(None,)]


def test_an_unforeseen_error_keeps_its_traceback_but_never_the_password(project, database_url):
    add_revision(
        project,
        "1eaf1eaf1eaf",
        HEAD,
        'import os\nraise RuntimeError("could not use " + os.environ["DATABASE_URL"])',
    )

    result = run_migrator("upgrade", url=database_url, cwd=project)

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert f"could not use postgresql+psycopg2://test:***@{database_url.host}" in result.stderr
    assert database_url.password not in result.stderr
