"""Alembic's private API, all of it in one place: what Alembic's commands do
inside but offer no public way to reuse. tests/toolkit/test_alembic_private.py
pins each use, so an Alembic release that renames or reshapes one fails there,
by name, rather than deep inside a command. pyproject.toml's range of Alembic
versions is the one these are checked against."""

import argparse

from alembic.config import CommandLine
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory


def steps(script: ScriptDirectory, target: str, heads, up: bool = True) -> list:
    """The steps `alembic upgrade TARGET` (or downgrade) would run from
    ``heads``, resolved as Alembic resolves them: a bad target fails here."""
    if up:
        return script._upgrade_revs(target, heads)
    return script._downgrade_revs(target, heads)


def move(config, script: ScriptDirectory, target: str, up: bool = True) -> None:
    """command.upgrade (or downgrade) to ``target`` on a history already read
    (``script``): each command would read every revision file again, the
    better part of the time at hundreds of revisions."""
    with EnvironmentContext(
        config,
        script,
        fn=lambda heads, _: steps(script, target, heads, up),
        destination_rev=target,
    ):
        script.run_env()


def config_files(cli: CommandLine, options: argparse.Namespace) -> tuple:
    """(pyproject.toml, alembic.ini) as Alembic's command line reads -c: an
    ini file, a pyproject.toml, or both."""
    return cli._inis_from_config(options)
