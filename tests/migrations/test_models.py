"""Your models as Alembic sees them: the MetaData that MODELS_METADATA names."""

from migrator.settings import env
from tests.helpers import unregistered_tables


def test_every_model_in_the_package_registers_on_the_metadata_env_py_imports():
    """A model module that nothing imports is invisible to autogenerate, which
    then proposes dropping its table: env.py's bare import of MODELS_METADATA
    must already see every table its package defines."""
    missing = unregistered_tables()
    assert not missing, (
        f"tables not registered when env.py imports {env('MODELS_METADATA')}: "
        f"{', '.join(sorted(missing))}; import their modules from the metadata's package"
    )
