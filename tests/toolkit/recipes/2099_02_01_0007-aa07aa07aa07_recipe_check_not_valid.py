"""recipe: a check constraint added NOT VALID

constraint-missing-not-valid, step 1 of 2: enforced for new rows at once,
without scanning the table under its lock.
"""

from alembic import op

revision = "aa07aa07aa07"
down_revision = "aa06aa06aa06"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint(
        "ck_address_country_upper",
        "address",
        "country = upper(country)",
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    op.drop_constraint("ck_address_country_upper", "address", type_="check")
