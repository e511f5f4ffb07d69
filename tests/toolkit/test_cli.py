"""The migrator's command line as the containers run it: what it prints, and
that bad input gives one readable line and a non-zero exit."""

import pytest

from tests.helpers import assert_one_line_error, run_migrator


def test_upgrade_reports_what_it_applied_then_that_it_is_at_head(database_url):
    first = run_migrator("upgrade", url=database_url)
    assert first.returncode == 0, first.stderr
    assert "Running upgrade  -> 1a2b3c4d5e6f, create address and family" in first.stderr
    assert "applied 2 revision(s); database at head" in first.stdout

    second = run_migrator("upgrade", url=database_url)
    assert second.returncode == 0, second.stderr
    assert "already at head" in second.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("downgrade", "-3"), ("Relative revision -3",)),
        (("downgrade", "zzzz"), ("zzzz",)),
        (("upgrade", "zzzz"), ("zzzz",)),
    ],
    ids=["downgrade past base", "downgrade to unknown revision", "upgrade to unknown revision"],
)
def test_bad_targets_give_alembics_error_on_one_line(migrated_url, args, words):
    assert_one_line_error(run_migrator(*args, url=migrated_url), *words)


def test_alembics_global_options_reach_alembic(migrated_url, fixture_project):
    result = run_migrator(
        "-x", "a=1", "-c", str(fixture_project / "alembic.ini"), "current", url=migrated_url
    )
    assert result.returncode == 0, result.stderr
    assert "7e8f9a0b1c2d (head)" in result.stdout


def test_help_lists_every_command_with_its_one_line_doc():
    from migrator import commands

    shown = run_migrator("--help").stdout
    for function in commands.COMMANDS:
        name = function.__name__.replace("_", "-")
        first_line = " ".join(function.__doc__.split("\n\n")[0].split())
        assert f"  {name} " in shown and first_line[:40] in " ".join(shown.split()), name
    assert "Alembic's commands: " in shown and "history" in shown
