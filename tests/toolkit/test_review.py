"""`make review` (issue 21): the pending revisions traced statement by
statement on a throwaway copy of the database, through the migrator as users
run it, on a table of 200,000 rows."""

import json
import re
import signal
import uuid

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from migrator.catalog import describe
from migrator.trace import MODES, blocks, documented_locks
from tests.conftest import new_database
from tests.helpers import (
    add_revision,
    assert_one_line_error,
    migrator_process,
    query,
    run_migrator,
    version,
    wait_for,
)
from tests.toolkit.conftest import FIRST, HEAD, copy_project

ROWS = 200_000
# One revision per behaviour, in a chain after the fixture's head.
REVISIONS = {
    "a1a1a1a1a1a1": 'op.alter_column("acct", "name", type_=sa.String(200), '
    "existing_type=sa.String(100))",
    "a2a2a2a2a2a2": 'op.alter_column("acct", "n", type_=sa.BigInteger(), '
    "existing_type=sa.Integer())",
    "a3a3a3a3a3a3": 'op.create_index("ix_acct_n", "acct", ["n"])',
    "a4a4a4a4a4a4": """
        with op.get_context().autocommit_block():
            op.create_index("ix_acct_name", "acct", ["name"], postgresql_concurrently=True)
        """,
    "a5a5a5a5a5a5": 'op.drop_column("acct", "note")',
    "a6a6a6a6a6a6": """
        op.add_column("acct", sa.Column("flag", sa.Integer()))
        op.execute("UPDATE acct SET flag = 1")
        """,
}
WIDEN, BIGINT, INDEX, CONCURRENT, DROP, BACKFILL = REVISIONS


@pytest.fixture(scope="module")
def template(admin: Engine, fixture_template: str) -> str:
    """The fixture at head plus acct, 200,000 rows (a note in 3 of 4), built
    once: each test's database is a copy of it."""
    name = f"review_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{fixture_template}"'))
    engine = create_engine(admin.url.set(database=name))
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE acct "
                "(id integer PRIMARY KEY, name varchar(100), n integer, note text)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO acct SELECT g, 'name ' || g, g, "
                f"CASE WHEN g % 4 = 0 THEN NULL ELSE 'note' END FROM generate_series(1, {ROWS}) g"
            )
        )
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("review"))
    down = HEAD
    for revision, body in REVISIONS.items():
        add_revision(project, revision, down, body)
        down = revision
    return project


@pytest.fixture(scope="module")
def dev(admin, template):
    """The development database the module's reviews copy."""
    yield from new_database(admin, template)


def leftovers(admin: Engine, url) -> list[str]:
    """The copies of the database at ``url`` still there (other tests' are theirs)."""
    with admin.connect() as connection:
        return list(
            connection.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :copies"),
                {"copies": url.database.replace("_", "\\_") + "\\_review\\_%"},
            )
        )


def snapshot(url) -> tuple:
    engine = create_engine(url)
    with engine.connect() as connection:
        schema = describe(connection)
        rows = connection.scalar(text("SELECT count(note) FROM acct"))
    engine.dispose()
    return schema, rows, version(url)


@pytest.fixture(scope="module")
def reviewed(admin, chain, dev) -> tuple[dict, tuple, tuple]:
    """`review format=json` of the chain on the module's database, with the
    database's state before and after."""
    before = snapshot(dev)
    result = run_migrator("review", "", "json", url=dev, cwd=chain)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), before, snapshot(dev)


def revision(report: dict, revision_id: str) -> dict:
    (found,) = [r for r in report["revisions"] if r["revision"] == revision_id]
    return found


def finding(found: dict, rule: str) -> dict:
    (one,) = [f for f in found["findings"] if f["rule"] == rule]
    return one


def test_review_traces_each_pending_revision_in_order(reviewed):
    report, _, _ = reviewed
    assert [r["revision"] for r in report["revisions"]] == list(REVISIONS)
    assert revision(report, WIDEN)["message"] == f"test revision {WIDEN}"
    # The migrator's bookkeeping is not the revisions'.
    for found in report["revisions"]:
        for statement in found["statements"]:
            assert "alembic_" not in statement["sql"]
            assert "pg_advisory" not in statement["sql"]


def test_a_varchar_widening_locks_without_rewriting_and_contradicts_squawk(reviewed):
    (statement,) = revision(reviewed[0], WIDEN)["statements"]
    assert statement["locks"] == [
        {"relation": "acct", "mode": "AccessExclusiveLock", "seen": "observed"}
    ]
    assert statement["blocks"] == "reads and writes"
    assert statement["rewrites"] == []
    verdict = finding(revision(reviewed[0], WIDEN), "changing-column-type")
    assert verdict["trace"] == "contradicted"
    assert verdict["why"].startswith("no rewrite; the lock was held ")


