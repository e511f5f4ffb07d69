"""The catalog reader (migrator/catalog.py) that the stairway, `make squash` and
`make review` compare schemas with: two databases it describes alike have the
same schema, so each change below, made on an empty database, must show as a
difference named after the object."""

import pytest
from sqlalchemy import text

from migrator.catalog import contents, describe, differences

TABLE = "CREATE TABLE thing (id serial PRIMARY KEY, name text)"
TOUCH = (
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN NEW.name := lower(NEW.name); RETURN NEW; END $$"
)
TRIGGER = "CREATE TRIGGER touch BEFORE INSERT ON thing FOR EACH ROW EXECUTE FUNCTION touch()"

# (what is there first, the change, the difference it makes)
CHANGES = {
    "a plpgsql function's body": (
        [TOUCH],
        TOUCH.replace("lower", "upper").replace("CREATE", "CREATE OR REPLACE"),
        "changed function touch()",
    ),
    "a SQL function's body": (
        ["CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'"],
        "CREATE OR REPLACE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 2'",
        "changed function one()",
    ),
    "a function's volatility": (
        ["CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'"],
        "ALTER FUNCTION one() IMMUTABLE",
        "changed function one()",
    ),
    "a trigger added": ([TABLE, TOUCH], TRIGGER, "left trigger thing.touch"),
    "a trigger disabled": (
        [TABLE, TOUCH, TRIGGER],
        "ALTER TABLE thing DISABLE TRIGGER touch",
        "changed trigger thing.touch",
    ),
    "row-level security on": (
        [TABLE],
        "ALTER TABLE thing ENABLE ROW LEVEL SECURITY",
        "changed table thing",
    ),
    "a policy added": (
        [TABLE],
        "CREATE POLICY mine ON thing USING (id > 0)",
        "left policy thing.mine",
    ),
    "a policy's condition": (
        [TABLE, "CREATE POLICY mine ON thing USING (id > 0)"],
        "ALTER POLICY mine ON thing USING (id > 1)",
        "changed policy thing.mine",
    ),
    "a schema of its own": ([], "CREATE SCHEMA audit", "left schema audit"),
    "a table in another schema": (
        ["CREATE SCHEMA audit"],
        "CREATE TABLE audit.entry (id int)",
        "left table audit.entry",
    ),
    "a column in another schema": (
        ["CREATE SCHEMA audit", "CREATE TABLE audit.entry (id int)"],
        "ALTER TABLE audit.entry ALTER COLUMN id SET NOT NULL",
        "changed column audit.entry.id",
    ),
    "a function in another schema": (
        ["CREATE SCHEMA audit"],
        "CREATE FUNCTION audit.one() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "left function audit.one()",
    ),
    "an extension": ([], "CREATE EXTENSION citext", "left extension citext"),
    "an extension moved": (
        ["CREATE SCHEMA audit", "CREATE EXTENSION citext"],
        "ALTER EXTENSION citext SET SCHEMA audit",
        "changed extension citext",
    ),
    "an extension's version": (
        ["CREATE EXTENSION citext VERSION '1.5'"],
        "ALTER EXTENSION citext UPDATE TO '1.6'",
        "changed extension citext",
    ),
    "a sequence's start": (
        ["CREATE SEQUENCE counter"],
        "ALTER SEQUENCE counter START WITH 100",
        "changed sequence counter",
    ),
    "a sequence's bounds": (
        ["CREATE SEQUENCE counter"],
        "ALTER SEQUENCE counter MAXVALUE 10 CYCLE",
        "changed sequence counter",
    ),
    "an unlogged table": ([TABLE], "ALTER TABLE thing SET UNLOGGED", "changed table thing"),
    "a table's storage parameters": (
        [TABLE],
        "ALTER TABLE thing SET (fillfactor = 70)",
        "changed table thing",
    ),
    "a view's query": (
        [TABLE, "CREATE VIEW names AS SELECT name FROM thing"],
        "CREATE OR REPLACE VIEW names AS SELECT name FROM thing WHERE id > 0",
        "changed view names",
    ),
    "an enum value": (
        ["CREATE TYPE mood AS ENUM ('sad', 'ok')"],
        "ALTER TYPE mood ADD VALUE 'happy'",
        "changed enum type mood",
    ),
    "a constraint's comment": (
        [TABLE],
        "COMMENT ON CONSTRAINT thing_pkey ON thing IS 'one each'",
        "changed constraint thing.thing_pkey",
    ),
    "a trigger's comment": (
        [TABLE, TOUCH, TRIGGER],
        "COMMENT ON TRIGGER touch ON thing IS 'lower case'",
        "changed trigger thing.touch",
    ),
    "an enum type's comment": (
        ["CREATE TYPE mood AS ENUM ('sad', 'ok')"],
        "COMMENT ON TYPE mood IS 'how it feels'",
        "changed enum type mood",
    ),
    "a sequence's comment": (
        ["CREATE SEQUENCE counter"],
        "COMMENT ON SEQUENCE counter IS 'invoice numbers'",
        "changed sequence counter",
    ),
    "a view's options": (
        [TABLE, "CREATE VIEW names AS SELECT name FROM thing WHERE id > 0"],
        "ALTER VIEW names SET (security_barrier = true)",
        "changed view names",
    ),
    "a table's parent": (
        [TABLE, "CREATE TABLE special (LIKE thing)"],
        "ALTER TABLE special INHERIT thing",
        "changed table special",
    ),
    "a partition's bounds": (
        [
            "CREATE TABLE reading (at date NOT NULL) PARTITION BY RANGE (at)",
            "CREATE TABLE reading_2026 (at date NOT NULL)",
        ],
        "ALTER TABLE reading ATTACH PARTITION reading_2026"
        " FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "changed table reading_2026",
    ),
    "a table's grant": (
        [TABLE],
        "GRANT SELECT ON thing TO PUBLIC",
        "changed table thing",
    ),
    "a function's grant taken back": (
        [TOUCH],
        "REVOKE EXECUTE ON FUNCTION touch() FROM PUBLIC",
        "changed function touch()",
    ),
    "a schema's grant": (
        ["CREATE SCHEMA audit"],
        "GRANT USAGE ON SCHEMA audit TO PUBLIC",
        "changed schema audit",
    ),
    "a comment": (
        [TABLE],
        "COMMENT ON COLUMN thing.name IS 'what it is called'",
        "changed column thing.name",
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_catalog_reader_names_each_change_to_the_schema(connection, change):
    first, statement, named = CHANGES[change]
    for sql in first:
        connection.execute(text(sql))
    before = describe(connection)

    connection.execute(text(statement))

    found = differences(before, describe(connection))
    assert any(line.startswith(named) for line in found), found


def test_privileges_put_back_to_the_defaults_are_no_difference(connection):
    connection.execute(text(TABLE))
    before = describe(connection)
    connection.execute(text("GRANT SELECT ON thing TO PUBLIC"))
    connection.execute(text("REVOKE SELECT ON thing FROM PUBLIC"))
    assert differences(before, describe(connection)) == []


def test_what_an_extension_brings_is_the_extension_alone(connection):
    connection.execute(text("CREATE EXTENSION citext"))
    # Its functions, types and operators come and go with CREATE EXTENSION.
    assert [name for name in describe(connection)] == ["extension citext"]


def test_the_contents_reader_names_changed_rows_and_sequence_values(connection):
    connection.execute(text(TABLE))
    connection.execute(text("INSERT INTO thing (name) VALUES ('a'), ('b')"))
    before = contents(connection)
    assert before["rows of table thing"].startswith("2 row(s), md5 ")
    assert before["value of sequence thing_id_seq"] == "2"

    connection.execute(text("UPDATE thing SET name = 'c' WHERE name = 'b'"))
    assert differences(before, contents(connection)) == [
        f"changed rows of table thing ({before['rows of table thing']} -> "
        f"{contents(connection)['rows of table thing']})"
    ]
    connection.execute(text("SELECT nextval('thing_id_seq')"))
    assert "changed value of sequence thing_id_seq (2 -> 3)" in differences(
        before, contents(connection)
    )


def test_the_contents_reader_names_changed_rows_of_a_materialized_view(connection):
    connection.execute(text(TABLE))
    connection.execute(
        text("CREATE MATERIALIZED VIEW names AS SELECT name FROM thing WITH NO DATA")
    )
    assert contents(connection)["rows of materialized view names"] == "not populated"
    connection.execute(text("REFRESH MATERIALIZED VIEW names"))
    empty = contents(connection)
    connection.execute(text("INSERT INTO thing (name) VALUES ('a')"))
    connection.execute(text("REFRESH MATERIALIZED VIEW names"))
    assert [line.split(" (")[0] for line in differences(empty, contents(connection))] == [
        "changed rows of materialized view names",
        "changed rows of table thing",
        "changed value of sequence thing_id_seq",
    ]


def test_the_contents_reader_leaves_out_the_tables_it_is_told_to(connection):
    connection.execute(text("CREATE TABLE alembic_version (version_num varchar(32))"))
    connection.execute(text("INSERT INTO alembic_version VALUES ('x')"))
    assert contents(connection, leave_out={"alembic_version"}) == {}
