"""The models package: importing it registers every model on ``Base.metadata``.

Every module in this folder, and in its subpackages, is imported here, so a new
model module is seen by Alembic's autogenerate without editing
``alembic/env.py``: a forgotten import there would make autogenerate propose
dropping that module's tables.
"""

from importlib import import_module
from pkgutil import walk_packages

from models.base import Base

for _module in walk_packages(__path__, f"{__name__}."):
    import_module(_module.name)

# The metadata as a module-level name: pytest-alembic's experimental "all
# models register on the metadata" test finds it only as a MetaData (or a
# DeclarativeMeta class) in a module, not as SQLAlchemy 2's DeclarativeBase
# (tests/migrations/test_pytest_alembic.py runs that test).
metadata = Base.metadata

__all__ = ["Base", "metadata"]
