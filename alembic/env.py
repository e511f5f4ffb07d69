"""How Alembic reaches the database. Alembic's generic template, plus a few
additions, each marked with why."""

from contextlib import nullcontext
from logging.config import fileConfig

# Imported for its side effect: autogenerate (and `make check`) then sees
# PostgreSQL enum types, creates and drops them with their columns and follows
# their values, which Alembic alone ignores.
import alembic_postgresql_enum  # noqa: F401
from alembic import context
from sqlalchemy import Connection

# Imported for its side effect as well: Alembic then compares server defaults
# as PostgreSQL means them (see compare_server_default below).
import migrator.defaults  # noqa: F401
from migrator import checksums, db, hooks, squash
from migrator.settings import database_url, models_metadata

config = context.config

# Once per Config: a caller that runs this file once a revision with one
# Config (the stairway, pytest-alembic) would rebuild every logger and handler
# each time, a sixth of what a small revision costs.
if config.config_file_name is not None and not config.attributes.get("logging_configured"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
    config.attributes["logging_configured"] = True

if config.attributes.get("without_models"):
    # The migrator's upgrade and downgrade never compare with the models:
    # importing them (and SQLAlchemy's ORM) would only slow every start.
    target_metadata = None
else:
    # Your models' MetaData, wherever MODELS_METADATA (.env) says it is; the
    # example's models/ package imports every module in it (see its __init__),
    # so autogenerate sees all tables without this file listing them.
    target_metadata = models_metadata()


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (`alembic upgrade --sql`, `make sql`)."""
    context.configure(
        # No credentials in alembic.ini: the URL comes from the environment.
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A caller that already holds a connection (the tests) shares it;
    # pytest-alembic hands over an engine, or a wrapper whose connect() gives
    # back a connection it holds.
    shared = config.attributes.get("connection")
    if isinstance(shared, Connection):
        run_migrations(shared)
        return
    if shared is not None:
        with shared.connect() as connection:
            run_migrations(connection)
        return
    # Waits for a database that is still starting; bad credentials fail at once.
    with db.connect(database_url()) as connection:
        run_migrations(connection)


def run_migrations(connection) -> None:
    # Concurrent migrators take turns, so each revision is applied once. A
    # caller already in a transaction keeps it (pytest-alembic rolls its checks
    # back): Alembic runs inside it, without the lock, whose commit would end it.
    in_callers_transaction = connection.in_transaction()
    with nullcontext() if in_callers_transaction else db.migration_lock(connection):
        # `upgrade` refuses to run over a revision edited since it was applied.
        if config.attributes.get("validate_checksums"):
            checksums.validate(connection, context.script)
            # Nor from a revision a squash replaced (make squash): one line, not Alembic's.
            squash.refuse_replaced(connection, context.script)
            if not in_callers_transaction:
                connection.commit()  # ends the check's read: Alembic begins its own
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # A revision that fails rolls back alone; those before it stay applied.
            transaction_per_migration=True,
            # `make revision` with no model change writes nothing, and a type
            # change PostgreSQL cannot cast by itself carries its USING.
            process_revision_directives=hooks.prepare_revision,
            # Server defaults are compared too, by migrator/defaults.py (which
            # its import puts in place): now() or '{}'::jsonb as PostgreSQL
            # writes them back are no difference, a changed default is one.
            compare_server_default=True,
            # The checksum table is the migrator's, not the models'.
            include_name=hooks.include_name,
            # Lets the migrator report what it applied, and records checksums.
            on_version_apply=hooks.record_applied(config),
        )
        # An enum value some rows still hold cannot be removed: one line
        # naming it, rather than the enum library's traceback.
        with context.begin_transaction(), hooks.explain_enum_errors():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
