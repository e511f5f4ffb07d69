"""End to end: the dev container, as VS Code's "Reopen in Container" starts it,
driven by the Dev Containers CLI (`devcontainer`, from npm) in a copy of the
project, under a Compose project name of its own.

The CLI runs where Docker's paths are the host's: run this file on the host
(.ci/run does), not in the test container, which has no Node.js."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from migrator.settings import PROJECT_ROOT
from tests.toolkit.conftest import FIXTURE, HEAD

COMPOSE_FILES = ("docker-compose.yml", ".devcontainer/docker-compose.devcontainer.yml")


def run(*args: str, cwd: Path, environ: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=600)


@pytest.fixture
def workspace(tmp_path: Path):
    """A copy of the project and the environment the CLI runs in; everything
    it started is removed after, volumes and the images it built included."""
    if shutil.which("devcontainer") is None:
        pytest.fail("no `devcontainer` on PATH: npm install -g @devcontainers/cli")
    name = f"devc{uuid.uuid4().hex[:10]}"
    copy = tmp_path / name
    shutil.copytree(
        PROJECT_ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".e2e", "snapshots", "__pycache__", ".ruff_cache"
        ),
    )
    # The toolkit's fixture history, not yours: the test passes whatever yours is.
    for folder in ("models", "alembic/versions"):
        shutil.rmtree(copy / folder)
        shutil.copytree(FIXTURE / folder, copy / folder)
    if os.getuid() == 0:
        # The tree belongs to whoever opens it; VS Code runs as `app` with that
        # user's uid, except for root, which it leaves as the image's 1000.
        for path in (copy, *copy.rglob("*")):
            os.chown(path, 1000, 1000, follow_symlinks=False)
    environ = {**os.environ, "COMPOSE_PROJECT_NAME": name}
    yield copy, environ
    files = [arg for path in COMPOSE_FILES for arg in ("-f", path)]
    run(
        "docker",
        "compose",
        *files,
        "--profile",
        "dev",
        "down",
        "--volumes",
        "--rmi",
        "local",
        cwd=copy,
        environ=environ,
    )
    derived = run(
        "docker",
        "images",
        "--quiet",
        "--filter",
        f"reference=vsc-{name}-*",
        cwd=copy,
        environ=environ,
    ).stdout.split()
    if derived:
        run("docker", "rmi", "--force", *derived, cwd=copy, environ=environ)


def containers(environ: dict) -> dict[str, tuple[str, str]]:
    """The Compose project's containers: service -> (id, published ports)."""
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--filter",
            f"label=com.docker.compose.project={environ['COMPOSE_PROJECT_NAME']}",
            "--format",
            '{{.Label "com.docker.compose.service"}}\t{{.ID}}\t{{.Ports}}',
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert len({service for service, *_ in rows}) == len(rows), listed.stdout
    return {service: (container, ports) for service, container, ports in rows}


def test_the_dev_container_runs_the_tests_make_psql_and_docker_against_its_own_db(workspace):
    copy, environ = workspace

    def inside(*command: str) -> subprocess.CompletedProcess:
        return run(
            "devcontainer",
            "exec",
            "--workspace-folder",
            str(copy),
            *command,
            cwd=copy,
            environ=environ,
        )

    started = run("devcontainer", "up", "--workspace-folder", str(copy), cwd=copy, environ=environ)
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    outcome = json.loads(started.stdout.strip().splitlines()[-1])
    assert outcome["outcome"] == "success"
    assert outcome["composeProjectName"] == environ["COMPOSE_PROJECT_NAME"]
    # The tree at its host path: the Compose projects make starts mount it.
    assert outcome["remoteWorkspaceFolder"] == str(copy)
    before = containers(environ)
    assert sorted(before) == ["db", "devcontainer"]
    # No port on the host: it never clashes with the db `make up` runs there.
    assert "->" not in before["db"][1], before

    python = inside("sh", "-c", "command -v python; id -un")
    assert python.stdout.split() == ["/opt/venv/bin/python", "app"], python.stderr

    # A test that starts its own PostgreSQL and a container, as most do.
    tests = inside(
        "pytest",
        "-q",
        "-n",
        "0",
        "tests/toolkit/test_integrations.py::"
        "test_each_kubernetes_example_migrates_a_database_as_its_pod_would_run[migration-job.yaml]",
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout

    psql = inside("psql", "-Atc", "SELECT current_user")
    assert (psql.returncode, psql.stdout.strip()) == (0, "app"), psql.stderr

    migrated = inside("make", "up")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    current = inside("make", "current")
    assert current.returncode == 0, current.stdout + current.stderr
    assert "Current revision(s) for postgresql+psycopg2://app:***@db:5432/app" in current.stdout
    assert f"Rev: {HEAD} (head)" in current.stdout

    # make started its toolbox (`dev`) next to the dev container, on its db,
    # recreating neither; its other containers came and went (`run --rm`).
    after = containers(environ)
    assert sorted(after) == ["db", "dev", "devcontainer"]
    assert after["db"] == before["db"] and after["devcontainer"] == before["devcontainer"]
