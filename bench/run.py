"""The benchmark: the migration loop against its physical floors (issue 5).

    make bench                    every item, 5 runs each after a warm-up
    make bench BENCH_RUNS=1       quicker, noisier
    make bench BENCH_ITEMS=1,2,3  only these items (4 comes with 3; 5, `make test`, is the slowest)

Runs inside the dev image with the Docker socket (the `test` service), with the
working tree mounted at its host path so `make test` can mount it again. It
prints a Markdown table of medians, each next to its floor measured in the same
run, the ratio and the issue's target, then the versions and the machine. It is
a benchmark, not a test: a slow figure never fails it; a command that fails
does (exit status 1, after the table).

Nothing it starts touches the developer's stack: Compose projects, containers,
volumes and images get names of their own and are removed at the end.
"""

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the project's settings, like the tests

from migrator.settings import env  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS") or 5)
# Which items to run, e.g. BENCH_ITEMS=3 (item 4 comes with 3).
SELECTED = (os.environ.get("BENCH_ITEMS") or "1 2 3 5 6 7").replace(",", " ").split()
CHAINS = (50, 300)

IMAGE = f"postgres:{env('POSTGRES_VERSION')}"
MIGRATOR_IMAGE = "migrations/migrator"
DEV_IMAGE = "migrations/dev"
BASE_IMAGE = "python:3.13-slim"
USER, PASSWORD, DATABASE = env("POSTGRES_USER"), env("POSTGRES_PASSWORD"), env("POSTGRES_DB")

# What a temporary copy of the project needs to migrate and to build the image.
PROJECT_FILES = (
    "alembic.ini",
    "alembic",
    "models",
    "migrator",
    "Dockerfile",
    ".dockerignore",
    "pyproject.toml",
    "uv.lock",
)


class BenchError(Exception):
    """A command the benchmark needs failed: the figure cannot be measured."""


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def sh(*args: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).split())[-400:]
        raise BenchError(f"`{' '.join(args)[:80]}` exited {done.returncode}: {tail}")
    return done


def clock(*args: str, **kwargs) -> float:
    start = time.perf_counter()
    sh(*args, **kwargs)
    return time.perf_counter() - start


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def medians(runs: int, **subjects: Callable[[], float | dict]) -> dict[str, float]:
    """One warm-up, then `runs` rounds; within a round the subjects run one
    after the other, so a noisy neighbour slows subject and floor alike."""
    for subject in subjects.values():
        subject()
    samples: dict[str, list[float]] = {}
    for round_ in range(runs):
        for name, subject in subjects.items():
            figures = subject()
            if not isinstance(figures, dict):
                figures = {name: figures}
            for key, value in figures.items():
                samples.setdefault(key, []).append(value)
        progress(
            f"    round {round_ + 1}/{runs}: "
            + ", ".join(f"{k} {v[-1]:.2f}" for k, v in samples.items())
        )
    return {key: statistics.median(values) for key, values in samples.items()}


# ---- the table --------------------------------------------------------------

ROWS: list[tuple[str, ...]] = []
FAILED: list[str] = []


def row(
    item: str,
    what: str,
    value: float | None,
    floor: float | None = None,
    target: str = "",
    met: bool | None = None,
    unit: str = "s",
) -> None:
    def shown(x: float | None) -> str:
        if x is None:
            return ""
        return f"{x:.0f} MB" if unit == "MB" else f"{x:.2f} s"

    ratio = f"{value / floor:.2f}x" if value is not None and floor else ""
    verdict = "" if met is None else ("met" if met else "**not met**")
    ROWS.append((item, what, shown(value), shown(floor), ratio, target, verdict))


def failed(item: str, what: str, exc: Exception) -> None:
    FAILED.append(f"{item} {what}: {exc}")
    ROWS.append((item, what, "failed", "", "", "", ""))


