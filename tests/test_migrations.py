"""The migrations themselves, on a real PostgreSQL: the schema they build, that
every step reverses cleanly, that data survives (models vs migrations: test_check.py)."""

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from migrator.settings import PROJECT_ROOT

SCRIPT = ScriptDirectory.from_config(Config(PROJECT_ROOT / "alembic.ini"))
# Oldest first.
REVISIONS = list(reversed(list(SCRIPT.walk_revisions())))

VARCHAR_100 = ("character varying", 100, "YES", None)


def serial(table: str) -> tuple:
    return ("integer", None, "NO", f"nextval('{table}_id_seq'::regclass)")


def without_version_table(schema: dict) -> dict:
    """Alembic keeps its own table at base; everything else must go."""
    columns = {t: c for t, c in schema["columns"].items() if t != "alembic_version"}
    constraints = [c for c in schema["constraints"] if c[0] != "alembic_version"]
    indexes = [i for i in schema["indexes"] if i[0] != "alembic_version"]
    return {**schema, "columns": columns, "constraints": constraints, "indexes": indexes}


def test_the_story_is_two_revisions_in_order():
    assert [r.doc for r in REVISIONS] == [
        "create address and family",
        "add temporary_addr to address",
    ]


def test_there_is_exactly_one_head():
    assert len(SCRIPT.get_heads()) == 1


def test_upgrade_head_builds_the_expected_schema(alembic_config, schema):
    command.upgrade(alembic_config, "head")

    built = schema()
    assert built["columns"] == {
        "address": [
            ("id", *serial("address")),
            ("permanent_addr", *VARCHAR_100),
            ("temporary_addr", *VARCHAR_100),
        ],
        "alembic_checksums": [
            ("revision", "character varying", 32, "NO", None),
            ("checksum", "character", 64, "NO", None),
            ("applied_at", "timestamp with time zone", None, "NO", "now()"),
        ],
        "alembic_version": [("version_num", "character varying", 32, "NO", None)],
        "family": [
            ("id", *serial("family")),
            ("permanent_addr", *VARCHAR_100),
            ("temporary_addr", *VARCHAR_100),
        ],
    }
    assert built["constraints"] == [
        ("address", "pk_address", "PRIMARY KEY (id)"),
        ("alembic_checksums", "alembic_checksums_pkey", "PRIMARY KEY (revision)"),
        ("alembic_version", "alembic_version_pkc", "PRIMARY KEY (version_num)"),
        ("family", "pk_family", "PRIMARY KEY (id)"),
    ]
    # No index but the primary keys' own.
    assert [(table, name) for table, name, _ in built["indexes"]] == [
        ("address", "pk_address"),
        ("alembic_checksums", "alembic_checksums_pkey"),
        ("alembic_version", "alembic_version_pkc"),
        ("family", "pk_family"),
    ]
    assert built["sequences"] == ["address_id_seq", "family_id_seq"]


def test_revision_one_creates_address_without_temporary_addr(alembic_config, schema):
    command.upgrade(alembic_config, REVISIONS[0].revision)

    assert [c[0] for c in schema()["columns"]["address"]] == ["id", "permanent_addr"]


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda r: r.revision)
def test_stairway_each_revision_goes_up_down_and_up_again(alembic_config, schema, revision):
    if revision.down_revision is not None:
        command.upgrade(alembic_config, revision.down_revision)
    before = without_version_table(schema())

    command.upgrade(alembic_config, revision.revision)
    after_upgrade = schema()
    command.downgrade(alembic_config, "-1")
    assert without_version_table(schema()) == before
    command.upgrade(alembic_config, revision.revision)
    assert schema() == after_upgrade


def test_rows_written_at_revision_one_survive_the_upgrade_to_head(alembic_config, connection):
    command.upgrade(alembic_config, REVISIONS[0].revision)
    connection.execute(text("INSERT INTO address (id, permanent_addr) VALUES (1, '1 Elm St')"))
    connection.execute(
        text("INSERT INTO family (id, permanent_addr, temporary_addr) VALUES (7, 'home', 'away')")
    )
    connection.commit()

    command.upgrade(alembic_config, "head")

    assert connection.execute(text("SELECT * FROM address")).all() == [(1, "1 Elm St", None)]
    assert connection.execute(text("SELECT * FROM family")).all() == [(7, "home", "away")]
