"""Writing revisions through the migrator's command line (what `make revision`,
`make merge` run), in a throwaway copy of the project: a new model module is
picked up, an empty autogenerate is refused, a blank one is written on request,
two heads merge into one, and every file written is ruff-clean."""

import re

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.helpers import (
    add_revision,
    assert_one_line_error,
    assert_ruff_clean,
    run_migrator,
    unregistered_tables,
)
from tests.toolkit.test_check import PHONE_MODULE

HEAD = "7e8f9a0b1c2d"


def versions(project) -> set:
    return set((project / "alembic" / "versions").glob("*.py"))


def written(project, before: set, result):
    """The one revision file the command wrote."""
    assert result.returncode == 0, result.stderr
    [path] = versions(project) - before
    return path


@pytest.mark.parametrize("where", ["phone.py", "contacts/phone.py"])
def test_a_new_model_module_is_picked_up_by_autogenerate(project, migrated_url, where):
    module = project / "models" / where
    if module.parent.name == "contacts":
        module.parent.mkdir()
        (module.parent / "__init__.py").touch()
    module.write_text(PHONE_MODULE)
    before = versions(project)

    result = run_migrator(
        "revision", "--autogenerate", "-m", "add phone", cwd=project, url=migrated_url
    )

    path = written(project, before, result)
    assert path.name.endswith("_add_phone.py")
    source = path.read_text()
    assert 'op.create_table(\n        "phone",' in source
    assert 'op.drop_table("phone")' in source
    assert_ruff_clean(project, path)
    # The revision is what the model asked for: once applied, check is clean.
    assert run_migrator("upgrade", cwd=project, url=migrated_url).returncode == 0
    check = run_migrator("check", cwd=project, url=migrated_url)
    assert check.returncode == 0, check.stdout + check.stderr


# Autogenerate writes its column on one line of more than 100 characters,
# which ruff's formatter then breaks.
LONG_LINE_MODULE = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Delivery(Base):
    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    instructions_for_the_courier: Mapped[str] = mapped_column(
        String(200), server_default="leave it at the door"
    )
"""
# Where a ruff finding points, in its full output (--> path:line:column) or
# its concise one (path:line:column: CODE message).
RUFF_FINDING = re.compile(r"-->\s*\S+\.py:\d+:\d+|\.py:\d+:\d+: [A-Z]+\d+ ")


def test_a_long_line_the_formatter_breaks_is_never_reported(project, migrated_url):
    (project / "models" / "delivery.py").write_text(LONG_LINE_MODULE)
    before = versions(project)

    # make revision m="add delivery"
    result = run_migrator(
        "revision", "--autogenerate", "-m", "add delivery", cwd=project, url=migrated_url
    )

    path = written(project, before, result)
    assert "E501" not in result.stdout + result.stderr
    assert not RUFF_FINDING.search(result.stdout + result.stderr), result.stdout + result.stderr
    assert_ruff_clean(project, path)


def test_what_neither_the_fixes_nor_the_formatter_mend_is_still_reported(project):
    """A message longer than a line stays one line of the docstring: `make
    style` would fail on it, so `make revision` says so at once."""
    message = "a message " * 12
    before = versions(project)

    result = run_migrator("revision", "-m", message.strip(), cwd=project)

    path = written(project, before, result)
    assert "E501" in result.stdout + result.stderr
    assert f"{path.name}:1:" in result.stdout + result.stderr


SHOP_BASE = """
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
"""
SHOP_MODEL = """
from sqlalchemy.orm import Mapped, mapped_column

from shop.base import Base


class {name}(Base):
    __tablename__ = "{table}"

    id: Mapped[int] = mapped_column(primary_key=True)
"""


def test_a_model_module_nothing_imports_is_found_whatever_the_base(project):
    """The check tests/migrations/test_models.py makes, on a SQLAlchemy 2
    DeclarativeBase in a package of its own (pytest-alembic's misses it)."""
    shop = project / "shop"
    shop.mkdir()
    (shop / "__init__.py").touch()
    (shop / "base.py").write_text(SHOP_BASE)
    models = SHOP_MODEL.format(name="Order", table="orders")
    (shop / "models.py").write_text(models)
    (shop / "stray.py").write_text(SHOP_MODEL.format(name="Stray", table="stray"))
    where = {"MODELS_METADATA": "shop.models:Base.metadata"}

    assert unregistered_tables(project, **where) == {"stray"}

    (shop / "models.py").write_text("from shop import stray  # noqa: F401\n" + models)
    assert unregistered_tables(project, **where) == set()


def test_autogenerate_with_no_model_change_writes_nothing(project, migrated_url):
    before = versions(project)

    result = run_migrator(
        "revision", "--autogenerate", "-m", "nothing", cwd=project, url=migrated_url
    )

    assert_one_line_error(result, "no changes between the models and the database at head")
    assert versions(project) == before


def test_empty_1_writes_a_blank_revision_for_hand_written_work(project):
    before = versions(project)

    # make revision m="backfill phones" empty=1
    result = run_migrator("revision", "-m", "backfill phones", cwd=project)

    path = written(project, before, result)
    source = path.read_text()
    assert f'down_revision: str | Sequence[str] | None = "{HEAD}"' in source
    assert "def upgrade() -> None:\n    pass\n" in source
    assert "def downgrade() -> None:\n    pass\n" in source
    # Alembic's template imports, kept for the data migration to be written.
    assert "\nfrom alembic import op\n" in source
    assert "\nimport sqlalchemy as sa\n" in source
    assert_ruff_clean(project, path)


@pytest.mark.parametrize(
    "message",
    [
        'it\'s "quoted" `id` $(id)',
        'ends with a quote "',
        'three """ quotes',
        "back\\slash",
        "café ünïcode",
    ],
)
def test_a_message_is_written_exactly_as_given(project, message):
    before = versions(project)

    path = written(project, before, run_migrator("revision", "-m", message, cwd=project))

    config = Config(project / "alembic.ini")
    (revision,) = [
        r for r in ScriptDirectory.from_config(config).walk_revisions() if r.path == str(path)
    ]
    assert revision.doc == message


def test_two_sibling_revisions_merge_into_one_head(project, database_url):
    for sibling in ("aaaa00000001", "bbbb00000002"):
        add_revision(project, sibling, HEAD, "pass")
    before = versions(project)

    # make merge
    result = run_migrator("merge", "heads", "-m", "merge heads", cwd=project)

    path = written(project, before, result)
    assert (
        'down_revision: str | Sequence[str] | None = ("aaaa00000001", "bbbb00000002")'
        in path.read_text()
    )
    assert_ruff_clean(project, path)
    script = ScriptDirectory.from_config(Config(project / "alembic.ini"))
    assert [script.get_revision(head).path for head in script.get_heads()] == [str(path)]
    upgrade = run_migrator("upgrade", cwd=project, url=database_url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "applied 5 revision(s); database at head" in upgrade.stdout
