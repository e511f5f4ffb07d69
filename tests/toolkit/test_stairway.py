"""The stairway (tests/stairway.py) cut into segments, one per test worker, on
fixture histories with a branch and a merge: each segment starts from a
database exactly at its first revision's parents, and the segments together
name every fault the whole walk names, however the history is cut."""

import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tests import stairway
from tests.conftest import dealt
from tests.helpers import add_revision
from tests.toolkit.conftest import HEAD


def table(name: str) -> tuple[str, str]:
    create = (
        f'op.create_table("{name}", sa.Column("id", sa.Integer(), nullable=False), '
        f'sa.PrimaryKeyConstraint("id", name="pk_{name}"))'
    )
    return create, f'op.drop_table("{name}")'


def branched(project: Path, **changed: tuple[str, str]) -> list[str]:
    """The fixture's two revisions, then two branches joined by a merge and one
    revision after it; ``changed`` replaces a revision's upgrade and downgrade."""
    history = {
        "aaaa00000001": (HEAD, *table("left_branch")),
        "bbbb00000001": (HEAD, *table("right_branch")),
        "ccc000000001": (("aaaa00000001", "bbbb00000001"), "pass", "pass"),
        "dddd00000001": ("ccc000000001", *table("after_merge")),
    }
    for revision, (down, upgrade, downgrade) in history.items():
        add_revision(project, revision, down, *changed.get(revision, (upgrade, downgrade)))
    return list(history)


@pytest.fixture
def walk_all(admin, project, monkeypatch):
    """walk_all(count): the project's history cut into ``count`` segments,
    each walked on its own: every segment's faults, in order."""
    # Alembic puts the project on sys.path for good: undone after the test.
    monkeypatch.setattr(sys, "path", list(sys.path))

    def walk_all(count: int) -> list[list[str]]:
        script = ScriptDirectory.from_config(Config(project / "alembic.ini"))
        cut = stairway.segments(stairway.oldest_first(script), count)
        return [stairway.walk(admin, project / "alembic.ini", script, segment) for segment in cut]

    return walk_all


def test_the_segments_hold_every_revision_once_oldest_first_however_many(project):
    branched(project)
    revisions = stairway.oldest_first(ScriptDirectory.from_config(Config(project / "alembic.ini")))

    for count in range(1, len(revisions) + 3):
        cut = stairway.segments(revisions, count)
        assert [step for segment in cut for step in segment] == revisions
        assert len(cut) == min(count, len(revisions)) and all(cut)
    assert stairway.segments([], 3) == [[]]


@pytest.mark.parametrize(
    ("revisions", "workers", "count"),
    [(0, 3, 1), (2, 3, 1), (11, 3, 1), (59, 3, 1), (60, 3, 2), (300, 3, 3), (300, 1, 1)],
)
def test_this_runs_segments_are_one_per_worker_none_shorter_than_segment_min(
    monkeypatch, revisions, workers, count
):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    history = [f"rev{i}" for i in range(revisions)]

    cut = stairway.this_runs_segments(history)

    assert len(cut) == count
    assert [step for segment in cut for step in segment] == history
    assert all(len(segment) >= stairway.SEGMENT_MIN for segment in cut) or count == 1


def worksteal_shares(items: list, count: int) -> list[list]:
    """The contiguous shares xdist's worksteal hands ``count`` idle workers
    at the start (WorkStealingScheduling.check_schedule)."""
    shares, pending = [], list(items)
    for worker in range(count):
        size = len(pending) // (count - worker)
        shares.append(pending[:size])
        pending = pending[size:]
    return shares


@pytest.mark.parametrize(
    ("heavy", "light", "count"), [(15, 530, 3), (5, 10, 3), (2, 3, 4), (7, 0, 3)]
)
def test_each_worker_starts_with_its_turn_of_the_tests_of_your_history(heavy, light, count):
    items = [f"light {i}" for i in range(light // 2)] + [f"heavy {i}" for i in range(heavy)]
    items += [f"light {i}" for i in range(light // 2, light)]

    ordered = dealt(items, count, lambda item: item.startswith("heavy"))

    assert sorted(ordered) == sorted(items)
    assert [item for item in ordered if item.startswith("light")] == [
        item for item in items if item.startswith("light")
    ]
    shares = worksteal_shares(ordered, count)
    for worker, share in enumerate(shares):
        if worker < heavy:
            assert share[0] == f"heavy {worker}", f"worker {worker} starts with {share[0]}"
        # Its heavy ones first: no light one before a heavy one.
        kinds = [item.split()[0] for item in share]
        assert kinds == sorted(kinds), f"worker {worker}: {share}"
    # As evenly as the shares allow.
    per_worker = [sum(item.startswith("heavy") for item in share) for share in shares]
    assert max(per_worker) - min(per_worker) <= 1, per_worker
    assert dealt(items, 1, lambda item: True) == items


@pytest.mark.parametrize("count", [1, 2, 3, 6])
def test_a_branched_and_merged_history_passes_however_it_is_cut(walk_all, project, count):
    branched(project)

    assert walk_all(count) == [[]] * count


def test_every_fault_is_named_once_however_the_history_is_cut(walk_all, project):
    """A downgrade that forgets its table on one branch, an upgrade that fails
    after the merge (and the revision it leaves unchecked): the same faults,
    one line each, from one segment or from one per revision."""
    forgetful = table("right_branch")[0], "pass"
    failing = 'op.execute("SELECT * FROM no_such_table")', "pass"
    branched(project, bbbb00000001=forgetful, ccc000000001=failing)

    whole = walk_all(1)[0]
    assert len(whole) == 3
    assert whole[0].startswith("downgrade of bbbb00000001 (test revision bbbb00000001) left ")
    assert whole[1].startswith("upgrade of ccc000000001 (test revision ccc000000001) failed: ")
    assert "no_such_table" in whole[1]
    assert whole[2].startswith("dddd00000001 (test revision dddd00000001) not checked: ")
    for count in (2, 3, 6):
        assert [fault for segment in walk_all(count) for fault in segment] == whole


def test_the_schema_each_step_compares_holds_column_and_index_comments(connection, schema):
    """A downgrade that leaves a comment behind is a fault: the catalog
    reader joins the comments of columns and indexes in (migrator/catalog.py)."""
    connection.execute(text("CREATE TABLE noted (id integer PRIMARY KEY, name text)"))
    connection.execute(text("COMMENT ON COLUMN noted.name IS 'what it is called'"))
    connection.execute(text("COMMENT ON INDEX noted_pkey IS 'one row per id'"))

    read = schema()

    assert read["column noted.name"] == "text COMMENT what it is called"
    assert read["column noted.id"] == "integer NOT NULL"
    assert read["index noted.noted_pkey"] == (
        "CREATE UNIQUE INDEX noted_pkey ON public.noted USING btree (id) COMMENT one row per id"
    )
