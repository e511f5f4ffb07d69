"""The SQL an upgrade would send, written by Alembic's offline mode: nothing
runs, no database is needed."""

import io
import re
from itertools import pairwise

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from migrator import MigratorError, quietly, revision_module

# Alembic writes this comment before each revision's statements in offline mode.
RUNNING = re.compile(r"^-- Running upgrade .*-> (\S+)$", re.MULTILINE)


def pending(alembic_cfg: Config, current: tuple[str, ...]) -> str | None:
    """The range `make upgrade` would apply to a database at ``current``;
    None when it is at head already."""
    if len(current) > 1:
        raise MigratorError(
            f"the database is at several revisions ({', '.join(current)}): give r=<from>:<to>"
        )
    if set(current) == set(ScriptDirectory.from_config(alembic_cfg).get_heads()):
        return None
    return f"{current[0] if current else 'base'}:head"


class NeedsConnection(MigratorError):
    """A revision whose upgrade cannot run without a database (it reads it, e.g.
    through op.get_bind()): offline, nothing can be written for it."""

    def __init__(self, module: dict, error: Exception, written: str):
        self.revision, self.written = module["revision"], written
        title = "".join((module.get("__doc__") or "").strip().splitlines()[:1])
        super().__init__(
            f"revision {self.revision} ({title}) cannot be written offline: it needs a "
            f"live connection (op.get_bind()?): {type(error).__name__}: {error}"
        )


def upgrade_sql(alembic_cfg: Config, revisions: str) -> str:
    """The SQL `upgrade` would run for ``revisions`` (``from:to``)."""
    if ":" not in revisions:
        raise MigratorError(f"{revisions!r} is not a range: give <from>:<to>, e.g. base:head")
    buffer = io.StringIO()
    # The caller's Config (its section, its -x options), writing into the
    # buffer for this call only.
    kept, alembic_cfg.output_buffer = alembic_cfg.output_buffer, buffer
    try:
        with quietly():
            command.upgrade(alembic_cfg, revisions, sql=True)
    except Exception as exc:
        module = revision_module(exc)
        if module is None:
            raise
        raise NeedsConnection(module, exc, buffer.getvalue()) from None
    finally:
        alembic_cfg.output_buffer = kept
    return buffer.getvalue()


def per_revision(sql: str) -> dict[str, str]:
    """Offline SQL cut into each revision's own transaction, keyed by revision.
    A revision's BEGIN comes just before its "-- Running upgrade" comment."""
    found, cut = {}, 0
    matches = list(RUNNING.finditer(sql))
    for match, following in pairwise([*matches, None]):
        end = len(sql)
        if following is not None:
            begin = sql.rfind("BEGIN;", match.end(), following.start())
            end = following.start() if begin < 0 else begin
        found[match.group(1)] = sql[cut:end].strip() + "\n"
        cut = end
    return found


def revision_sql(alembic_cfg: Config, revision: str) -> str:
    """One revision's own SQL, exactly as `make lint` hands it to squawk (so
    squawk's line numbers count in it), merge revisions included."""
    script = ScriptDirectory.from_config(alembic_cfg)
    found = script.get_revision(revision)
    if found is None:
        raise MigratorError(f"no revision {revision!r}")
    return per_revision(upgrade_sql(alembic_cfg, f"base:{found.revision}"))[found.revision]
