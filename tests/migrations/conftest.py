"""Fixtures for the tests of your migrations: your alembic.ini, revisions and
models (MODELS_METADATA), on the test worker's PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from migrator.settings import PROJECT_ROOT, env


def project_config() -> Config:
    """Your project's Alembic configuration (ALEMBIC_CONFIG, from the project root)."""
    return Config(PROJECT_ROOT / env("ALEMBIC_CONFIG"))


SCRIPT = ScriptDirectory.from_config(project_config())


def named(revision) -> str:
    """A revision as a failure names it: its id and its message."""
    return f"{revision.revision} ({revision.doc})"


@contextmanager
def migrating(url: URL) -> Iterator[Config]:
    """Your Alembic config on the database at ``url``, run as `make upgrade`
    runs it: each revision in its own transaction, autocommit_block() included."""
    engine = create_engine(url)
    config = project_config()
    config.attributes["connection"] = engine
    config.attributes["without_models"] = True
    try:
        yield config
    finally:
        engine.dispose()


@pytest.fixture
def migrate(database_url: URL) -> Iterator[Config]:
    """Your Alembic config on this test's own empty database."""
    with migrating(database_url) as config:
        yield config
