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


def _libpq_env(url: URL) -> dict[str, str]:
    # The password travels in the environment, never on a command line.
    pairs = {
        "PGHOST": url.host,
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    return {**os.environ, **{k: v for k, v in pairs.items() if v is not None}}


def _run(args: list[str], url: URL, **kwargs) -> None:
    try:
        done = subprocess.run(args, env=_libpq_env(url), capture_output=True, **kwargs)
    except FileNotFoundError:
        raise MigratorError(f"{args[0]} not found: snapshots run in the dev image (make ...)") from None
    if done.returncode != 0:
        words = " ".join(done.stderr.decode(errors="replace").split())
        raise MigratorError(f"{args[0]} failed: {words}")


def take(url: URL, revision: str) -> Path:
    """Dump the whole database to backups/<time>-<database>-at-<revision>.dump."""
    folder = backup_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = folder / f"{stamp}-{url.database}-at-{revision}.dump"
    try:
        _run(["pg_dump", "--format=custom", f"--file={path}"], url)
    except MigratorError:
        path.unlink(missing_ok=True)  # never leave a half-written snapshot behind
        raise
    return path


def restore(url: URL, path: Path) -> None:
    """Replace the database's public schema with the snapshot's, in one
    transaction: a missing, unreadable or corrupt file leaves it untouched."""
    if not path.is_file():
        raise MigratorError(f"no snapshot at {path}")
    if not os.access(path, os.R_OK):
        raise MigratorError(f"snapshot {path} is not readable")
    # Reads the archive's table of contents: a file that is not a pg_dump
    # archive fails here, before the database is touched.
    try:
        _run(["pg_restore", "--list", str(path)], url)
    except MigratorError as exc:
        raise MigratorError(f"snapshot {path} is not a readable pg_dump archive ({exc})") from None
    try:
        script = subprocess.run(
            ["pg_restore", "--no-owner", "--file=-", str(path)], capture_output=True, check=True
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise MigratorError(f"snapshot {path} is damaged: {exc.stderr.decode().strip()}") from None
    # Objects created after the snapshot must go too, so the schema is
    # dropped and rebuilt rather than merged.
    _run(
        ["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction"],
        url,
        input=b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n" + script,
    )
