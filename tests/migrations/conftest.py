"""Fixtures for the tests of your migrations: your alembic.ini, revisions and
models (MODELS_METADATA), on the test worker's PostgreSQL."""

from collections.abc import Iterator

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from migrator.settings import PROJECT_ROOT, env
from tests import stairway

# Your project's Alembic configuration (ALEMBIC_CONFIG, from the project root).
CONFIG_FILE = PROJECT_ROOT / env("ALEMBIC_CONFIG")
SCRIPT = ScriptDirectory.from_config(Config(CONFIG_FILE))


@pytest.fixture
def migrate(database_url: URL) -> Iterator[Config]:
    """Your Alembic config on this test's own empty database, run as `make
    upgrade` runs it: each revision in its own transaction, autocommit_block()
    included."""
    with stairway.migrating(database_url, CONFIG_FILE) as config:
        yield config
