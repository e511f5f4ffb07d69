"""The checks .pre-commit-config.yaml runs: offline, from the revision files and
git alone, no database.

  python -m migrator.precommit one-head              fail unless the revisions have one head
  python -m migrator.precommit models-changed FILE.. warn when a model file is staged
                                                     without a new revision
"""

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from migrator import MigratorError
from migrator.settings import env

USAGE = "python -m migrator.precommit one-head | models-changed [FILE ...]"


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(Config(env("ALEMBIC_CONFIG")))


def refuse_multiple_heads(script: ScriptDirectory) -> None:
    """Two heads make "head" mean nothing: `make merge` joins them."""
    heads = script.get_heads()
    if len(heads) > 1:
        described = ", ".join(f"{rev} ({script.get_revision(rev).doc})" for rev in heads)
        raise MigratorError(f"multiple heads: {described}; run `make merge` to join them")


def models_location() -> Path:
    """Where the models live, from MODELS_METADATA's module."""
    module = Path(*env("MODELS_METADATA").partition(":")[0].split("."))
    if module.is_dir():
        return module  # a package: models/
    if module.parent != Path():
        return module.parent  # a module in a package: models/base.py -> models/
    return module.with_suffix(".py")  # a module of its own: schema.py


def staged(*options: str) -> set[Path]:
    """The files staged for the next commit (git diff's --diff-filter narrows)."""
    listing = subprocess.run(
        ["git", "diff", "--cached", "--name-only", "--no-renames", *options],
        capture_output=True,
        text=True,
    )
    if listing.returncode:
        first = (listing.stderr.strip().splitlines() or ["no message"])[0]
        raise MigratorError(f"git diff --cached failed (run it in the repository): {first}")
    return {Path(line) for line in listing.stdout.splitlines()}


def models_changed(files: list[str]) -> None:
    models = models_location()
    # `pre-commit run --all-files` passes every file: only staged ones changed.
    changed = sorted(
        str(f) for f in staged().intersection(map(Path, files)) if models in (f, *f.parents)
    )
    if not changed:
        return
    revisions = {Path(s.path).resolve() for s in scripts().walk_revisions()}
    if any(f.resolve() in revisions for f in staged("--diff-filter=A")):
        return
    print(
        f"warning: {', '.join(changed)} changed but no revision was added: "
        'make revision m="..." writes one (ignore this if the change needs none)'
    )


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["one-head"]:
                refuse_multiple_heads(scripts())
            case ["models-changed", *files]:
                models_changed(files)
            case _:
                print(f"error: usage: {USAGE}", file=sys.stderr)
                return 2
    except (MigratorError, CommandError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
