"""After `make squash` at the 290th of 300 revisions added (issue 23): `make test`
against `make test` on the example alone, both in this run, and how many
revisions a cold `make up` replays.

On a copy of its own, so it runs in any order: a squash shortens the history,
which the other items only lengthen (and a squash needs the history in git,
which the shared copy is not)."""

import re
import time

from bench.harness import Bench, BenchError, clock, progress, sh
from bench.project import Project

CHAIN, AT = 300, 290
GIT = ("git", "-c", "user.name=bench", "-c", "user.email=bench@localhost")


def revisions(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} revisions"


def make_test(project: Project, bench: Bench, what: str) -> float:
    start = time.perf_counter()
    try:
        project.make("test")
    except BenchError as exc:
        # Still timed (a red suite ran every test too), and reported below the table.
        bench.table.failures.append(f"squash ({what}): {exc}")
    return time.perf_counter() - start


def measure(bench: Bench, project: Project) -> None:
    own = Project()
    try:
        progress("squash: make test on the example alone")
        example = make_test(own, bench, "make test on the example")
        progress(f"squash: {CHAIN} revisions added, committed, squashed at the {AT}th")
        own.grow_to(CHAIN)
        # In the toolbox, as the user who owns the copy (git refuses others' repositories).
        own.toolbox(
            "sh", "-c", "git init -q && git add -A && " + " ".join(GIT) + " commit -qm bench"
        )
        at = f"bench{AT:04d}"  # Project.add_revision's ids
        user = [f"{k}={v}" for k, v in own.user.items()]
        squashing = clock(
            "make",
            "--no-print-directory",
            "squash",
            f"r={at}",
            *user,
            cwd=own.path,
            env=own.environ,
        )
        bench.table.row(
            "squash", f"`make squash r=<{AT}th>`, {CHAIN} revisions added (one run)", squashing
        )
        # The example's data test pins two of the replaced revisions: its history
        # is gone, and a user deletes it with the squash (docs/development.md).
        (own.path / "tests" / "migrations" / "test_example_data.py").unlink()
        progress("squash: make test after the squash")
        after = make_test(own, bench, "make test after the squash")
        bench.table.row(
            "squash",
            f"`make test` after a squash at the {AT}th of {CHAIN} revisions added "
            "(one run; floor: `make test` on the example alone, this run)",
            after,
            example,
            "≤ 1.2x",
            after <= 1.2 * example,
        )
        own.down()  # the volume goes too: a cold start
        up = sh("make", "--no-print-directory", "up", *user, cwd=own.path, env=own.environ)
        applied = re.search(r"applied (\d+) revision", up.stdout + up.stderr)
        if applied is None:
            raise BenchError(f"`make up` said nothing of what it applied: {up.stdout[-300:]}")
        count = int(applied.group(1))
        bench.table.row(
            "squash",
            f"revisions a cold `make up` replays after the squash (today: {CHAIN + 2})",
            count,
            None,
            f"{CHAIN - AT + 1} revisions",
            count == CHAIN - AT + 1,
            shown=revisions,
        )
    finally:
        own.remove()
