"""recipe: contract, the old column dropped a release later

changing-column-type, renaming-column, renaming-table, ban-drop-column, step 2
of 2: once no running code reads or writes family.permanent_addr.
"""

import sqlalchemy as sa
from alembic import op

revision = "aa10aa10aa10"
down_revision = "aa09aa09aa09"
branch_labels = None
depends_on = None

squawk_ignore = {
    "ban-drop-column": "contract step: no release still running reads or writes it",
}


def upgrade() -> None:
    op.drop_column("family", "permanent_addr")


def downgrade() -> None:
    op.add_column("family", sa.Column("permanent_addr", sa.String(100), nullable=True))
    op.execute("UPDATE family SET permanent_addr = left(permanent_address, 100)")
