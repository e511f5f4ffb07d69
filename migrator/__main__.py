"""python -m migrator COMMAND: Alembic's commands, with the project's safety.

  upgrade [TARGET]     wait for the database, refuse multiple heads, apply (default: head)
  downgrade TARGET     snapshot the database into backups/, then downgrade (-1, or a revision)
  check                fail when the models and the migrations differ, or an applied
                       revision was edited (one line per difference)
  backup               snapshot the database into backups/
  restore FILE         replace the database's schema and data with a snapshot
  sql [FROM:TO]        print the SQL upgrade would run (default: what the database lacks)
  lint [FROM:TO]       lint each revision's SQL with squawk (default: every revision)
  schema               rebuild schema.sql from the migrations, on a scratch database
  erd                  redraw the ER diagram of the models (README.md, erd.svg)
  anything else        Alembic's own command line (revision, history, current, heads, ...)

Errors come out as one line on stderr and a non-zero exit status.
"""

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path

from alembic import command
from alembic.config import CommandLine, Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from migrator import MigratorError, check, db, erd, label, review, schema, snapshot
from migrator.settings import database_url, env, hide_password


def config() -> Config:
    return Config(os.environ.get("ALEMBIC_CONFIG", "alembic.ini"))


def describe(script: ScriptDirectory, revisions) -> str:
    return ", ".join(f"{rev} ({script.get_revision(rev).doc})" for rev in revisions)


def upgrade(target: str = "head") -> None:
    cfg = config()
    script = ScriptDirectory.from_config(cfg)
    heads = script.get_heads()
    # Checked before connecting: with two heads, "head" means nothing.
    if target == "head" and len(heads) > 1:
        raise MigratorError(
            f"multiple heads: {describe(script, heads)}; run `make merge` to join them"
        )
    # Flyway's validate: nothing is applied over a revision edited since it ran.
    cfg.attributes["validate_checksums"] = True
    cfg.attributes["without_models"] = True
    command.upgrade(cfg, target)
    applied = cfg.attributes.get("applied", [])
    if applied:
        print(f"applied {len(applied)} revision(s); database at {target}")
    else:
        print(f"already at {target}; nothing to apply")


def current_heads() -> tuple[str, ...]:
    with db.connect(database_url()) as connection:
        return MigrationContext.configure(connection).get_current_heads()


def backup(heads: tuple[str, ...] | None = None) -> None:
    path = snapshot.take(database_url(), label(current_heads() if heads is None else heads))
    shown = os.path.relpath(path)
    print(f"snapshot saved: {shown}")
    print(f"restore it with: make restore f={shown}")


def downgrade(target: str) -> None:
    cfg = config()
    heads = current_heads()
    # Alembic's own resolution of the target (private API, the one
    # `alembic downgrade` uses): a bad target fails here, before the snapshot.
    steps = ScriptDirectory.from_config(cfg)._downgrade_revs(target, heads)
    if not steps:
        print(f"already at {target}; nothing to revert")
        return
    backup(heads)
    cfg.attributes["without_models"] = True
    command.downgrade(cfg, target)
    print(f"reverted {len(steps)} revision(s); database at {label(current_heads())}")


def restore(path: str) -> None:
    url, file = database_url(), Path(path)
    snapshot.check_readable(url, file)
    # The database as it is now, in case the snapshot restored was the wrong one.
    backup()
    snapshot.restore(url, file)
    print(f"restored {path}; database at {label(current_heads())}")


def failing_revision(exc: BaseException) -> str:
    """'revision X (message): ' when the error came from inside a revision file."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals
        if "revision" in module and "down_revision" in module:
            found = module
        tb = tb.tb_next
    if found is None:
        return ""
    title = (found.get("__doc__") or "").strip().splitlines()[:1]
    return f"revision {found['revision']} ({''.join(title)}) failed, rolled back: "


def parser() -> tuple[argparse.ArgumentParser, dict]:
    """The commands that are ours (and their names); each sets ``run``, called
    with the parsed arguments."""
    parser = argparse.ArgumentParser(
        prog="migrator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(required=True)

    def add(name: str, run, *arguments: tuple[str, dict]) -> None:
        sub = commands.add_parser(name)
        for argument, options in arguments:
            sub.add_argument(argument, **options)
        sub.set_defaults(run=run)

    add("upgrade", lambda a: upgrade(a.target), ("target", {"nargs": "?", "default": "head"}))
    add("downgrade", lambda a: downgrade(a.target), ("target", {}))
    add("check", lambda a: check.run(config()))
    add("backup", lambda a: backup())
    add("restore", lambda a: restore(a.path), ("path", {}))
    add("sql", lambda a: review.sql(config(), a.range, current_heads), ("range", {"nargs": "?"}))
    add(
        "lint",
        lambda a: review.lint(config(), a.range),
        ("range", {"nargs": "?", "default": "base:heads"}),
    )
    add("schema", lambda a: schema.write(config(), database_url()))
    add("erd", lambda a: erd.write())
    return parser, commands.choices


def run(argv: list[str]) -> None:
    ours, names = parser()
    if argv and argv[0] not in names and not argv[0].startswith("-"):
        # Alembic's own command; --raiseerr hands its errors to main() below.
        CommandLine(prog="migrator").main(["--raiseerr", *argv])
    else:
        args = ours.parse_args(argv)
        args.run(args)
    # In the dev container (REFRESH_GENERATED=1, see docker-compose.yml),
    # schema.sql and the ER diagram follow every new or applied revision, so
    # the diff under review shows what it does to the schema.
    if argv[0] in ("revision", "upgrade") and env("REFRESH_GENERATED") == "1":
        try:
            schema.write(config(), database_url())
            erd.write()
        except (MigratorError, DBAPIError, OSError) as exc:
            # The revision or the upgrade itself succeeded: say so by exit 0.
            print(f"warning: schema.sql and the ER diagram not refreshed: {exc}", file=sys.stderr)


def main(argv: list[str]) -> int:
    # `docker stop` (SIGTERM) stops a migration like Ctrl-C: the running
    # statement is cancelled and its transaction rolled back.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        run(argv)
    except (MigratorError, CommandError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        # Ctrl-C and SIGTERM reach us as the statement they cancelled.
        interrupted = "canceling statement due to user request" in str(exc)
        prefix = "interrupted; " if interrupted else ""
        print(f"error: {prefix}{failing_revision(exc)}{db.reason(exc)}", file=sys.stderr)
        return 130 if interrupted else 1
    except Exception:  # unforeseen: keep the traceback for a bug report, never the password
        print(hide_password(traceback.format_exc()), file=sys.stderr, end="")
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing was left half-done", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
