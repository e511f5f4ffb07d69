"""The project the benchmark measures: a copy of this working tree under
.bench/, a Compose project of its own on a free port, driven through `make` as
a user drives it, so the figures follow whatever the Makefile does. The
developer's own stack, database and images are never touched."""

import json
import os
import re
import shutil
import uuid
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from dotenv import dotenv_values

from bench.harness import BenchError, clock, sh
from migrator.settings import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
# Inside the working tree, which `make bench` mounts at its host path: the
# Compose project started from the copy mounts it again, and the daemon
# resolves that path on the host.
COPIES = ROOT / ".bench"
LEFT_OUT = (".git", ".bench", ".e2e", ".venv", "snapshots", "__pycache__", ".ruff_cache")

# The models the copy's MODELS_METADATA names: the project's own, plus the
# tables of the revisions the benchmark adds, so `make check` finds nothing to
# change whatever the history's length.
MODELS = '''"""The project's models plus the benchmark's tables (written by bench/)."""

from importlib import import_module

from sqlalchemy import Column, DateTime, ForeignKey, Integer, Numeric, String, Table, Text

metadata = import_module("{module}")
for attribute in "{attributes}".split("."):
    metadata = getattr(metadata, attribute)

for i in range(1, {chain} + 1):
    Table(
        f"bench_{{i:04d}}",
        metadata,
        Column("id", Integer, primary_key=True),
        # The first table refers to itself: nothing here names the project's tables.
        Column("parent_id", ForeignKey(f"bench_{{max(i - 1, 1):04d}}.id"), index=True),
        Column("name", String(100), nullable=False),
        Column("note", Text),
        Column("amount", Numeric(12, 2)),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
for name in {extra!r}:
    Table(name, metadata, Column("id", Integer, primary_key=True))
'''

