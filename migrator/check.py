"""`python -m migrator check` (`make check`): the models and the migrations
agree, and no applied revision was edited since it ran.

The database must be at head; autogenerate then compares it with the models
through the pipeline `make revision` uses (env.py's options and its
process_revision_directives hooks), and each difference comes out as one line
of what the next revision would do:

    + add column address.phone VARCHAR(20)
    - drop table legacy (id INTEGER NOT NULL)
    ~ change type of address.permanent_addr from VARCHAR(100) to VARCHAR(200)
    ~ change values of enum order_status from ('pending', 'paid') to ('pending', 'paid', 'shipped')
    ~ book.title → book.name looks like a rename (make revision asks, or give rename=...)

What a rename would leave to do is found by renaming in a savepoint that is
rolled back (migrator/renames.py): nothing changes, but the renamed tables are
locked (ACCESS EXCLUSIVE, bounded by LOCK_TIMEOUT) for those milliseconds, as
during `make revision`.
"""

import logging
from collections.abc import Iterator

from alembic.autogenerate import RevisionContext
from alembic.config import Config
from alembic.operations.ops import (
    AlterColumnOp,
    CreateCheckConstraintOp,
    DropConstraintOp,
    ExecuteSQLOp,
    OpContainer,
    RenameTableOp,
)
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from alembic_postgresql_enum.operations import AddEnumValuesOp, SyncEnumValuesOp
from sqlalchemy import DefaultClause
from sqlalchemy.dialects import postgresql

from migrator import MigratorError, checksums, defaults, label, renames

# `alembic revision --autogenerate`'s own arguments, as Alembic's check gives them.
AUTOGENERATE = dict(
    message=None,
    autogenerate=True,
    sql=False,
    head="head",
    splice=False,
    branch_label=None,
    version_path=None,
    rev_id=None,
    depends_on=None,
)


def run(alembic_cfg: Config) -> None:
    script = ScriptDirectory.from_config(alembic_cfg)
    problems: list[str] = []

    def compare(heads, context) -> list:
        problems.extend(checksums.edited(context.connection, script))
        if set(heads) != set(script.get_heads()):
            problems.append(
                f"the database is at {label(heads)}, not at head "
                f"{label(script.get_heads())}: `make upgrade` first"
            )
            return []
        # Autogenerate's INFO lines ("Detected added table ...") would drown the diff.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # What `make revision` would write, hooks included (Alembic's own check
        # does the same): produce_migrations alone would skip them.
        revision = RevisionContext(alembic_cfg, script, AUTOGENERATE)
        revision.run_autogenerate(heads, context)
        upgrade_ops = revision.generated_revisions[-1].upgrade_ops
        # A candidate rename is one line, and what it explains is not repeated.
        lines, upgrade_ops = renames.pending(context, upgrade_ops)
        lines += [describe(change) for change in changes(upgrade_ops)]
        print("\n".join(lines or ["the models match the migrations"]))
        if lines:
            problems.append(
                f"the models and the migrations differ ({len(lines)} change(s) above): "
                'write a revision with make revision m="..."'
            )
        return []

    # Runs env.py (connection, lock, autogenerate options) with `compare` in
    # place of the migrations.
    with EnvironmentContext(alembic_cfg, script, fn=compare):
        script.run_env()
    if problems:
        raise MigratorError("; ".join(problems))


def recreated(container: OpContainer) -> set[str]:
    """CHECK constraints the hooks drop and add again around another change
    (an enum's values): autogenerate never compares CHECK constraints, so these
    are no difference of their own."""
    ops = [op for op in container.ops if not isinstance(op, OpContainer)]
    dropped = {op.constraint_name for op in ops if isinstance(op, DropConstraintOp)}
    return dropped & {op.constraint_name for op in ops if isinstance(op, CreateCheckConstraintOp)}


def changes(container: OpContainer) -> Iterator:
    """Autogenerate's differences, as compare_metadata() gives them, but for
    enum value changes (alembic-postgresql-enum's tuple for them leaves out the
    enum's name) and renames (which have none): those come as the operation itself."""
    around = recreated(container)
    for op in container.ops:
        if isinstance(op, AddEnumValuesOp | SyncEnumValuesOp | RenameTableOp | ExecuteSQLOp):
            yield op
        elif isinstance(op, AlterColumnOp) and op.modify_name is not None:
            yield op
        elif isinstance(op, DropConstraintOp | CreateCheckConstraintOp) and (
            op.constraint_name in around
        ):
            continue
        elif isinstance(op, OpContainer):
            yield from changes(op)
        else:
            diff = op.to_diff_tuple()
            # Alembic groups the changes to one column (type, nullable, ...) in a list.
            yield from diff if isinstance(diff, list) else [diff]


