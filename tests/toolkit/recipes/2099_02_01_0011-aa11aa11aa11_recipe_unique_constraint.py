"""recipe: a unique constraint on an index built concurrently

disallowed-unique-constraint: the constraint takes over the index, so its own
lock is brief.
"""

from alembic import op

revision = "aa11aa11aa11"
down_revision = "aa10aa10aa10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "uq_family_address_id",
            "family",
            ["address_id"],
            unique=True,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
    op.execute(
        "ALTER TABLE family ADD CONSTRAINT uq_family_address_id "
        "UNIQUE USING INDEX uq_family_address_id"
    )


def downgrade() -> None:
    op.drop_constraint("uq_family_address_id", "family", type_="unique")
