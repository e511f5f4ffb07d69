"""Reviewing migrations before they run: the SQL an upgrade would send
(Alembic's offline mode), and that SQL linted with squawk, revision by revision."""

import io
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from migrator import MigratorError
from migrator.settings import env

# Alembic writes this comment before each revision's statements in offline mode.
RUNNING = re.compile(r"^-- Running upgrade .*-> (\S+)$", re.MULTILINE)
SQUAWK_CONFIG = ".squawk.toml"


@contextmanager
def quietly() -> Iterator[None]:
    """Without Alembic's INFO lines (env.py's fileConfig would turn them back on
    for a logger; this switch is above all loggers)."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def pending(cfg: Config, current: tuple[str, ...]) -> str | None:
    """The range `make upgrade` would apply to a database at ``current``;
    None when it is at head already."""
    if len(current) > 1:
        raise MigratorError(
            f"the database is at several revisions ({', '.join(current)}): give r=<from>:<to>"
        )
    if set(current) == set(ScriptDirectory.from_config(cfg).get_heads()):
        return None
    return f"{current[0] if current else 'base'}:head"


def sql(cfg: Config, revisions: str | None, current_heads) -> None:
    """Print the SQL of ``revisions``, by default of the revisions the database
    (read with ``current_heads()``) lacks."""
    if revisions is None:
        revisions = pending(cfg, current_heads())
        if revisions is None:
            print("-- nothing to run: the database is at head")
            return
    # On stderr, so the SQL's line numbers are those `make lint` reports.
    print(
        f"-- upgrade {revisions}: the SQL Alembic would run (offline mode; nothing runs)",
        file=sys.stderr,
    )
    print(offline_sql(cfg, revisions), end="")


def offline_sql(cfg: Config, revisions: str) -> str:
    """The SQL `upgrade` would run for ``revisions`` (``from:to``), without a database."""
    if ":" not in revisions:
        raise MigratorError(f"{revisions!r} is not a range: give <from>:<to>, e.g. base:head")
    buffer = io.StringIO()
    with quietly():
        command.upgrade(Config(cfg.config_file_name, output_buffer=buffer), revisions, sql=True)
    return buffer.getvalue()


def per_revision(sql: str) -> dict[str, str]:
    """Offline SQL cut into each revision's own transaction, keyed by revision.
    A revision's BEGIN comes just before its "-- Running upgrade" comment."""
    found, cut = {}, 0
    matches = list(RUNNING.finditer(sql))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = len(sql)
        if following is not None:
            begin = sql.rfind("BEGIN;", match.end(), following.start())
            end = following.start() if begin < 0 else begin
        found[match.group(1)] = sql[cut:end].strip() + "\n"
        cut = end
    return found


def squawk() -> str:
    # The virtualenv's scripts folder first: squawk comes with the dev
    # dependencies, whether or not that folder is on PATH.
    path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    found = shutil.which("squawk", path=path)
    if found is None:
        raise MigratorError("squawk not found: lint runs in the dev image (make lint)")
    return found


def lint(cfg: Config, revisions: str = "base:heads") -> None:
    """Lint each revision's upgrade SQL with squawk; fail if any has a finding.

    A revision may record reviewed exceptions as a module-level dict,
    ``squawk_ignore = {"rule-name": "why it is safe here"}``."""
    if not os.path.isfile(SQUAWK_CONFIG):
        raise MigratorError(f"no {SQUAWK_CONFIG} in {os.getcwd()}: run lint from the project root")
    script = ScriptDirectory.from_config(cfg)
    pieces = per_revision(offline_sql(cfg, revisions))
    reporter = "tty" if sys.stdout.isatty() else "gcc"
    failed = []
    for revision, sql in pieces.items():
        found = script.get_revision(revision)
        path = os.path.relpath(found.path)
        ignored = getattr(found.module, "squawk_ignore", {})
        for rule, why in ignored.items():
            print(f"{path}: {rule} ignored, reviewed: {why}")
        if ignored:
            # squawk's own file-level exception, at the end so line numbers stay put.
            sql += f"\n-- squawk-ignore-file {', '.join(ignored)}\n"
        sys.stdout.flush()
        done = subprocess.run(
            [
                squawk(),
                f"--config={SQUAWK_CONFIG}",
                # Rules that depend on the server's version (a constant default
                # on ADD COLUMN is safe since 11, ...) know it.
                f"--pg-version={env('POSTGRES_VERSION')}.0",
                f"--reporter={reporter}",
                f"--stdin-filepath={path}",
            ],
            input=sql,
            text=True,
        )
        if done.returncode != 0:
            # squawk's line numbers count in exactly what this prints.
            start = found.down_revision if isinstance(found.down_revision, str) else "base"
            failed.append(f"{path} (its SQL: make sql r={start}:{revision})")
    if failed:
        raise MigratorError(
            f"{len(failed)} of {len(pieces)} revision(s) fail squawk: {', '.join(failed)}; "
            "make each safe, or record a reviewed exception (README: Reviewing migrations)"
        )
    print(f"lint: {len(pieces)} revision(s), no unsafe operation found")
