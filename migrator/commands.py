"""The migrator's own commands, one function each. `python -m migrator` builds
its command line from these signatures, and its help from the first line of
each docstring; every other command is Alembic's own."""

import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from migrator import (
    MigratorError,
    alembic_private,
    checksums,
    db,
    label,
    lockwait,
    offline,
    snapshots,
)
from migrator.precommit import refuse_multiple_heads
from migrator.settings import database_url, models_metadata


def upgrade(alembic_cfg: Config, target: str = "head") -> None:
    """Wait for the database, refuse multiple heads, apply the pending revisions (default: head)."""
    # Checked before connecting: with two heads, "head" means nothing.
    if target == "head":
        refuse_multiple_heads(ScriptDirectory.from_config(alembic_cfg))
    # Flyway's validate: nothing is applied over a revision edited since it ran.
    alembic_cfg.attributes["validate_checksums"] = True
    alembic_cfg.attributes["without_models"] = True
    # A revision that waited LOCK_TIMEOUT for a lock rolled back alone: go on from it.
    lockwait.retrying(lambda: command.upgrade(alembic_cfg, target))
    applied = alembic_cfg.attributes.get("applied", [])
    if applied:
        alembic_cfg.print_stdout(f"applied {len(applied)} revision(s); database at {target}")
    else:
        alembic_cfg.print_stdout(f"already at {target}; nothing to apply")


def downgrade(alembic_cfg: Config, target: str) -> None:
    """Snapshot the database into SNAPSHOT_DIR, then revert to TARGET (-1, or a revision)."""
    heads = db.current_heads()
    # Alembic's own resolution of the target: a bad one fails here, before the snapshot.
    script = ScriptDirectory.from_config(alembic_cfg)
    steps = alembic_private.steps(script, target, heads, up=False)
    if not steps:
        print(f"already at {target}; nothing to revert")
        return
    take_snapshot(heads)
    alembic_cfg.attributes["without_models"] = True
    command.downgrade(alembic_cfg, target)
    print(f"reverted {len(steps)} revision(s); database at {label(db.current_heads())}")


def check(alembic_cfg: Config) -> None:
    """Fail when the models and the migrations differ (one line each), or an applied
    revision was edited."""
    # Imported here, as lint, schema and erd below: Alembic's own commands
    # (current, heads, history...) start without autogenerate and the rest.
    from migrator import check as model_check

    model_check.run(alembic_cfg)


def repair(alembic_cfg: Config, revision: str) -> None:
    """Record the applied REVISION's file as it is now, after a reviewed edit
    (Flyway's repair): upgrade and check then accept it."""
    script = ScriptDirectory.from_config(alembic_cfg)
    found = script.get_revision(revision)
    if found is None:
        raise MigratorError(f"{revision!r} is not one revision: give its id")
    with db.connect(database_url()) as connection, db.migration_lock(connection):
        done = checksums.repair(connection, script, found)
        connection.commit()
    alembic_cfg.print_stdout(done)


def take_snapshot(heads: tuple[str, ...]) -> None:
    path = snapshots.take(database_url(), label(heads))
    shown = os.path.relpath(path)
    print(f"snapshot saved: {shown}")
    print(f"restore it with: make restore f={shown}")


def snapshot(alembic_cfg: Config) -> None:
    """Snapshot the database (pg_dump) into SNAPSHOT_DIR."""
    take_snapshot(db.current_heads())


def restore(alembic_cfg: Config, file: str) -> None:
    """Replace the database's schema and data with the snapshot FILE (the current
    database is snapshotted first)."""
    url, path = database_url(), Path(file)
    snapshots.check_readable(url, path)
    # The database as it is now, in case the snapshot restored was the wrong one.
    take_snapshot(db.current_heads())
    snapshots.restore(url, path)
    print(f"restored {file}; database at {label(db.current_heads())}")


