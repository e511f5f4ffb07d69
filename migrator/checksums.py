"""Checksums of applied revisions, as Flyway's validate keeps them: editing a
revision after it ran on a database is caught by `upgrade` and `check`.

What is hashed: SHA-256 of the revision file's bytes, with CRLF line endings
read as LF (a Windows checkout of the same commit gives the same checksum).
Nothing else is normalised: any edit, a comment or a blank line included,
counts, because the file is what was reviewed and what ran. Revisions that were
stamped rather than run (`make stamp`), or applied before this table existed,
have no checksum and are not checked.
"""

import hashlib
from pathlib import Path

from alembic.runtime.migration import MigrationInfo
from alembic.script import ScriptDirectory
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


def checksum(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes().replace(b"\r\n", b"\n")).hexdigest()


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
                "checksum": checksum(step.revision_map.get_revision(revision).path),
            },
        )
    else:
        connection.execute(
            text(f"DELETE FROM {TABLE} WHERE revision = ANY(:gone)"),
            {"gone": list(step.up_revision_ids)},
        )


def edited(connection: Connection, script: ScriptDirectory) -> list[str]:
    """One line for each applied revision whose file is not what ran."""
    if connection.scalar(text(f"SELECT to_regclass('{TABLE}')")) is None:
        return []
    files = {s.revision: s for s in script.walk_revisions()}
    problems = []
    for revision, recorded in connection.execute(
        text(f"SELECT revision, checksum FROM {TABLE} ORDER BY applied_at, revision")
    ):
        # A file that is gone is Alembic's to report ("Can't locate revision").
        found = files.get(revision)
        if (
            found is not None
            and checksum(found.path) != recorded
            and not replaced_by_squash(found, recorded)
        ):
            problems.append(
                f"revision {revision} ({found.doc}) was edited after it was applied "
                "(file checksum differs): undo the edit and put the change in a new revision"
            )
    return problems


def replaced_by_squash(found, recorded: str) -> bool:
    """The one accepted difference: a squashed revision (make squash) keeps the
    id of the last revision it replaced, and the checksum a database recorded
    for that one is the replaced file's, which the squashed file keeps."""
    return getattr(found.module, "squashed", {}).get(found.revision) == recorded


def validate(connection: Connection, script: ScriptDirectory) -> None:
    """Refuse to migrate a database over revisions that are not what ran on it."""
    problems = edited(connection, script)
    if problems:
        raise MigratorError("; ".join(problems))
