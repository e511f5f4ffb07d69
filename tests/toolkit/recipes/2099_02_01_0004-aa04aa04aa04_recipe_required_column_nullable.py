"""recipe: a required column, added nullable

adding-required-field, step 1 of 3: instant; the application then writes it.
"""

import sqlalchemy as sa
from alembic import op

revision = "aa04aa04aa04"
down_revision = "aa03aa03aa03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("address", sa.Column("country", sa.String(2), nullable=True))


def downgrade() -> None:
    op.drop_column("address", "country")
