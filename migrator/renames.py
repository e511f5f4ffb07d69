"""A rename stays a rename: autogenerate sees a renamed column or table as
one dropped and one added, which would throw the values away. Each such pair
is a candidate:

- a column gone from a table while one of the same type appeared in it;
- a table gone while one with the same columns (names and types) appeared.

`make revision` asks about each in a terminal (default no), takes the answers
from ``rename=book.title:book.name,pets:animals`` (``-x rename=...``) without
one, and otherwise writes what autogenerate wrote with one warning per
candidate. A rename is written as ``op.alter_column(..., new_column_name=...)``
or ``op.rename_table(...)``, with the indexes, constraints and sequences whose
names follow the naming convention and carry the old name renamed after it;
whatever else differs (nullability, a default, an index the convention does
not name) is autogenerate's own comparison made again after the rename, so
`make check` is clean once it is applied.

``looks_like_renames`` and ``lint_notes`` tell a written revision's drop + add
of one type in one table, for `make lint` (and `make review`)."""

import io
import re
import sys
from dataclasses import dataclass

from alembic import context as environment
from alembic.autogenerate import produce_migrations, renderers
from alembic.operations import Operations
from alembic.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableOp,
    DropColumnOp,
    DropTableOp,
    ExecuteSQLOp,
    MigrateOperation,
    RenameTableOp,
)
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect, text

from migrator import MigratorError, db, diff, quietly

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# One pair of rename=: table:table or table.column:table.column.
PAIR = re.compile(rf"(?P<old>{NAME}(?:\.{NAME})?):(?P<new>{NAME}(?:\.{NAME})?)")
EXAMPLE = "e.g. rename=book.title:book.name or rename=pets:animals"


@dataclass(frozen=True)
class Rename:
    """A table renamed (``table`` is then ``old``), or a column renamed within
    ``table`` (``column``; ``type`` is its type, for the question)."""

    table: str
    old: str
    new: str
    type: str = ""
    column: bool = False
    schema: str | None = None

    def names(self) -> tuple[str, str]:
        if self.column:
            return f"{self.table}.{self.old}", f"{self.table}.{self.new}"
        return self.old, self.new

    def __str__(self) -> str:
        return "{} → {}".format(*self.names())

    @property
    def given(self) -> str:
        """What rename= takes for it."""
        return "{}:{}".format(*self.names())

    def question(self) -> str:
        if self.column:
            return (
                f"{self.table}: was column {self.old} renamed to {self.new} ({self.type})? [y/N] "
            )
        return f"was table {self.old} renamed to {self.new}? [y/N] "

    def clashes(self, other: "Rename") -> bool:
        """Two candidates that cannot both be taken: they share a name."""
        where = (self.column, self.schema, self.table if self.column else None)
        there = (other.column, other.schema, other.table if other.column else None)
        return where == there and bool({self.old, self.new} & {other.old, other.new})


def ddl(type_) -> str:
    try:
        return diff.ddl(type_)
    except Exception:  # a type the dialect cannot write matches nothing
        return f"<{type_!r}>"


def candidates(upgrade_ops) -> list[Rename]:
    """The rename candidates among autogenerate's upgrade operations."""
    found = []
    dropped = [op for op in upgrade_ops.ops if isinstance(op, DropTableOp)]
    created = [op for op in upgrade_ops.ops if isinstance(op, CreateTableOp)]
    for gone in dropped:
        had = columns_of(gone.to_table().columns)
        for new in created:
            if new.schema == gone.schema and had and columns_of(new.columns) == had:
                found.append(
                    Rename(gone.table_name, gone.table_name, new.table_name, schema=new.schema)
                )
    changes = flat(upgrade_ops.ops)
    found += column_renames(changes, lambda gone: ddl(gone.to_column().type))
    # Autogenerate's order of dropped columns follows a set's: asked in a steady one.
    return sorted(found, key=lambda r: (r.column, r.schema or "", r.table, r.old, r.new))


def columns_of(columns) -> frozenset:
    return frozenset((c.name, ddl(c.type)) for c in columns if hasattr(c, "type"))


