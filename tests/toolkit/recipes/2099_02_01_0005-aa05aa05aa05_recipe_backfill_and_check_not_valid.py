"""recipe: the required column backfilled in batches, then checked NOT VALID

adding-required-field, step 2 of 3: each batch commits on its own, so no row
stays locked long; the CHECK holds new rows at once without a scan.
"""

from alembic import op

revision = "aa05aa05aa05"
down_revision = "aa04aa04aa04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            """
            DO $$
            DECLARE updated bigint;
            BEGIN
              LOOP
                UPDATE address SET country = 'FR'
                WHERE id IN (SELECT id FROM address WHERE country IS NULL LIMIT 1000);
                GET DIAGNOSTICS updated = ROW_COUNT;
                EXIT WHEN updated = 0;
                COMMIT;
              END LOOP;
            END $$
            """
        )
    op.create_check_constraint(
        "ck_address_country_not_null",
        "address",
        "country IS NOT NULL",
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    op.drop_constraint("ck_address_country_not_null", "address", type_="check")
