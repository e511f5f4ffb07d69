"""`make squash r=<rev>` (migrator/squash.py): one revision in place of base..<rev>,
proven to build the same schema and rows, on a fixture history of 50 revisions
(the fixture's two, then an extension, an enum type, reference rows inserted by
a data migration, an index, a view, a function and its trigger, a column added
and later dropped, a table comment, a table in another schema, and tables),
squashed at the 40th."""

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from pytest_alembic import tests as pytest_alembic_tests
from pytest_alembic.config import Config as PytestAlembicConfig
from pytest_alembic.runner import runner
from sqlalchemy import create_engine, text

from migrator import MigratorError, schema
from migrator import squash as squasher
from migrator.catalog import contents, describe
from tests.conftest import create_database, drop_database, new_database
from tests.helpers import (
    add_revision,
    assert_one_line_error,
    assert_ruff_clean,
    query,
    run_migrator,
    version,
)
from tests.toolkit.conftest import FIRST, HEAD, copy_project

BOOKKEEPING = squasher.BOOKKEEPING
COUNT, AT = 50, 40


def rev(n: int) -> str:
    """The n-th revision's id (the fixture's own are the first two)."""
    return {1: FIRST, 2: HEAD}.get(n, f"5e{n:010d}")


# (upgrade, downgrade) of revisions 3 onwards; the rest create a table each.
CHANGES = {
    3: (
        """
        op.execute("CREATE EXTENSION citext")
        op.execute("CREATE TYPE status AS ENUM ('draft', 'live')")
        op.execute(
            "CREATE TABLE kind (id serial CONSTRAINT pk_kind PRIMARY KEY,"
            " name varchar(40) NOT NULL CONSTRAINT uq_kind_name UNIQUE, status status NOT NULL,"
            " code char(2))"
        )
        """,
        """
        op.execute("DROP TABLE kind")
        op.execute("DROP TYPE status")
        op.execute("DROP EXTENSION citext")
        """,
    ),
    # Reference rows, with what SQLAlchemy's text() and psycopg2 read specially.
    4: (
        """
        kind = sa.table("kind", sa.column("name"), sa.column("status"))
        op.bulk_insert(
            kind,
            [
                {"name": "small", "status": "live"},
                {"name": "large", "status": "draft"},
                {"name": "100% odd: :name %s", "status": "live"},
            ],
        )
        """,
        'op.execute("DELETE FROM kind")',
    ),
    5: (
        'op.execute("CREATE INDEX ix_kind_status ON kind (status)")',
        'op.drop_index("ix_kind_status")',
    ),
    6: (
        """op.execute("CREATE VIEW live_kind AS SELECT name FROM kind WHERE status = 'live'")""",
        'op.execute("DROP VIEW live_kind")',
    ),
    7: (
        'op.execute("ALTER TABLE kind ADD COLUMN note text")',
        'op.execute("ALTER TABLE kind DROP COLUMN note")',
    ),
    8: (
        """
        op.execute(
            "CREATE FUNCTION kind_lower() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN\\n\\tNEW.name := lower(NEW.name);\\n\\tRETURN NEW;\\nEND $$"
        )
        op.execute(
            "CREATE TRIGGER kind_lower BEFORE INSERT ON kind"
            " FOR EACH ROW EXECUTE FUNCTION kind_lower()"
        )
        # Privileges: the function kept from PUBLIC.
        op.execute("REVOKE EXECUTE ON FUNCTION kind_lower() FROM PUBLIC")
        """,
        """
        op.execute("DROP TRIGGER kind_lower ON kind")
        op.execute("DROP FUNCTION kind_lower()")
        """,
    ),
    9: (
        'op.execute("ALTER TABLE kind DROP COLUMN note")',
        'op.execute("ALTER TABLE kind ADD COLUMN note text")',
    ),
    10: (
        """
        op.execute("COMMENT ON TABLE kind IS 'kinds of things'")
        op.execute("GRANT SELECT ON kind TO PUBLIC")
        """,
        """
        op.execute("COMMENT ON TABLE kind IS NULL")
        op.execute("REVOKE SELECT ON kind FROM PUBLIC")
        """,
    ),
    # Autogenerate (make check) looks at public only.
    11: (
        """
        op.execute("CREATE SCHEMA audit")
        op.execute("CREATE TABLE audit.alembic_notes (note text)")
        op.execute("INSERT INTO audit.alembic_notes VALUES ('a table of yours, despite its name')")
        op.execute("CREATE TABLE audit.entry (id serial PRIMARY KEY, at timestamptz DEFAULT now())")
        op.execute("INSERT INTO audit.entry DEFAULT VALUES")
        # squawk fails a domain with a constraint: the squashed revision is baselined.
        op.execute("CREATE DOMAIN audit.positive AS integer CONSTRAINT positive CHECK (VALUE > 0)")
        """,
        'op.execute("DROP SCHEMA audit CASCADE")',
    ),
}
TABLES = range(12, COUNT + 1)

