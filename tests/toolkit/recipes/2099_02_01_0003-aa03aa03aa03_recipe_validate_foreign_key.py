"""recipe: the foreign key validated

adding-foreign-key-constraint, step 2 of 2: in a revision of its own (its own
transaction), the scan takes a lock that lets reads and writes go on.
"""

from alembic import op

revision = "aa03aa03aa03"
down_revision = "aa02aa02aa02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE family VALIDATE CONSTRAINT fk_family_address_id_address")


def downgrade() -> None:
    pass  # a validated constraint is the same constraint: nothing to undo
