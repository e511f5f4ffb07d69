"""python -m migrator [ALEMBIC OPTIONS] COMMAND: Alembic with the project's safety.

The migrator's own commands are in migrator/commands.py; any other command is
Alembic's own (revision, history, current, heads, merge, stamp, ...). Alembic's
global options (-c, -n, -x key=value, --raiseerr) reach both. Errors come out as
one line on stderr and a non-zero exit status."""

import argparse
import inspect
import signal
import sys
import traceback

from alembic import command as alembic_command
from alembic.config import CommandLine, Config
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from migrator import MigratorError, commands, db, failing_revision
from migrator.settings import database_url, env, hide_password, models_metadata


def name_of(function) -> str:
    return function.__name__.replace("_", "-")


def summary(function) -> str:
    return " ".join(inspect.getdoc(function).split("\n\n")[0].split())


def alembic_commands() -> list[str]:
    """Alembic's own commands, as its command line lists them."""
    ours = {function.__name__ for function in commands.COMMANDS}
    return [
        name
        for name, function in inspect.getmembers(alembic_command, inspect.isfunction)
        if function.__module__ == alembic_command.__name__
        and not name.startswith("_")
        and name not in ours
    ]


def parser() -> argparse.ArgumentParser:
    """Alembic's global options, then one sub-command per function in
    commands.COMMANDS, its arguments read from the function's signature."""
    listing = "\n".join(f"  {name_of(f):<15} {summary(f)}" for f in commands.COMMANDS)
    theirs = ", ".join(alembic_commands())
    ours = argparse.ArgumentParser(
        prog="migrator",
        description=__doc__,
        epilog=f"the migrator's commands:\n{listing}\n\nAlembic's commands: {theirs}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ours.add_argument("-c", "--config", default=env("ALEMBIC_CONFIG"), help="Alembic's ini file")
    ours.add_argument("-n", "--name", default="alembic", help="its section")
    ours.add_argument("-x", action="append", default=[], help="key=value for env.py")
    ours.add_argument("--raiseerr", action="store_true", help="(errors are one line anyway)")
    sub = ours.add_subparsers(dest="command", metavar="COMMAND")
    for function in commands.COMMANDS:
        one = sub.add_parser(name_of(function), description=summary(function))
        for name, parameter in list(inspect.signature(function).parameters.items())[1:]:
            if parameter.default is inspect.Parameter.empty:
                one.add_argument(name)
            else:
                one.add_argument(name, nargs="?", default=parameter.default)
        one.set_defaults(run=function)
    return ours


def command_name(argv: list[str]) -> str | None:
    """The first word that is not a global option or its value."""
    takes_value = {"-c", "--config", "-n", "--name", "-x"}
    words = iter(argv)
    for word in words:
        if word in takes_value:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def refresh_generated(alembic_cfg: Config) -> None:
    """In the dev container (REFRESH_GENERATED=1, see docker-compose.yml),
    schema.sql and the ER diagram follow every new or applied revision, so the
    diff under review shows what it does to the schema. Each is rewritten only
    when what it is drawn from changed (the revision files, the models)."""
    try:
        from migrator import erd, schema  # only after a revision or an upgrade

        schema.refresh(alembic_cfg, database_url())
        erd.refresh(models_metadata())
    except (MigratorError, CommandError, DBAPIError, OSError) as exc:
        # The revision or the upgrade itself succeeded: say so by exit 0.
        print(f"warning: schema.sql and the ER diagram not refreshed: {exc}", file=sys.stderr)


def run(argv: list[str]) -> None:
    ours = parser()
    name = command_name(argv)
    if name is None or name in {name_of(f) for f in commands.COMMANDS}:
        args = ours.parse_args(argv)
        if args.command is None:
            ours.print_help()
            return
        alembic_cfg = Config(args.config, ini_section=args.name, cmd_opts=args)
        arguments = vars(args)
        params = list(inspect.signature(args.run).parameters)[1:]
        args.run(alembic_cfg, *(arguments[p] for p in params))
    else:
        # Alembic's own command; --raiseerr hands its errors to main() below.
        CommandLine(prog="migrator").main(["--raiseerr", *argv])
    if name in ("revision", "upgrade") and env("REFRESH_GENERATED") == "1":
        refresh_generated(Config(env("ALEMBIC_CONFIG")))


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
