"""recipe: NOT NULL through the validated CHECK

adding-required-field and adding-not-nullable-field, step 3 of 3: validating
lets reads and writes go on, and SET NOT NULL then skips its scan.
"""

import sqlalchemy as sa
from alembic import op

revision = "aa06aa06aa06"
down_revision = "aa05aa05aa05"
branch_labels = None
depends_on = None

squawk_ignore = {
    "ban-drop-constraint": "the column's NOT NULL now guarantees what this CHECK did",
}


def upgrade() -> None:
    op.execute("ALTER TABLE address VALIDATE CONSTRAINT ck_address_country_not_null")
    op.alter_column("address", "country", existing_type=sa.String(2), nullable=False)
    op.drop_constraint("ck_address_country_not_null", "address", type_="check")


def downgrade() -> None:
    op.create_check_constraint(
        "ck_address_country_not_null",
        "address",
        "country IS NOT NULL",
        postgresql_not_valid=True,
    )
    op.alter_column("address", "country", existing_type=sa.String(2), nullable=True)
