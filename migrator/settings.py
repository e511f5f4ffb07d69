"""Every setting, read from the environment, falling back to the project's .env.

This is the one place the database URL is built: ``DATABASE_URL`` when set (for
deployments), else the ``POSTGRES_*`` variables Compose also uses for the
database container. ``NAME_FILE`` (a Docker secret's path) is accepted for the
password and for the URL.
"""

import os
from functools import cache
from pathlib import Path

from sqlalchemy.engine import URL, make_url

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
    url = secret("DATABASE_URL")
    if url is not None:
        return make_url(url)
    return URL.create(
        "postgresql+psycopg2",
        username=env("POSTGRES_USER"),
        password=secret("POSTGRES_PASSWORD"),
        host=env("POSTGRES_HOST", "localhost"),
        port=int(env("POSTGRES_PORT", "5432")),
        database=env("POSTGRES_DB"),
    )


def masked(url: URL) -> str:
    """The URL as it may appear in logs and errors: never with its password."""
    return url.render_as_string(hide_password=True)


def hide_password(words: str) -> str:
    """``words`` with the database password masked wherever it stands (a
    traceback may quote a URL or a connection string)."""
    try:
        password = database_url().password
    except (MigratorError, ValueError):
        return words
    return words.replace(password, "***") if password else words