# The models of what the revisions build in public, so `make check` passes.
MODELS = """
from sqlalchemy import CHAR, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Kind(Base):
    __tablename__ = "kind"
    __table_args__ = {"comment": "kinds of things"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(Enum("draft", "live", name="status"), index=True)
    # squawk's type advice on char(n) (ban-char-field) never fails lint.
    code: Mapped[str | None] = mapped_column(CHAR(2))


for _n in TABLES:
    _id = mapped_column(Integer, primary_key=True)
    type(f"T{_n}", (Base,), {"__tablename__": f"t{_n}", "id": _id})
"""


def write_history(project: Path) -> Path:
    """The fixture project with revisions 3 to 50 and their models, committed to git."""
    for n in range(3, COUNT + 1):
        up, down = CHANGES.get(n) or (
            f'op.execute("CREATE TABLE t{n} (id integer CONSTRAINT pk_t{n} PRIMARY KEY)")',
            f'op.execute("DROP TABLE t{n}")',
        )
        add_revision(project, rev(n), rev(n - 1), up, down)
    (project / "models" / "kinds.py").write_text(
        f"TABLES = range({TABLES.start}, {TABLES.stop})\n" + textwrap.dedent(MODELS)
    )
    commit(project, "the history")
    return project


def git(project: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit(project: Path, message: str) -> None:
    if not (project / ".git").exists():
        git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def held(url) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {**describe(connection, BOOKKEEPING), **contents(connection, BOOKKEEPING)}
    engine.dispose()
    return found


def upgraded(admin, project: Path, url, target: str):
    """The database at ``url`` upgraded to ``target``, and a copy of it left there."""
    result = run_migrator("upgrade", target, url=url, cwd=project)
    assert result.returncode == 0, result.stderr
    return create_database(admin, template=url.database)


@pytest.fixture(scope="module")
def squashed(admin, tmp_path_factory):
    """The 50 revisions squashed at the 40th; beside them, what was there before:
    the schema at head (schema.sql's too), and databases at the 20th and the 45th."""
    project = write_history(copy_project(tmp_path_factory.mktemp("history")))
    before_commit = git(project, "rev-parse", "--short", "HEAD")
    home = create_database(admin)
    at_20 = upgraded(admin, project, home, rev(20))
    at_45 = upgraded(admin, project, home, rev(45))
    at_head = upgraded(admin, project, home, "head")
    schema_before = schema.dump(at_head)
    script = ScriptDirectory.from_config(Config(project / "alembic.ini"))
    schema_file = schema.with_key(schema_before, schema.key(script))
    (project / "schema.sql").write_text(schema_file)

    result = run_migrator("squash", rev(AT), url=home, cwd=project)

    yield {
        "project": project,
        "result": result,
        "schema": schema_before,
        "schema.sql": schema_file,
        "commit": before_commit,
        "at_20": at_20,
        "held_20": held(at_20),
        "at_45": at_45,
    }
    for url in (at_head, at_20, at_45, home):
        drop_database(admin, url)


@pytest.fixture
def fresh(admin):
    yield from new_database(admin)


@pytest.fixture(scope="module")
def at_head(admin, squashed):
    """A fresh database upgraded to head over the squash, for the tests that read it."""
    url = create_database(admin)
    result = run_migrator("upgrade", "head", url=url, cwd=squashed["project"])
    assert result.returncode == 0, result.stderr
    yield url
    drop_database(admin, url)


@pytest.fixture
def copy_at_head(admin, at_head):
    """A copy of ``at_head`` of the test's own, to write in."""
    yield from new_database(admin, at_head.database)


def test_the_squash_replaces_the_revisions_up_to_rev_with_one_that_keeps_its_id(squashed):
    project, result = squashed["project"], squashed["result"]
    assert result.returncode == 0, result.stderr
    versions = project / "alembic" / "versions"
    files = sorted(p.name for p in versions.glob("*.py"))
    assert len(files) == COUNT - AT + 1, files
    script = ScriptDirectory.from_config(Config(project / "alembic.ini"))
    first = script.get_revision(rev(AT))
    assert first.down_revision is None
    assert Path(first.path).name.endswith(f"{rev(AT)}_squashed.py")
    assert list(first.module.squashed) == [rev(n) for n in range(1, AT + 1)]
    assert script.get_revision(rev(AT + 1)).down_revision == rev(AT)
    assert f"squashed {AT} revisions into" in result.stdout
    assert f"every database is at {rev(AT)} or later" in result.stdout


def test_the_schema_at_head_is_the_same_after_the_squash(squashed, at_head):
    assert schema.dump(at_head) == squashed["schema"]


def test_schema_sql_keeps_its_text_keyed_to_the_new_files(squashed):
    project = squashed["project"]
    written = (project / "schema.sql").read_text()
    assert written != squashed["schema.sql"]
    assert schema.without_key(written) == schema.without_key(squashed["schema.sql"])
    script = ScriptDirectory.from_config(Config(project / "alembic.ini"))
    assert f"-- Revisions: sha256 {schema.key(script)}\n" in written


def test_a_fresh_database_gets_the_reference_rows_and_goes_on_numbering_them(copy_at_head):
    fresh = copy_at_head
    assert query(fresh, "SELECT id, name, status::text FROM kind ORDER BY id") == [
        (1, "small", "live"),
        (2, "large", "draft"),
        (3, "100% odd: :name %s", "live"),
    ]
    assert query(fresh, "SELECT * FROM live_kind ORDER BY 1") == [
        ("100% odd: :name %s",),
        ("small",),
    ]
    # The sequence came along, and the trigger works on new rows only.
    engine = create_engine(fresh)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO kind (name, status) VALUES ('TINY', 'live')"))
    engine.dispose()
    assert query(fresh, "SELECT id, name FROM kind WHERE id = 4") == [(4, "tiny")]
    assert query(fresh, "SELECT count(*) FROM audit.entry") == [(1,)]
    assert query(fresh, "SELECT has_table_privilege('public', 'kind', 'SELECT')") == [(True,)]
    assert query(fresh, "SELECT has_function_privilege('public', 'kind_lower()', 'EXECUTE')") == [
        (False,)
    ]
    assert query(fresh, "SELECT count(*) FROM audit.alembic_notes") == [(1,)]


def test_a_database_at_a_later_revision_upgrades_to_head_over_the_squash(squashed):
    result = run_migrator("upgrade", "head", url=squashed["at_45"], cwd=squashed["project"])
    assert result.returncode == 0, result.stderr
    assert version(squashed["at_45"]) == [rev(COUNT)]
    assert run_migrator("check", url=squashed["at_45"], cwd=squashed["project"]).returncode == 0


def test_a_database_at_a_replaced_revision_is_refused_in_one_line_and_left_as_it_was(squashed):
    at_20 = squashed["at_20"]
    result = run_migrator("upgrade", "head", url=at_20, cwd=squashed["project"])
    assert_one_line_error(
        result,
        f"the database is at {rev(20)}, which the squash at {rev(AT)} replaced: upgrade it to "
        f"{rev(AT)} with the history before the squash (git checkout {squashed['commit']}), "
        "then come back",
    )
    assert version(at_20) == [rev(20)]
    assert held(at_20) == squashed["held_20"]


def test_once_committed_the_refusal_names_the_commit_before_the_squash(squashed, admin):
    project = squashed["project"]
    commit(project, "squash")
    try:
        result = run_migrator("upgrade", "head", url=squashed["at_20"], cwd=project)
    finally:
        git(project, "reset", "-q", "--soft", "HEAD~1")
    assert_one_line_error(result, f"(git checkout {squashed['commit']})")


def test_the_squashed_project_passes_check_lint_and_style(squashed, at_head):
    project = squashed["project"]
    check = run_migrator("check", url=at_head, cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    lint = run_migrator("lint", url=at_head, cwd=project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # A baseline the squash replaced still baselines what the squash holds.
    baselined = run_migrator("lint", url=at_head, cwd=project, LINT_BASELINE=rev(20))
    assert baselined.returncode == 0, baselined.stdout + baselined.stderr
    assert f"baselined (at or before LINT_BASELINE={rev(20)}, or squashed: " in baselined.stdout
    assert "baselined (squashed: already in production): 1 revision(s)" in lint.stdout
    assert_ruff_clean(project, next((project / "alembic" / "versions").glob("*_squashed.py")))


def test_the_squashed_revision_goes_down_to_base_and_up_again(squashed, fresh):
    project = squashed["project"]
    assert run_migrator("upgrade", rev(AT), url=fresh, cwd=project).returncode == 0
    down = run_migrator("downgrade", "base", url=fresh, cwd=project, SNAPSHOT_DIR=str(project))
    assert down.returncode == 0, down.stderr
    assert held(fresh) == {}
    assert run_migrator("upgrade", "head", url=fresh, cwd=project).returncode == 0
    assert schema.dump(fresh) == squashed["schema"]


def test_pytest_alembics_tests_pass_on_the_squashed_history(squashed, fresh, monkeypatch):
    """One head; up to head; up, down and up again, revision by revision."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    alembic_config = Config(squashed["project"] / "alembic.ini")
    alembic_config.attributes["without_models"] = True  # the fixture's, never in-process
    engine = create_engine(fresh)
    try:
        with runner(
            config=PytestAlembicConfig.from_raw_config(alembic_config), engine=engine
        ) as run:
            pytest_alembic_tests.test_single_head_revision(run)
            pytest_alembic_tests.test_upgrade(run)
            pytest_alembic_tests.test_up_down_consistency(run)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1;\n",
        'INSERT INTO t VALUES (\'a """ b\');\n',
        "INSERT INTO t VALUES ('line\r\nbreak');\n",
        "INSERT INTO t VALUES (E'\\\\');\n",
        "COMMENT ON TABLE t IS 'ends in a quote\"",
        "SELECT '\\';",
    ],
)
def test_the_sql_reads_back_exactly_from_the_revision_file(sql):
    assert ast.literal_eval(squasher.literal(sql)) == "\n" + sql


# ---- Refusals: one line, nothing changed.


@pytest.fixture
def small(project: Path) -> Path:
    """The fixture project with a third revision, committed to git."""
    add_revision(
        project,
        "3c3c3c3c3c3c",
        HEAD,
        'op.execute("CREATE TABLE t3 (id integer)")',
        'op.execute("DROP TABLE t3")',
    )
    commit(project, "three revisions")
    return project


def files(project: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (project / "alembic" / "versions").glob("*.py")}


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("feedfacecafe", "cannot squash at 'feedfacecafe': Can't locate revision"),
        ("base", "cannot squash at 'base': it names no single revision"),
        (FIRST, f"nothing to squash: {FIRST} (create address and family) is the first revision"),
    ],
)
def test_a_revision_that_is_not_one_to_squash_at_is_refused(small, database_url, target, words):
    kept = files(small)
    result = run_migrator("squash", target, url=database_url, cwd=small)
    assert_one_line_error(result, words)
    assert files(small) == kept


