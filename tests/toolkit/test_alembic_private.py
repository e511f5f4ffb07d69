"""Alembic's private API that migrator/alembic_private.py wraps, pinned: an
Alembic release that renames or reshapes one fails here, by name."""

import argparse

import pytest
from alembic.config import CommandLine, Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from migrator import alembic_private
from tests.helpers import version
from tests.toolkit.conftest import FIRST, HEAD


@pytest.fixture
def script(fixture_project) -> ScriptDirectory:
    return ScriptDirectory.from_config(Config(fixture_project / "alembic.ini"))


def revisions(steps) -> list[str]:
    return [step.revision.revision for step in steps]


def test_steps_are_what_upgrade_and_downgrade_would_run(script):
    assert revisions(alembic_private.steps(script, "head", ())) == [FIRST, HEAD]
    assert revisions(alembic_private.steps(script, HEAD, (FIRST,))) == [HEAD]
    assert revisions(alembic_private.steps(script, "-1", (HEAD,), up=False)) == [HEAD]
    assert alembic_private.steps(script, "base", (), up=False) == []


def test_a_bad_target_fails_in_steps_as_alembic_words_it(script):
    with pytest.raises(CommandError):
        alembic_private.steps(script, "-5", (HEAD,), up=False)


def test_move_migrates_on_a_history_already_read(alembic_config, script, connection):
    alembic_private.move(alembic_config, script, "head")
    assert version(connection.engine) == [HEAD]

    alembic_private.move(alembic_config, script, FIRST, up=False)
    assert version(connection.engine) == [FIRST]


def test_config_files_reads_c_as_alembics_command_line_does(tmp_path):
    cli = CommandLine()
    ini = tmp_path / "other.ini"
    options = argparse.Namespace(config=[str(ini)])
    # The toml file a lone ini goes with is the project's pyproject.toml.
    assert alembic_private.config_files(cli, options) == ("pyproject.toml", str(ini))
    toml = tmp_path / "pyproject.toml"
    options = argparse.Namespace(config=[str(toml), str(ini)])
    assert alembic_private.config_files(cli, options) == (str(toml), str(ini))
