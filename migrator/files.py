"""Every file the toolkit writes (snapshots, schema.sql, the ER diagram) is
written aside, then renamed: a reader, `make restore` included, sees the old
file or the whole new one, never a file cut short. A process killed mid-write
(SIGKILL when its container stops: no cleanup runs) leaves only a hidden
`.NAME.XXXX.partial` beside it, which the next write into that folder removes."""

import contextlib
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PARTIAL = ".partial"
# A partial file this recent may be one a writer has just created and not yet
# locked: left alone, whoever holds it.
SETTLING_SECONDS = 60


@contextlib.contextmanager
def written_aside(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` when
    the block ends without an exception, removed when it raises (Ctrl-C too)."""
    target = Path(path).resolve()  # a symlinked file stays a link to the new one
    remove_stale_partials(target.parent)
    descriptor, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL
    )
    aside = Path(name)
    try:
        # Held until the rename: a lock the kernel drops when the writer dies is
        # how another writer tells a stale partial from one still being written.
        with contextlib.suppress(OSError):  # a file system without locks: never removed
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield aside
        # mkstemp's mode is 0600: give the file the mode it had, or a new file's.
        os.chmod(aside, mode_of(target))
        os.replace(aside, target)
    except BaseException:
        aside.unlink(missing_ok=True)
        raise
    finally:
        os.close(descriptor)


def mode_of(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_text(path: Path, text: str) -> None:
    """``path.write_text(text)``, written aside, then renamed."""
    with written_aside(path) as aside:
        aside.write_text(text)


def remove_stale_partials(folder: Path) -> None:
    """Remove the partial files in ``folder`` that no live writer holds."""
    for partial in folder.glob(f".*{PARTIAL}"):
        with contextlib.suppress(OSError):  # gone meanwhile, not ours to read, no locks
            if time.time() - partial.stat().st_mtime < SETTLING_SECONDS:
                continue
            descriptor = os.open(partial, os.O_RDONLY)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                partial.unlink()
            finally:
                os.close(descriptor)
