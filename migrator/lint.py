"""`make lint`: each revision's upgrade SQL (as `make sql` prints it) linted
with squawk, revision by revision.

A revision may record reviewed exceptions as a module-level dict,
``squawk_ignore = {"rule-name": "why it is safe here"}``. Revisions up to
LINT_BASELINE (already applied in production) are linted too, but their
findings are listed as baselined and do not fail."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass

from alembic.config import Config
from alembic.script import ScriptDirectory

from migrator import MigratorError, recipes
from migrator.offline import NeedsConnection, per_revision, upgrade_sql
from migrator.settings import env, required

SQUAWK_CONFIG = ".squawk.toml"


def squawk() -> str:
    # The virtualenv's scripts folder first: squawk comes with the dev
    # dependencies, whether or not that folder is on PATH.
    path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    found = shutil.which("squawk", path=path)
    if found is None:
        raise MigratorError("squawk not found: lint runs in the dev image (make lint)")
    return found


def rendered(alembic_cfg: Config, revisions: str) -> tuple[dict[str, str], list[str]]:
    """Each revision's offline SQL, and the revisions that cannot be written
    offline (they need a live connection, e.g. op.get_bind()): the rest of the
    range is rendered past them."""
    pieces: dict[str, str] = {}
    skipped: list[str] = []
    start, end = revisions.split(":", 1)
    while True:
        try:
            pieces.update(per_revision(upgrade_sql(alembic_cfg, f"{start}:{end}")))
            return pieces, skipped
        except NeedsConnection as missing:
            if missing.revision in skipped:
                raise
            # What was written before it is linted; its own piece is cut short.
            pieces.update(per_revision(missing.written))
            pieces.pop(missing.revision, None)
            skipped.append(missing.revision)
            start = missing.revision


def baselined(script: ScriptDirectory) -> set[str]:
    """LINT_BASELINE and every revision before it."""
    baseline = env("LINT_BASELINE")
    if baseline is None:
        return set()
    if script.get_revision(baseline) is None:
        raise MigratorError(f"LINT_BASELINE={baseline} is not a revision of this project")
    return {r.revision for r in script.iterate_revisions(baseline, "base")}


def squawk_on(path: str, sql: str, reporter: str) -> subprocess.CompletedProcess:
    """squawk on one revision's SQL, as `make lint` runs it."""
    return subprocess.run(
        [
            squawk(),
            f"--config={SQUAWK_CONFIG}",
            # Rules that depend on the server's version (a constant default
            # on ADD COLUMN is safe since 11, ...) know it.
            f"--pg-version={required('POSTGRES_VERSION')}.0",
            f"--reporter={reporter}",
            f"--stdin-filepath={path}",
        ],
        input=sql,
        text=True,
        stdout=subprocess.PIPE,
    )


def run_squawk(path: str, sql: str) -> tuple[bool, str]:
    """squawk on one revision's SQL: True when it found nothing, and its findings
    (printed as they are; captured for the recipes they call for)."""
    done = squawk_on(path, sql, "tty" if sys.stdout.isatty() else "gcc")
    print(done.stdout, end="")
    return done.returncode == 0, done.stdout


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int  # 1-based, in the SQL given
    message: str
    advice: bool  # `make lint` prints a safe recipe for it


def findings(path: str, sql: str) -> list[Finding]:
    """squawk's findings on one revision's SQL, as records (its JSON reporter)."""
    if not os.path.isfile(SQUAWK_CONFIG):
        raise MigratorError(f"no {SQUAWK_CONFIG} in {os.getcwd()}: run from the project root")
    done = squawk_on(path, sql, "json")
    try:
        found = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        raise MigratorError(f"squawk failed on {path}: {done.stdout.strip()[:200]}") from None
    return [
        # squawk's JSON counts lines from 0.
        Finding(f["rule_name"], f["line"] + 1, f["message"], f["rule_name"] in recipes.RECIPES)
        for f in found
    ]


def with_ignored(sql: str, ignored: dict[str, str]) -> str:
    """squawk's own file-level exception for a revision's ``squawk_ignore``, at
    the end so line numbers stay put."""
    if not ignored:
        return sql
    return sql + f"\n-- squawk-ignore-file {', '.join(ignored)}\n"


def lint(alembic_cfg: Config, revisions: str = "base:heads") -> None:
    if not os.path.isfile(SQUAWK_CONFIG):
        raise MigratorError(f"no {SQUAWK_CONFIG} in {os.getcwd()}: run lint from the project root")
    script = ScriptDirectory.from_config(alembic_cfg)
    old = baselined(script)
    pieces, skipped = rendered(alembic_cfg, revisions)
    failed, tolerated = [], []
    for revision in skipped:
        found = script.get_revision(revision)
        print(
            f"{os.path.relpath(found.path)}: not linted: revision {revision} ({found.doc}) "
            "needs a live connection (op.get_bind()), so its SQL cannot be written offline"
        )
    for revision, sql in pieces.items():
        found = script.get_revision(revision)
        path = os.path.relpath(found.path)
        ignored = getattr(found.module, "squawk_ignore", {})
        for rule, why in ignored.items():
            print(f"{path}: {rule} ignored, reviewed: {why}")
        clean, reported = run_squawk(path, with_ignored(sql, ignored))
        if not clean:
            # squawk's line numbers count in exactly what this prints.
            finding = f"{path} (its SQL: make sql r={revision})"
            (tolerated if revision in old else failed).append(finding)
            if revision not in old:
                print(recipes.advice(reported), end="")
    if tolerated:
        print(
            f"baselined (at or before LINT_BASELINE={env('LINT_BASELINE')}, already in "
            f"production): {len(tolerated)} revision(s) with findings, not failing: "
            + ", ".join(tolerated)
        )
    if failed:
        raise MigratorError(
            f"{len(failed)} of {len(pieces)} revision(s) fail squawk: {', '.join(failed)}; "
            "make each safe, or record a reviewed exception (README: Reviewing migrations)"
        )
    print(f"lint: {len(pieces)} revision(s), no unsafe operation found")
