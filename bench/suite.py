"""`make test` with the project's own revisions, then with 50 more, against
the suite's fixed cost: its container started and the tests collected."""

from bench.harness import Bench, clock, progress
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
        wall, floor = project.make("test"), collect_only(project)
        bench.table.row(
            "test",
            f"`make test`, {chain} revisions added (one run; floor: `--collect-only`)",
            wall,
            floor,
            f"≤ {target} s",
            wall <= target,
        )