def test_integer_to_bigint_rewrites_the_table_and_confirms_squawk(reviewed):
    (statement,) = revision(reviewed[0], BIGINT)["statements"]
    # The table and, rebuilt with it, its index.
    assert statement["rewrites"] == ["acct", "acct_pkey"]
    assert statement["blocks"] == "reads and writes"
    assert finding(revision(reviewed[0], BIGINT), "changing-column-type")["trace"] == "confirmed"


def test_create_index_takes_a_share_lock_that_blocks_writes(reviewed):
    (statement,) = revision(reviewed[0], INDEX)["statements"]
    assert {"relation": "acct", "mode": "ShareLock", "seen": "observed"} in statement["locks"]
    assert statement["blocks"] == "writes"
    verdict = finding(revision(reviewed[0], INDEX), "require-concurrent-index-creation")
    assert verdict["trace"] == "confirmed"
    assert "ShareLock on acct blocks writes" in verdict["why"]


def test_an_index_built_concurrently_in_an_autocommit_block_blocks_nothing(reviewed):
    (statement,) = revision(reviewed[0], CONCURRENT)["statements"]
    assert statement["autocommit"] is True
    assert [(lock["relation"], lock["mode"]) for lock in statement["locks"]] == [
        ("acct", "ShareUpdateExclusiveLock")
    ]
    assert statement["blocks"] == "nothing"
    # Held only while it ran: the statement committed by itself.
    assert statement["held_ms"] == statement["ms"]


