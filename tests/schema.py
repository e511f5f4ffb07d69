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
