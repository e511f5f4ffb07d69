"""pytest-alembic's tests run on our env.py: its experimental "downgrade leaves
no trace" catches a revision whose downgrade forgets (yours: tests/migrations/)."""

import pytest
from alembic.config import Config as AlembicConfig
from pytest_alembic.config import Config
from pytest_alembic.plugin.error import AlembicTestFailure
from pytest_alembic.runner import runner
from pytest_alembic.tests import experimental
from sqlalchemy import create_engine

from tests.helpers import add_revision
from tests.toolkit.conftest import HEAD


@pytest.fixture
def alembic_engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def test_downgrade_leaves_no_trace_catches_a_downgrade_that_forgets(project, alembic_engine):
    """The experimental test really runs on our env.py: a revision whose
    downgrade leaves its column behind fails it."""
    add_revision(
        project,
        "f0f0f0f0f0f0",
        HEAD,
        'op.add_column("address", sa.Column("phone", sa.String(20)))',
    )
    # A revision after it, so the faulty one is not the head (the test skips the head).
    add_revision(project, "f1f1f1f1f1f1", "f0f0f0f0f0f0", "pass")
    alembic_config = AlembicConfig(project / "alembic.ini")
    alembic_config.attributes["without_models"] = True  # the fixture's, never in-process
    config = Config.from_raw_config(alembic_config)

    with runner(config=config, engine=alembic_engine) as faulty:
        with pytest.raises(AlembicTestFailure, match="f0f0f0f0f0f0"):
            experimental.test_downgrade_leaves_no_trace(faulty)
