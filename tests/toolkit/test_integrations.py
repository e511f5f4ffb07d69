"""The integrations a team's own tools pick up: the CI workflow (actionlint),
the pre-commit hooks (offline, in a git repository of the fixture project), the
Kubernetes examples (against the schemas kubernetes-validate ships)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from migrator.settings import PROJECT_ROOT
from tests.helpers import add_revision
from tests.toolkit.conftest import FIRST, HEAD

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


def isolated(repository: Path) -> dict[str, str]:
    """An environment of the repository's own: no global git configuration, no
    hook cache shared with the user's, this interpreter's tools first on PATH
    (the hooks run `python` and `ruff` by name)."""
    home = repository.with_name(f"{repository.name}-home")
    return {
        **os.environ,
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }


def pre_commit(repository: Path, *args: str, **env_vars: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--color=never", *args],
        cwd=repository,
        env={**isolated(repository), **env_vars},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def repository(project: Path) -> Path:
    """The fixture project, with the migrator and the hooks, committed to a git
    repository of its own."""
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
