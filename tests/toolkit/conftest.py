"""The toolkit's tests run on a fixture project of their own (fixture/: its
models and revisions, with the live alembic.ini, env.py and revision template),
never on your alembic/versions/ or models/: they pass whatever your history is."""

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from migrator.catalog import describe
from migrator.settings import PROJECT_ROOT
from tests import helpers
from tests.conftest import new_database

FIXTURE = Path(__file__).parent / "fixture"
TEMPLATE = "fixture_template"
# The fixture's two revisions, oldest first.
FIRST, HEAD = "1a2b3c4d5e6f", "7e8f9a0b1c2d"
# The live files a project needs around its models and revisions.
PROJECT_FILES = (
    "alembic.ini",
    "pyproject.toml",
    ".squawk.toml",
    "alembic/env.py",
    "alembic/script.py.mako",
)


def copy_project(to: Path, fixture: Path = FIXTURE) -> Path:
    """The project's Alembic set-up around ``fixture``'s models and revisions."""
    for name in PROJECT_FILES:
        (to / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / name, to / name)
    for folder in ("models", "alembic/versions"):
        shutil.copytree(fixture / folder, to / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return to


@pytest.fixture(scope="session")
def fixture_project(tmp_path_factory) -> Path:
    """The fixture project, shared by the tests that only read it."""
    return copy_project(tmp_path_factory.mktemp("fixture"))


@pytest.fixture(scope="session", autouse=True)
def _not_your_settings() -> Iterator[None]:
    """Your .env's settings for your own models and history are not the
    fixture's (session-wide: session fixtures run the migrator too)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELS_METADATA", "models:Base.metadata")
        patch.setenv("LINT_BASELINE", "")
        yield


@pytest.fixture(autouse=True)
def _migrator_runs_in_the_fixture_project(fixture_project, monkeypatch) -> None:
    monkeypatch.setattr(helpers, "DEFAULT_CWD", fixture_project)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of the fixture project, for tests that add or edit
    revisions or models: run the migrator in it with run_migrator(cwd=project)."""
    return copy_project(tmp_path)


@pytest.fixture(scope="session")
def fixture_template(admin: Engine, fixture_project: Path) -> str:
    """A database migrated to the fixture's head once per session, copied for
    each test that starts from head (a copy takes milliseconds)."""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    result = helpers.run_migrator(
        "upgrade", "head", url=admin.url.set(database=TEMPLATE), cwd=fixture_project
    )
    assert result.returncode == 0, result.stderr
    return TEMPLATE


@pytest.fixture
def migrated_url(admin: Engine, fixture_template: str) -> Iterator[URL]:
    """A database of its own for this test, already at the fixture's head."""
    yield from new_database(admin, fixture_template)


@pytest.fixture
def alembic_config(connection: Connection, fixture_project: Path, monkeypatch) -> Config:
    """Alembic's config for in-process commands on the fixture, sharing the
    test's connection (the models are never imported in-process: they are the
    fixture's, and your own may be loaded in this process already)."""
    # Alembic puts the project on sys.path for good: undone after the test.
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = Config(fixture_project / "alembic.ini")
    config.attributes["connection"] = connection
    config.attributes["without_models"] = True
    return config


@pytest.fixture
def schema(connection: Connection):
    """Reads the test database's schema from PostgreSQL's catalogs."""

    def read() -> dict[str, str]:
        connection.commit()
        return describe(connection)

    return read
