"""add invoice

Revision ID: 1000aaaa0004
Revises: 1000aaaa0003
Create Date: 2023-04-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1000aaaa0004"
down_revision = "1000aaaa0003"
branch_labels = ("billing",)
depends_on = None


def upgrade():
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="invoice_order_id_fkey"),
        sa.PrimaryKeyConstraint("id", name="invoice_pkey"),
    )


def downgrade():
    op.drop_table("invoice")