def parse(given: str) -> list[tuple[str, str]]:
    """rename='a.b:a.c,pets:animals' as pairs; a malformed one is refused."""
    pairs = []
    for pair in given.split(","):
        match = PAIR.fullmatch(pair)
        if match is None or match["old"].count(".") != match["new"].count("."):
            raise MigratorError(
                f"rename={given}: {pair!r} is not a rename: give old:new pairs separated "
                f"by commas, {EXAMPLE}"
            )
        old, new = match["old"], match["new"]
        if "." in old and old.split(".")[0] != new.split(".")[0]:
            raise MigratorError(
                f"rename={given}: {pair} renames a column across tables; a column keeps "
                f"its table (rename the table on its own, e.g. rename={old.split('.')[0]}:"
                f"{new.split('.')[0]})"
            )
        pairs.append((old, new))
    return pairs


def requested(connection: Connection, given: str, found: list[Rename]) -> list[Rename]:
    """The candidates rename= names, each checked against the database and
    the candidates; the first bad pair is refused with one line."""
    chosen = []
    database = inspect(connection)
    for old, new in parse(given):
        table, _, column = old.partition(".")
        if column:
            exists = database.has_table(table) and column in {
                c["name"] for c in database.get_columns(table)
            }
            taken = exists and new.split(".")[1] in {c["name"] for c in database.get_columns(table)}
        else:
            exists, taken = database.has_table(table), database.has_table(new)
        if not exists:
            raise MigratorError(f"rename={given}: {old} does not exist in the database")
        if taken:
            raise MigratorError(f"rename={given}: {new} already exists in the database")
        match = [r for r in found if r.schema is None and r.given == f"{old}:{new}"]
        if not match:
            listed = ", ".join(r.given for r in found) or "none"
            raise MigratorError(
                f"rename={given}: {old}:{new} is not a rename candidate in this revision "
                f"(a {'column' if column else 'table'} gone and one of the same "
                f"{'type' if column else 'columns'} added in the models; candidates: {listed})"
            )
        if any(match[0].clashes(taken) for taken in chosen):
            raise MigratorError(f"rename={given}: {old}:{new} clashes with another pair")
        chosen.append(match[0])
    return chosen


def asked(found: list[Rename]) -> list[Rename]:
    chosen: list[Rename] = []
    for rename in found:
        if any(rename.clashes(taken) for taken in chosen):
            continue
        try:
            answer = input(rename.question())
        except EOFError:
            answer = ""
        if answer.strip().lower() in ("y", "yes"):
            chosen.append(rename)
    return chosen


def decide(context: MigrationContext, found: list[Rename]) -> list[Rename]:
    """Which candidates are renames: rename= when given, else the user's
    answers when `make revision` runs in a terminal, else none (with a warning
    per candidate when a revision is being written)."""
    given = environment.get_x_argument(as_dictionary=True).get("rename")
    if given:
        return requested(context.connection, given, found)
    # Only `revision --autogenerate` writes a file; `make check` describes them itself.
    if not found or not getattr(context.config.cmd_opts, "autogenerate", False):
        return []
    if sys.stdin.isatty() and sys.stdout.isatty():
        return asked(found)
    for rename in found:
        print(
            f"warning: {rename} looks like a rename, written as drop + add (the values "
            f"are lost); if it is one, give rename={rename.given}",
            file=sys.stderr,
        )
    return []


def prepare(context: MigrationContext, script) -> None:
    """process_revision_directives' part for renames (migrator/hooks.py)."""
    chosen = decide(context, candidates(script.upgrade_ops))
    if chosen:
        made, rest = renamed(context, chosen)
        script.upgrade_ops.ops[:] = [up for up, _ in made] + rest.upgrade_ops.ops
        script.downgrade_ops.ops[:] = rest.downgrade_ops.ops + [down for _, down in reversed(made)]


def renamed(context: MigrationContext, chosen: list[Rename]) -> tuple[list[tuple], object]:
    """``chosen`` as (upgrade, downgrade) operations, and autogenerate's
    comparison made again after them for what else differs: the renames are
    made in a savepoint, rolled back after."""
    connection = context.connection
    wanted = model_names(context.opts["target_metadata"])
    made: list[tuple] = []
    savepoint = connection.begin_nested()
    try:
        for rename in chosen:
            for forth, back in steps(connection, rename, wanted):
                made.append((forth, back))
                connection.exec_driver_sql(sql_of(forth))
        with quietly():
            rest = produce_migrations(context, context.opts["target_metadata"])
    finally:
        savepoint.rollback()
    return made, rest


