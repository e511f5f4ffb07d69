"""`make check` with 300 revisions added (issue 5), against `alembic check` on
the same database."""

from bench.harness import Bench, progress
from bench.project import Project

CHAIN = 300


def measure(bench: Bench, project: Project) -> None:
    progress(f"check: {CHAIN} revisions added, migrated")
    project.grow_to(CHAIN)
    m = bench.medians(
        make=lambda: project.make("check"),
        alembic=lambda: project.alembic("check"),
    )
    bench.table.row(
        "check",
        f"`make check`, {CHAIN} revisions added / `alembic check`",
        m["make"],
        m["alembic"],
        "≤ 1.5 s",
        m["make"] <= 1.5,
    )
