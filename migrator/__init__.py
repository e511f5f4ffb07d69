"""The migrator: Alembic with the safety the project promises (waiting for the
database, one lock per database, clear one-line errors, snapshots before
downgrades) and the workflow tools the Makefile calls."""

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager


class MigratorError(Exception):
    """A failure with a one-line explanation for the user; no traceback."""


def label(heads) -> str:
    """Revisions as people read them: the heads joined by '+', or 'base'."""
    return "+".join(heads) or "base"


def shortened(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    words = " ".join(text.split())
    return words if len(words) <= width else words[: width - 1].rstrip() + "…"


@contextmanager
def quietly() -> Iterator[None]:
    """Without Alembic's INFO lines (env.py's fileConfig would turn them back on
    for a logger; this switch is above all loggers)."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def revision_module(exc: BaseException) -> dict | None:
    """The globals of the revision file ``exc`` was raised in, if it was."""
    found = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if "revision" in frame.f_globals and "down_revision" in frame.f_globals:
            found = frame.f_globals
    return found


def failing_revision(exc: BaseException) -> str:
    """'revision X (message) failed, rolled back: ' for an error raised in a revision."""
    found = revision_module(exc)
    if found is None:
        return ""
    title = (found.get("__doc__") or "").strip().splitlines()[:1]
    return f"revision {found['revision']} ({''.join(title)}) failed, rolled back: "
