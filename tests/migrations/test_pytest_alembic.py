"""pytest-alembic's built-in tests (upgrade, models match the DDL, up/down
consistency) and its experimental "all models register on the metadata",
each on a fresh database of its own in the session's PostgreSQL.

Where it falls short, our own tests stand in:
- its single-head test wants one head even before the first revision
  (test_history.py checks "one head, or none");
- its experimental "downgrade leaves no trace" walks the history as one line,
  so it misreads branches and merges (the stairway does that check revision by
  revision, from each revision's own parents; tests/toolkit/ keeps
  pytest-alembic's on the fixture);
- its experimental "all models register on the metadata" finds the metadata
  only as a module-level MetaData or a DeclarativeMeta class, not SQLAlchemy
  2's DeclarativeBase, which most projects use: models/__init__.py names it
  (`metadata = Base.metadata`) for it, and test_models.py makes the same
  check from MODELS_METADATA, needing no such name.

Its pytest plugin is off (pyproject.toml: its collector crashes on pytest 9),
so its tests are imported here, where pytest collects them as this module's,
and `alembic_runner` is made with its documented create_alembic_fixture."""

import pytest
from pytest_alembic import create_alembic_fixture
from pytest_alembic.tests import (  # noqa: F401  (collected by pytest)
    test_model_definitions_match_ddl,
    test_up_down_consistency,
    test_upgrade,
)
from pytest_alembic.tests.experimental import (  # noqa: F401  (collected by pytest)
    test_all_models_register_on_metadata,
)
from sqlalchemy import create_engine

from migrator.settings import PROJECT_ROOT, env

alembic_runner = create_alembic_fixture({"file": str(PROJECT_ROOT / env("ALEMBIC_CONFIG"))})


@pytest.fixture
def alembic_engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _in_the_project_root(monkeypatch):
    """The all-models test runs env.py in a fresh interpreter, which reads
    ./alembic.ini: the project root, wherever pytest was started."""
    monkeypatch.chdir(PROJECT_ROOT)
