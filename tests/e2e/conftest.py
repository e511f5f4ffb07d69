"""End to end: `make` driven in a copy of the project, as a user drives it,
under a Compose project name of its own (its own database, toolbox and
images, removed after), never touching the developer's stack.

The copy lives inside the working tree (.e2e/): the containers make starts
mount it by its path, which the Docker daemon must see too (`make e2e` mounts
the tree at its host path in the test container)."""

import contextlib
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migrator.settings import PROJECT_ROOT
from tests.toolkit.conftest import FIXTURE

Make = Callable[..., subprocess.CompletedProcess]


def run(*args: str, cwd: Path, environ: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout
    )


def copy_of_the_project(to: Path, models_and_revisions: Path | None = FIXTURE) -> None:
    """The whole project as a user has it; its models and revisions are
    ``models_and_revisions``' (the toolkit's fixture by default, never yours)."""
    shutil.copytree(
        PROJECT_ROOT,
        to,
        ignore=shutil.ignore_patterns(
            ".git", ".e2e", ".venv", "snapshots", "__pycache__", ".ruff_cache", "bench"
        ),
    )
    if models_and_revisions is not None:
        for folder in ("models", "alembic/versions"):
            shutil.rmtree(to / folder)
            shutil.copytree(models_and_revisions / folder, to / folder)
        for generated in ("schema.sql", "docs/erd.md", "docs/erd.svg"):
            shutil.copy(models_and_revisions / generated, to / generated)


@pytest.fixture
def project_copy() -> Iterator[tuple[Path, Make]]:
    """A copy of the project owned by another user (root plays one), and
    make(*args) running in it as that user would (make("docker", ...) runs a
    plain docker command there, under the copy's Compose project;
    uid=N: make as that user; background=True: make started, not awaited, in
    a process group of its own, on the terminal ``terminal`` if given)."""
    name = f"e2e{uuid.uuid4().hex[:10]}"
    copy = PROJECT_ROOT / ".e2e" / name
    copy_of_the_project(copy)
    user = os.getuid() or 4321
    if os.getuid() == 0:
        for path in [copy, *copy.rglob("*")]:
            os.chown(path, user, user)
    environ = {**os.environ, "COMPOSE_PROJECT_NAME": name, "POSTGRES_PORT": "0"}
    ids = (f"HOST_UID={user}", f"HOST_GID={user}")

    def make(
        *args: str,
        uid: int | None = None,
        background: bool = False,
        terminal: int | None = None,
        **extra_env: str,
    ) -> subprocess.CompletedProcess | subprocess.Popen:
        if args and args[0] == "docker":  # a plain Compose command in the copy
            return run(*args, cwd=copy, environ={**environ, **extra_env})
        user_ids = ids if uid is None else (f"HOST_UID={uid}", f"HOST_GID={uid}")
        command = ("make", "--no-print-directory", *args, *user_ids)
        if background:
            return subprocess.Popen(
                command,
                cwd=copy,
                env={**environ, **extra_env},
                stdin=terminal,
                stdout=terminal or subprocess.PIPE,
                stderr=terminal or subprocess.PIPE,
                text=True,
                start_new_session=True,
                # As from a shell: SIGINT is not ignored (pytest's worker may).
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        return run(*command, cwd=copy, environ={**environ, **extra_env})

    try:
        yield copy, make
    finally:
        run(
            "docker",
            "compose",
            "--profile",
            "dev",
            "down",
            "--volumes",
            "--rmi",
            "local",
            cwd=copy,
            environ=environ,
        )
        shutil.rmtree(copy)
        with contextlib.suppress(OSError):  # left only if another run's copy is in it
            copy.parent.rmdir()


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr
