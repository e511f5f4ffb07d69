"""The integrations a team's own tools pick up: the CI workflow (actionlint),
the pre-commit hooks (offline, in a git repository of the fixture project), the
Kubernetes examples (against the schemas kubernetes-validate ships)."""

import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path, PurePosixPath

import kubernetes_validate
import pytest
import yaml

from migrator.settings import PROJECT_ROOT
from tests import forked
from tests.helpers import add_revision, assert_one_line_error, version
from tests.toolkit.conftest import FIRST, FIXTURE, HEAD

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "migrations.yml"
HOOKS = PROJECT_ROOT / ".pre-commit-config.yaml"
MANIFESTS = PROJECT_ROOT / "deploy" / "kubernetes"


def actionlint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["actionlint", "-oneline", str(path)], capture_output=True, text=True, timeout=60
    )


def test_the_ci_workflow_passes_actionlint_which_flags_a_broken_one(tmp_path):
    clean = actionlint(WORKFLOW)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stdout + clean.stderr

    broken = tmp_path / "migrations.yml"
    broken.write_text(
        WORKFLOW.read_text().replace(
            "- uses: actions/checkout@v6\n",
            "- uses: actions/checkout@v6\n        with:\n          no-such-input: 1\n",
        )
    )
    flagged = actionlint(broken)
    assert flagged.returncode == 1
    assert 'input "no-such-input" is not defined' in flagged.stdout


def git(repository: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repository, env=isolated(repository), check=True)


def home_of(repository: Path) -> Path:
    return repository.with_name(f"{repository.name}-home")


