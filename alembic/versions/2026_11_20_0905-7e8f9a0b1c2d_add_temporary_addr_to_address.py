"""add temporary_addr to address

Revision ID: 7e8f9a0b1c2d
Revises: 1a2b3c4d5e6f
Create Date: 2026-11-20 09:05:00+00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7e8f9a0b1c2d"
down_revision: str | Sequence[str] | None = "1a2b3c4d5e6f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("address", sa.Column("temporary_addr", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("address", "temporary_addr")
