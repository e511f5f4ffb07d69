"""End to end (issue 15): a project with a history of its own is adopted by
following the README's "Bring your own project", in a copy of the project.

tests/e2e/adopted/ is that project: a declarative Base in its own package
(shop) with its own constraint names, ten revisions with Alembic's plain file
names (a branch label, a merge, depends_on, batch_alter_table, an
autocommit_block() and a data migration through op.get_bind()), and two
planted faults: 1000aaaa0008's downgrade leaves its enum type behind, and
PostgreSQL refuses 1000aaaa0009's downgrade."""

import shutil
from pathlib import Path

from tests.e2e.conftest import output
from tests.helpers import edit

ADOPTED = Path(__file__).parent / "adopted"
FAULTY = ("1000aaaa0008 (add order priority)", "1000aaaa0009 (add customer category)")


def set_setting(copy: Path, name: str, value: str) -> None:
    env = copy / ".env"
    lines = [line for line in env.read_text().splitlines() if not line.startswith(f"{name}=")]
    env.write_text("\n".join([*lines, f"{name}={value}", ""]))


def ok(result) -> None:
    assert result.returncode == 0, output(result)[-3000:]


def test_removing_the_example_leaves_an_empty_project_that_works(project_copy):
    copy, make = project_copy
    ok(make("up"))  # the example applied: remove-example reverts it first

    removed = make("remove-example")

    ok(removed)
    assert "removed alembic/versions/" in removed.stdout
    assert not (copy / "models" / "address.py").exists()
    assert "CREATE TABLE" not in (copy / "schema.sql").read_text()
    ok(make("up"))
    ok(make("check"))
    ok(make("test"))


def test_an_existing_project_is_adopted_its_faults_found_and_its_past_baselined(project_copy):
    copy, make = project_copy
    # 1. Remove the example.
    removed = make("remove-example")
    ok(removed)
    assert not list((copy / "alembic" / "versions").glob("*.py"))
    assert not (copy / "tests" / "migrations" / "test_example_data.py").exists()

    # 2. Copy in the models and revisions; point MODELS_METADATA at the metadata.
    shutil.copytree(ADOPTED / "shop", copy / "shop")
    for revision in (ADOPTED / "alembic" / "versions").glob("*.py"):
        shutil.copy(revision, copy / "alembic" / "versions")
    set_setting(copy, "MODELS_METADATA", "shop.models:Base.metadata")
    # The metadata under a module-level name, for pytest-alembic's all-models test.
    with (copy / "shop" / "__init__.py").open("a") as package:
        package.write("\nfrom shop.db import Base\n\nmetadata = Base.metadata\n")

    # 3. An empty database: make up; then the generated files follow.
    up = make("up")
    ok(up)
    assert "applied 10 revision(s)" in up.stdout
    ok(make("check"))
    ok(make("schema", "erd"))

    # 4. Every fault in one run, each named.
    red = make("test")
    assert red.returncode != 0
    for revision in FAULTY:
        assert f"downgrade of {revision}" in output(red), output(red)[-3000:]
    assert "left enum type priority" in output(red)

    # 5. The baseline: what production already ran is listed, not failed.
    set_setting(copy, "LINT_BASELINE", "1000aaaa0007")
    lint = make("lint")
    assert lint.returncode != 0
    assert "1 of " in lint.stderr and "1000aaaa0009_add_customer_category.py" in lint.stderr
    assert "1000aaaa0005_add_customer_email.py" not in lint.stderr
    assert "baselined" in lint.stdout and "1000aaaa0005_add_customer_email.py" in lint.stdout
    assert "not linted: revision 1000aaaa0003" in lint.stdout

    # 6. Mended, make test is green.
    versions = copy / "alembic" / "versions"
    edit(
        versions / "1000aaaa0008_add_order_priority.py",
        '    op.drop_column("orders", "priority")\n',
        '    op.drop_column("orders", "priority")\n    op.execute("DROP TYPE priority")\n',
    )
    edit(
        versions / "1000aaaa0009_add_customer_category.py",
        '    op.drop_table("category")\n    op.drop_column("customer", "category_id")\n',
        '    op.drop_column("customer", "category_id")\n    op.drop_table("category")\n',
    )
    # Its lint findings, reviewed: the category table is new, nothing writes to it yet.
    edit(
        versions / "1000aaaa0009_add_customer_category.py",
        "depends_on = None\n",
        "depends_on = None\nsquawk_ignore = {\n"
        '    "adding-foreign-key-constraint": "category is new: no writes to wait for",\n'
        '    "constraint-missing-not-valid": "category is new: the scan is instant",\n}\n',
    )
    ok(make("test"))

    # 7. The database that ran them: a mended downgrade is no edit; the
    # reviewed exception is one, until make repair records it.
    refused = make("upgrade")
    assert refused.returncode != 0
    assert "make repair r=1000aaaa0009" in refused.stderr, output(refused)[-3000:]
    assert "1000aaaa0008" not in refused.stderr
    ok(make("repair", "r=1000aaaa0009"))
    ok(make("upgrade"))
    ok(make("check"))


def test_a_password_exported_in_the_shell_wins_over_env_everywhere(project_copy):
    copy, make = project_copy
    exported = {"POSTGRES_PASSWORD": "from-the-shell-not-env"}

    ok(make("up", **exported))
    current = make("current", **exported)

    ok(current)
    assert "7e8f9a0b1c2d (head)" in current.stdout