def sql_of(op: MigrateOperation) -> str:
    if isinstance(op, ExecuteSQLOp):
        return op.sqltext
    if isinstance(op, RenameTableOp):
        return (
            f"ALTER TABLE {db.quoted(op.schema, op.table_name)} "
            f"RENAME TO {db.quoted(op.new_table_name)}"
        )
    return (
        f"ALTER TABLE {db.quoted(op.schema, op.table_name)} RENAME COLUMN "
        f"{db.quoted(op.column_name)} TO {db.quoted(op.modify_name)}"
    )


# What carries a table's name or a column's: its constraints and those
# referencing it, its indexes that back no constraint, its columns' sequences.
_NAMED = text("""
SELECT 'constraint', c.conname, t.relname
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
WHERE c.conrelid = to_regclass(:table) OR c.confrelid = to_regclass(:table)
UNION ALL
SELECT 'index', i.relname, NULL
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = to_regclass(:table) AND NOT EXISTS (
    SELECT FROM pg_constraint c
    WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 'sequence', s.relname, NULL
FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
WHERE d.classid = 'pg_class'::regclass AND d.refobjid = to_regclass(:table)
  AND d.deptype IN ('a', 'i')
ORDER BY 1, 2
""")


def model_names(metadata: MetaData) -> set[str]:
    """The names the models give their indexes and constraints (the naming
    convention's, or their own), as PostgreSQL would be given them."""
    found = set()
    for table in metadata.tables.values():
        for item in [*table.indexes, *table.constraints]:
            try:
                name = db.PREPARER.format_constraint(item)
            except Exception:  # a convention token it cannot fill: no name to follow
                continue
            if name is not None:
                found.add(name)
    return found


def carried(name: str, old: str, new: str) -> list[str]:
    """``name`` with ``old`` replaced by ``new``: everywhere, or in one place."""
    spots = [m.start() for m in re.finditer(re.escape(old), name)]
    return [name.replace(old, new)] + [
        name[:at] + new + name[at + len(old) :] for at in spots if len(spots) > 1
    ]


def sequence_name(rename: Rename, name: str) -> str | None:
    """A sequence's new name, when it has PostgreSQL's own name for a serial or
    identity column's (<table>_<column>_seq) and the rename changes it."""
    if rename.column:
        old = f"{rename.table}_{rename.old}_seq"
        return f"{rename.table}_{rename.new}_seq" if name == old else None
    if name.startswith(f"{rename.old}_") and name.endswith("_seq"):
        return rename.new + name.removeprefix(rename.old)
    return None


def steps(connection: Connection, rename: Rename, wanted: set[str]) -> list[tuple]:
    """(upgrade, downgrade) operations: the rename, then each name that follows
    the naming convention and carries the old name renamed to the name the
    models give it (read before the rename is made)."""
    schema = rename.schema
    named = connection.execute(_NAMED, {"table": db.quoted(schema, rename.table)}).all()
    if rename.column:
        table = rename.table
        done = [
            (
                AlterColumnOp(rename.table, rename.old, modify_name=rename.new, schema=schema),
                AlterColumnOp(rename.table, rename.new, modify_name=rename.old, schema=schema),
            )
        ]
    else:
        table = rename.new
        done = [
            (
                RenameTableOp(rename.old, rename.new, schema=schema),
                RenameTableOp(rename.new, rename.old, schema=schema),
            )
        ]
    for kind, name, on in named:
        if kind == "sequence":
            new_name = sequence_name(rename, name)
        else:
            new_name = next(
                (n for n in carried(name, rename.old, rename.new) if db.quoted(n) in wanted),
                None,
            )
        if new_name is not None and new_name != name:
            # A constraint of the renamed table, or of one referencing it.
            where = table if on in (None, rename.table) else on
            done.append(alter(kind, schema, where, name, new_name))
    return done


