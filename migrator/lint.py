"""`make lint`: each revision's upgrade SQL (as `make sql` prints it) linted
with squawk, revision by revision.

A revision may record reviewed exceptions as a module-level dict,
``squawk_ignore = {"rule-name": "why it is safe here"}``. Revisions up to
LINT_BASELINE (already applied in production) are linted too, but their
findings are listed as baselined and do not fail. Advice on a column's type
(ADVICE) is printed and never fails.

lint_revision() gives one revision's findings as data (`make review` lists
them too); lint() prints them."""

import json
import os
import shutil
import subprocess
import sysconfig
from typing import NamedTuple

from alembic.config import Config
from alembic.script import Script, ScriptDirectory

from migrator import MigratorError, recipes, renames
from migrator.offline import NeedsConnection, per_revision, upgrade_sql
from migrator.settings import env, required

SQUAWK_CONFIG = ".squawk.toml"

# squawk's rules that advise on a column's type, not on how a migration locks
# a table or loses data: printed as advice, never failing `make lint` or `make
# test`. The type is chosen in the models and reviewed there (docs/models.md
# recommends timestamptz and Identity()), SQLAlchemy's defaults trip them
# (DateTime is a naive timestamp, an Integer key SERIAL, String(n) VARCHAR(n)),
# and changing a type later is still guarded by changing-column-type. Every
# other rule of squawk's fails, unless .squawk.toml leaves it out.
ADVICE = frozenset(
    {
        "prefer-timestamp-tz",
        "prefer-bigint-over-int",
        "prefer-bigint-over-smallint",
        "prefer-big-int",
        "prefer-identity",
        "prefer-text-field",
        "ban-char-field",
    }
)


class Finding(NamedTuple):
    """One squawk finding on a revision's SQL."""

    rule: str
    # Where the statement begins, counted from 1 in the revision's own SQL as
    # `make sql r=<revision>` prints it.
    line: int
    column: int
    # squawk's message, then its help when it has one.
    message: str
    # Type advice (ADVICE): printed, never failing.
    advice: bool


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


def lint_revision(revision: Script, sql: str) -> list[Finding]:
    """squawk's findings on one revision's SQL (as `make sql r=<revision>`
    prints it), with the revision's reviewed exceptions (squawk_ignore) applied."""
    ignored = getattr(revision.module, "squawk_ignore", {})
    if ignored:
        # squawk's own file-level exception, at the end so line numbers stay put.
        sql += f"\n-- squawk-ignore-file {', '.join(ignored)}\n"
    done = subprocess.run(
        [
            squawk(),
            f"--config={SQUAWK_CONFIG}",
            # Rules that depend on the server's version (a constant default
            # on ADD COLUMN is safe since 11, ...) know it.
            f"--pg-version={required('POSTGRES_VERSION')}.0",
            "--reporter=json",
            f"--stdin-filepath={os.path.relpath(revision.path)}",
        ],
        input=sql,
        text=True,
        stdout=subprocess.PIPE,
    )
    try:
        reported = json.loads(done.stdout)
    except ValueError:
        raise MigratorError(
            f"squawk failed on {os.path.relpath(revision.path)} (exit {done.returncode})"
        ) from None
    return [
        Finding(
            rule=found["rule_name"],
            # squawk's JSON counts lines and columns from 0.
            line=found["line"] + 1,
            column=found["column"] + 1,
            message=" ".join(filter(None, (found["message"], found.get("help")))),
            advice=found["rule_name"] in ADVICE,
        )
        for found in reported
    ]


def printed(path: str, finding: Finding) -> str:
    """One finding, one line, as compilers write theirs (editors jump to it)."""
    level = "advice" if finding.advice else "warning"
    return f"{path}:{finding.line}:{finding.column}: {level}: {finding.rule} {finding.message}"


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
        for rule, why in getattr(found.module, "squawk_ignore", {}).items():
            print(f"{path}: {rule} ignored, reviewed: {why}")
        findings = lint_revision(found, sql)
        for finding in findings:
            print(printed(path, finding))
        print("".join(f"{path}: {note}\n" for note in renames.lint_notes(found)), end="")
        unsafe = [finding.rule for finding in findings if not finding.advice]
        if unsafe:
            # The line numbers count in exactly what this prints.
            named = f"{path} (its SQL: make sql r={revision})"
            (tolerated if revision in old else failed).append(named)
            if revision not in old:
                print(recipes.advice(unsafe), end="")
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
