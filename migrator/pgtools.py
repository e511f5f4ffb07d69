"""PostgreSQL's client tools (pg_dump, pg_restore, psql), run against a URL."""

import os
import subprocess

from sqlalchemy.engine import URL

from migrator import MigratorError


def client(args: list[str], url: URL, **kwargs) -> subprocess.CompletedProcess:
    """Run ``args`` against ``url``; its failure becomes one error line."""
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