def alter(kind: str, schema, table: str, old: str, new: str):
    """Renaming an index, a constraint or a sequence, and back."""

    def sql(a: str, b: str) -> ExecuteSQLOp:
        if kind == "constraint":
            return ExecuteSQLOp(
                f"ALTER TABLE {db.quoted(schema, table)} RENAME CONSTRAINT "
                f"{db.quoted(a)} TO {db.quoted(b)}"
            )
        what = "INDEX" if kind == "index" else "SEQUENCE"
        return ExecuteSQLOp(f"ALTER {what} {db.quoted(schema, a)} RENAME TO {db.quoted(b)}")

    return sql(old, new), sql(new, old)


@renderers.dispatch_for(RenameTableOp)
def render_rename_table(autogen_context, op: RenameTableOp) -> str:
    """Autogenerate has no renderer for rename_table (it never writes one)."""
    prefix = autogen_context.opts.get("alembic_module_prefix", "op.")
    schema = f", schema={op.schema!r}" if op.schema else ""
    return f"{prefix}rename_table({op.table_name!r}, {op.new_table_name!r}{schema})"


def pending(context: MigrationContext, upgrade_ops) -> tuple[list[str], object]:
    """For `make check`: one line per candidate left as drop + add, and the
    differences that remain were they all renamed."""
    chosen: list[Rename] = []
    for rename in candidates(upgrade_ops):
        if not any(rename.clashes(taken) for taken in chosen):
            chosen.append(rename)
    if not chosen:
        return [], upgrade_ops
    lines = [
        f"~ {rename} looks like a rename (make revision asks, or give rename={rename.given})"
        for rename in chosen
    ]
    return lines, renamed(context, chosen)[1].upgrade_ops


def looks_like_renames(upgrade_ops: list, downgrade_ops: list) -> list[Rename]:
    """A written revision's columns dropped while one of the same type is added
    to the same table. The dropped column's type is the one the downgrade adds
    it back with (autogenerate writes it so); without it, no pair is told."""
    back = {
        (op.schema, op.table_name, op.column.name): ddl(op.column.type)
        for op in flat(downgrade_ops)
        if isinstance(op, AddColumnOp)
    }
    return column_renames(
        flat(upgrade_ops), lambda gone: back.get((gone.schema, gone.table_name, gone.column_name))
    )


def column_renames(changes: list, type_of) -> list[Rename]:
    """Each column ``changes`` drop, paired with each column of its type
    (``type_of(drop)``, None when unknown) that they add to its table."""
    added = [op for op in changes if isinstance(op, AddColumnOp)]
    found = []
    for gone in changes:
        if not isinstance(gone, DropColumnOp):
            continue
        kind = type_of(gone)
        for new in added:
            same_table = (new.schema, new.table_name) == (gone.schema, gone.table_name)
            if same_table and kind is not None and ddl(new.column.type) == kind:
                found.append(
                    Rename(
                        gone.table_name,
                        gone.column_name,
                        new.column.name,
                        kind,
                        column=True,
                        schema=gone.schema,
                    )
                )
    return found


def flat(ops: list) -> list:
    return [o for op in ops for o in (flat(op.ops) if hasattr(op, "ops") else [op])]


def recorded(function) -> list:
    """The operations a revision's upgrade() or downgrade() calls, recorded
    rather than run (none needs a database); [] when it needs one."""
    calls: list = []
    # Without Alembic's "Generating static SQL" lines in make lint's output.
    with quietly():
        offline = MigrationContext.configure(
            dialect_name="postgresql", opts={"as_sql": True, "output_buffer": io.StringIO()}
        )
    with Operations.context(offline) as operations:
        operations.invoke = calls.append
        try:
            function()
        # It reads the database (op.get_bind()): nothing to tell. Whatever else
        # it raises, make lint's own offline rendering of it reports.
        except Exception:
            return []
    return calls


def lint_notes(revision) -> list[str]:
    """`make lint`'s note on a revision (an Alembic Script) for each drop + add
    that looks like a rename."""
    module = revision.module
    pairs = looks_like_renames(recorded(module.upgrade), recorded(module.downgrade))
    return [
        f"{rename}: this looks like a rename written as drop + add: the column's values "
        f"are lost (write op.alter_column({rename.table!r}, {rename.old!r}, "
        f"new_column_name={rename.new!r}), or make revision ... rename={rename.given})"
        for rename in pairs
    ]
