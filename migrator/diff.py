"""Autogenerate's differences in words, one line each, as `make check` prints
them: + adds, - drops, ~ changes (the examples are in migrator/check.py)."""

from collections.abc import Iterator

from alembic.operations.ops import (
    AlterColumnOp,
    CreateCheckConstraintOp,
    DropConstraintOp,
    ExecuteSQLOp,
    OpContainer,
    RenameTableOp,
)
from alembic_postgresql_enum.operations import AddEnumValuesOp, SyncEnumValuesOp
from sqlalchemy import DefaultClause
from sqlalchemy.dialects import postgresql

from migrator import defaults


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
