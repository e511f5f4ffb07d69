"""index customer email, concurrently

Revision ID: 1000aaaa0007
Revises: 1000aaaa0006
Create Date: 2023-05-01 10:00:00
"""

from alembic import op

revision = "1000aaaa0007"
down_revision = "1000aaaa0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "customer_email_idx",
            "customer",
            ["email"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "customer_email_idx",
            table_name="customer",
            postgresql_concurrently=True,
            if_exists=True,
        )
