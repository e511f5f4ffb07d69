"""add invoice note

Revision ID: 1000aaaa0010
Revises: 1000aaaa0009
Create Date: 2024-06-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1000aaaa0010"
down_revision = "1000aaaa0009"
branch_labels = None
depends_on = "1000aaaa0004"


def upgrade():
    op.add_column("invoice", sa.Column("note", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("invoice", "note")
