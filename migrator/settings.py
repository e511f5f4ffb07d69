"""Every setting, read from the environment, falling back to the project's .env.

This is the one place the database URL is built: ``DATABASE_URL`` when set (for
deployments), else the ``POSTGRES_*`` variables Compose also uses for the
database container. ``NAME_FILE`` (a Docker secret's path) is accepted for the
password and for the URL.
"""

import os
import re
from functools import cache
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from migrator import MigratorError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@cache
def _dotenv() -> dict[str, str]:
    # Lets `alembic` and `pytest` run from a host virtualenv with the same
    # defaults Compose reads; the real environment always wins.
    path = PROJECT_ROOT / ".env"
    if not path.is_file():
        return {}
    pairs = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith("#"):
            pairs[key.strip()] = value.split(" #")[0].strip().strip("'\"")
    return pairs


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None:
        value = _dotenv().get(name)
    return value if value not in (None, "") else default


def secret(name: str) -> str | None:
    path = env(f"{name}_FILE")
    if path is None:
        return env(name)
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise MigratorError(f"cannot read {name}_FILE={path}: {exc.strerror}") from None


def seconds(name: str, default: float) -> float:
    value = env(name)
    try:
        return default if value is None else float(value)
    except ValueError:
        raise MigratorError(f"{name} must be a number of seconds, not {value!r}") from None


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
                host=env("POSTGRES_HOST", "localhost"),
                port=int(env("POSTGRES_PORT", "5432")),
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
