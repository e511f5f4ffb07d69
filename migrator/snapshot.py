"""Snapshots (pg_dump, custom format) taken before every downgrade, and their restore."""

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL

from migrator import MigratorError
from migrator.settings import PROJECT_ROOT, env


def backup_dir() -> Path:
    return Path(env("BACKUP_DIR", str(PROJECT_ROOT / "backups")))


def client(args: list[str], url: URL, **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL client tool (pg_dump, pg_restore, psql) against ``url``;
    its failure becomes one error line."""
    # The password travels in the environment, never on a command line.
    libpq = {
        "PGHOST": url.host,
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    # TLS settings of the URL (?sslmode=require, ...) as libpq's variables.
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if key in url.query:
            libpq[f"PG{key.upper()}"] = str(url.query[key])
    environ = {**os.environ, **{k: v for k, v in libpq.items() if v is not None}}
    try:
        done = subprocess.run(args, env=environ, capture_output=True, text=True, **kwargs)
    except FileNotFoundError:
        raise MigratorError(f"{args[0]} not found: it is in the dev image (use make)") from None
    if done.returncode != 0:
        raise MigratorError(f"{args[0]} failed: {' '.join(done.stderr.split())}")
    return done


def take(url: URL, revision: str) -> Path:
    """Dump the whole database to backups/<time>-<database>-at-<revision>.dump."""
    folder = backup_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = folder / f"{stamp}-{url.database}-at-{revision}.dump"
    try:
        client(["pg_dump", "--format=custom", f"--file={path}"], url)
    except MigratorError:
        path.unlink(missing_ok=True)  # never leave a half-written snapshot behind
        raise
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
