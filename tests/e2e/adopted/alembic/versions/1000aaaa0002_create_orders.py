"""create orders, with its status enum

Revision ID: 1000aaaa0002
Revises: 1000aaaa0001
Create Date: 2023-02-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "1000aaaa0002"
down_revision = "1000aaaa0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", postgresql.ENUM("new", "paid", name="order_status"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="orders_customer_id_fkey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="orders_pkey"),
    )


def downgrade():
    op.drop_table("orders")
    op.execute("DROP TYPE order_status")
