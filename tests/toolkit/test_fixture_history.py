"""The fixture project's history, exactly: the toolkit's tests build on the
schema it gives (your own history is proved generically in tests/migrations/)."""

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from migrator.settings import PROJECT_ROOT
from tests.toolkit.conftest import FIXTURE


def fixture_script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("version_locations", str(FIXTURE / "alembic" / "versions"))
    return ScriptDirectory.from_config(config)


SCRIPT = fixture_script()
# Oldest first.
REVISIONS = list(reversed(list(SCRIPT.walk_revisions())))

VARCHAR_100 = ("character varying", 100, "YES", None)


def serial(table: str) -> tuple:
    return ("integer", None, "NO", f"nextval('{table}_id_seq'::regclass)")


def test_the_story_is_two_revisions_in_order():
    assert [r.doc for r in REVISIONS] == [
        "create address and family",
        "add temporary_addr to address",
    ]


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