def test_a_branch_still_open_below_the_revision_is_refused(small, database_url):
    add_revision(small, "b1b1b1b1b1b1", FIRST, "pass")
    commit(small, "a branch")
    kept = files(small)
    result = run_migrator("squash", HEAD, url=database_url, cwd=small)
    assert_one_line_error(
        result,
        f"revision b1b1b1b1b1b1 (test revision b1b1b1b1b1b1) comes off {FIRST}, not after {HEAD}",
    )
    assert files(small) == kept


@pytest.mark.parametrize("change", ["edited", "untracked"])
def test_uncommitted_changes_in_the_revisions_folder_are_refused(small, database_url, change):
    versions = small / "alembic" / "versions"
    if change == "edited":
        path = next(versions.glob(f"*{FIRST}*.py"))
        path.write_text(path.read_text() + "# edited\n")
    else:
        (versions / "notes.txt").write_text("draft")
    kept = files(small)
    result = run_migrator("squash", HEAD, url=database_url, cwd=small)
    assert_one_line_error(result, "has changes git does not hold", "commit or remove them first")
    assert files(small) == kept


def test_revisions_git_does_not_keep_are_refused(project, database_url):
    kept = files(project)
    # Wherever the copy is, git looks no further up for a repository.
    result = run_migrator(
        "squash", HEAD, url=database_url, cwd=project, GIT_CEILING_DIRECTORIES=str(project.parent)
    )
    assert_one_line_error(
        result, "git status fails in alembic/versions/ (fatal: not a git repository"
    )
    assert files(project) == kept


