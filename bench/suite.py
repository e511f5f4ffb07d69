"""`make test` with the project's own revisions, then with 50 more, against
the suite's fixed cost: its container started and the tests collected."""

import time

from bench.harness import Bench, BenchError, clock, progress
from bench.project import Project

MORE = 50


def collect_only(project: Project) -> float:
    at_host_path = ["-v", f"{project.path}:{project.path}", "-w", str(project.path)]
    return clock(
        "docker", "compose", "--profile", "dev", "run", "--rm", *at_host_path,
        "test", "-q", "--collect-only",
        cwd=project.path, env=project.environ,
    )  # fmt: skip


def measure(bench: Bench, project: Project) -> None:
    # Once each: a run takes from half a minute to a minute.
    for chain, target in ((0, 30), (MORE, 60)):
        project.grow_to(chain)
        if project.chain != chain:
            progress(f"test: skipped with {chain} more revisions (the history is longer)")
            continue
        progress(f"test: make test with {chain} more revisions")
        start, failure = time.perf_counter(), None
        try:
            project.make("test")
        except BenchError as exc:
            # Still timed (a red suite ran every test too), and reported below the table.
            failure = exc
            bench.table.failures.append(f"test ({chain} revisions added): {exc}")
        wall, floor = time.perf_counter() - start, collect_only(project)
        bench.table.row(
            "test",
            f"`make test`, {chain} revisions added (one run; floor: `--collect-only`)"
            + (" **failed**: see below the table" if failure else ""),
            wall,
            floor,
            f"≤ {target} s",
            None if failure else wall <= target,
        )
