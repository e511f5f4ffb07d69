"""Snapshots (pg_dump, custom format), taken before every downgrade and by
`make snapshot`, and their restore."""

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL

from migrator import MigratorError, files
from migrator.pgtools import client
from migrator.settings import env


def take(url: URL, revision: str) -> Path:
    """Dump the whole database to SNAPSHOT_DIR/<time>-<database>-at-<revision>.dump."""
    folder = Path(env("SNAPSHOT_DIR"))
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = folder / f"{stamp}-{url.database}-at-{revision}.dump"
    # Named *.dump only once pg_dump succeeded: a failure, Ctrl-C or a
    # `docker stop` (SIGKILL, no cleanup) never leaves a snapshot cut short.
    with files.written_aside(path) as aside:
        client(["pg_dump", "--format=custom", f"--file={aside}"], url)
    return path


def check_readable(url: URL, path: Path) -> None:
    """Stop, before anything is touched, at a missing, unreadable or corrupt file."""
    if not path.is_file():
        raise MigratorError(f"no snapshot at {path}")
    if not os.access(path, os.R_OK):
        raise MigratorError(f"snapshot {path} is not readable")
    # Reads the archive's table of contents: a file that is not a pg_dump
    # archive fails here.
    try:
        client(["pg_restore", "--list", str(path)], url)
    except MigratorError as exc:
        raise MigratorError(f"snapshot {path} is not a readable pg_dump archive ({exc})") from None


def restore(url: URL, path: Path) -> None:
    """Replace the database's public schema with the snapshot's, in one
    transaction: if anything fails, the database is as it was."""
    script = client(["pg_restore", "--no-owner", "--file=-", str(path)], url).stdout
    # Objects created after the snapshot must go too, so the schema is
    # dropped and rebuilt rather than merged.
    client(
        ["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction"],
        url,
        input="DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n" + script,
    )
