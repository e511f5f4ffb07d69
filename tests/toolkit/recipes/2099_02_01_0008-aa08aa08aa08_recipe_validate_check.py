"""recipe: the check constraint validated

constraint-missing-not-valid, step 2 of 2: in a revision of its own (its own
transaction), the scan takes a lock that lets reads and writes go on.
"""

from alembic import op

revision = "aa08aa08aa08"
down_revision = "aa07aa07aa07"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE address VALIDATE CONSTRAINT ck_address_country_upper")


def downgrade() -> None:
    pass  # a validated constraint is the same constraint: nothing to undo
