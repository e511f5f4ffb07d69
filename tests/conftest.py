"""One PostgreSQL container for the whole session (the image Compose uses),
and a fresh database in it for every test."""

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from testcontainers.community.postgres import PostgresContainer

from migrator.settings import PROJECT_ROOT, env
from tests.schema import Schema, read_schema

TEMPLATE = "migrated_template"


def pytest_sessionstart(session: pytest.Session) -> None:
    # Every test needs Docker, directly or through the migrator's database: say
    # so once and stop, rather than skip (a green run that tested nothing).
    try:
        docker.from_env().ping()
    except Exception as exc:  # whatever the cause, the suite cannot run
        pytest.exit(f"Docker is not reachable, so no test can run: {exc}", returncode=3)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresContainer]:
    # fsync off: the tests never survive a crash, and it makes each CREATE
    # DATABASE and migration several times faster.
    image = f"postgres:{env('POSTGRES_VERSION')}"
    container = PostgresContainer(
        image, username="test", password="s3cret-pw", dbname="postgres"
    ).with_command("postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    with container:
        yield container


@pytest.fixture(scope="session")
def admin(postgres: PostgresContainer) -> Iterator[Engine]:
    engine = create_engine(postgres.get_connection_url(), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def new_database(admin: Engine, template: str = "template0") -> Iterator[URL]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield admin.url.set(database=name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(admin: Engine) -> Iterator[URL]:
    """An empty database of its own for this test."""
    yield from new_database(admin)


@pytest.fixture(scope="session")
def migrated_template(admin: Engine) -> str:
    """A database migrated to head once per session, copied for each test that
    starts from head (a copy takes milliseconds, a migration much longer)."""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    result = run_migrator("upgrade", "head", url=admin.url.set(database=TEMPLATE))
    assert result.returncode == 0, result.stderr
    return TEMPLATE


@pytest.fixture
def migrated_url(admin: Engine, migrated_template: str) -> Iterator[URL]:
    """A database of its own for this test, already at head."""
    yield from new_database(admin, migrated_template)


@pytest.fixture
def connection(database_url: URL) -> Iterator[Connection]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def alembic_config(connection: Connection) -> Config:
    """Alembic's config for in-process commands, sharing the test's connection."""
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.attributes["connection"] = connection
    return config


@pytest.fixture
def schema(connection: Connection):
    """Reads the test database's schema from PostgreSQL's catalogs."""

    def read() -> Schema:
        connection.commit()
        return read_schema(connection)

    return read


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A throwaway copy of alembic.ini, alembic/ and models/ (and pyproject.toml,
    ruff's settings for the revisions it writes) for tests that add or edit
    revisions or models: run the migrator in it with run_migrator(cwd=project)."""
    for name in ("alembic.ini", "pyproject.toml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path)
    for folder in ("alembic", "models"):
        shutil.copytree(
            PROJECT_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def add_revision(project: Path, revision: str, down_revision: str, upgrade: str) -> Path:
    """Write a hand-made revision into a project copy; ``upgrade`` is the body of
    its upgrade() (downgrade() does nothing)."""
    path = project / "alembic" / "versions" / f"2099_01_01_0000-{revision}_test.py"
    path.write_text(
        f'''"""test revision {revision}"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade():
{textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")}


def downgrade():
    pass
'''
    )
    return path


def run_migrator(
    *args: str, url: URL | str | None = None, cwd: Path = PROJECT_ROOT, **env_vars: str
) -> subprocess.CompletedProcess:
    """`python -m migrator ARGS` in a process of its own, as the container runs it."""
    environ = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env_vars}
    if url is not None:
        environ["DATABASE_URL"] = url if isinstance(url, str) else url.render_as_string(False)
    return subprocess.run(
        [sys.executable, "-m", "migrator", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """Failed, with exactly one `error:` line holding ``words``, and no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def query(url: URL, sql: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return rows


def version(url: URL) -> list[str]:
    return [v for (v,) in query(url, "SELECT version_num FROM alembic_version")]