def print_table() -> None:
    header = ("#", "measure", "median", "floor", "ratio", "target", "")
    lines = [header, ("---",) * len(header), *ROWS]
    for line in lines:
        print("| " + " | ".join(line) + " |")


# ---- 1 and 2: make up --------------------------------------------------------


def compose_env(project: str) -> dict[str, str]:
    # A project of its own on any free port: the developer's stack stays untouched.
    return {**os.environ, "COMPOSE_PROJECT_NAME": project, "POSTGRES_PORT": "0"}


def compose_down(environ: dict[str, str]) -> None:
    sh("docker", "compose", "down", "--volumes", "--remove-orphans", env=environ)


def make_up(environ: dict[str, str]) -> float:
    return clock("make", "--no-print-directory", "up", env=environ, cwd=ROOT)


def make_up_cold() -> float:
    environ = compose_env(unique("benchcold"))
    try:
        return make_up(environ)
    finally:
        compose_down(environ)


def bare_postgres_cold() -> float:
    """The floor: the image alone, on a fresh volume, until it answers on TCP."""
    name = unique("benchpg")
    try:
        start = time.perf_counter()
        sh(
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "-v",
            f"{name}:/var/lib/postgresql/data",
            "-e",
            f"POSTGRES_USER={USER}",
            "-e",
            f"POSTGRES_PASSWORD={PASSWORD}",
            "-e",
            f"POSTGRES_DB={DATABASE}",
            IMAGE,
        )
        sh(
            "docker",
            "exec",
            name,
            "sh",
            "-c",
            f"until pg_isready -q -h 127.0.0.1 -U {USER} -d {DATABASE}; do sleep 0.05; done",
        )
        return time.perf_counter() - start
    finally:
        sh("docker", "rm", "--force", "--volumes", name)
        sh("docker", "volume", "rm", name)


def cold_start() -> None:
    progress("1. cold start: make up on a fresh volume vs a bare PostgreSQL")
    m = medians(RUNS, make_up=make_up_cold, bare=bare_postgres_cold)
    row(
        "1",
        "cold start: `make up`, fresh volume, until the migrator exited 0",
        m["make_up"],
        m["bare"],
        "floor + 1.5 s",
        m["make_up"] <= m["bare"] + 1.5,
    )


# In the migrator image: how long the imports take, and how long `upgrade head` itself.
IN_PROCESS = """
import time
start = time.perf_counter()
from migrator.__main__ import main
imported = time.perf_counter()
status = main(["upgrade", "head"])
print(imported - start, time.perf_counter() - imported, status)
"""


def warm_no_op() -> None:
    progress("2. warm no-op: make up at head, and where its time goes")
    project = unique("benchwarm")
    environ = compose_env(project)
    container = [
        "docker",
        "run",
        "--rm",
        "--network",
        f"{project}_default",
        "-e",
        f"DATABASE_URL=postgresql+psycopg2://{USER}:{PASSWORD}@db:5432/{DATABASE}",
        "--entrypoint",
    ]

    def compose(*args: str) -> float:
        return clock("docker", "compose", *args, env=environ, cwd=ROOT)

    def in_process() -> dict[str, float]:
        start = time.perf_counter()
        out = sh(*container, "python", MIGRATOR_IMAGE, "-c", IN_PROCESS).stdout
        wall = time.perf_counter() - start
        imports, command, status = out.split("\n")[-2].split()
        if status != "0":
            raise BenchError(f"upgrade head exited {status}: {out}")
        return {"container": wall, "imports": float(imports), "command": float(command)}

    try:
        make_up(environ)  # the database at head
        m = medians(
            RUNS,
            make_up=lambda: make_up(environ),
            build=lambda: compose("build", "migrator"),
            run=lambda: compose("run", "--rm", "migrator"),
            noop=lambda: clock(*container, "true", MIGRATOR_IMAGE),
            python=lambda: clock(*container, "python", MIGRATOR_IMAGE, "-c", "pass"),
            upgrade=in_process,
        )
    finally:
        compose_down(environ)
    share = m["imports"] + m["command"]
    row("2", "warm no-op: `make up` at head", m["make_up"], m["noop"])
    row("2", "├ `docker compose build migrator`, all cached (make up's --build)", m["build"])
    row("2", "├ `docker compose run --rm migrator`, without --build", m["run"], m["noop"])
    row("2", "├ migrator container, no-op (`true`): the floor", m["noop"])
    row("2", "├ migrator container, `python -c pass`", m["python"], m["noop"])
    row("2", "├ migrator container, `upgrade head` at head", m["container"], m["noop"])
    row("2", "│ ├ imports (alembic, sqlalchemy, psycopg2, migrator), in-process", m["imports"])
    row(
        "2",
        "│ └ `upgrade head` itself (config, env.py, connect, lock), in-process",
        m["command"],
    )
    row("2", "Alembic's own share: imports + `upgrade head`", share, None, "≤ 0.3 s", share <= 0.3)


