"""add order priority

Revision ID: 1000aaaa0008
Revises: 1000aaaa0007
Create Date: 2024-01-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "1000aaaa0008"
down_revision = "1000aaaa0007"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TYPE priority AS ENUM ('low', 'high')")
    op.add_column(
        "orders",
        sa.Column("priority", postgresql.ENUM(name="priority", create_type=False), nullable=True),
    )


def downgrade():
    op.drop_column("orders", "priority")
