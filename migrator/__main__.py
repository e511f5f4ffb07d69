"""python -m migrator [ALEMBIC OPTIONS] COMMAND: Alembic with the project's safety.

The migrator's own commands are in migrator/commands.py; any other command is
Alembic's own (revision, history, current, heads, merge, stamp, ...). Alembic's
global options (-c, -n, -x key=value, -q, --raiseerr) reach both. Errors come out as
one line on stderr and a non-zero exit status."""

import argparse
import inspect
import signal
import sys
import traceback

from alembic import command as alembic_command
from alembic.config import CommandLine, Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from migrator import MigratorError, alembic_private, commands, db, failing_revision, label
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


def command_line() -> CommandLine:
    """Alembic's own command line, its global options (-c, -n, -x, -q,
    --raiseerr) and its commands, with one sub-command per function in
    commands.COMMANDS in place of Alembic's of that name, its arguments read
    from the function's signature: one parser, so every global option reaches
    every command."""
    cli = CommandLine(prog="migrator")
    listing = "\n".join(f"  {name_of(f):<15} {summary(f)}" for f in commands.COMMANDS)
    theirs = ", ".join(alembic_commands())
    cli.parser.description = __doc__
    cli.parser.epilog = f"the migrator's commands:\n{listing}\n\nAlembic's commands: {theirs}"
    cli.parser.usage = "%(prog)s [ALEMBIC OPTIONS] COMMAND ..."
    cli.parser.formatter_class = argparse.RawDescriptionHelpFormatter
    # The epilog lists the commands; Alembic's own list would show its
    # upgrade, downgrade and check next to ours.
    cli.subparsers.help = argparse.SUPPRESS
    for function in commands.COMMANDS:
        # `choices` is the name-to-parser map argparse dispatches on.
        cli.subparsers.choices.pop(name_of(function), None)
        one = cli.subparsers.add_parser(name_of(function), description=summary(function))
        for name, parameter in list(inspect.signature(function).parameters.items())[1:]:
            if parameter.default is inspect.Parameter.empty:
                one.add_argument(name)
            else:
                one.add_argument(name, nargs="?", default=parameter.default)
        one.set_defaults(run=function)
    return cli


def alembic_config(cli: CommandLine, options: argparse.Namespace) -> Config:
    """The one Config of this run, built as Alembic's CommandLine.main builds
    it, and handed to every command: nothing builds another. Without -c,
    ALEMBIC_CONFIG comes from .env as well as from the environment."""
    if not options.config:
        options.config = [env("ALEMBIC_CONFIG")]
    toml, ini = alembic_private.config_files(cli, options)
    return Config(file_=ini, toml_file=toml, ini_section=options.name, cmd_opts=options)


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


# Alembic's whole message when autogenerate finds the database behind head.
NOT_UP_TO_DATE = "Target database is not up to date."


def behind_head(alembic_cfg: Config) -> str:
    """What `make revision` on a database behind head must say: where it is
    and what to do."""
    heads = ScriptDirectory.from_config(alembic_cfg).get_heads()
    return (
        f"the database is at {label(db.current_heads())}, behind head {label(heads)}: "
        "make upgrade first, then make revision"
    )


def run(argv: list[str]) -> None:
    cli = command_line()
    options = cli.parser.parse_args(argv)
    ours = getattr(options, "run", None)
    if ours is None and not hasattr(options, "cmd"):
        cli.parser.print_help()
        return
    alembic_cfg = alembic_config(cli, options)
    if ours is not None:
        arguments = vars(options)
        params = list(inspect.signature(ours).parameters)[1:]
        ours(alembic_cfg, *(arguments[p] for p in params))
        name = ours.__name__
    else:
        name = options.cmd[0].__name__
        # Alembic's own command; raised, its errors reach main() below.
        options.raiseerr = True
        try:
            cli.run_cmd(alembic_cfg, options)
        except CommandError as exc:
            if str(exc) == NOT_UP_TO_DATE:
                raise MigratorError(behind_head(alembic_cfg)) from None
            raise
    if name in ("revision", "upgrade") and env("REFRESH_GENERATED") == "1":
        refresh_generated(alembic_cfg)


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
