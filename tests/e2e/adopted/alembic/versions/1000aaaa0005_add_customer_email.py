"""add customer email, unique

Revision ID: 1000aaaa0005
Revises: 1000aaaa0003
Create Date: 2023-04-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1000aaaa0005"
down_revision = "1000aaaa0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("email", sa.String(length=200), nullable=True))
        batch.create_unique_constraint("customer_email_key", ["email"])


def downgrade():
    with op.batch_alter_table("customer") as batch:
        batch.drop_constraint("customer_email_key", type_="unique")
        batch.drop_column("email")