def test_a_difference_found_by_the_proof_writes_and_deletes_nothing(
    small, database_url, monkeypatch
):
    """The proof on a revision that loses a row: pg_dump's rows of t3, one left out."""
    add_revision(
        small, "4d4d4d4d4d4d", "3c3c3c3c3c3c", 'op.execute("INSERT INTO t3 VALUES (1), (2)")'
    )
    commit(small, "rows")
    kept = files(small)
    monkeypatch.chdir(small)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(False))
    split = squasher.split
    monkeypatch.setattr(
        squasher,
        "split",
        lambda dumped: split(re.sub(r"INSERT INTO public\.t3 .*\(2\);\n", "", dumped)),
    )
    with pytest.raises(MigratorError) as refused:
        squasher.squash(Config(small / "alembic.ini"), "4d4d4d4d4d4d")
    assert "nothing was written or deleted: changed rows of table t3 (2 row(s)" in str(
        refused.value
    )
    assert "\n" not in str(refused.value)
    assert files(small) == kept
    assert (
        query(database_url, "SELECT datname FROM pg_database WHERE datname LIKE '%squash%'") == []
    )


def test_the_command_lines_x_options_reach_the_scratch_runs(small, database_url):
    """The run's one Config (issue 20 item 10), -x included, is what the proof's
    scratch upgrades get: this env.py notes each database it runs on for -x seen."""
    seen = small / "seen.txt"
    env_py = small / "alembic" / "env.py"
    env_py.write_text(
        env_py.read_text() + "\n_seen = context.get_x_argument(as_dictionary=True).get('seen')\n"
        "if _seen and config.attributes.get('connection') is not None:\n"
        "    with open(_seen, 'a') as _file:\n"
        "        _file.write(config.attributes['connection'].engine.url.database + '\\n')\n"
    )
    commit(small, "env.py notes -x seen")

    result = run_migrator(
        "-x", f"seen={seen}", "squash", "3c3c3c3c3c3c", url=database_url, cwd=small
    )

    assert result.returncode == 0, result.stderr
    ran_on = seen.read_text().split()
    assert any(name.endswith("squash_old") for name in ran_on), ran_on
    assert any(name.endswith("squash_new") for name in ran_on), ran_on


