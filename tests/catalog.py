"""The schema as PostgreSQL's catalogs describe it: what the tests compare,
rather than what Alembic believes it did."""

from sqlalchemy import Connection, text

Schema = dict[str, object]

COLUMNS = """
SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
FROM information_schema.columns WHERE table_schema = 'public'
ORDER BY table_name, ordinal_position
"""
CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2
"""
INDEXES = """
SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2
"""
SEQUENCES = """
SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public' ORDER BY 1
"""


def read_schema(connection: Connection) -> Schema:
    columns: dict[str, list[tuple]] = {}
    for table, *column in connection.execute(text(COLUMNS)):
        columns.setdefault(table, []).append(tuple(column))
    return {
        "columns": columns,
        "constraints": [tuple(row) for row in connection.execute(text(CONSTRAINTS))],
        "indexes": [tuple(row) for row in connection.execute(text(INDEXES))],
        "sequences": [row[0] for row in connection.execute(text(SEQUENCES))],
    }


# Every object of the public schema, keyed by what a person would call it, with
# what defines it: two databases with equal descriptions have the same schema.
OBJECTS = """
SELECT 'table ' || c.relname, coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE a.attidentity WHEN 'a' THEN ' IDENTITY ALWAYS' WHEN 'd' THEN ' IDENTITY' ELSE '' END
       || coalesce(' COLLATE ' || nullif(co.collname, 'default'), '')
       || coalesce(' COMMENT ' || col_description(c.oid, a.attnum), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
  AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
UNION ALL
SELECT 'index ' || tablename || '.' || indexname, indexdef
FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'sequence ' || sequencename, data_type::text || ' ' || increment_by
FROM pg_sequences WHERE schemaname = 'public'
UNION ALL
SELECT 'enum type ' || t.typname,
       string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
UNION ALL
SELECT 'type ' || t.typname, t.typtype::text
FROM pg_type t
WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('d', 'r', 'm')
UNION ALL
SELECT 'view ' || viewname, definition FROM pg_views WHERE schemaname = 'public'
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text, pg_get_function_result(p.oid)
FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'extension ' || extname, '' FROM pg_extension WHERE extname <> 'plpgsql'
"""


def describe(connection: Connection, leave_out: set[str] = frozenset()) -> dict[str, str]:
    """{object: definition} for the public schema, leaving out the tables in
    ``leave_out`` (the migrations' bookkeeping) with their columns, constraints
    and indexes."""
    return {
        name: definition
        for name, definition in connection.execute(text(OBJECTS))
        if name.rsplit(" ", 1)[-1].split(".")[0] not in leave_out
    }


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What ``after`` has that ``before`` had not: 'left X', 'lost X', 'changed X'."""
    lines = [f"left {name}" for name in sorted(after.keys() - before.keys())]
    lines += [f"lost {name}" for name in sorted(before.keys() - after.keys())]
    lines += [
        f"changed {name} ({before[name]} -> {after[name]})"
        for name in sorted(before.keys() & after.keys())
        if before[name] != after[name]
    ]
    return lines
