"""`make review`: the revisions the development database lacks (or a range),
run on a throwaway copy of it, statement by statement (migrator/trace.py),
with what each one locks, blocks and rewrites, how long, the data each
revision drops, and `make lint`'s findings checked against what happened.

The copy is ``CREATE DATABASE <db>_review_<time>_<random> TEMPLATE <db>``: a
file copy, fast, but PostgreSQL refuses it while another session is connected
to the database; then it is pg_dump | pg_restore instead. Each review has a
copy of its own: two at once (two terminals, two CI jobs on one server) never
touch each other's. It is dropped at the end, on a failure and on Ctrl-C too;
a copy a killed review left is dropped by the next one (see stale_copies).
The development database is only read."""

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from migrator import (
    MigratorError,
    db,
    lint,
    offline,
    quietly,
    renames,
    revision_module,
    shortened,
)
from migrator.pgtools import client
from migrator.settings import database_url
from migrator.trace import Statement, Tracer

FORMATS = ("text", "markdown", "json")
# PostgreSQL's object_in_use: the template database has other sessions.
OBJECT_IN_USE = "55006"
WIDTH = 72  # a statement as the text and Markdown tables show it
# squawk's rules, by what the trace can tell about them.
REWRITE_RULES = {"changing-column-type", "adding-field-with-default"}
LOCK_RULES = {
    "require-concurrent-index-creation",
    "require-concurrent-index-deletion",
    "constraint-missing-not-valid",
    "adding-foreign-key-constraint",
    "disallowed-unique-constraint",
    "adding-not-nullable-field",
    "adding-serial-primary-key-field",
    "adding-primary-key-constraint",
}
DROP_RULES = {"ban-drop-column", "ban-drop-table"}
# Offline SQL that is Alembic's, not the revision's.
_NOT_THE_REVISION = re.compile(r"^(BEGIN|COMMIT)$|alembic_version", re.IGNORECASE)


@dataclass
class Finding:
    rule: str
    line: int
    message: str
    trace: str  # confirmed, contradicted or unknown
    why: str


@dataclass
class Revision:
    revision: str
    message: str
    statements: list[Statement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # One line each, for what deserves a word beyond the table (a rename
    # written as drop + add, ...).
    notes: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> list[tuple[str, str, int | None]]:
        return [drop for statement in self.statements for drop in statement.dropped]


# ---- the copy ------------------------------------------------------------------


# PostgreSQL cuts longer names to 63 bytes: two long database names would
# share a copy's name, and its suffix would be lost.
NAME_BYTES = 63
# A copy no session is connected to is a killed review's once it is older than
# this. Its review connects to it within milliseconds of making it (pg_dump
# runs before the copy exists), so a minute is plenty; the age is read on the
# server's clock, the one both reviews share.
STALE_SECONDS = 60
_STALE = """
SELECT datname FROM pg_database d
WHERE substring(datname FROM :pattern) IS NOT NULL
  AND substring(datname FROM :pattern)::bigint < extract(epoch FROM now()) - :stale
  AND NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.datid = d.oid)
"""


def copy_prefix(database: str) -> str:
    """``<database>_review_``, the database's name cut to leave room for the suffix."""
    room = NAME_BYTES - len("_review_") - len("0000000000_") - 8
    cut = database.encode()[:room].decode(errors="ignore")
    return f"{cut}_review_"


def copy_url(url: URL, server: Connection) -> URL:
    """A name of this review's own: the server's time (for stale_copies) and a random part."""
    now = server.scalar(text("SELECT extract(epoch FROM now())::bigint"))
    return url.set(database=f"{copy_prefix(url.database)}{now:010d}_{secrets.token_hex(4)}")


def stale_copies(server: Connection, database: str) -> list[str]:
    """The copies of ``database`` killed reviews left: no session in them, older
    than STALE_SECONDS. A running review is always connected to its copy."""
    prefix = copy_prefix(database)
    found = server.scalars(
        text(_STALE),
        {"pattern": f"^{re.escape(prefix)}([0-9]{{10}})_[0-9a-f]{{8}}$", "stale": STALE_SECONDS},
    )
    return list(found)


@contextmanager
def copied(url: URL) -> Iterator[tuple[URL, str]]:
    """A copy of the database at ``url`` (schema and rows), and how it was made;
    dropped on the way out, whatever happened."""
    with db.autocommit(url) as server:
        for stale in stale_copies(server, url.database):
            db.drop_database(server, stale)
        copy = copy_url(url, server)
    try:
        how = copy_by_template(url, copy)
        if how == "pg_dump":
            dump_and_restore(url, copy)
        yield copy, how
    finally:
        with db.autocommit(url) as server:
            db.drop_database(server, copy.database)


def copy_by_template(url: URL, copy: URL) -> str:
    """Copy by CREATE DATABASE ... TEMPLATE if it can ("template"), else say
    "pg_dump": it needs a session in another database of the server
    (``postgres``), and no other session in this one (PostgreSQL would wait
    5 s, then refuse)."""
    try:
        with db.autocommit(url.set(database="postgres")) as server:
            others = server.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = :name AND backend_type = 'client backend'"
                ),
                {"name": url.database},
            )
            if others:
                return "pg_dump"
            db.create_database(server, copy.database, template=url.database)
    except MigratorError as exc:
        if "cannot connect" not in str(exc):
            raise  # the server is not there: no other way would reach it
        return "pg_dump"  # no maintenance database, or not ours to connect to
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) != OBJECT_IN_USE:
            raise
        return "pg_dump"  # a session came in meanwhile
    return "template"


