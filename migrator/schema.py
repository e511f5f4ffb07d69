"""schema.sql: the schema at head as pg_dump prints it, normalised so that the
same migrations always give the same file, and a diff shows schema changes only.

The file's second line records a key of the revision files it was built from,
so a refresh (after `make revision` or `make upgrade`) does nothing while they
are unchanged, even in a fresh clone. When they changed, the schema is built on
a scratch database kept at head next to the configured one (its name plus
``_schema``): only the new revisions run there. A revision the scratch database
applied that was edited or removed since makes it start again from empty;
`make schema` always does."""

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

from migrator import alembic_private, checksums, db, files, quietly
from migrator.pgtools import client

SCHEMA_FILE = Path("schema.sql")
HEADER = "-- The schema at head, built from the migrations by `make schema`: do not edit.\n"
KEY_LINE = re.compile(r"^-- Revisions: sha256 ([0-9a-f]{64})\n", re.MULTILINE)

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


def key(script: ScriptDirectory) -> str:
    """What schema.sql is built from: every revision file's whole-file checksum
    (any edit counts; not the applied revisions' upgrade_checksum, which leaves
    things out on purpose), whatever the files' names or order."""
    digests = sorted(checksums.file_checksum(found.path) for found in script.walk_revisions())
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def with_key(schema: str, revisions_key: str) -> str:
    return schema.replace(HEADER, f"{HEADER}-- Revisions: sha256 {revisions_key}\n", 1)


def without_key(schema: str) -> str:
    """schema.sql's text as dump() gives it: the revisions' key line taken out."""
    return KEY_LINE.sub("", schema, count=1)


def recorded_key() -> str | None:
    try:
        found = KEY_LINE.search(SCHEMA_FILE.read_text())
    except FileNotFoundError:
        return None
    return found and found.group(1)


def scratch_url(url: URL, purpose: str = "schema") -> URL:
    return url.set(database=f"{url.database}_{purpose}")


def outdated(connection: Connection, script: ScriptDirectory) -> bool:
    """Whether the scratch database applied a revision that was edited or
    removed since: what it holds is then no longer what the files build."""
    if checksums.edited(connection, script):
        return True
    present = {found.revision for found in script.walk_revisions()}
    heads = MigrationContext.configure(connection).get_current_heads()
    connection.commit()  # ends the reads: Alembic begins its own transactions
    return not present.issuperset(heads)


def recreate(url: URL, scratch: URL, from_empty: bool) -> None:
    """Create the scratch database if it is missing; drop it first if ``from_empty``."""
    with db.autocommit(url) as server:
        if from_empty:
            db.drop_database(server, scratch.database)
        exists = server.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": scratch.database}
        )
        if not exists:
            db.create_database(server, scratch.database)


@contextmanager
def scratch(url: URL, purpose: str) -> Iterator[URL]:
    """An empty database next to the one at ``url`` (its name plus ``_purpose``),
    for one use: dropped after, whatever happened."""
    temporary = scratch_url(url, purpose)
    recreate(url, temporary, from_empty=True)
    try:
        yield temporary
    finally:
        with db.autocommit(url) as server:
            db.drop_database(server, temporary.database)


def build(alembic_cfg: Config, script: ScriptDirectory, url: URL, from_empty: bool) -> str:
    """The schema the migrations give, from the scratch database next to the one
    at ``url``, so the result never depends on what that database holds."""
    scratch = scratch_url(url)
    recreate(url, scratch, from_empty)
    if not from_empty:
        with db.connect(scratch) as connection:
            stale = outdated(connection, script)
        if stale:
            recreate(url, scratch, from_empty=True)
    with db.connect(scratch) as connection:
        alembic_cfg.attributes["connection"] = connection
        alembic_cfg.attributes["without_models"] = True
        with quietly():
            alembic_private.move(alembic_cfg, script, "heads")
    return dump(scratch)


def save(alembic_cfg: Config, script: ScriptDirectory, url: URL, from_empty: bool) -> None:
    schema = build(alembic_cfg, script, url, from_empty)
    files.write_text(SCHEMA_FILE, with_key(schema, key(script)))
    print(f"{SCHEMA_FILE}: the schema at head, rebuilt from the migrations")


def write(alembic_cfg: Config, url: URL) -> None:
    """Rebuild schema.sql on an emptied scratch database (`make schema`)."""
    save(alembic_cfg, ScriptDirectory.from_config(alembic_cfg), url, from_empty=True)


def refresh(alembic_cfg: Config, url: URL) -> bool:
    """Rebuild schema.sql only if the revision files changed since it was
    written, applying only the new revisions there; whether it was rebuilt."""
    script = ScriptDirectory.from_config(alembic_cfg)
    if recorded_key() == key(script):
        return False
    save(alembic_cfg, script, url, from_empty=False)
    return True
