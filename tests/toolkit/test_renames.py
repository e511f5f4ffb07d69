"""A rename stays a rename (issue 22): a column or table renamed in the models
is written as a rename when rename= names it or the user says so in a
terminal, keeps its rows, renames the names the convention gave it, goes down
and up again, and leaves `make check` clean; otherwise it is written as
autogenerate writes it, with a warning. Through the migrator as users run it,
on a project of the fixture's with rows in its tables."""

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from migrator import checksums
from migrator.catalog import describe
from tests import stairway
from tests.conftest import new_database
from tests.helpers import (
    add_revision,
    assert_one_line_error,
    edit,
    migrator_environment,
    query,
    run_migrator,
)
from tests.toolkit.conftest import copy_project

TEMPLATE = "renames_template"
LIBRARY = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Book(Base):
    __tablename__ = "book"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    isbn: Mapped[str | None] = mapped_column(String(20), unique=True)


class Pet(Base):
    __tablename__ = "pets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    tag: Mapped[str | None] = mapped_column(String(20), unique=True)


class Toy(Base):
    __tablename__ = "toys"

    id: Mapped[int] = mapped_column(primary_key=True)
    pet_id: Mapped[int] = mapped_column(ForeignKey("pets.id"))
"""
ROWS = """
INSERT INTO book (title, isbn) VALUES ('Dune', '978-0441013593'), ('Emma', NULL);
INSERT INTO pets (name) VALUES ('Rex'), ('Tom');
INSERT INTO toys (pet_id) SELECT id FROM pets WHERE name = 'Rex';
"""
BOOKKEEPING = {"alembic_version", checksums.TABLE}


@pytest.fixture(scope="module")
def library_template(admin, fixture_template, tmp_path_factory) -> Path:
    """The fixture project with the library models and their revision, and
    the database TEMPLATE (a copy of the fixture's at head) migrated to it
    with rows, once per module."""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE "{fixture_template}"'))
    project = copy_project(tmp_path_factory.mktemp("library"))
    (project / "models" / "library.py").write_text(LIBRARY)
    url = admin.url.set(database=TEMPLATE)
    for args in (("revision", "--autogenerate", "-m", "library"), ("upgrade", "head")):
        result = run_migrator(*args, url=url, cwd=project)
        assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(ROWS))
    engine.dispose()
    return project


class Library:
    def __init__(self, project: Path, url, admin):
        self.project, self.url, self.admin = project, url, admin

    def run(self, *args: str, **env_vars: str) -> subprocess.CompletedProcess:
        snapshots = str(self.project / "snapshots")
        return run_migrator(
            *args, url=self.url, cwd=self.project, SNAPSHOT_DIR=snapshots, **env_vars
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess:
        result = self.run(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def versions(self) -> set[Path]:
        return set((self.project / "alembic" / "versions").glob("*.py"))

    def revise(self, *args: str) -> str:
        """`make revision m=... [rename=...]`: the new revision's text."""
        before = self.versions()
        self.ok(*args, "revision", "--autogenerate", "-m", "rename")
        (path,) = self.versions() - before
        return path.read_text()

    def edit(self, old: str, new: str) -> None:
        edit(self.project / "models" / "library.py", old, new)

    def schema(self) -> dict[str, str]:
        engine = create_engine(self.url)
        with engine.connect() as connection:
            found = describe(connection, leave_out=BOOKKEEPING)
        engine.dispose()
        return found

    def query(self, sql: str) -> list[tuple]:
        return query(self.url, sql)

    def stairway(self) -> None:
        """The stairway tests/migrations walks (tests/stairway.py) over this
        project's whole history, rename revisions included, and `make check`
        clean at its head."""
        config_file = self.project / "alembic.ini"
        script = ScriptDirectory.from_config(Config(config_file))
        faults = stairway.walk(self.admin, config_file, script, stairway.oldest_first(script))
        assert not faults, "\n".join(faults)
        self.ok("upgrade", "head")
        check = self.run("check")
        assert check.stdout == "the models match the migrations\n", check.stdout + check.stderr


@pytest.fixture
def library(admin, library_template: Path, tmp_path: Path, monkeypatch):
    project = shutil.copytree(library_template, tmp_path / "library")
    # The stairway runs Alembic in-process, which puts the project on sys.path for good.
    monkeypatch.setattr(sys, "path", list(sys.path))
    for url in new_database(admin, TEMPLATE):
        yield Library(project, url, admin)


def rename_book_columns(library: Library) -> None:
    library.edit("    title: Mapped[str]", "    name: Mapped[str]")
    library.edit("    isbn: Mapped[str | None]", "    code: Mapped[str | None]")


def rename_pets(library: Library) -> None:
    library.edit('__tablename__ = "pets"', '__tablename__ = "animals"')
    library.edit('ForeignKey("pets.id")', 'ForeignKey("animals.id")')


def names(library: Library) -> set[str]:
    return {
        name
        for (name,) in library.query(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "UNION SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        )
    }


def test_a_column_renamed_by_rename_keeps_its_values_index_and_unique_constraint(library):
    rename_book_columns(library)

    revision = library.revise("-x", "rename=book.title:book.name,book.isbn:book.code")

    assert "drop_column" not in revision and "add_column" not in revision
    upgrade, downgrade = revision.split("def downgrade")
    assert 'new_column_name="name"' in upgrade and 'new_column_name="code"' in upgrade
    assert 'new_column_name="title"' in downgrade and 'new_column_name="isbn"' in downgrade
    books = "SELECT id, {} FROM book ORDER BY id"
    kept = library.query(books.format("title, isbn"))
    library.stairway()
    assert library.query(books.format("name, code")) == kept
    assert {"ix_book_name", "uq_book_code"} <= names(library)
    assert not {"ix_book_title", "uq_book_isbn"} & names(library)

    library.ok("downgrade", "-1")

    assert library.query(books.format("title, isbn")) == kept
    assert {"ix_book_title", "uq_book_isbn"} <= names(library)


def test_a_table_renamed_by_rename_keeps_its_rows_and_renames_its_conventional_names(library):
    rename_pets(library)
    # A name the convention did not give keeps it.
    library.edit("mapped_column(String(50), index=True)", "mapped_column(String(50))")
    library.edit(
        'class Pet(Base):\n    __tablename__ = "animals"\n',
        'class Pet(Base):\n    __tablename__ = "animals"\n'
        '    __table_args__ = (Index("pets_by_name", "name"),)\n',
    )
    library.edit("from sqlalchemy import ForeignKey", "from sqlalchemy import ForeignKey, Index")
    engine = create_engine(library.url)
    with engine.begin() as connection:
        connection.execute(text("ALTER INDEX ix_pets_name RENAME TO pets_by_name"))
    engine.dispose()
    pets = "SELECT p.id, p.name, t.id FROM {} p LEFT JOIN toys t ON t.pet_id = p.id ORDER BY 1"
    kept = library.query(pets.format("pets"))
    before = names(library)

    revision = library.revise("-x", "rename=pets:animals")

    assert "drop_table" not in revision and "create_table" not in revision
    assert 'op.rename_table("pets", "animals")' in revision
    assert 'op.rename_table("animals", "pets")' in revision
    library.stairway()
    assert library.query(pets.format("animals")) == kept
    renamed = {"pk_animals", "uq_animals_tag", "animals_id_seq", "fk_toys_pet_id_animals"}
    assert renamed <= names(library)
    assert "pets_by_name" in names(library)
    assert not {"pk_pets", "uq_pets_tag", "pets_id_seq", "fk_toys_pet_id_pets"} & names(library)
    # The new rows take the next id of the renamed sequence.
    library.query("INSERT INTO animals (name) VALUES ('Kit') RETURNING id")

    library.ok("downgrade", "-1")

    assert names(library) == before
    assert library.query(pets.format("pets"))[: len(kept)] == kept


def in_a_terminal(library: Library, answers: str) -> tuple[int, str]:
    """`make revision` at a terminal: the migrator with a pty as its stdin and
    stdout (stderr too), typing ``answers``."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "migrator", "revision", "--autogenerate", "-m", "rename"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=library.project,
        env=migrator_environment(library.url),
        start_new_session=True,
    )
    os.close(slave)
    os.write(master, answers.encode())
    output, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end closed: the process is done
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=30), output.decode()


@pytest.mark.parametrize("answer", ["y", "n"])
def test_in_a_terminal_revision_asks_and_yes_renames_no_drops_and_adds(library, answer):
    library.edit("    title: Mapped[str]", "    name: Mapped[str]")
    before = library.versions()

    status, output = in_a_terminal(library, f"{answer}\n")

    assert status == 0, output
    assert "book: was column title renamed to name (VARCHAR(300))? [y/N]" in output
    (path,) = library.versions() - before
    revision = path.read_text()
    if answer == "y":
        assert 'new_column_name="name"' in revision
        assert "drop_column" not in revision
        library.stairway()
    else:
        assert 'op.drop_column("book", "title")' in revision
        assert "op.add_column(" in revision
        assert "new_column_name" not in revision


def test_without_a_terminal_or_rename_it_warns_and_writes_drop_and_add(library):
    rename_book_columns(library)
    rename_pets(library)
    before = library.versions()

    result = library.run("revision", "--autogenerate", "-m", "rename")

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: pets → animals looks like a rename, written as drop + add (the values "
        "are lost); if it is one, give rename=pets:animals",
        "warning: book.isbn → book.code looks like a rename, written as drop + add (the "
        "values are lost); if it is one, give rename=book.isbn:book.code",
        "warning: book.title → book.name looks like a rename, written as drop + add (the "
        "values are lost); if it is one, give rename=book.title:book.name",
    ]
    (path,) = library.versions() - before
    assert 'op.drop_column("book", "title")' in path.read_text()


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("book.titel:book.name", "book.titel does not exist in the database"),
        ("pest:animals", "pest does not exist in the database"),
        ("book.title:book.isbn", "book.isbn already exists in the database"),
        ("pets:book", "book already exists in the database"),
        ("book.title", "'book.title' is not a rename"),
        ("book.title:name", "'book.title:name' is not a rename"),
        ("book.title:book.name,", "'' is not a rename"),
        ("a:b:c", "'a:b:c' is not a rename"),
        ("book.title:pets.name", "renames a column across tables"),
        ("book.title:book.heading", "book.title:book.heading is not a rename candidate"),
        ("toys:animals", "toys:animals is not a rename candidate"),
        ("book.title:book.name,book.isbn:book.nope", "is not a rename candidate"),
    ],
)
def test_a_bad_rename_is_refused_in_one_line_and_nothing_is_written(library, given, words):
    rename_book_columns(library)
    rename_pets(library)
    before = library.versions()

    result = library.run("-x", f"rename={given}", "revision", "--autogenerate", "-m", "rename")

    assert_one_line_error(result, f"rename={given}", words)
    assert library.versions() == before


def test_check_describes_a_pending_rename_in_one_line(library):
    rename_book_columns(library)
    rename_pets(library)
    column = "name: Mapped[{}] = mapped_column(String(300), index=True)"
    library.edit(column.format("str"), column.format("str | None"))

    result = library.run("check")

    assert result.stdout.splitlines() == [
        "~ pets → animals looks like a rename (make revision asks, or give rename=pets:animals)",
        "~ book.isbn → book.code looks like a rename (make revision asks, or give "
        "rename=book.isbn:book.code)",
        "~ book.title → book.name looks like a rename (make revision asks, or give "
        "rename=book.title:book.name)",
        # What the rename leaves to do, as usual.
        "~ make book.name nullable",
    ]
    assert_one_line_error(result, "(4 change(s) above)")


def test_lint_says_a_drop_and_add_of_one_type_looks_like_a_rename(library):
    parent = library.ok("heads").stdout.split()[0]
    add_revision(
        library.project,
        "dddd00000001",
        parent,
        """
        op.add_column("book", sa.Column("name", sa.String(300), nullable=True))
        op.drop_column("book", "title")
        """,
        """
        op.add_column("book", sa.Column("title", sa.VARCHAR(length=300), nullable=True))
        op.drop_column("book", "name")
        """,
    )

    result = library.run("lint", f"{parent}:dddd00000001")

    notes = [line for line in result.stdout.splitlines() if "looks like a rename" in line]
    assert len(notes) == 1, result.stdout
    assert notes[0].endswith(
        "_test.py: book.title → book.name: this looks like a rename written as drop + add: "
        "the column's values are lost (write op.alter_column('book', 'title', "
        "new_column_name='name'), or make revision ... rename=book.title:book.name)"
    )
    # Reading the revision's operations prints none of Alembic's progress lines.
    assert "Generating static SQL" not in result.stdout + result.stderr


def test_check_given_rename_shows_what_the_rename_revision_would_write(library):
    library.edit("    title: Mapped[str]", "    name: Mapped[str]")

    result = library.run("-x", "rename=book.title:book.name", "check")

    assert result.stdout.splitlines() == [
        "~ rename column book.title to name",
        "~ run ALTER INDEX ix_book_title RENAME TO ix_book_name",
    ]
    assert_one_line_error(result, "(2 change(s) above)")