def dump_and_restore(url: URL, copy: URL) -> None:
    with tempfile.TemporaryDirectory() as folder:
        archive = os.path.join(folder, "copy.dump")
        # Dumped before the copy exists: an empty copy waiting for a long
        # pg_dump, with no session in it, would look like a killed review's.
        client(["pg_dump", "--format=custom", "--no-owner", f"--file={archive}"], url)
        with db.autocommit(url) as server:
            db.create_database(server, copy.database)
        client(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={copy.database}", archive],
            copy,
        )


# ---- the run -----------------------------------------------------------------------


def reach(alembic_cfg: Config, connection: Connection, target: str) -> None:
    """Bring the copy to ``target`` (untraced), up or down."""
    script = ScriptDirectory.from_config(alembic_cfg)
    with quietly():
        heads = set(MigrationContext.configure(connection).get_current_heads())
    connection.commit()
    wanted = {r.revision for r in script.get_revisions(target) if r is not None}
    if heads == wanted:
        return
    below = {r.revision for r in script.iterate_revisions(target, "base")} if wanted else set()
    with quietly():
        if heads <= below:
            command.upgrade(alembic_cfg, target)
        else:
            command.downgrade(alembic_cfg, target)


def trace(alembic_cfg: Config, url: URL, start: str, end: str) -> tuple[list[str], Tracer]:
    """The revisions upgraded from ``start`` to ``end`` on the copy at ``url``, traced."""
    alembic_cfg.attributes["without_models"] = True
    with db.connect(url) as connection, db.connect(url) as watching:
        alembic_cfg.attributes["connection"] = connection
        reach(alembic_cfg, connection, start)
        applied = alembic_cfg.attributes.setdefault("applied", [])
        applied.clear()
        watching = watching.execution_options(isolation_level="AUTOCOMMIT")
        with Tracer(connection, watching) as tracer, quietly():
            try:
                command.upgrade(alembic_cfg, end)
            except MigratorError:
                raise
            except Exception as exc:  # a Python error in a revision is one line too
                module = revision_module(exc)
                if module is None or "canceling statement due to user request" in str(exc):
                    raise
                failed = module["revision"]
                reason = db.reason(exc) if isinstance(exc, DBAPIError) else failure(exc)
                named = title(ScriptDirectory.from_config(alembic_cfg).get_revision(failed))
                raise MigratorError(
                    f"revision {failed} ({named}) fails on the copy: "
                    f"{reason}; the copy was dropped, nothing else changed"
                ) from None
        return [step.up_revision_id for step in applied], tracer


