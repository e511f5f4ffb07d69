"""recipe: a foreign key added NOT VALID

adding-foreign-key-constraint, step 1 of 2: enforced for new rows at once,
without scanning the table under its lock.
"""

import sqlalchemy as sa
from alembic import op

revision = "aa02aa02aa02"
down_revision = "aa01aa01aa01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("family", sa.Column("address_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_family_address_id_address",
        "family",
        "address",
        ["address_id"],
        ["id"],
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    op.drop_constraint("fk_family_address_id_address", "family", type_="foreignkey")
    op.drop_column("family", "address_id")
