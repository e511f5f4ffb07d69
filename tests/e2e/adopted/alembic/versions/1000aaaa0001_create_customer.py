"""create customer

Revision ID: 1000aaaa0001
Revises:
Create Date: 2023-02-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1000aaaa0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="customer_pkey"),
    )


def downgrade():
    op.drop_table("customer")
