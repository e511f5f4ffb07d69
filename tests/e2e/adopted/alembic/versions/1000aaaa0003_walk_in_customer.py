"""every shop has a walk-in customer

Revision ID: 1000aaaa0003
Revises: 1000aaaa0002
Create Date: 2023-03-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1000aaaa0003"
down_revision = "1000aaaa0002"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT 1 FROM customer WHERE name = 'walk-in'")).first():
        bind.execute(sa.text("INSERT INTO customer (name) VALUES ('walk-in')"))


def downgrade():
    op.get_bind().execute(sa.text("DELETE FROM customer WHERE name = 'walk-in'"))