def test_a_dropped_column_reports_its_non_null_values(reviewed):
    found = revision(reviewed[0], DROP)
    assert found["dropped"] == [{"object": "acct.note", "kind": "column", "values": ROWS * 3 // 4}]
    verdict = finding(found, "ban-drop-column")
    assert verdict["trace"] == "confirmed"
    assert f"acct.note: {ROWS * 3 // 4}" in verdict["why"]


def reviewed_alone(url, project, rows: str) -> dict:
    """The JSON report of the one revision pending in ``project``, on the
    database at ``url`` once the statement ``rows`` has filled it."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(rows))
    engine.dispose()
    result = run_migrator("review", "", "json", url=url, cwd=project)
    assert result.returncode == 0, result.stderr
    (found,) = json.loads(result.stdout)["revisions"]
    return found


def test_a_dropped_table_reports_its_rows_and_a_renamed_column_loses_nothing(migrated_url, project):
    add_revision(
        project,
        "d1d1d1d1d1d1",
        HEAD,
        # One statement for both: the rename is seen as the drop is.
        'op.execute("ALTER TABLE address RENAME permanent_addr TO home; DROP TABLE family")',
    )
    found = reviewed_alone(
        migrated_url, project, "INSERT INTO family (id) SELECT generate_series(1, 3)"
    )

    assert found["dropped"] == [{"object": "family", "kind": "table", "values": 3}]


def test_a_drop_and_add_of_one_type_in_one_table_is_noted_as_a_lossy_rename(migrated_url, project):
    add_revision(
        project,
        "d2d2d2d2d2d2",
        HEAD,
        """
        op.add_column("address", sa.Column("home", sa.String(length=100)))
        op.drop_column("address", "permanent_addr")
        """,
        """
        op.add_column("address", sa.Column("permanent_addr", sa.String(length=100)))
        op.drop_column("address", "home")
        """,
    )
    found = reviewed_alone(
        migrated_url, project, "INSERT INTO address (permanent_addr) VALUES ('1 Elm St')"
    )

    assert found["dropped"] == [{"object": "address.permanent_addr", "kind": "column", "values": 1}]
    (note,) = found["notes"]
    assert "this looks like a rename written as drop + add: the column's values are lost" in note
    assert "address.permanent_addr" in note and "home" in note


def test_an_added_column_keeps_its_lock_for_the_backfill_after_it(reviewed):
    alter, update = revision(reviewed[0], BACKFILL)["statements"]
    assert alter["sql"].startswith("ALTER TABLE acct ADD COLUMN flag")
    assert alter["locks"][0]["mode"] == "AccessExclusiveLock"
    assert update["sql"] == "UPDATE acct SET flag = 1"
    assert alter["held_ms"] >= update["ms"] > alter["ms"]


def test_the_reviewed_database_is_unchanged_and_no_copy_is_left(admin, reviewed, dev):
    _, before, after = reviewed
    assert after == before
    assert after[2] == [HEAD]
    assert leftovers(admin, dev) == []


def test_the_markdown_report_has_a_table_per_revision(chain, dev):
    result = run_migrator("review", f"{WIDEN}:{BIGINT}", "markdown", url=dev, cwd=chain)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"## make review: {WIDEN}:{BIGINT} on a copy of ")
    assert f"### revision {BIGINT}: test revision {BIGINT}" in lines
    assert "| statement | locks | blocks | rewrites | ms | held ms |" in lines
    (row,) = [line for line in lines if line.startswith("| ALTER TABLE acct ALTER COLUMN n")]
    assert "AccessExclusiveLock on acct" in row
    assert "| reads and writes | acct, acct_pkey |" in row
    assert any(
        line.startswith("- lint changing-column-type: confirmed: rewrote acct") for line in lines
    )
    # From WIDEN: only what comes after it.
    assert f"### revision {WIDEN}: test revision {WIDEN}" not in lines


def test_the_text_report_reads_in_a_terminal(chain, dev):
    result = run_migrator("review", f"{BIGINT}:{INDEX}", url=dev, cwd=chain)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"revision {INDEX} (test revision {INDEX})" in lines
    assert lines[lines.index(f"revision {INDEX} (test revision {INDEX})") + 1].split() == [
        "statement",
        "locks",
        "blocks",
        "rewrites",
        "ms",
        "held",
        "ms",
    ]


@pytest.fixture
def dev_of_its_own(admin, template):
    yield from new_database(admin, template)


def test_a_failing_revision_is_one_line_and_leaves_no_copy(admin, dev_of_its_own, project):
    add_revision(project, "badbad000001", HEAD, 'op.execute("ALTER TABLE acct ADD CHECK (n < 0)")')

    result = run_migrator("review", url=dev_of_its_own, cwd=project)

    assert_one_line_error(result, "revision badbad000001 (test revision badbad000001)", "violated")
    assert "fails on the copy" in result.stderr
    assert leftovers(admin, dev_of_its_own) == []
    assert version(dev_of_its_own) == [HEAD]


def test_a_database_with_other_sessions_is_copied_by_pg_dump(admin, migrated_url, project):
    add_revision(
        project, "c0c0c0c0c0c0", HEAD, 'op.add_column("family", sa.Column("x", sa.Text()))'
    )
    engine = create_engine(migrated_url)
    with engine.connect() as other:
        other.execute(text("SELECT 1"))  # a session in it: no TEMPLATE copy
        result = run_migrator("review", "", "json", url=migrated_url, cwd=project)
    engine.dispose()

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "(pg_dump | pg_restore)" in report["about"]
    assert [r["revision"] for r in report["revisions"]] == ["c0c0c0c0c0c0"]
    assert leftovers(admin, migrated_url) == []


def sleeping(admin: Engine, database: str) -> list[str]:
    """The copies of ``database`` a review's pg_sleep runs in."""
    copies = database.replace("_", "\\_") + "\\_review\\_%"
    return [
        name
        for (name,) in query(
            admin.url,
            "SELECT datname FROM pg_stat_activity "
            f"WHERE datname LIKE '{copies}' "
            "AND query LIKE 'SELECT pg_sleep%'",
        )
    ]


def test_ctrl_c_drops_the_copy(admin, migrated_url, project):
    add_revision(project, "51ee951ee900", HEAD, 'op.execute("SELECT pg_sleep(60)")')
    process = migrator_process("review", url=migrated_url, cwd=project)
    wait_for(lambda: sleeping(admin, migrated_url.database), "the slow revision to start")

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)

    assert process.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert leftovers(admin, migrated_url) == []


def test_a_range_before_the_database_starts_from_a_copy_taken_back_to_it(admin, migrated_url):
    result = run_migrator("review", f"base:{HEAD}", "json", url=migrated_url)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["revision"] for r in report["revisions"]] == [FIRST, HEAD]
    first, second = (r["statements"] for r in report["revisions"])
    # Tables it creates: no lock on anything that existed before.
    assert [s["sql"].split("(")[0] for s in first] == [
        "CREATE TABLE address ",
        "CREATE TABLE family ",
    ]
    assert all(s["locks"] == [] and s["blocks"] == "nothing" for s in first)
    assert second[0]["locks"][0]["mode"] == "AccessExclusiveLock"
    assert version(migrated_url) == [HEAD]
    assert leftovers(admin, migrated_url) == []


