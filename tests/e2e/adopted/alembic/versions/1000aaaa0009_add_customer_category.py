"""add customer category

Revision ID: 1000aaaa0009
Revises: 1000aaaa0008
Create Date: 2024-03-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1000aaaa0009"
down_revision = "1000aaaa0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name="category_pkey"),
    )
    op.add_column("customer", sa.Column("category_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "customer_category_id_fkey", "customer", "category", ["category_id"], ["id"]
    )


def downgrade():
    op.drop_table("category")
    op.drop_column("customer", "category_id")
