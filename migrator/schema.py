"""schema.sql: the schema at head as pg_dump prints it, normalised so that the
same migrations always give the same file, and a diff shows schema changes only."""

import re
import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import URL

from migrator import db, quietly
from migrator.pgtools import client

SCHEMA_FILE = Path("schema.sql")
HEADER = "-- The schema at head, built from the migrations by `make schema`: do not edit.\n"

# Lines that change from run to run or from one pg_dump to the next, and say
# nothing about the schema: version banners, \restrict's random key (pg_dump
# 17.6+), and the session settings a restore would need.
NOISE = re.compile(
    r"^(-- Dumped (from|by) .*|-- (Started|Completed) on .*|\\(un)?restrict .*"
    r"|SET \w+ = .*;|SELECT pg_catalog\.set_config\('search_path', '', false\);)$"
)
# The migrations' bookkeeping (alembic_version, the migrator's alembic_checksums),
# not the application's schema.
BOOKKEEPING = "alembic_*"


def normalise(dump: str) -> str:
    lines = [line.rstrip() for line in dump.splitlines() if not NOISE.match(line)]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return f"{HEADER}\n{body}\n"


def dump(url: URL) -> str:
    """The database's schema, normalised (no owners or grants: roles differ per database)."""
    args = [
        "pg_dump",
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        f"--exclude-table={BOOKKEEPING}",
    ]
    done = client(args, url)
    return normalise(done.stdout)


def build(alembic_cfg: Config, url: URL) -> str:
    """The schema the migrations give, from a scratch database created next to
    the one at ``url`` and dropped after, so the result never depends on what
    that database holds."""
    scratch = f"{url.database}_schema_{uuid.uuid4().hex[:8]}"
    with db.connect(url) as server:
        server = server.execution_options(isolation_level="AUTOCOMMIT")
        server.execute(text(f'CREATE DATABASE "{scratch}" TEMPLATE template0'))
        try:
            with db.connect(url.set(database=scratch)) as connection:
                alembic_cfg.attributes["connection"] = connection
                with quietly():
                    command.upgrade(alembic_cfg, "head")
            return dump(url.set(database=scratch))
        finally:
            server.execute(text(f'DROP DATABASE "{scratch}" WITH (FORCE)'))


def write(alembic_cfg: Config, url: URL) -> None:
    SCHEMA_FILE.write_text(build(alembic_cfg, url))
    print(f"{SCHEMA_FILE}: the schema at head, rebuilt from the migrations")
