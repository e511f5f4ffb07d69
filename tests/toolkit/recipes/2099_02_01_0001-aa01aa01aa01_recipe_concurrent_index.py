"""recipe: an index built concurrently

require-concurrent-index-creation, prefer-robust-stmts
"""

from alembic import op

revision = "aa01aa01aa01"
down_revision = "7e8f9a0b1c2d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Outside a transaction, so writes go on while the index builds; IF NOT
    # EXISTS makes the block safe to run again.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_family_permanent_addr",
            "family",
            ["permanent_addr"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_family_permanent_addr",
            "family",
            postgresql_concurrently=True,
            if_exists=True,
        )
