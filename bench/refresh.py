"""The refresh of schema.sql and the ER diagram after one new revision, with
50 revisions added, timed inside the toolbox, against pg_dump of the scratch
database alone (the one step a refresh cannot skip)."""

from bench.harness import Bench, BenchError, progress
from bench.project import Project

CHAIN = 50

# In the toolbox: the refresh `make upgrade` ends with, then the floor.
PROBE = """
import time
from alembic.config import Config
from migrator import schema
from migrator.__main__ import refresh_generated
from migrator.settings import database_url, env
start = time.perf_counter()
refresh_generated(Config(env("ALEMBIC_CONFIG")))
refreshed = time.perf_counter() - start
start = time.perf_counter()
schema.dump(schema.scratch_url(database_url()))
print(refreshed, time.perf_counter() - start)
"""


def refresh(project: Project) -> tuple[float, float]:
    out = project.toolbox("python", "-c", PROBE)
    if "schema.sql: the schema at head, rebuilt" not in out:
        raise BenchError(f"the refresh rebuilt nothing: {out}")
    refreshed, dumped = out.splitlines()[-1].split()
    return float(refreshed), float(dumped)


def measure(bench: Bench, project: Project) -> None:
    project.grow_to(CHAIN)
    progress(f"refresh: after one new revision, {CHAIN} revisions added")

    def data_migration() -> dict[str, float]:
        project.add_revision("bench data migration", '    op.execute("SELECT 1")')
        refreshed, dumped = refresh(project)
        return {"revision": refreshed, "dump": dumped}

    def with_its_model() -> dict[str, float]:
        table = f"bench_extra_{len(project.extra) + 1:04d}"
        project.extra.append(table)
        project.write_models()
        project.add_revision(
            f"bench {table}",
            f'    op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True))',
            f'    op.drop_table("{table}")',
        )
        refreshed, dumped = refresh(project)
        return {"model": refreshed, "dump_model": dumped}

    m = bench.medians(revision=data_migration, model=with_its_model)
    bench.table.row(
        "refresh",
        f"refresh after a new data migration, {CHAIN} revisions (schema.sql only)",
        m["revision"],
        m["dump"],
        "≤ 0.5 s",
        m["revision"] <= 0.5,
    )
    bench.table.row(
        "refresh",
        f"refresh after a new table and its model, {CHAIN} revisions (+ ER diagram)",
        m["model"],
        m["dump_model"],
        "≤ 0.5 s",
        m["model"] <= 0.5,
    )
