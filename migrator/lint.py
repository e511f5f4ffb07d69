"""`make lint`: each revision's upgrade SQL (as `make sql` prints it) linted
with squawk, revision by revision.

A revision may record reviewed exceptions as a module-level dict,
``squawk_ignore = {"rule-name": "why it is safe here"}``. Revisions up to
LINT_BASELINE (already applied in production) are linted too, but their
findings are listed as baselined and do not fail."""

import os
import shutil
import subprocess
import sys
import sysconfig

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
    """LINT_BASELINE and every revision before it, and squashed revisions."""
    # A squashed revision (make squash) rebuilds what already ran in production.
    squashes = [r for r in script.walk_revisions() if hasattr(r.module, "squashed")]
    squashed = {r.revision for r in squashes}
    baseline = env("LINT_BASELINE")
    # A baseline a squash replaced: all it baselined is in the squash now.
    if baseline is None or any(baseline in r.module.squashed for r in squashes):
        return squashed
    if script.get_revision(baseline) is None:
        raise MigratorError(f"LINT_BASELINE={baseline} is not a revision of this project")
    return squashed | {r.revision for r in script.iterate_revisions(baseline, "base")}


def run_squawk(path: str, sql: str) -> tuple[bool, str]:
    """squawk on one revision's SQL: True when it found nothing, and its findings
    (printed as they are; captured for the recipes they call for)."""
    done = subprocess.run(
        [
            squawk(),
            f"--config={SQUAWK_CONFIG}",
            # Rules that depend on the server's version (a constant default
            # on ADD COLUMN is safe since 11, ...) know it.
            f"--pg-version={required('POSTGRES_VERSION')}.0",
            f"--reporter={'tty' if sys.stdout.isatty() else 'gcc'}",
            f"--stdin-filepath={path}",
        ],
        input=sql,
        text=True,
        stdout=subprocess.PIPE,
    )
    print(done.stdout, end="")
    return done.returncode == 0, done.stdout


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
        if ignored:
            # squawk's own file-level exception, at the end so line numbers stay put.
            sql += f"\n-- squawk-ignore-file {', '.join(ignored)}\n"
        clean, findings = run_squawk(path, sql)
        if not clean:
            # squawk's line numbers count in exactly what this prints.
            finding = f"{path} (its SQL: make sql r={revision})"
            (tolerated if revision in old else failed).append(finding)
            if revision not in old:
                print(recipes.advice(findings), end="")
    if tolerated:
        baseline = env("LINT_BASELINE")
        which = f"at or before LINT_BASELINE={baseline}, or squashed" if baseline else "squashed"
        print(
            f"baselined ({which}: already in production): "
            f"{len(tolerated)} revision(s) with findings, not failing: " + ", ".join(tolerated)
        )
    if failed:
        raise MigratorError(
            f"{len(failed)} of {len(pieces)} revision(s) fail squawk: {', '.join(failed)}; "
            "make each safe, or record a reviewed exception (README: Reviewing migrations)"
        )
    print(f"lint: {len(pieces)} revision(s), no unsafe operation found")
