"""The safe way to do in Alembic what a squawk rule flags: `make lint` prints
it after a revision's findings, docs/busy-database.md has the same table, and
each recipe is a revision in tests/toolkit/recipes/ that lints clean and
migrates up and down (tests/toolkit/test_recipes.py)."""

import textwrap
from collections.abc import Iterable

DOCS = "docs/busy-database.md"

# Outside a transaction each statement commits on its own, so a retry (or a
# second run after a failure) meets what the first one did: hence IF [NOT] EXISTS.
CONCURRENT_INDEX = """
def upgrade():
    with op.get_context().autocommit_block():  # outside a transaction: writes go on
        op.create_index("ix_t_c", "t", ["c"], postgresql_concurrently=True, if_not_exists=True)

def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_t_c", "t", postgresql_concurrently=True, if_exists=True)
"""

# The same loop serves every backfill: a batch per transaction, so no row
# stays locked long and a retry starts where the last run stopped.
BACKFILL = """
    with op.get_context().autocommit_block():  # each batch commits on its own
        op.execute(\"\"\"DO $$ DECLARE n bigint; BEGIN LOOP
            UPDATE t SET {set} WHERE id IN (SELECT id FROM t WHERE {where} LIMIT 1000);
            GET DIAGNOSTICS n = ROW_COUNT; EXIT WHEN n = 0; COMMIT;
        END LOOP; END $$\"\"\")
"""

NOT_VALID_THEN_VALIDATE = """
# revision 1: holds for new rows at once, no scan under the table's lock
op.create_{kind}(..., postgresql_not_valid=True)
# revision 2 (its own transaction): the scan lets reads and writes go on
op.execute("ALTER TABLE t VALIDATE CONSTRAINT {name}")
"""

REQUIRED_COLUMN = (
    """
# A constant default? sa.Column("c", sa.Text(), nullable=False, server_default="x")
# is instant (PostgreSQL 11+). Otherwise, three revisions:
# 1: op.add_column("t", sa.Column("c", sa.Text(), nullable=True)); the code writes c
# 2: backfill, then a CHECK that holds new rows at once, without a scan
def upgrade():"""
    + BACKFILL.format(set="c = 'x'", where="c IS NULL")
    + """    op.create_check_constraint("ck_t_c", "t", "c IS NOT NULL", postgresql_not_valid=True)
# 3: validate (reads and writes go on), then SET NOT NULL skips its scan
def upgrade():
    op.execute("ALTER TABLE t VALIDATE CONSTRAINT ck_t_c")
    op.alter_column("t", "c", existing_type=sa.Text(), nullable=False)
    op.drop_constraint("ck_t_c", "t", type_="check")  # squawk_ignore: ban-drop-constraint
"""
)

EXPAND_CONTRACT = (
    """
# Expand and contract, across two releases. Release 1: the new column (or table)
# beside the old one; the code writes both and reads the new one.
def upgrade():
    op.add_column("t", sa.Column("c_new", sa.Text()), if_not_exists=True)"""
    + BACKFILL.format(set="c_new = c", where="c_new IS NULL AND c IS NOT NULL")
    + """# Release 2, once no running code uses the old one: drop it, with the review noted.
squawk_ignore = {"ban-drop-column": "unused since release 1"}
def upgrade():
    op.drop_column("t", "c")
"""
)

UNIQUE_CONSTRAINT = """
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("uq_t_c", "t", ["c"], unique=True,
                        postgresql_concurrently=True, if_not_exists=True)
    op.execute("ALTER TABLE t ADD CONSTRAINT uq_t_c UNIQUE USING INDEX uq_t_c")
"""

RECIPES: dict[str, str] = {
    "require-concurrent-index-creation": CONCURRENT_INDEX,
    "require-concurrent-index-deletion": CONCURRENT_INDEX,
    "prefer-robust-stmts": CONCURRENT_INDEX,
    "adding-foreign-key-constraint": NOT_VALID_THEN_VALIDATE.format(
        kind="foreign_key", name="fk_t_c_other"
    ),
    "constraint-missing-not-valid": NOT_VALID_THEN_VALIDATE.format(
        kind="check_constraint", name="ck_t_c"
    ),
    "adding-required-field": REQUIRED_COLUMN,
    "adding-not-nullable-field": REQUIRED_COLUMN,
    "changing-column-type": EXPAND_CONTRACT,
    "renaming-column": EXPAND_CONTRACT,
    "renaming-table": EXPAND_CONTRACT,
    "ban-drop-column": EXPAND_CONTRACT,
    "ban-drop-table": EXPAND_CONTRACT,
    "disallowed-unique-constraint": UNIQUE_CONSTRAINT,
}


def fired(rules: Iterable[str]) -> list[str]:
    """The rules with a recipe among ``rules``, in RECIPES' order."""
    found = set(rules)
    return [r for r in RECIPES if r in found]


def advice(rules: Iterable[str]) -> str:
    """Each recipe the rules squawk found call for, once, under the rules that call for it."""
    by_recipe: dict[str, list[str]] = {}
    for rule in fired(rules):
        by_recipe.setdefault(RECIPES[rule], []).append(rule)
    return "".join(
        f"safe in Alembic, for {', '.join(rules)} (see {DOCS}):\n"
        + textwrap.indent(recipe.strip("\n"), "    ")
        + "\n"
        for recipe, rules in by_recipe.items()
    )
