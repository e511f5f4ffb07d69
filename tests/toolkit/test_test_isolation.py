"""The tests themselves never rewrite your generated files: the dev
container's REFRESH_GENERATED=1 does not reach the migrator a test runs."""

from tests.helpers import run_migrator


def test_a_test_run_where_refresh_is_on_writes_no_generated_file(
    project, database_url, monkeypatch
):
    monkeypatch.setenv("REFRESH_GENERATED", "1")

    result = run_migrator("upgrade", url=database_url, cwd=project)

    assert result.returncode == 0, result.stderr
    assert not (project / "schema.sql").exists()
    assert not (project / "docs").exists()
