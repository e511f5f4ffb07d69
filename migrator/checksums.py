"""Checksums of applied revisions, as Flyway's validate keeps them: a revision
edited after it ran on a database is caught by `upgrade` and `check`.

What is recorded (upgrade_checksum) is what `upgrade` runs: the revision file
as Python parses it, without its module-level `downgrade` function. Every
other statement counts: the upgrade's code, the imports, the revision ids,
module-level constants, the docstrings. What does not count: the downgrade,
comments, blank lines, line breaks, indentation, quotes, parentheses and
trailing commas (ruff format is no edit). So a team may mend a broken
downgrade of a revision applied long ago: upgrade runs the same thing.
Any other edit, once reviewed, is recorded with `make repair r=<rev>`
(Flyway's repair).

Rows an earlier migrator recorded hold the SHA-256 of the whole file (CRLF read as
LF, file_checksum): they are still accepted, and `make upgrade` records them
again in the form above, after which their downgrade may be mended too.
Revisions that were stamped rather than run (`make stamp`), or applied before
this table existed, have no checksum and are not checked.
"""

import ast
import hashlib
from functools import cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, text

from migrator import MigratorError

# Next to Alembic's alembic_version; env.py keeps autogenerate away from it.
TABLE = "alembic_checksums"

CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    revision varchar(32) PRIMARY KEY,
    checksum char(64) NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def file_checksum(path: str | Path) -> str:
    """SHA-256 of the whole file, CRLF read as LF: any edit changes it, the
    downgrade's and a comment's included (what schema.sql's key is made of,
    and what the rows recorded before upgrade_checksum hold)."""
    return hashlib.sha256(Path(path).read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def upgrade_checksum(path: str | Path) -> str:
    """SHA-256 of what upgrade runs: the file's syntax tree without the
    module-level `downgrade` (see the module's docstring)."""
    return _upgrade_digest(Path(path).read_bytes())


@cache
def _upgrade_digest(source: bytes) -> str:
    # Cached by content: `upgrade` validates every applied revision, then
    # records anew those in the older form.
    tree = ast.parse(source)
    tree.body = [
        node
        for node in tree.body
        if not (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "downgrade"
        )
    ]
    return hashlib.sha256(repr(_shape(tree)).encode()).hexdigest()


def _shape(node):
    """A syntax tree as nested tuples of node names and fields. Not ast.dump:
    its text changed in Python 3.13 (empty fields left out), and a newer Python
    in the image must not make every applied revision look edited. Positions
    are not fields; empty fields are left out, so a field a newer Python adds
    (as 3.12 added type_params) changes nothing where it is not used."""
    if isinstance(node, ast.AST):
        fields = [
            (name, _shape(value))
            for name, value in ast.iter_fields(node)
            if value is not None and value != []
        ]
        return (type(node).__name__, *fields)
    if isinstance(node, list):
        return [_shape(item) for item in node]
    return node


def matches(recorded: str, path: str | Path) -> bool:
    """Whether a recorded checksum is that of the revision file at ``path``
    as it is now: what its upgrade runs, or, in a row recorded before that
    form, the whole file."""
    return recorded == upgrade_checksum(path) or recorded == file_checksum(path)


def record(connection: Connection, step: MigrationInfo, heads) -> None:
    """Keep the table in step with what `step` did, in its transaction: a
    revision run up gains its checksum, one run down (or stamped away) loses it."""
    if not heads:
        # At base nothing of the migrations may remain (pytest-alembic's
        # "downgrade leaves no trace"); alembic_version is Alembic's to keep.
        connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        return
    connection.execute(text(CREATE))
    if step.is_stamp:
        # Nothing ran: forget only what is no longer applied.
        applied = [r.revision for r in step.revision_map.iterate_revisions(heads, "base")]
        connection.execute(
            text(f"DELETE FROM {TABLE} WHERE revision <> ALL(:applied)"), {"applied": applied}
        )
    elif step.is_upgrade:
        revision = step.up_revision_id
        connection.execute(
            text(f"INSERT INTO {TABLE} (revision, checksum) VALUES (:revision, :checksum)"),
            {
                "revision": revision,
                "checksum": upgrade_checksum(step.revision_map.get_revision(revision).path),
            },
        )
    else:
        connection.execute(
            text(f"DELETE FROM {TABLE} WHERE revision = ANY(:gone)"),
            {"gone": list(step.up_revision_ids)},
        )


def recorded_rows(connection: Connection) -> list[tuple[str, str]]:
    """(revision, checksum) of each recorded revision, oldest first."""
    if connection.scalar(text(f"SELECT to_regclass('{TABLE}')")) is None:
        return []
    rows = connection.execute(
        text(f"SELECT revision, checksum FROM {TABLE} ORDER BY applied_at, revision")
    )
    return [tuple(row) for row in rows]


def edited(connection: Connection, script: ScriptDirectory) -> list[str]:
    """One line for each applied revision whose file is not what ran."""
    files = {s.revision: s for s in script.walk_revisions()}
    problems = []
    for revision, recorded in recorded_rows(connection):
        # A file that is gone is Alembic's to report ("Can't locate revision").
        found = files.get(revision)
        if (
            found is not None
            and not matches(recorded, found.path)
            and not replaced_by_squash(found, recorded)
        ):
            problems.append(
                f"revision {revision} ({found.doc}) was edited after it was applied "
                "(file checksum differs): undo the edit and put the change in a new "
                f"revision, or, once the edit is reviewed, record it: make repair r={revision}"
            )
    return problems


def replaced_by_squash(found, recorded: str) -> bool:
    """The one accepted difference: a squashed revision (make squash) keeps the
    id of the last revision it replaced, and the checksum a database recorded
    for that one is the replaced file's (in either form), which the squashed
    file keeps."""
    return recorded in getattr(found.module, "squashed", {}).get(found.revision, ())


def validate(connection: Connection, script: ScriptDirectory) -> None:
    """Refuse to migrate a database over revisions that are not what ran on it;
    rows recorded in an older form that still match are recorded anew."""
    problems = edited(connection, script)
    if problems:
        raise MigratorError("; ".join(problems))
    files = {s.revision: s for s in script.walk_revisions()}
    for revision, recorded in recorded_rows(connection):
        if revision in files:
            store(connection, revision, recorded, upgrade_checksum(files[revision].path))


def store(connection: Connection, revision: str, recorded: str, now: str) -> bool:
    """Replace ``revision``'s recorded checksum by ``now``; whether it differed."""
    if recorded == now:
        return False
    connection.execute(
        text(f"UPDATE {TABLE} SET checksum = :now WHERE revision = :revision"),
        {"now": now, "revision": revision},
    )
    return True


def repair(connection: Connection, script: ScriptDirectory, found: Script) -> str:
    """Record the applied revision ``found``'s file as it is now (Flyway's
    repair), after a reviewed edit; what was done, in one line. The caller
    holds the migration lock and commits."""
    heads = MigrationContext.configure(connection).get_current_heads()
    applied = {r.revision for r in script.revision_map.iterate_revisions(heads, "base")}
    name = f"revision {found.revision} ({found.doc})"
    if found.revision not in applied:
        raise MigratorError(f"{name} is not applied to this database: nothing to repair")
    recorded = dict(recorded_rows(connection)).get(found.revision)
    if recorded is None:
        return (
            f"{name} has no recorded checksum (stamped, or applied before checksums were "
            "kept): nothing to repair"
        )
    if not store(connection, found.revision, recorded, upgrade_checksum(found.path)):
        return f"{name} is recorded as its file is now: nothing to repair"
    return f"{name}: recorded its file as it is now; upgrade and check accept it"