# ---- 3 and 4: long chains ------------------------------------------------------

REVISION = '''"""bench table {i}"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "{table}",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["{parent}.id"],
                                name=op.f("fk_{table}_parent_id_{parent}")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_{table}")),
    )
    op.create_index(op.f("ix_{table}_parent_id"), "{table}", ["parent_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_{table}_parent_id"), table_name="{table}")
    op.drop_table("{table}")
'''

# The same tables as models, so `check` at N finds nothing to change.
MODELS = '''"""The synthetic chain's tables (written by bench/run.py)."""

from sqlalchemy import Column, DateTime, ForeignKey, Integer, Numeric, String, Table, Text

from models.base import Base

for i in range(1, {n} + 1):
    parent = "{first_parent}" if i == 1 else f"bench_{{i - 1:04d}}"
    Table(
        f"bench_{{i:04d}}",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey(f"{{parent}}.id"), index=True),
        Column("name", String(100), nullable=False),
        Column("note", Text),
        Column("amount", Numeric(12, 2)),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
'''


def project_copy(folder: Path) -> Path:
    folder.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    return folder


def alembic_in(folder: Path, *args: str, url: str = "") -> subprocess.CompletedProcess:
    return sh(
        sys.executable,
        "-m",
        "alembic",
        *args,
        cwd=folder,
        env={**os.environ, "DATABASE_URL": url or "postgresql+psycopg2://offline/x"},
    )


def add_chain(folder: Path, n: int) -> None:
    """N revisions after the project's head, each one table of six columns, a
    foreign key to the table before it and an index; and their models."""
    down = alembic_in(folder, "heads").stdout.split()[0]
    first_parent = "address"
    versions = folder / "alembic" / "versions"
    parent = first_parent
    for i in range(1, n + 1):
        rev, table = f"bench{i:04d}", f"bench_{i:04d}"
        (versions / f"{rev}_bench_table_{i}.py").write_text(
            REVISION.format(i=i, rev=rev, down=down, table=table, parent=parent)
        )
        down, parent = rev, table
    (folder / "models" / "bench_chain.py").write_text(MODELS.format(n=n, first_parent=first_parent))


def one_transaction(sql: str) -> str:
    """Alembic's offline script without its per-revision BEGIN/COMMIT: `psql -1` runs
    it in one transaction."""
    return "\n".join(line for line in sql.splitlines() if line not in ("BEGIN;", "COMMIT;"))


