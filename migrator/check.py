"""`python -m migrator check` (`make check`): the models and the migrations
agree, and no applied revision was edited since it ran.

The database must be at head; autogenerate then compares it with the models
through the pipeline `make revision` uses (env.py's options and its
process_revision_directives hooks), and each difference comes out as one line
of what the next revision would do (migrator/diff.py words them):

    + add column address.phone VARCHAR(20)
    - drop table legacy (id INTEGER NOT NULL)
    ~ change type of address.permanent_addr from VARCHAR(100) to VARCHAR(200)
    ~ change values of enum order_status from ('pending', 'paid') to ('pending', 'paid', 'shipped')
    ~ book.title → book.name looks like a rename (make revision asks, or give rename=...)

What a rename would leave to do is found by renaming in a savepoint that is
rolled back (migrator/renames.py): nothing changes, but the renamed tables are
locked (ACCESS EXCLUSIVE, bounded by LOCK_TIMEOUT) for those milliseconds, as
during `make revision`.
"""

import logging

from alembic.autogenerate import RevisionContext
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from migrator import MigratorError, checksums, label, renames
from migrator.diff import changes, describe

# `alembic revision --autogenerate`'s own arguments, as Alembic's check gives them.
AUTOGENERATE = dict(
    message=None,
    autogenerate=True,
    sql=False,
    head="head",
    splice=False,
    branch_label=None,
    version_path=None,
    rev_id=None,
    depends_on=None,
)


def run(alembic_cfg: Config) -> None:
    script = ScriptDirectory.from_config(alembic_cfg)
    problems: list[str] = []

    def compare(heads, context) -> list:
        problems.extend(checksums.edited(context.connection, script))
        if set(heads) != set(script.get_heads()):
            problems.append(
                f"the database is at {label(heads)}, not at head "
                f"{label(script.get_heads())}: `make upgrade` first"
            )
            return []
        # Autogenerate's INFO lines ("Detected added table ...") would drown the diff.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # What `make revision` would write, hooks included (Alembic's own check
        # does the same): produce_migrations alone would skip them.
        revision = RevisionContext(alembic_cfg, script, AUTOGENERATE)
        revision.run_autogenerate(heads, context)
        upgrade_ops = revision.generated_revisions[-1].upgrade_ops
        # A candidate rename is one line, and what it explains is not repeated.
        lines, upgrade_ops = renames.pending(context, upgrade_ops)
        lines += [describe(change) for change in changes(upgrade_ops)]
        print("\n".join(lines or ["the models match the migrations"]))
        if lines:
            problems.append(
                f"the models and the migrations differ ({len(lines)} change(s) above): "
                'write a revision with make revision m="..."'
            )
        return []

    # Runs env.py (connection, lock, autogenerate options) with `compare` in
    # place of the migrations.
    with EnvironmentContext(alembic_cfg, script, fn=compare):
        script.run_env()
    if problems:
        raise MigratorError("; ".join(problems))
