"""Every setting, in one place: the real environment first, then the project's
.env (read by Compose's rules, through python-dotenv), then the default below.

This is the one place the database URL is built: ``DATABASE_URL`` when set (for
deployments), else the ``POSTGRES_*`` variables Compose also uses for the
database container. ``NAME_FILE`` (a Docker secret's path) is accepted for the
password and for the URL.
"""

import os
import re
from functools import cache
from importlib import import_module
from pathlib import Path

from dotenv import dotenv_values
from sqlalchemy import MetaData
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from migrator import MigratorError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Each setting's default, stated once. .env repeats the ones a team tunes, and
# the README documents them all.
DEFAULTS: dict[str, str] = {
    # Where the database is, when DATABASE_URL is not set.
    "POSTGRES_HOST": "localhost",
    "POSTGRES_PORT": "5432",
    # Seconds the migrator waits for the database to accept connections.
    "DB_WAIT_TIMEOUT": "60",
    # Seconds a migrator waits while another one holds the migration lock.
    "MIGRATION_LOCK_TIMEOUT": "300",
    # Seconds a migration statement queues for a lock (lock_timeout): every query on
    # the table queues behind it meanwhile (django-pg-zero-downtime-migrations: 2 s).
    "LOCK_TIMEOUT": "2",
    # Seconds any migration statement may run (statement_timeout; 0: no limit):
    # room for a real index build, none for a runaway (strong_migrations: 1 h).
    "STATEMENT_TIMEOUT": "3600",
    # Retries of a revision that hit LOCK_TIMEOUT, the nth after n x LOCK_RETRY_PAUSE
    # seconds: a blocker is outwaited for about a minute (GitLab's with_lock_retries).
    "LOCK_RETRIES": "8",
    "LOCK_RETRY_PAUSE": "1",
    # Where snapshots go (make snapshot, and before every downgrade).
    "SNAPSHOT_DIR": str(PROJECT_ROOT / "snapshots"),
    # 1 in the dev container: schema.sql and the ER diagram follow each new,
    # applied or reverted revision.
    "REFRESH_GENERATED": "0",
    # The metadata autogenerate, check, the ERD and schema.sql compare with:
    # "package.module:attribute", your own declarative Base's metadata.
    "MODELS_METADATA": "models:Base.metadata",
    # The last revision already applied in production: lint findings on it and
    # on the revisions before it are listed as baselined and do not fail.
    "LINT_BASELINE": "",
    # Alembic's configuration file.
    "ALEMBIC_CONFIG": "alembic.ini",
}


@cache
def _dotenv() -> dict[str, str | None]:
    # Lets `alembic` and `pytest` run from a host virtualenv with the same
    # defaults Compose reads.
    path = PROJECT_ROOT / ".env"
    return dotenv_values(path) if path.is_file() else {}


def env(name: str) -> str | None:
    """The setting ``name``: from the environment if it is set there (even
    empty), else from .env, else its default; an empty value means the default."""
    for source in (os.environ, _dotenv()):
        if name in source:
            return source[name] or DEFAULTS.get(name) or None
    return DEFAULTS.get(name) or None


def required(name: str) -> str:
    value = env(name)
    if value is None:
        raise MigratorError(f"{name} is not set: set it in .env or the environment")
    return value


def secret(name: str) -> str | None:
    path = env(f"{name}_FILE")
    if path is None:
        return env(name)
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise MigratorError(f"cannot read {name}_FILE={path}: {exc.strerror}") from None


def seconds(name: str) -> float:
    value = env(name)
    try:
        return float(value or 0)
    except ValueError:
        raise MigratorError(f"{name} must be a number of seconds, not {value!r}") from None


def whole(name: str) -> int:
    value = env(name)
    try:
        return int(value or 0)
    except ValueError:
        raise MigratorError(f"{name} must be a whole number, not {value!r}") from None


def database_url() -> URL:
    try:
        url = secret("DATABASE_URL")
        if url is not None:
            url = make_url(url)
        else:
            url = URL.create(
                "postgresql+psycopg2",
                username=env("POSTGRES_USER"),
                password=secret("POSTGRES_PASSWORD"),
                host=env("POSTGRES_HOST"),
                port=int(env("POSTGRES_PORT")),
                database=env("POSTGRES_DB"),
            )
    except (ArgumentError, ValueError):
        # Never echo the value: it holds the password.
        raise MigratorError(
            "DATABASE_URL (or POSTGRES_PORT) is not valid: expected "
            "postgresql+psycopg2://user:password@host:5432/database"
        ) from None
    if url.get_backend_name() != "postgresql":
        raise MigratorError(
            f"DATABASE_URL must be a postgresql+psycopg2:// URL, not {url.drivername}://"
        )
    return url


def models_metadata() -> MetaData:
    """The MetaData that MODELS_METADATA names, imported."""
    where = env("MODELS_METADATA")
    module, _, attributes = where.partition(":")
    try:
        found = import_module(module)
        for attribute in filter(None, attributes.split(".")):
            found = getattr(found, attribute)
    except (ImportError, AttributeError) as exc:
        raise MigratorError(f"MODELS_METADATA={where} cannot be loaded: {exc}") from None
    if not isinstance(found, MetaData):
        raise MigratorError(f"MODELS_METADATA={where} is not a SQLAlchemy MetaData")
    return found


# A URL's user:password@, or a libpq key=value password.
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
_PASSWORD_PAIR = re.compile(r"(password=)\S+", re.IGNORECASE)


def hide_password(words: str) -> str:
    """``words`` with passwords masked: in any URL or libpq pair, and the
    configured one wherever it stands (a traceback may quote it), unless it is
    too short to tell from ordinary words."""
    words = _PASSWORD_PAIR.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1***@", words))
    try:
        password = database_url().password
    except MigratorError:
        return words
    return words.replace(password, "***") if password and len(password) >= 8 else words