class Scratch:
    """A PostgreSQL of the benchmark's own, with default (durable) settings, on the
    benchmark container's own network: the same path as migrator -> db in Compose."""

    def __init__(self) -> None:
        self.name = unique("benchpg")
        try:
            networks = sh(
                "docker",
                "inspect",
                "-f",
                "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
                os.environ.get("HOSTNAME", ""),
            )
        except BenchError:
            raise BenchError("not in a container: run the benchmark with `make bench`") from None
        self.network = networks.stdout.split()[0]
        sh(
            "docker",
            "run",
            "-d",
            "--name",
            self.name,
            "--network",
            self.network,
            "-e",
            "POSTGRES_PASSWORD=bench",
            IMAGE,
        )
        sh(
            "docker",
            "exec",
            self.name,
            "sh",
            "-c",
            "until pg_isready -q -h 127.0.0.1 -U postgres; do sleep 0.1; done",
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres:bench@{self.name}:5432/{database}"

    def psql(self, *args: str, database: str = "postgres", **kwargs) -> float:
        return clock(
            "psql",
            "--no-psqlrc",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            *args,
            env={
                **os.environ,
                "PGHOST": self.name,
                "PGUSER": "postgres",
                "PGPASSWORD": "bench",
                "PGDATABASE": database,
            },
            **kwargs,
        )

    def new_database(self) -> str:
        name = unique("bench")
        self.psql("-c", f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.psql("-c", f'DROP DATABASE "{name}" WITH (FORCE)')

    def remove(self) -> None:
        sh("docker", "rm", "--force", "--volumes", self.name)


def chains() -> None:
    scratch = Scratch()
    try:
        with tempfile.TemporaryDirectory(prefix="bench") as workdir:
            for n in CHAINS:
                chain(scratch, Path(workdir), n)
    finally:
        scratch.remove()


def chain(scratch: Scratch, workdir: Path, n: int) -> None:
    progress(f"3. a chain of {n} revisions: upgrade head and downgrade base vs psql -1 -f")
    folder = project_copy(workdir / f"chain{n}")
    add_chain(folder, n)
    up_sql, down_sql = workdir / f"up{n}.sql", workdir / f"down{n}.sql"
    up_sql.write_text(one_transaction(alembic_in(folder, "upgrade", "head", "--sql").stdout))
    down_sql.write_text(
        one_transaction(alembic_in(folder, "downgrade", "head:base", "--sql").stdout)
    )
    # `make check` runs in the dev image on the mounted tree: no bytecode there.
    source = shutil.copytree(folder, workdir / f"chain{n}-source")
    # The migrator image is byte-compiled (Dockerfile: compileall).
    sh(sys.executable, "-m", "compileall", "-q", str(folder))

    def python(module: str, *args: str, database: str, cwd: Path = folder) -> float:
        return clock(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=cwd,
            env={**os.environ, "DATABASE_URL": scratch.url(database)},
        )

    def alembic_round() -> dict[str, float]:
        database = scratch.new_database()
        try:
            figures = {"upgrade": python("migrator", "upgrade", "head", database=database)}
            if n == max(CHAINS):
                figures["check"] = python("migrator", "check", database=database, cwd=source)
            # Alembic's downgrade (env.py: lock, a transaction per revision); the
            # migrator's `downgrade` adds a pg_dump snapshot first.
            figures["downgrade"] = python("alembic", "downgrade", "base", database=database)
            return figures
        finally:
            scratch.drop_database(database)

    def floor_round() -> dict[str, float]:
        database = scratch.new_database()
        try:
            return {
                "floor_up": scratch.psql("-1", "-f", str(up_sql), database=database),
                "floor_down": scratch.psql("-1", "-f", str(down_sql), database=database),
            }
        finally:
            scratch.drop_database(database)

    m = medians(RUNS, alembic=alembic_round, floor=floor_round)
    top = n == max(CHAINS)
    row(
        "3",
        f"N = {n}: `upgrade head` from an empty database",
        m["upgrade"],
        m["floor_up"],
        "≤ 1.25x floor" if top else "",
        m["upgrade"] <= 1.25 * m["floor_up"] if top else None,
    )
    row(
        "3",
        f"N = {n}: `downgrade base`",
        m["downgrade"],
        m["floor_down"],
        "≤ 2x floor" if top else "",
        m["downgrade"] <= 2 * m["floor_down"] if top else None,
    )
    if top:
        row(
            "4",
            f"`make check` at N = {n} (`python -m migrator check`, no bytecode)",
            m["check"],
            None,
            "≤ 1.5 s",
            m["check"] <= 1.5,
        )


# ---- 5, 6, 7 ---------------------------------------------------------------------


def test_suite() -> None:
    # Once: it takes a minute.
    progress("5. make test, images built")
    wall = clock("make", "--no-print-directory", "test", cwd=ROOT)
    row("5", "`make test`, images built (one run)", wall, None, "≤ 60 s", wall <= 60)


def megabytes(image: str) -> float:
    return int(sh("docker", "image", "inspect", "-f", "{{.Size}}", image).stdout) / 1e6


def sizes() -> None:
    base, migrator, dev = megabytes(BASE_IMAGE), megabytes(MIGRATOR_IMAGE), megabytes(DEV_IMAGE)
    row(
        "6",
        f"image `{MIGRATOR_IMAGE}` (base `{BASE_IMAGE}`: {base:.0f} MB)",
        migrator,
        base,
        "≤ base + 60 MB",
        migrator <= base + 60,
        unit="MB",
    )
    row("6", f"image `{DEV_IMAGE}`", dev, base, unit="MB")


def rebuild() -> None:
    progress("7. rebuilding the migrator image after a one-line model change")
    with tempfile.TemporaryDirectory(prefix="bench") as workdir:
        rebuild_in(Path(workdir) / "rebuild")


def rebuild_in(folder: Path) -> None:
    project_copy(folder)
    image = f"migrations-bench/{unique('migrator')}"
    # Only the migrator, under a name of its own: the real images stay as they are.
    (folder / "docker-compose.yml").write_text(
        f"services:\n  migrator:\n    build: {{context: ., target: runtime}}\n    image: {image}\n"
    )
    environ = {**os.environ, "COMPOSE_PROJECT_NAME": unique("benchbuild")}
    model = folder / "models" / "address.py"

    def one_line_change() -> float:
        # A line never built before: BuildKit's cache is keyed by content.
        with model.open("a") as file:
            file.write(f"# {unique('bench edit ')}\n")
        return clock("docker", "compose", "build", "migrator", cwd=folder, env=environ)

    try:
        m = medians(RUNS, rebuild=one_line_change)
    finally:
        subprocess.run(["docker", "image", "rm", "--force", image], capture_output=True)
    row(
        "7",
        "rebuild of the migrator image after a one-line model change",
        m["rebuild"],
        None,
        "a few s (≤ 5 s)",
        m["rebuild"] <= 5,
    )


# ---- the run ------------------------------------------------------------------------


def out(*args: str) -> str:
    try:
        return sh(*args).stdout.strip()
    except BenchError:
        return "?"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> list[str]:
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
        out("docker", "run", "--rm", "--entrypoint", "postgres", IMAGE, "--version"),
        f"Python {platform.python_version()}, Alembic {version('alembic')}, "
        f"SQLAlchemy {version('sqlalchemy')}, psycopg2 {version('psycopg2-binary')}",
    ]


ITEMS = {
    "1": ("cold start", cold_start),
    "2": ("warm no-op", warm_no_op),
    "3": ("long chains and check", chains),
    "5": ("make test", test_suite),
    "6": ("image sizes", sizes),
    "7": ("rebuild", rebuild),
}


def main() -> int:
    started, load_before = time.perf_counter(), load_average()
    for item, (what, measure) in ITEMS.items():
        if item in SELECTED:
            try:
                measure()
            except BenchError as exc:
                failed(item, what, exc)
    print_table()
    print()
    for line in [
        *machine(),
        f"medians of {RUNS} run(s) after a warm-up (`make test`: one run)",
        f"load average before {load_before}, after {load_average()}; "
        f"the benchmark took {time.perf_counter() - started:.0f} s",
    ]:
        print(f"- {line}")
    for failure in FAILED:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
