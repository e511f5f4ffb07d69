"""End to end (issue 8): a team grows the schema through make revision, make
upgrade and make test, and `make test` stays green; it turns red only for a
real fault, naming the revision or the object. (The red cases run
`make test-migrations`, the part of `make test` that reads your history: the
toolkit's half runs on its own fixture and is proved green above.)"""

import textwrap

import pytest

from tests.e2e.conftest import output
from tests.helpers import add_revision, edit
from tests.toolkit.conftest import HEAD

NOTE_MODULE = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Note(Base):
    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str | None] = mapped_column(String(200))
"""
PHONE = "    phone: Mapped[str | None] = mapped_column(String(20))\n"
ADDRESS_END = (
    "    temporary_addr: Mapped[str | None] = mapped_column(String(100))\n\n\nclass Family"
)
WITH_PHONE = ADDRESS_END.replace("\n\n\n", f"\n{PHONE}\n\n")


def ok(result) -> None:
    assert result.returncode == 0, output(result)[-3000:]


def test_the_readme_phone_example_stays_green(project_copy):
    copy, make = project_copy
    ok(make("up"))
    edit(copy / "models" / "address.py", ADDRESS_END, WITH_PHONE)

    ok(make("revision", "m=add phone to address"))
    ok(make("upgrade"))
    ok(make("test"))


def test_a_new_model_a_data_migration_and_fifteen_more_revisions_stay_green(project_copy):
    copy, make = project_copy
    ok(make("up"))
    note = copy / "models" / "note.py"
    note.write_text(NOTE_MODULE)
    ok(make("revision", "m=add note"))
    ok(make("upgrade"))

    versions = copy / "alembic" / "versions"
    before = set(versions.glob("*.py"))
    ok(make("revision", "m=backfill notes", "empty=1"))
    (blank,) = set(versions.glob("*.py")) - before
    edit(
        blank,
        "def upgrade() -> None:\n    pass",
        "def upgrade() -> None:\n    op.execute(\"INSERT INTO note (body) VALUES ('first')\")",
    )
    edit(
        blank,
        "def downgrade() -> None:\n    pass",
        "def downgrade() -> None:\n    op.execute(\"DELETE FROM note WHERE body = 'first'\")",
    )
    ok(make("upgrade"))

    for number in range(1, 16):
        note.write_text(
            note.read_text() + f"    extra_{number}: Mapped[int | None] = mapped_column()\n"
        )
        ok(make("revision", f"m=add extra_{number} to note"))
        ok(make("upgrade"))

    assert len(list(versions.glob("*.py"))) == 2 + 2 + 15
    ok(make("test"))


def test_two_branches_joined_by_make_merge_stay_green(project_copy):
    copy, make = project_copy
    for revision, table in (("b1a1c2000001", "left_branch"), ("b1a1c2000002", "right_branch")):
        add_revision(
            copy,
            revision,
            HEAD,
            f'op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True, '
            f'nullable=False), sa.PrimaryKeyConstraint("id", name="pk_{table}"))',
            f'op.drop_table("{table}")',
        )
        (copy / "models" / f"{table}.py").write_text(
            textwrap.dedent(f"""
            from sqlalchemy.orm import Mapped, mapped_column

            from models.base import Base


            class {table.title().replace("_", "")}(Base):
                __tablename__ = "{table}"

                id: Mapped[int] = mapped_column(primary_key=True)
            """)
        )

    ok(make("merge", "m=join the branches"))
    ok(make("upgrade"))
    ok(make("test"))


FAULTS = {
    "forgetful downgrade": (
        "op.add_column('address', sa.Column('flag', sa.Boolean()))",
        "pass",
        "downgrade of bad000000001 (test revision bad000000001) left column address.flag",
    ),
    "enum type left behind": (
        "op.execute(\"CREATE TYPE mood AS ENUM ('calm', 'busy')\")\n"
        "op.execute('ALTER TABLE address ADD COLUMN mood mood')",
        "op.drop_column('address', 'mood')",
        "downgrade of bad000000001 (test revision bad000000001) left enum type mood",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_downgrade_turns_make_test_red_naming_the_revision(project_copy, fault):
    copy, make = project_copy
    upgrade, downgrade, named = FAULTS[fault]
    add_revision(copy, "bad000000001", HEAD, upgrade, downgrade)

    result = make("test-migrations")

    assert result.returncode != 0
    assert named in output(result)


def test_a_model_change_without_a_revision_turns_make_test_red_naming_the_column(project_copy):
    copy, make = project_copy
    edit(copy / "models" / "address.py", ADDRESS_END, WITH_PHONE)

    result = make("test-migrations")

    assert result.returncode != 0
    assert "+ add column address.phone VARCHAR(20)" in output(result)


def test_two_heads_turn_make_test_red_naming_both(project_copy):
    copy, make = project_copy
    add_revision(copy, "bead00000001", HEAD, "pass")
    add_revision(copy, "bead00000002", HEAD, "pass")

    result = make("test-migrations")

    assert result.returncode != 0
    assert "bead00000001" in output(result) and "bead00000002" in output(result)
