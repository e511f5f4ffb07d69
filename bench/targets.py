"""Every Alembic make target at head against the same `alembic` command run
directly from the virtualenv, on the same database."""

from bench.harness import Bench, clock, progress
from bench.project import Project

# make target -> the `alembic` command it stands for.
TARGETS = {
    "upgrade": ("upgrade", "head"),
    "current": ("current", "--verbose"),
    "check": ("check",),
    "history": ("history", "--indicate-current"),
    "heads": ("heads", "--verbose"),
    # At head `make sql` prints that nothing is pending: the SQL from the
    # database's revision to head, which Alembic writes as an empty script.
    "sql": ("upgrade", "head:head", "--sql"),
}


def measure(bench: Bench, project: Project) -> None:
    project.make("upgrade")  # at head, toolbox running
    for target, command in TARGETS.items():
        progress(f"targets: make {target} vs alembic {' '.join(command)}")
        m = bench.medians(
            make=lambda target=target: project.make(target),
            alembic=lambda target=target, command=command: project.alembic(*command),
        )
        bench.table.row(
            "targets",
            f"`make {target}` at head / `alembic {' '.join(command)}`",
            m["make"],
            m["alembic"],
            "≤ 1.3x floor",
            m["make"] <= 1.3 * m["alembic"],
        )
    progress("targets: the toolbox's own cost (docker exec ... true)")
    m = bench.medians(
        exec=lambda: clock("sh", "scripts/toolbox", "true", cwd=project.path, env=project.environ)
    )
    bench.table.row("targets", "├ reaching the toolbox: `scripts/toolbox true`", m["exec"])
