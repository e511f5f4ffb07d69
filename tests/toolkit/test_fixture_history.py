"""The fixture project's history, exactly: the toolkit's tests build on the
schema it gives (your own history is proved generically in tests/migrations/)."""

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

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


def serial(table: str) -> str:
    return f"integer NOT NULL DEFAULT nextval('{table}_id_seq'::regclass)"


def column_order(connection, table: str) -> list[str]:
    """The catalog reader leaves column order out (see migrator/catalog.py)."""
    return list(
        connection.scalars(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = :table ORDER BY ordinal_position"
            ),
            {"table": table},
        )
    )


def test_the_story_is_two_revisions_in_order():
    assert [r.doc for r in REVISIONS] == [
        "create address and family",
        "add temporary_addr to address",
    ]


def test_upgrade_head_builds_the_expected_schema(alembic_config, schema, connection):
    command.upgrade(alembic_config, "head")

    assert schema() == {
        "table address": "",
        "column address.id": serial("address"),
        "column address.permanent_addr": "character varying(100)",
        "column address.temporary_addr": "character varying(100)",
        "constraint address.pk_address": "PRIMARY KEY (id)",
        "index address.pk_address": "CREATE UNIQUE INDEX pk_address ON public.address "
        "USING btree (id)",
        "sequence address_id_seq": "integer 1 FROM 1 IN 1..2147483647 CACHE 1 OWNED BY address.id",
        "table alembic_checksums": "",
        "column alembic_checksums.revision": "character varying(32) NOT NULL",
        "column alembic_checksums.checksum": "character(64) NOT NULL",
        "column alembic_checksums.applied_at": "timestamp with time zone NOT NULL DEFAULT now()",
        "constraint alembic_checksums.alembic_checksums_pkey": "PRIMARY KEY (revision)",
        "index alembic_checksums.alembic_checksums_pkey": "CREATE UNIQUE INDEX "
        "alembic_checksums_pkey ON public.alembic_checksums USING btree (revision)",
        "table alembic_version": "",
        "column alembic_version.version_num": "character varying(32) NOT NULL",
        "constraint alembic_version.alembic_version_pkc": "PRIMARY KEY (version_num)",
        "index alembic_version.alembic_version_pkc": "CREATE UNIQUE INDEX alembic_version_pkc "
        "ON public.alembic_version USING btree (version_num)",
        "table family": "",
        "column family.id": serial("family"),
        "column family.permanent_addr": "character varying(100)",
        "column family.temporary_addr": "character varying(100)",
        "constraint family.pk_family": "PRIMARY KEY (id)",
        "index family.pk_family": "CREATE UNIQUE INDEX pk_family ON public.family USING btree (id)",
        "sequence family_id_seq": "integer 1 FROM 1 IN 1..2147483647 CACHE 1 OWNED BY family.id",
    }
    for table in ("address", "family"):
        assert column_order(connection, table) == ["id", "permanent_addr", "temporary_addr"]
    assert column_order(connection, "alembic_checksums") == ["revision", "checksum", "applied_at"]


def test_revision_one_creates_address_without_temporary_addr(alembic_config, schema, connection):
    command.upgrade(alembic_config, REVISIONS[0].revision)

    assert "column address.temporary_addr" not in schema()
    assert column_order(connection, "address") == ["id", "permanent_addr"]
