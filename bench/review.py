"""`make review` of the five revisions a feature branch typically adds, on a
copy of a development database with a table of 1 million rows (issue 21):
the traced upgrade on the copy against the plain upgrade of the same
revisions on a copy of its own; the copy's own time, and the whole `make
review` (copy, lint, trace, drop), as rows of their own."""

import json

from bench.harness import Bench, BenchError, progress
from bench.project import Project

ROWS = 1_000_000
TABLE = "bench_review"

# In the toolbox, on the project's database: the table, filled once.
SEED = f"""
from sqlalchemy import text
from migrator import db
from migrator.settings import database_url
with db.connect(database_url()) as connection:
    connection.execute(text("DROP TABLE IF EXISTS {TABLE}"))
    connection.execute(text(
        "CREATE TABLE {TABLE} (id integer PRIMARY KEY, name varchar(100), n integer, note text)"
    ))
    connection.execute(text(
        "INSERT INTO {TABLE} SELECT g, 'name ' || g, g, 'note ' || g "
        "FROM generate_series(1, {ROWS}) g"
    ))
    connection.execute(text("ANALYZE {TABLE}"))
    connection.commit()
"""

# A widening, a rewrite, an index, a dropped column, a column and its backfill.
REVISIONS = [
    (
        "widen name",
        f'op.alter_column("{TABLE}", "name", type_=sa.String(200), existing_type=sa.String(100))',
    ),
    (
        "n to bigint",
        f'op.alter_column("{TABLE}", "n", type_=sa.BigInteger(), existing_type=sa.Integer())',
    ),
    ("index n", f'op.create_index("ix_{TABLE}_n", "{TABLE}", ["n"])'),
    ("drop note", f'op.drop_column("{TABLE}", "note")'),
    (
        "flag, backfilled",
        f'op.add_column("{TABLE}", sa.Column("flag", sa.Integer()))\n'
        f'    op.execute("UPDATE {TABLE} SET flag = 1")',
    ),
]

# In the toolbox: the copy alone, the traced upgrade and the plain one, each
# on a fresh copy of the (untouched) development database.
PROBE = """
import json, time
from alembic import command
from alembic.config import Config
from migrator import db, offline, quietly, review
from migrator.settings import database_url, env
url = database_url()
config = lambda: Config(env("ALEMBIC_CONFIG"))
start, end = offline.pending(config(), db.current_heads()).split(":")
began = time.perf_counter()
with review.copied(url) as (copy, how):
    copied = time.perf_counter() - began
    began = time.perf_counter()
    applied, _ = review.trace(config(), copy, start, end)
    traced = time.perf_counter() - began
assert how == "template" and len(applied) == 5, (how, applied)
with review.copied(url) as (copy, how), db.connect(copy) as connection:
    plain = config()
    plain.attributes.update(connection=connection, without_models=True)
    began = time.perf_counter()
    with quietly():
        command.upgrade(plain, end)
    upgraded = time.perf_counter() - began
print(json.dumps({"copy": copied, "review": traced, "upgrade": upgraded}))
"""


def measure(bench: Bench, project: Project) -> None:
    project.make("upgrade")  # at head, toolbox running
    progress(f"review: {TABLE} with {ROWS:,} rows, then {len(REVISIONS)} pending revisions")
    project.toolbox("python", "-c", SEED)
    for doc, upgrade in REVISIONS:
        project.add_revision(f"bench review: {doc}", f"    {upgrade}")

    def traced() -> dict[str, float]:
        out = project.toolbox("python", "-c", PROBE)
        try:
            return json.loads(out.splitlines()[-1])
        except (IndexError, ValueError):
            raise BenchError(f"the review probe printed no figures: {out[-300:]}") from None

    m = bench.medians(traced=traced, make=lambda: project.make("review"))
    bench.table.row(
        "review",
        f"{len(REVISIONS)} revisions on a copy with {ROWS:,} rows: traced / plain upgrade",
        m["review"],
        m["upgrade"],
        "≤ 1.5x floor",
        m["review"] <= 1.5 * m["upgrade"],
    )
    bench.table.row("review", "├ the copy: CREATE DATABASE ... TEMPLATE", m["copy"])
    bench.table.row("review", "├ the whole `make review`: copy, lint, trace, drop", m["make"])