def failure(exc: Exception) -> str:
    """A Python error in a revision's code, as one line: its type and message."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def title(found: Script | None) -> str:
    return (found.doc or "").strip().splitlines()[0] if found and found.doc else ""


# ---- the lint findings, checked ------------------------------------------------------


def statement_lines(sql: str) -> list[tuple[int, str, bool]]:
    """(last line, text, whether it is the revision's own) of each statement
    in a revision's offline SQL (Alembic writes a blank line after each)."""
    found, line = [], 1
    for piece in re.split(r";\n\n", sql):
        line += piece.count("\n") + 2
        body = "\n".join(x for x in piece.splitlines() if not x.startswith("--")).strip()
        if body:
            found.append((line - 2, body, not _NOT_THE_REVISION.search(body)))
    return found


def normal(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").lower()


def matched(line: int, offline_sql: list[tuple[int, str, bool]], traced: list[Statement]):
    """The traced statement a finding at ``line`` of the offline SQL is about
    (none for Alembic's own, such as CREATE TABLE alembic_version)."""
    ours = [(last, body) for last, body, own in offline_sql if own]
    at = next(((last, body, own) for last, body, own in offline_sql if line <= last), None)
    if at is None or not at[2]:
        return None
    same = [s for s in traced if normal(s.sql) == normal(at[1])]
    if same:
        return same[0]
    # The same operations in the same order, written offline and sent online.
    return traced[ours.index(at[:2])] if len(ours) == len(traced) else None


def verdict(rule: str, statement: Statement | None) -> tuple[str, str]:
    if statement is None:
        return "unknown", "no traced statement matches the finding"
    held = f"{statement.held_ms or 0:.0f} ms"
    strongest = statement.strongest
    if rule in REWRITE_RULES:
        if statement.rewrites:
            return "confirmed", f"rewrote {', '.join(statement.rewrites)}; the lock was held {held}"
        return "contradicted", f"no rewrite; the lock was held {held}"
    if rule in LOCK_RULES:
        if statement.blocks == "nothing":
            return "contradicted", "its locks block no read or write"
        return "confirmed", f"{strongest[1]} on {strongest[0]} blocks {statement.blocks} for {held}"
    if rule in DROP_RULES and statement.dropped:
        counts = [values for _, _, values in statement.dropped]
        if None in counts:
            return "unknown", "the values it held were not counted"
        if sum(counts) == 0:
            return "unknown", "it held no value in the copy; production may"
        lost = ", ".join(f"{name}: {values}" for _, name, values in statement.dropped)
        return "confirmed", f"values lost in the copy: {lost}"
    return "unknown", "the trace cannot tell"


def checked(found: Script, revision: Revision, offline_sql: str | None) -> list[Finding]:
    if offline_sql is None:
        return []
    lines = statement_lines(offline_sql)
    return [
        Finding(
            f.rule, f.line, f.message, *verdict(f.rule, matched(f.line, lines, revision.statements))
        )
        for f in lint.lint_revision(found, offline_sql)
    ]


# ---- the command ------------------------------------------------------------------------


def review(alembic_cfg: Config, revisions: str | None, form: str) -> str:
    """The report on ``revisions`` (default: what the database lacks) in ``form``."""
    if form not in FORMATS:
        raise MigratorError(f"format={form} is not understood: give {', '.join(FORMATS)}")
    url = database_url()
    if not revisions:
        revisions = offline.pending(alembic_cfg, db.current_heads())
        if revisions is None:
            return render([], form, "the database is at head")
    if ":" not in revisions:
        raise MigratorError(f"{revisions!r} is not a range: give <from>:<to>, e.g. base:head")
    start, end = revisions.split(":", 1)
    # Offline first: a revision that cannot be rendered stops before the copy.
    pieces, offline_only = lint.rendered(alembic_cfg, revisions)
    with copied(url) as (copy, how):
        applied, tracer = trace(alembic_cfg, copy, start, end)
    report = []
    # The revision files, read once for all the revisions reported.
    script = ScriptDirectory.from_config(alembic_cfg)
    for revision in applied:
        script_revision = script.get_revision(revision)
        found = Revision(revision, title(script_revision))
        found.statements = [s for s in tracer.statements if s.revision == revision]
        found.findings = checked(script_revision, found, pieces.get(revision))
        # Autogenerate's drop + add of one type in one table: a rename that loses values.
        found.notes += renames.lint_notes(script_revision)
        if revision in offline_only:
            found.notes.append("not linted: it needs a live connection (op.get_bind())")
        report.append(found)
    copied_by = "CREATE DATABASE ... TEMPLATE" if how == "template" else "pg_dump | pg_restore"
    return render(report, form, f"{revisions} on a copy of {url.database} ({copied_by})")


# ---- the report -----------------------------------------------------------------------------


def as_json(revision: Revision) -> dict:
    return {
        "revision": revision.revision,
        "message": revision.message,
        "statements": [
            {
                "sql": shortened(s.sql, 300),
                "ms": round(s.ms, 1),
                "held_ms": None if s.held_ms is None else round(s.held_ms, 1),
                "locks": [
                    {
                        "relation": relation,
                        "mode": mode,
                        "seen": "documented" if s.documented else "observed",
                    }
                    for relation, mode in s.locks
                ],
                "blocks": s.blocks,
                "rewrites": s.rewrites,
                "autocommit": s.autocommit,
            }
            for s in revision.statements
        ],
        "dropped": [
            {"object": name, "kind": kind, "values": values}
            for kind, name, values in revision.dropped
        ],
        "findings": [asdict(f) for f in revision.findings],
        "notes": revision.notes,
    }


def cells(s: Statement) -> list[str]:
    locks = ", ".join(f"{mode} on {relation}" for relation, mode in s.locks) or "-"
    if s.documented:
        locks += " (documented)"
    held = "-" if s.held_ms is None else f"{s.held_ms:.1f}"
    sql = shortened(s.sql, WIDTH) + (" [autocommit]" if s.autocommit else "")
    return [sql, locks, s.blocks, ", ".join(s.rewrites) or "-", f"{s.ms:.1f}", held]


HEADER = ["statement", "locks", "blocks", "rewrites", "ms", "held ms"]


def dropped_line(kind: str, name: str, values: int | None) -> str:
    unit = "rows" if kind == "table" else "non-null values"
    counted = "not counted" if values is None else f"{values} {unit}"
    return f"{kind} {name}: {counted}"


def text_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def render(report: list[Revision], form: str, about: str) -> str:
    if form == "json":
        return (
            json.dumps({"about": about, "revisions": [as_json(r) for r in report]}, indent=2) + "\n"
        )
    markdown = form == "markdown"
    if not report:
        return f"{'## make ' if markdown else ''}review: nothing to review: {about}\n"
    out = [f"## make review: {about}\n" if markdown else f"review: {about}\n"]
    for revision in report:
        rows = [cells(s) for s in revision.statements]
        if markdown:
            out.append(f"### revision {revision.revision}: {revision.message}\n")
            if rows:
                out += [
                    "| " + " | ".join(HEADER) + " |",
                    "|" + "---|" * len(HEADER),
                    *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows),
                    "",
                ]
        else:
            out.append(f"revision {revision.revision} ({revision.message})")
            if rows:
                out += text_table([HEADER, *rows])
        if not rows:
            out.append("no statement" + ("\n" if markdown else ""))
        lines = [f"data lost: {dropped_line(*d)}" for d in revision.dropped]
        lines += [f"lint {f.rule}: {f.trace}: {f.why}" for f in revision.findings]
        lines += [f"note: {note}" for note in revision.notes]
        out += [f"- {line}" if markdown else f"  {line}" for line in lines]
        out.append("")
    return "\n".join(out)
