"""python -m bench: run the items BENCH_ITEMS names (default: all), each figure
the median of BENCH_RUNS rounds (default 5) after a warm-up, and print the
table, then the machine. Exit status 2 for bad settings, 1 when a command the
benchmark needs failed (after the table); a slow figure never fails it."""

import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

from bench import check, rebuild, refresh, review, sizes, squash, suite, targets, up
from bench.harness import Bench, BenchError, progress, sh
from bench.project import Project

# In the order they run: an item may lengthen the copy's history, never shorten it.
ITEMS = {
    "up": up.measure,
    "targets": targets.measure,
    "sizes": sizes.measure,
    "rebuild": rebuild.measure,
    "test": suite.measure,
    "refresh": refresh.measure,
    "check": check.measure,
    "review": review.measure,
    "squash": squash.measure,
}


class UsageError(Exception):
    """A setting the benchmark cannot run with."""


def runs(environ) -> int:
    value = environ.get("BENCH_RUNS") or "5"
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"BENCH_RUNS={value} is not a positive whole number, e.g. BENCH_RUNS=3")
    return int(value)


def selected(environ) -> list[str]:
    names = (environ.get("BENCH_ITEMS") or ",".join(ITEMS)).replace(",", " ").split()
    unknown = [name for name in names if name not in ITEMS]
    if unknown or not names:
        raise UsageError(
            f"BENCH_ITEMS={environ.get('BENCH_ITEMS')}: unknown item {', '.join(unknown)}; "
            f"choose from {', '.join(ITEMS)}"
        )
    return [name for name in ITEMS if name in names]


def out(*args: str) -> str:
    try:
        return sh(*args).stdout.strip()
    except BenchError:
        return "?"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine(project: Project, rounds: int) -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return [
        f"{os.cpu_count()} cores ({cpu})",
        f"Docker Engine {out('docker', 'version', '-f', '{{.Server.Version}}')}, "
        f"Compose {out('docker', 'compose', 'version', '--short')} (the dev image's)",
        out("docker", "run", "--rm", "--entrypoint", "postgres", project.image("db"), "--version"),
        f"Python {platform.python_version()}, Alembic {version('alembic')}, "
        f"SQLAlchemy {version('sqlalchemy')}, psycopg2 {version('psycopg2-binary')}",
        f"medians of {rounds} round(s) after a warm-up (`make test`: one run)",
    ]


def main(environ) -> int:
    try:
        rounds, items = runs(environ), selected(environ)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started, load_before = time.perf_counter(), load_average()
    bench = Bench(rounds)
    try:
        project = Project()
    except BenchError as exc:
        print(f"error: cannot set up the project copy: {exc}", file=sys.stderr)
        return 1
    try:
        for item in items:
            try:
                ITEMS[item](bench, project)
            except BenchError as exc:
                bench.table.failed(item, exc)
        about = machine(project, rounds)
    finally:
        progress("removing the project copy, its containers, volumes and images")
        project.remove()
    print(bench.table.markdown())
    print()
    for line in [
        *about,
        f"load average before {load_before}, after {load_average()}; "
        f"the benchmark took {time.perf_counter() - started:.0f} s",
    ]:
        print(f"- {line}")
    for failure in bench.table.failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if bench.table.failures else 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