def ddl(type_) -> str:
    return str(type_.compile(dialect=postgresql.dialect()))


def named(schema: str | None, *names: str) -> str:
    return ".".join(n for n in (schema, *names) if n)


def enum(schema: str, name: str) -> str:
    # The enum library names the schema even when it is the default one, which
    # the lines about tables leave out.
    return named(None if schema == "public" else schema, name)


def column(col, name: str | None = None) -> str:
    return f"{name or col.name} {ddl(col.type)}{'' if col.nullable else ' NOT NULL'}"


def names(items) -> str:
    return ", ".join(getattr(item, "name", None) or str(item) for item in items)


def describe(change) -> str:
    """One line for one of autogenerate's differences: + adds, - drops, ~ changes."""
    if isinstance(change, AddEnumValuesOp | SyncEnumValuesOp):
        values = f"from {tuple(change.old_values)} to {tuple(change.new_values)}"
        return f"~ change values of enum {enum(change.schema, change.name)} {values}"
    if isinstance(change, RenameTableOp):
        old = named(change.schema, change.table_name)
        return f"~ rename table {old} to {change.new_table_name}"
    if isinstance(change, AlterColumnOp):
        old = named(change.schema, change.table_name, change.column_name)
        return f"~ rename column {old} to {change.modify_name}"
    if isinstance(change, ExecuteSQLOp):
        return f"~ run {change.sqltext}"
    kind = change[0]
    sign = {"add": "+ add", "remove": "- drop"}.get(kind.split("_")[0], "~ change")
    match change:
        case ("add_table" | "remove_table", table):
            return f"{sign} table {table.fullname} ({', '.join(map(column, table.columns))})"
        case ("add_column" | "remove_column", schema, table, col):
            return f"{sign} column {column(col, named(schema, table, col.name))}"
        case ("add_index" | "remove_index", index):
            unique = "unique " if index.unique else ""
            on = f"{index.table.fullname} ({names(index.expressions)})"
            return f"{sign} {unique}index {index.name} on {on}"
        case ("add_fk" | "remove_fk", fk):
            source = f"{fk.parent.fullname} ({names(fk.columns)})"
            target = f"{fk.referred_table.fullname} ({names(e.column for e in fk.elements)})"
            return f"{sign} foreign key {fk.name} on {source} -> {target}"
        case ("add_constraint" | "remove_constraint", constraint):
            what = type(constraint).__name__.removesuffix("Constraint").lower()
            on = f"{constraint.table.fullname} ({names(constraint.columns)})"
            return f"{sign} {what} constraint {constraint.name} on {on}"
        case ("modify_type", schema, table, col, _, old, new):
            return f"{sign} type of {named(schema, table, col)} from {ddl(old)} to {ddl(new)}"
        case ("modify_nullable", schema, table, col, _, _, nullable):
            return f"~ make {named(schema, table, col)} {'nullable' if nullable else 'NOT NULL'}"
        case ("modify_default" | "modify_comment", schema, table, col, _, old, new):
            what = kind.removeprefix("modify_")
            return f"{sign} {what} of {named(schema, table, col)} from {shown(old)} to {shown(new)}"
        case ("add_table_comment", table, old):
            new = shown(table.comment)
            return f"~ change comment of table {table.fullname} from {shown(old)} to {new}"
        case ("remove_table_comment", table):
            return f"~ change comment of table {table.fullname} to none"
        case ("create_enum" | "drop_enum", name, schema, values):
            sign = "+ add" if kind == "create_enum" else "- drop"
            return f"{sign} enum type {enum(schema, name)} {tuple(values)}"
    return f"~ {kind} {' '.join(map(str, change[1:]))}"


def shown(value) -> str:
    """A server default (reflected or from the model) or a comment, as SQL shows it."""
    if value is None:
        return "none"
    if isinstance(value, DefaultClause):
        return defaults.rendered(value)
    return repr(value) if isinstance(value, str) else str(value)
