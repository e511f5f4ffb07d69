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

COMPOSE_FILES = (
    "docker-compose.yml",
    ".devcontainer/docker-compose.db.yml",
    ".devcontainer/docker-compose.devcontainer.yml",
)


def run(*args: str, cwd: Path, environ: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=600)


@pytest.fixture
def workspace(tmp_path: Path):
    """A copy of the project and the environment the CLI runs in; everything
    it started is removed after, volumes and the images it derived included."""
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


def test_the_dev_container_runs_the_tests_make_psql_and_docker_against_its_db(workspace):
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

    up = run("devcontainer", "up", "--workspace-folder", str(copy), cwd=copy, environ=environ)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    outcome = json.loads(up.stdout.strip().splitlines()[-1])
    assert outcome["outcome"] == "success"
    assert outcome["composeProjectName"] == environ["COMPOSE_PROJECT_NAME"]
    # The tree at its host path: the Compose projects make starts mount it.
    assert outcome["remoteWorkspaceFolder"] == str(copy)

    python = inside("sh", "-c", "command -v python; id -un")
    assert python.stdout.split() == ["/opt/venv/bin/python", "app"], python.stderr

    tests = inside(
        "pytest", "-q", "-n", "0", "tests/toolkit/test_integrations.py", "-k", "kubernetes"
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout

    psql = inside("psql", "-Atc", "SELECT current_user")
    assert (psql.returncode, psql.stdout.strip()) == (0, "app"), psql.stderr

    current = inside("make", "current")
    assert current.returncode == 0, current.stdout + current.stderr
    assert "Current revision(s) for postgresql+psycopg2://app:***@db:5432/app" in current.stdout

    # make's `run --rm` reused the dev container's db (no second one, no
    # restart) and left nothing behind; that db publishes no port, so it never
    # clashes with the one `make up` runs on the host.
    listed = run(
        "docker",
        "ps",
        "--all",
        "--filter",
        f"label=com.docker.compose.project={environ['COMPOSE_PROJECT_NAME']}",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.Status}} {{.Ports}}',
        cwd=copy,
        environ=environ,
    )
    services = sorted(line.split()[0] for line in listed.stdout.splitlines())
    assert services == ["db", "dev"], listed.stdout
    db = next(line for line in listed.stdout.splitlines() if line.startswith("db "))
    assert "->" not in db, db
