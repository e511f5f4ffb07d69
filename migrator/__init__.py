"""The migrator: Alembic with the safety the project promises (waiting for the
database, one lock per database, clear one-line errors, snapshots before
downgrades) and the workflow tools the Makefile calls."""


class MigratorError(Exception):
    """A failure with a one-line explanation for the user; no traceback."""


def label(heads) -> str:
    """Revisions as people read them: the heads joined by '+', or 'base'."""
    return "+".join(heads) or "base"
