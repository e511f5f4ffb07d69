"""`make test` with the project's own revisions, then with 50 more, against
the suite's fixed cost: its container started and the tests collected; and
`make test` with 300 more (in a copy of its own) against the project's own
alone, run just before and just after it, so that all three see the same
machine (issue 23)."""

import time

from bench.harness import Bench, BenchError, clock, progress
from bench.project import Project

MORE = 50
# Issue 23: a history that grew for years tests in at most twice the time.
LONG, LONG_TARGET, LONG_BEFORE = 300, 2.0, "3.5x before the stairway's segments"


def collect_only(project: Project) -> float:
    at_host_path = ["-v", f"{project.path}:{project.path}", "-w", str(project.path)]
    return clock(
        "docker", "compose", "--profile", "dev", "run", "--rm", *at_host_path,
        "test", "-q", "--collect-only",
        cwd=project.path, env=project.environ,
    )  # fmt: skip


def make_test(bench: Bench, project: Project, added: int) -> tuple[float, bool]:
    """The wall time of one `make test`, and whether it passed. A red suite
    ran every test too: still timed, and reported below the table."""
    progress(f"test: make test with {added} more revisions")
    start, passed = time.perf_counter(), True
    try:
        project.make("test")
    except BenchError as exc:
        passed = False
        bench.table.failures.append(f"test ({added} revisions added): {exc}")
    return time.perf_counter() - start, passed


def measure(bench: Bench, project: Project) -> None:
    # Grown first, so that its `make test` follows the project's own at once.
    long = Project()
    try:
        progress(f"test: a second copy, {LONG} revisions added")
        long.grow_to(LONG)
        long.down()
        # Once each: a run takes from half a minute to a minute.
        for chain, target in ((0, 30), (MORE, 60)):
            project.grow_to(chain)
            if project.chain != chain:
                progress(f"test: skipped with {chain} more revisions (the history is longer)")
                continue
            wall, passed = make_test(bench, project, chain)
            floor = collect_only(project)
            bench.table.row(
                "test",
                f"`make test`, {chain} revisions added (one run; floor: `--collect-only`)"
                + ("" if passed else " **failed**: see below the table"),
                wall,
                floor,
                f"≤ {target} s",
                wall <= target if passed else None,
            )
            if chain == 0:
                # Then the long history, then the project's own again: the
                # mean of the two is the floor, so the machine's drift over
                # the three runs cancels out.
                long_wall, long_passed = make_test(bench, long, LONG)
                again, passed_again = make_test(bench, project, chain)
                bench.table.row(
                    "test",
                    f"`make test`, {LONG} revisions added / 0 added (mean of the runs "
                    "before and after it)"
                    + ("" if long_passed else " **failed**: see below the table"),
                    long_wall,
                    (wall + again) / 2,
                    f"≤ {LONG_TARGET:g}x ({LONG_BEFORE})",
                    long_wall <= LONG_TARGET * (wall + again) / 2
                    if passed and long_passed and passed_again
                    else None,
                )
    finally:
        long.remove()