def once(function):
    """``function``, run until it first returns: its result is given again
    after that, without running it."""
    results = []

    def run(*args, **kwargs):
        if not results:
            results.append(function(*args, **kwargs))
        return results[0]

    return run


class Killed(BaseException):
    """A kill between two steps: nothing after it runs, no handler catches it."""


def test_a_kill_at_any_step_leaves_no_two_files_of_one_id_and_nothing_half_written(
    small, database_url, monkeypatch
):
    """The squash killed at each of its writes, renames and removals in the
    project in turn (a write killed halfway through its text), until one runs
    to the end: every state between has one file per revision id, each file
    whole (the old one or the new), a history Alembic reads, and git restores."""
    dumped = schema.HEADER + "-- the schema\n"
    (small / "schema.sql").write_text(
        schema.with_key(
            dumped, schema.key(ScriptDirectory.from_config(Config(small / "alembic.ini")))
        )
    )
    commit(small, "schema.sql")
    versions = small / "alembic" / "versions"
    kept = files(small)
    monkeypatch.chdir(small)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(False))
    steps = {"count": 0, "kill_at": 0}

    def step(path) -> None:
        if Path(path).resolve().is_relative_to(small.resolve()):
            steps["count"] += 1
            if steps["count"] == steps["kill_at"]:
                raise Killed

    def killable(function):
        def run(path, *args, **kwargs):
            if kwargs.get("dir_fd") is None:  # not shutil.rmtree's, of a temporary folder
                step(path)
            return function(path, *args, **kwargs)

        return run

    write_text = Path.write_text

    def half_written(self, data, *args, **kwargs):
        try:
            step(self)
        except Killed:
            write_text(self, data[: len(data) // 2], *args, **kwargs)
            raise
        return write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", half_written)
    # The dump of the history and the proof write nothing in the project, so
    # no kill lands in them: they run for real on the first attempt, not again
    # on each next one's same history.
    monkeypatch.setattr(squasher, "dump", once(squasher.dump))
    monkeypatch.setattr(squasher, "prove", once(squasher.prove))
    monkeypatch.setattr(os, "replace", killable(os.replace))
    monkeypatch.setattr(os, "rename", killable(os.rename))
    monkeypatch.setattr(os, "unlink", killable(os.unlink))

    squashed = None
    for kill_at in range(1, 20):
        steps.update(count=0, kill_at=kill_at)
        try:
            path, _ = squasher.squash(Config(small / "alembic.ini"), "3c3c3c3c3c3c")
        except Killed:
            pass
        else:
            squashed = path.read_text()
            break
        now = files(small)
        ids = [
            re.search(r'^revision(?:: str)? = "(\w+)"', source, re.MULTILINE).group(1)
            for source in now.values()
        ]
        assert len(ids) == len(set(ids)), (kill_at, sorted(now))
        for name, source in now.items():
            ast.parse(source)
            assert source == kept.get(name) or "squashed = {" in source, (kill_at, name)
        ScriptDirectory.from_config(Config(small / "alembic.ini")).get_revisions("heads")
        schema_sql = (small / "schema.sql").read_text()
        assert schema.without_key(schema_sql) == dumped and schema.recorded_key(), kill_at
        git(small, "checkout", "-q", "--", ".")
        git(small, "clean", "-qfd", "alembic/versions")
        assert files(small) == kept
    # Written aside and renamed: the revision, twice renamed; two removals; schema.sql.
    assert squashed is not None and kill_at == 8, kill_at
    new_key = schema.key(ScriptDirectory.from_config(Config(small / "alembic.ini")))
    assert schema.recorded_key() == new_key
    assert [name.endswith("3c3c3c3c3c3c_squashed.py") for name in files(small)] == [True]
    assert not list(versions.glob(".*"))