def isolated(repository: Path) -> dict[str, str]:
    """An environment of the repository's own: no global git configuration, no
    hook cache shared with the user's, and first on PATH the repository's
    `python` (see ``repository``), then this interpreter's tools (the hooks
    run `python` and `ruff` by name)."""
    home = home_of(repository)
    return {
        **os.environ,
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "PATH": os.pathsep.join(
            [str(home / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }


def pre_commit(repository: Path, *args: str, **env_vars: str) -> subprocess.CompletedProcess:
    return forked.run(
        ["-m", "pre_commit", "run", "--color=never", *args],
        str(repository),
        {**isolated(repository), **env_vars},
    )


@pytest.fixture(scope="module")
def forked_python(tmp_path_factory):
    """The hooks' `python`: forked from this worker's fork server (tests/forked.py),
    as the hostile-argument matrix's is, so that each hook's `python -m
    migrator.precommit` does not import the libraries again."""
    with forked.relay(tmp_path_factory.mktemp("relay") / "socket") as command:
        yield command


@pytest.fixture
def repository(project: Path, forked_python: list[str]) -> Path:
    """The fixture project, with the migrator and the hooks, committed to a git
    repository of its own; its `python` is ``forked_python``."""
    python = home_of(project) / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec {shlex.join(forked_python)} "$@"\n')
    python.chmod(0o755)
    shutil.copytree(
        PROJECT_ROOT / "migrator",
        project / "migrator",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(HOOKS, project)
    git(project, "init", "--quiet")
    git(project, "add", ".")
    git(project, "commit", "--quiet", "--message", "the fixture project")
    return project


def test_the_hooks_are_local_and_pass_on_a_clean_tree(repository):
    # Local hooks only: pre-commit clones nothing, so it works offline.
    assert {repo["repo"] for repo in yaml.safe_load(HOOKS.read_text())["repos"]} == {"local"}

    result = pre_commit(repository, "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Passed") == 4, result.stdout
    assert "warning:" not in result.stdout


def test_two_heads_fail_the_hooks_naming_both_and_make_merge(repository):
    second = add_revision(repository, "b0b0b0b0b0b0", FIRST, "pass")
    git(repository, "add", str(second))

    result = pre_commit(repository, "--all-files")
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stdout
    assert errors[0].startswith("error: multiple heads: ")
    assert HEAD in errors[0] and "b0b0b0b0b0b0" in errors[0] and "make merge" in errors[0]


def change(path: Path) -> None:
    path.write_text(path.read_text() + "# changed\n")


def test_a_staged_model_change_without_a_new_revision_is_a_warning_only(repository):
    model = sorted((repository / "models").glob("*.py"))[-1]
    change(model)
    git(repository, "add", str(model))

    warned = pre_commit(repository, "models-changed")
    assert warned.returncode == 0, warned.stdout + warned.stderr
    warnings = [line for line in warned.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, warned.stdout
    assert f"models/{model.name} changed but no revision was added" in warnings[0]

    git(repository, "add", str(add_revision(repository, "c0c0c0c0c0c0", HEAD, "pass")))
    quiet = pre_commit(repository, "models-changed")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "warning:" not in quiet.stdout


def test_the_models_are_where_models_metadata_says(repository):
    (repository / "models").rename(repository / "schema")
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", "models moved")
    model = sorted((repository / "schema").glob("*.py"))[-1]
    change(model)
    change(repository / "alembic" / "env.py")
    git(repository, "add", "--all")

    result = pre_commit(repository, "models-changed", MODELS_METADATA="schema:Base.metadata")
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stdout
    assert warnings[0].startswith(f"warning: schema/{model.name} changed but")


def test_the_hook_module_refuses_an_unknown_check_in_one_line():
    result = forked.run(
        ["-m", "migrator.precommit", "two-heads"], str(PROJECT_ROOT), dict(os.environ)
    )
    assert_one_line_error(result, "usage: python -m migrator.precommit one-head")
    assert result.returncode == 2


def test_the_kubernetes_examples_are_valid_and_a_misspelt_field_is_not():
    manifests = sorted(MANIFESTS.glob("*.yaml"))
    assert [m.name for m in manifests] == ["init-container.yaml", "migration-job.yaml"]
    version = kubernetes_validate.latest_version()
    for manifest in manifests:
        for document in yaml.safe_load_all(manifest.read_text()):
            kubernetes_validate.validate(document, version, strict=True)

    job = yaml.safe_load((MANIFESTS / "migration-job.yaml").read_text())
    job["spec"]["template"]["spec"]["container"] = job["spec"]["template"]["spec"]["containers"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, version, strict=True)


def migrator_container(manifest: Path) -> tuple[dict, dict]:
    """The pod spec and its container that runs the migrator image."""
    pod = yaml.safe_load(manifest.read_text())["spec"]["template"]["spec"]
    [container] = [
        c for c in pod.get("initContainers", []) + pod["containers"] if "migrator" in c["image"]
    ]
    return pod, container


def secret_volumes(pod: dict, container: dict, environ: dict, values: dict, at: Path) -> list[str]:
    """The Secrets the container mounts, as folders under ``at`` holding the
    files its ``*_FILE`` settings name (with ``values``' values): Docker's -v
    arguments for them."""
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {
        mount["name"]: PurePosixPath(mount["mountPath"]) for mount in container["volumeMounts"]
    }
    for name, path in environ.items():
        if name.endswith("_FILE"):
            [volume] = [v for v, to in mounts.items() if to in PurePosixPath(path).parents]
            assert "secret" in volumes[volume], volume
            secret = at / volume / PurePosixPath(path).relative_to(mounts[volume])
            secret.parent.mkdir(parents=True, exist_ok=True)
            secret.write_text(values[name.removesuffix("_FILE")])
            secret.chmod(0o644)  # a Secret volume's default mode
    return [arg for volume, to in mounts.items() for arg in ("-v", f"{at / volume}:{to}:ro")]


@pytest.fixture(scope="module")
def migrator_image() -> str:
    """The migrator image, as `make up` builds it (the Dockerfile's runtime stage)."""

    def compose(*args: str) -> str:
        done = subprocess.run(
            ["docker", "compose", *args], cwd=PROJECT_ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    compose("build", "--quiet", "migrator")
    # Compose names it <project>-<service>.
    return f"{json.loads(compose('config', '--format', 'json'))['name']}-migrator"


@pytest.mark.parametrize("manifest", ["migration-job.yaml", "init-container.yaml"])
def test_each_kubernetes_example_migrates_a_database_as_its_pod_would_run(
    manifest, migrator_image, postgres, database_url
):
    """The manifest's arguments, settings, secret files and security context,
    given to Docker, on the fixture's history: only the database's address is
    the test's."""
    pod, container = migrator_container(MANIFESTS / manifest)
    environ = {variable["name"]: variable["value"] for variable in container["env"]}
    address = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": "5432",
        "POSTGRES_USER": database_url.username,
        "POSTGRES_DB": database_url.database,
    }
    environ.update((name, value) for name, value in address.items() if name in environ)
    secrets = {
        "DATABASE_URL": database_url.set(host="127.0.0.1", port=5432).render_as_string(False),
        "POSTGRES_PASSWORD": database_url.password,
    }
    security = {**pod["securityContext"], **container["securityContext"]}
    assert security["readOnlyRootFilesystem"] and security["capabilities"]["drop"] == ["ALL"]
    assert security["allowPrivilegeEscalation"] is False

    # Where the Docker daemon sees it: the tree is at its host path in the
    # test container too.
    at = PROJECT_ROOT / ".e2e" / f"secrets-{uuid.uuid4().hex[:10]}"
    try:
        result = subprocess.run(
            [
                *("docker", "run", "--rm", "--read-only", "--cap-drop", "ALL"),
                *("--security-opt", "no-new-privileges", "--user", str(security["runAsUser"])),
                # On the database container's network: it is at 127.0.0.1:5432.
                *("--network", f"container:{postgres.get_wrapped_container().id}"),
                *("-v", f"{FIXTURE / 'models'}:/app/models:ro"),
                *("-v", f"{FIXTURE / 'alembic' / 'versions'}:/app/alembic/versions:ro"),
                *secret_volumes(pod, container, environ, secrets, at),
                *(arg for item in environ.items() for arg in ("-e", "=".join(item))),
                migrator_image,
                *container["args"],
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(at, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout
    assert version(database_url) == [HEAD]
