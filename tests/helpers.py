"""What the tests share: the migrator run as a process, its one-line errors,
hand-written revisions, the tables your models register, and small queries."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from migrator.settings import PROJECT_ROOT
from tests import forked

# Where run_migrator() runs when no cwd is given: the live project for the
# tests of your migrations; tests/toolkit/conftest.py points it at the
# toolkit's fixture project for the toolkit's own tests.
DEFAULT_CWD = PROJECT_ROOT


def run_migrator(
    *args: str, url: URL | str | None = None, cwd: Path | None = None, **env_vars: str
) -> subprocess.CompletedProcess:
    """`python -m migrator ARGS` in a process of its own, as the container runs
    it: its exit status, its stdout and its stderr (tests/forked.py says how)."""
    environ = migrator_environment(url, **env_vars)
    return forked.run(["-m", "migrator", *args], str(cwd or DEFAULT_CWD), environ)


def migrator_process(
    *args: str, url, cwd=None, log: Path | None = None, **env_vars
) -> forked.Process:
    """run_migrator's process, started in the background; its output in the
    file ``log`` as it writes it, if given."""
    environ = migrator_environment(url, **env_vars)
    return forked.Process(["-m", "migrator", *args], str(cwd or DEFAULT_CWD), environ, log=log)


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def migrator_environment(url: URL | str | None = None, **env_vars: str) -> dict[str, str]:
    # Never the dev container's refresh: a test must not rewrite the real
    # schema.sql or ER diagram.
    environ = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "REFRESH_GENERATED": "0"}
    if url is not None:
        environ["DATABASE_URL"] = url if isinstance(url, str) else url.render_as_string(False)
    return {**environ, **env_vars}


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """Failed, with exactly one `error:` line holding ``words``, and no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def add_revision(
    project: Path, revision: str, down_revision: str, upgrade: str, downgrade: str = "pass"
) -> Path:
    """Write a hand-made revision into a project copy; ``upgrade`` and
    ``downgrade`` are the bodies of its functions."""
    path = project / "alembic" / "versions" / f"2099_01_01_0000-{revision}_test.py"
    body = {
        name: textwrap.indent(textwrap.dedent(code).strip(), "    ")
        for name, code in (("upgrade", upgrade), ("downgrade", downgrade))
    }
    path.write_text(
        f'''"""test revision {revision}"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{body["upgrade"]}


def downgrade():
{body["downgrade"]}
'''
    )
    return path


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text()
    assert old in content, f"{old!r} not in {path}"
    path.write_text(content.replace(old, new))


def query(database: URL | Engine, sql: str) -> list[tuple]:
    """On a connection of its own, closed after (it keeps no session lock), or
    on a test's own ``Engine`` (its pool kept: many checks on one database)."""
    engine = database if isinstance(database, Engine) else create_engine(database)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    if engine is not database:
        engine.dispose()
    return rows


def version(database: URL | Engine) -> list[str]:
    return [v for (v,) in query(database, "SELECT version_num FROM alembic_version")]


def columns(url, table: str) -> list[str]:
    return [
        name
        for (name,) in query(
            url,
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
    ]


# Prints the tables on MODELS_METADATA's metadata, in a process that has
# imported no model yet: with "every", after importing every module of its top
# package first.
_TABLES = """
import json, pkgutil, sys
from importlib import import_module
from migrator.settings import env, models_metadata
if sys.argv[1] == "every":
    top = import_module(env("MODELS_METADATA").partition(":")[0].split(".")[0])
    for module in pkgutil.walk_packages(getattr(top, "__path__", []), top.__name__ + "."):
        if not module.name.endswith(".__main__"):
            import_module(module.name)
print(json.dumps(sorted(models_metadata().tables)))
"""


def unregistered_tables(cwd: Path | None = None, **env_vars: str) -> set[str]:
    """Tables the models' package defines that importing MODELS_METADATA alone
    (all env.py does) leaves off the metadata: autogenerate would not see them."""

    def tables(imported: str) -> set[str]:
        done = forked.run(
            ["-c", _TABLES, imported], str(cwd or DEFAULT_CWD), migrator_environment(**env_vars)
        )
        assert done.returncode == 0, done.stderr
        return set(json.loads(done.stdout))

    return tables("every") - tables("bare")


def assert_ruff_clean(project, path) -> None:
    """``path`` passes ruff check and ruff format --check with the project's
    settings: what the post-write hook and `make style` promise."""
    for args in (["check"], ["format", "--check"]):
        ruff = subprocess.run(
            [sys.executable, "-m", "ruff", *args, str(path)],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
