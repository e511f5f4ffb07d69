"""merge billing and email

Revision ID: 1000aaaa0006
Revises: 1000aaaa0004, 1000aaaa0005
Create Date: 2023-04-03 10:00:00
"""

revision = "1000aaaa0006"
down_revision = ("1000aaaa0004", "1000aaaa0005")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
