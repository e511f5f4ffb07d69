"""Cold `make up` (a fresh volume, until the migrator exited 0) against the
database image alone on a fresh volume, until `pg_isready` answers over TCP."""

import time

from bench.harness import Bench, progress, sh
from bench.project import Project, unique


def bare_postgres(project: Project) -> float:
    name = unique("benchpg")
    credentials = {key: project.database(key) for key in ("POSTGRES_USER", "POSTGRES_DB")}
    try:
        start = time.perf_counter()
        sh(
            "docker", "run", "-d", "--name", name,
            "-v", f"{name}:/var/lib/postgresql/data",
            "-e", f"POSTGRES_USER={credentials['POSTGRES_USER']}",
            "-e", f"POSTGRES_PASSWORD={project.database('POSTGRES_PASSWORD')}",
            "-e", f"POSTGRES_DB={credentials['POSTGRES_DB']}",
            project.image("db"),
        )  # fmt: skip
        sh(
            "docker", "exec", name, "sh", "-c",
            "until pg_isready -q -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"; "
            "do sleep 0.05; done",
        )  # fmt: skip
        return time.perf_counter() - start
    finally:
        sh("docker", "rm", "--force", "--volumes", name)
        sh("docker", "volume", "rm", name)


def measure(bench: Bench, project: Project) -> None:
    progress("up: cold make up vs the bare database image")

    def cold_make_up() -> float:
        project.down()  # the volume goes too
        return project.make("up")

    m = bench.medians(make_up=cold_make_up, bare=lambda: bare_postgres(project))
    bench.table.row(
        "up",
        "cold `make up`: fresh volume, until the migrator exited 0",
        m["make_up"],
        m["bare"],
        "≤ floor + 0.5 s",
        m["make_up"] <= m["bare"] + 0.5,
    )