def test_a_database_at_head_has_nothing_to_review(migrated_url):
    result = run_migrator("review", url=migrated_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "review: nothing to review: the database is at head\n"


def test_review_refuses_a_target_that_is_not_a_range_and_an_unknown_format(migrated_url):
    assert_one_line_error(run_migrator("review", "head", url=migrated_url), "is not a range")
    assert_one_line_error(
        run_migrator("review", "", "yaml", url=migrated_url), "format=yaml is not understood"
    )


@pytest.mark.parametrize("mode", MODES)
def test_what_a_lock_blocks_is_what_postgresql_makes_wait(database_url, mode):
    """The three words come from a table copied out of PostgreSQL's docs:
    checked here against PostgreSQL itself, mode by mode."""
    engine = create_engine(database_url)
    with engine.connect() as holder, engine.connect() as other:
        holder.execute(text("CREATE TABLE t (n integer)"))
        holder.commit()
        words = " ".join(re.findall(r"[A-Z][a-z]+", mode)[:-1]).upper()
        holder.execute(text(f"LOCK TABLE t IN {words} MODE"))
        other.execute(text("SET lock_timeout = '50ms'"))
        waits = []
        for statement in ("SELECT * FROM t", "INSERT INTO t VALUES (1)"):
            try:
                other.execute(text(statement))
                waits.append(False)
            except OperationalError:
                waits.append(True)
            other.rollback()
            other.execute(text("SET lock_timeout = '50ms'"))
        holder.rollback()
    engine.dispose()
    expected = {
        (True, True): "reads and writes",
        (False, True): "writes",
        (False, False): "nothing",
    }
    assert blocks(mode) == expected[tuple(waits)]


def test_a_concurrent_index_too_quick_to_watch_is_given_its_documented_lock():
    assert documented_locks('CREATE INDEX CONCURRENTLY ix ON "acct" (n)') == [
        ("acct", "ShareUpdateExclusiveLock")
    ]


def test_a_second_review_leaves_the_first_ones_copy_alone(admin, migrated_url, project):
    add_revision(project, "51ee951ee901", HEAD, 'op.execute("SELECT pg_sleep(60)")')
    first = migrator_process("review", url=migrated_url, cwd=project)
    wait_for(lambda: sleeping(admin, migrated_url.database), "the first review's revision")
    (first_copy,) = sleeping(admin, migrated_url.database)

    second = run_migrator("review", f"{FIRST}:{HEAD}", "json", url=migrated_url, cwd=project)

    assert second.returncode == 0, second.stderr
    assert first_copy not in json.loads(second.stdout)["about"]
    # Still tracing on its copy: the second neither dropped it nor shared its name.
    assert sleeping(admin, migrated_url.database) == [first_copy]
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=20)
    assert leftovers(admin, migrated_url) == []


def test_a_copy_a_killed_review_left_is_dropped_by_the_next_and_a_fresh_one_is_not(
    admin, migrated_url, project
):
    add_revision(
        project, "c1c1c1c1c1c1", HEAD, 'op.add_column("family", sa.Column("x", sa.Text()))'
    )
    prefix = f"{migrated_url.database}_review_"
    now = query(admin.url, "SELECT extract(epoch FROM now())::bigint")[0][0]
    killed = f"{prefix}{now - 3600:010d}_0123abcd"  # an hour old, nobody in it
    starting = f"{prefix}{now:010d}_4567cdef"  # another review's, made just now
    with admin.connect() as connection:
        for name in (killed, starting):
            connection.execute(text(f'CREATE DATABASE "{name}"'))

    result = run_migrator("review", url=migrated_url, cwd=project)

    assert result.returncode == 0, result.stderr
    assert leftovers(admin, migrated_url) == [starting]
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{starting}"'))


def test_a_python_error_in_a_revision_is_one_line_and_leaves_no_copy(admin, migrated_url, project):
    add_revision(project, "badbad000002", HEAD, 'raise RuntimeError("boom")')

    result = run_migrator("review", url=migrated_url, cwd=project)

    assert_one_line_error(
        result, "revision badbad000002 (test revision badbad000002) fails on the copy", "boom"
    )
    assert "RuntimeError: boom" in result.stderr
    assert leftovers(admin, migrated_url) == []
    assert version(migrated_url) == [HEAD]


def test_a_concurrent_index_slow_enough_to_watch_has_its_lock_observed(migrated_url, project):
    engine = create_engine(migrated_url)
    with engine.begin() as connection:
        # An index expression that takes about half a millisecond a row: the
        # build lasts about a second, long enough for the second session to see it.
        connection.execute(
            text(
                "CREATE FUNCTION slow(n integer) RETURNS integer IMMUTABLE LANGUAGE plpgsql "
                "AS 'BEGIN PERFORM pg_sleep(0.0005); RETURN n; END'"
            )
        )
        connection.execute(text("CREATE TABLE slow_t AS SELECT generate_series(1, 1000) AS n"))
    engine.dispose()
    add_revision(
        project,
        "c2c2c2c2c2c2",
        HEAD,
        """
        with op.get_context().autocommit_block():
            op.execute("CREATE INDEX CONCURRENTLY ix_slow ON slow_t (slow(n))")
        """,
    )

    result = run_migrator("review", "", "json", url=migrated_url, cwd=project)

    assert result.returncode == 0, result.stderr
    ((statement,),) = (r["statements"] for r in json.loads(result.stdout)["revisions"])
    assert statement["autocommit"] is True
    assert {"relation": "slow_t", "mode": "ShareUpdateExclusiveLock", "seen": "observed"} in (
        statement["locks"]
    )
    assert statement["blocks"] == "nothing"