def sql(alembic_cfg: Config, revisions: str | None = None) -> None:
    """Print the SQL an upgrade would run, running nothing: FROM:TO, one revision's
    own SQL as lint reads it, or by default what the database lacks."""
    if revisions is not None and ":" not in revisions:
        print(offline.revision_sql(alembic_cfg, revisions), end="")
        return
    if revisions is None:
        revisions = offline.pending(alembic_cfg, db.current_heads())
        if revisions is None:
            print("-- nothing to run: the database is at head")
            return
    # On stderr, so the SQL's line numbers are those `make lint` reports.
    print(
        f"-- upgrade {revisions}: the SQL Alembic would run (offline mode; nothing runs)",
        file=sys.stderr,
    )
    print(offline.upgrade_sql(alembic_cfg, revisions), end="")


def lint(alembic_cfg: Config, revisions: str = "base:heads") -> None:
    """Lint each revision's SQL with squawk (default: every revision; LINT_BASELINE
    and earlier are reported, not failed)."""
    from migrator import lint as squawk_lint

    squawk_lint.lint(alembic_cfg, revisions)


def review(alembic_cfg: Config, revisions: str = "", form: str = "text") -> None:
    """Run the revisions the database lacks (or FROM:TO) on a throwaway copy of it,
    statement by statement: locks, what they block, rewrites, time, data lost;
    FORM is text, markdown or json."""
    from migrator import review as traced

    print(traced.review(alembic_cfg, revisions, form), end="")


def schema(alembic_cfg: Config) -> None:
    """Rebuild schema.sql, the schema at head, from the migrations on a scratch database."""
    from migrator import schema as schema_file

    schema_file.write(alembic_cfg, database_url())


def erd(alembic_cfg: Config) -> None:
    """Redraw the ER diagram of the models (docs/erd.md and docs/erd.svg)."""
    from migrator import erd as diagram

    diagram.write(models_metadata())


# The example this environment starts with: its revisions and its files.
EXAMPLE_REVISIONS = ("1a2b3c4d5e6f", "7e8f9a0b1c2d")
EXAMPLE_FILES = ("models/address.py", "tests/migrations/test_example_data.py")


def remove_example(alembic_cfg: Config) -> None:
    """Delete the example (its models, its two revisions, its data test) after
    reverting the database to base, and redraw schema.sql and the ER diagram."""
    script = ScriptDirectory.from_config(alembic_cfg)
    known = {r.revision: r for r in script.walk_revisions()}
    found = [known[r] for r in EXAMPLE_REVISIONS if r in known]
    if not found:
        raise MigratorError("the example is already removed")
    yours = [r for r in known if r not in EXAMPLE_REVISIONS]
    if yours:
        raise MigratorError(
            f"revision(s) {', '.join(yours)} are not the example's: remove its files by hand "
            f"({', '.join(EXAMPLE_FILES)} and the revisions {', '.join(EXAMPLE_REVISIONS)})"
        )
    if db.current_heads():
        downgrade(alembic_cfg, "base")
    for path in [*(Path(r.path) for r in found), *map(Path, EXAMPLE_FILES)]:
        if path.exists():
            path.unlink()
            print(f"removed {os.path.relpath(path)}")
    schema(alembic_cfg)
    erd(alembic_cfg)


def squash(alembic_cfg: Config, revision: str) -> None:
    """Replace the revisions from base to REVISION with one that keeps its id, proven
    to build the same schema and rows, and delete their files."""
    from migrator import squash as squasher

    path, replaced = squasher.squash(alembic_cfg, revision)
    for found in replaced:
        print(f"removed {os.path.relpath(found.path)}")
    last = replaced[-1].revision
    print(
        f"squashed {len(replaced)} revisions into {os.path.relpath(path)}, proven to build "
        f"the same schema and rows; deploy it only where every database is at {last} or later"
    )


COMMANDS = [
    upgrade,
    downgrade,
    check,
    repair,
    snapshot,
    restore,
    sql,
    lint,
    review,
    schema,
    erd,
    remove_example,
    squash,
]