REVISION = '''"""{doc}"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

CHAIN_UP = """    op.create_table(
        "{table}",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["{parent}.id"], name=op.f("fk_{table}_parent_id_{parent}")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_{table}")),
    )
    op.create_index(op.f("ix_{table}_parent_id"), "{table}", ["parent_id"], unique=False)"""
CHAIN_DOWN = """    op.drop_index(op.f("ix_{table}_parent_id"), table_name="{table}")
    op.drop_table("{table}")"""


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


class Project:
    """A copy of the working tree under .bench/, as a Compose project of its own."""

    def __init__(self) -> None:
        self.name = unique("bench")
        self.path = COPIES / self.name
        shutil.copytree(ROOT, self.path, ignore=shutil.ignore_patterns(*LEFT_OUT))
        # The toolbox runs as the host user, as it does for the developer.
        owner = ROOT.stat()
        self.user = {"HOST_UID": str(owner.st_uid), "HOST_GID": str(owner.st_gid)}
        shutil.chown(COPIES, owner.st_uid, owner.st_gid)
        for folder, _, files in os.walk(self.path):
            for name in [folder, *(os.path.join(folder, f) for f in files)]:
                os.chown(name, owner.st_uid, owner.st_gid)
        self.models_metadata = (
            dotenv_values(self.path / ".env").get("MODELS_METADATA") or DEFAULTS["MODELS_METADATA"]
        )
        self.environ = {
            **os.environ,
            **self.user,
            "COMPOSE_PROJECT_NAME": self.name,
            "POSTGRES_PORT": "0",  # any free port: the developer's stays theirs
            "MODELS_METADATA": "bench_models:metadata",
        }
        with (self.path / ".env").open("a") as env_file:
            env_file.write("\n# bench/: the project's models plus the benchmark's tables\n")
            env_file.write("MODELS_METADATA=bench_models:metadata\n")
        self.config = json.loads(
            self.compose("--profile", "dev", "config", "--format", "json").stdout
        )
        script = ScriptDirectory.from_config(Config(self.path / "alembic.ini"))
        self.versions = Path(script.versions)
        self.head = script.get_current_head()
        self.chain = 0
        self.extra: list[str] = []
        self.write_models()
        self.connected = False

    # ---- what Compose says about the project -------------------------------

    def image(self, service: str) -> str:
        """The service's image: its own `image:`, else the name Compose gives a build."""
        return self.config["services"][service].get("image") or f"{self.config['name']}-{service}"

    def database(self, key: str) -> str:
        return self.config["services"]["db"]["environment"][key]

    def python_image(self) -> str:
        """The base image the Dockerfile names once (ARG PYTHON_IMAGE)."""
        found = re.search(r"^ARG PYTHON_IMAGE=(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
        if found is None:
            raise BenchError("the Dockerfile has no `ARG PYTHON_IMAGE=<image>` line")
        return found.group(1)

    # ---- running things in it ------------------------------------------------

    def make(self, target: str) -> float:
        user = [f"{k}={v}" for k, v in self.user.items()]
        return clock("make", "--no-print-directory", target, *user, cwd=self.path, env=self.environ)

    def compose(self, *args: str):
        return sh("docker", "compose", *args, cwd=self.path, env=self.environ)

    def toolbox(self, *args: str) -> str:
        """ARGS in the running toolbox, the way make reaches it."""
        return sh("sh", "scripts/toolbox", *args, cwd=self.path, env=self.environ).stdout

    def url(self) -> str:
        """The project's database, reached from this container over the
        project's own network, as the toolbox reaches it."""
        if not self.connected:
            network = self.config["networks"]["default"]["name"]
            sh("docker", "network", "connect", network, self.container())
            self.connected = True
        user, password = self.database("POSTGRES_USER"), self.database("POSTGRES_PASSWORD")
        db = self.compose("ps", "--format", "{{.Name}}", "db").stdout.split()[0]
        return f"postgresql+psycopg2://{user}:{password}@{db}:5432/{self.database('POSTGRES_DB')}"

    def container(self) -> str:
        name = os.environ.get("HOSTNAME", "")
        try:
            sh("docker", "container", "inspect", name)
        except BenchError:
            raise BenchError("not in a container: run the benchmark with `make bench`") from None
        return name

    def alembic(self, *args: str) -> float:
        """`alembic ARGS` from this container's virtualenv, on the project's database."""
        environ = {**self.environ, "DATABASE_URL": self.url()}
        return clock("alembic", *args, cwd=self.path, env=environ)

    def down(self) -> None:
        if self.connected:
            network = self.config["networks"]["default"]["name"]
            sh("docker", "network", "disconnect", "--force", network, self.container())
            self.connected = False
        self.compose("--profile", "dev", "down", "--volumes", "--remove-orphans")

    def remove(self) -> None:
        self.down()
        # The images built for the copy (named after its project) go too.
        for service in ("migrator", "dev", "test"):
            sh("docker", "image", "rm", "--force", self.image(service))
        shutil.rmtree(self.path)
        if not any(COPIES.iterdir()):
            COPIES.rmdir()

    # ---- growing its history ---------------------------------------------------

    def add_revision(self, doc: str, upgrade: str, downgrade: str = "    pass") -> str:
        rev = f"bench{len(list(self.versions.glob('bench*.py'))) + 1:04d}"
        (self.versions / f"{rev}_bench.py").write_text(
            REVISION.format(doc=doc, rev=rev, down=self.head, upgrade=upgrade, downgrade=downgrade)
        )
        self.head = rev
        return rev

    def write_models(self) -> None:
        module, _, attributes = self.models_metadata.partition(":")
        (self.path / "bench_models.py").write_text(
            MODELS.format(module=module, attributes=attributes, chain=self.chain, extra=self.extra)
        )

    def grow_to(self, chain: int) -> None:
        """N revisions of the benchmark's after the project's own, each one table
        of six columns, a foreign key to the table before it and an index; then
        `make upgrade` (which refreshes schema.sql and the ER diagram)."""
        if chain <= self.chain:
            return
        for i in range(self.chain + 1, chain + 1):
            table, parent = f"bench_{i:04d}", f"bench_{max(i - 1, 1):04d}"
            self.add_revision(
                f"bench table {i}",
                CHAIN_UP.format(table=table, parent=parent),
                CHAIN_DOWN.format(table=table),
            )
        self.chain = chain
        self.write_models()
        self.make("upgrade")
