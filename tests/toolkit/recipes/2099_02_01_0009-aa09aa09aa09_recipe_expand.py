"""recipe: expand, a new column beside the old one

changing-column-type, renaming-column, renaming-table, ban-drop-column, step 1
of 2: family.permanent_addr becomes family.permanent_address, VARCHAR(200).
The application writes both and reads the new one; the batches copy the rest.
"""

import sqlalchemy as sa
from alembic import op

revision = "aa09aa09aa09"
down_revision = "aa08aa08aa08"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS: the autocommit block below commits this first, so a retry
    # runs it again.
    op.add_column(
        "family", sa.Column("permanent_address", sa.String(200), nullable=True), if_not_exists=True
    )
    with op.get_context().autocommit_block():
        op.execute(
            """
            DO $$
            DECLARE updated bigint;
            BEGIN
              LOOP
                UPDATE family SET permanent_address = permanent_addr
                WHERE id IN (
                  SELECT id FROM family
                  WHERE permanent_address IS NULL AND permanent_addr IS NOT NULL LIMIT 1000
                );
                GET DIAGNOSTICS updated = ROW_COUNT;
                EXIT WHEN updated = 0;
                COMMIT;
              END LOOP;
            END $$
            """
        )


def downgrade() -> None:
    op.drop_column("family", "permanent_address")
