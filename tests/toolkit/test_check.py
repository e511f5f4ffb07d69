"""`make check` (python -m migrator check): the models against the migrations,
shown as one readable line per difference, failing when they differ."""

import subprocess
import sys

import pytest
from sqlalchemy import DefaultClause, MetaData, Table

from migrator import diff
from tests import helpers
from tests.helpers import assert_one_line_error, edit, run_migrator

PHONE_MODULE = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Phone(Base):
    __tablename__ = "phone"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
"""


def test_the_models_match_the_migrations(migrated_url):
    result = run_migrator("check", url=migrated_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "the models match the migrations\n"


def test_alembics_own_check_passes_when_nothing_differs(migrated_url):
    """From a host virtualenv or an IDE: `alembic check` runs env.py's hooks too,
    and the one refusing an empty revision must not fail it."""
    # A process of its own, not a forked one: nothing of the migrator's loaded
    # before Alembic's command line loads what it needs.
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "check"],
        cwd=helpers.DEFAULT_CWD,
        env=helpers.migrator_environment(migrated_url),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected." in result.stdout


def test_each_difference_is_one_readable_line_and_check_fails(project, migrated_url):
    address = project / "models" / "address.py"
    edit(address, "class Family(Base):", "class Family:")  # no longer a model
    edit(
        address,
        "    temporary_addr: Mapped[str | None] = mapped_column(String(100))\n\n\n",
        "    temporary_addr: Mapped[str | None] = mapped_column(String(100))\n"
        "    phone: Mapped[str] = mapped_column(String(20))\n\n\n",
    )
    widened = "permanent_addr: Mapped[str | None] = mapped_column(String(200))\n    temporary"
    edit(address, widened.replace("200", "100"), widened)
    # A new module: picked up with no other edit.
    (project / "models" / "phone.py").write_text(PHONE_MODULE)

    result = run_migrator("check", url=migrated_url, cwd=project)

    assert result.stdout.splitlines() == [
        "+ add table phone (id INTEGER NOT NULL, address_id INTEGER NOT NULL, "
        "number VARCHAR(20) NOT NULL)",
        "+ add index ix_phone_address_id on phone (address_id)",
        "- drop table family (id INTEGER NOT NULL, permanent_addr VARCHAR(100), "
        "temporary_addr VARCHAR(100))",
        "+ add column address.phone VARCHAR(20) NOT NULL",
        "~ change type of address.permanent_addr from VARCHAR(100) to VARCHAR(200)",
    ]
    assert "Detected" not in result.stderr, "autogenerate's log lines drown the differences"
    assert_one_line_error(result, "the models and the migrations differ (5 change(s) above)")


def test_constraints_nullability_and_comments_read_as_lines_too(project, migrated_url):
    address = project / "models" / "address.py"
    edit(address, "from sqlalchemy import String", "from sqlalchemy import ForeignKey, String")
    edit(
        address,
        '    __tablename__ = "family"\n',
        '    __tablename__ = "family"\n    __table_args__ = {"comment": "who lives where"}\n',
    )
    family = address.read_text().split("class Family")[1]
    edit(
        address,
        family,
        family.replace(
            "permanent_addr: Mapped[str | None] = mapped_column(String(100))",
            "permanent_addr: Mapped[str] = mapped_column(String(100), unique=True)",
        ).replace(
            "temporary_addr: Mapped[str | None] = mapped_column(String(100))",
            'temporary_addr: Mapped[str | None] = mapped_column(String(100), comment="away")\n'
            '    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))',
        ),
    )

    result = run_migrator("check", url=migrated_url, cwd=project)

    assert result.stdout.splitlines() == [
        "+ add column family.address_id INTEGER",
        "~ make family.permanent_addr NOT NULL",
        "~ change comment of family.temporary_addr from none to 'away'",
        "+ add unique constraint uq_family_permanent_addr on family (permanent_addr)",
        "+ add foreign key fk_family_address_id_address on family (address_id) -> address (id)",
        "~ change comment of table family from none to 'who lives where'",
    ]
    assert_one_line_error(result, "the models and the migrations differ (6 change(s) above)")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            ("modify_default", None, "address", "kind", {}, None, DefaultClause("home")),
            "~ change default of address.kind from none to 'home'",
        ),
        (("remove_table_comment", Table("t", MetaData())), "~ change comment of table t to none"),
        (("execute", "SELECT 1"), "~ execute SELECT 1"),
    ],
)
def test_rarer_changes_are_one_line_as_well(change, line):
    assert diff.describe(change) == line


def test_a_database_behind_head_is_sent_to_upgrade_first(database_url):
    result = run_migrator("check", url=database_url)

    assert_one_line_error(
        result, "the database is at base, not at head 7e8f9a0b1c2d: `make upgrade` first"
    )
