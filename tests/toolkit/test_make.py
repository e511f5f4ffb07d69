"""The Makefile: bad arguments are rejected with one clear line before any
container starts, and good ones reach the toolbox as literal arguments."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from migrator.settings import PROJECT_ROOT


@pytest.fixture
def docker_calls(tmp_path):
    """A stand-in `docker` first on PATH that only records each call's
    arguments (one per line) and succeeds; its toolbox is running."""
    log = tmp_path / "docker-calls"
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(
        f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {log}\nprintf -- '--\\n' >> {log}\n"
        'if [ "$1" = container ]; then echo true; fi\n'
    )
    fake.chmod(0o755)
    return log, f"{fake.parent}{os.pathsep}{os.environ['PATH']}"


def calls(log: Path) -> list[list[str]]:
    return [call.strip("\n").split("\n") for call in log.read_text().split("--\n") if call]


def make(
    *args: str, path: str, cwd: Path = PROJECT_ROOT, **env: str
) -> subprocess.CompletedProcess:
    assert shutil.which("make"), "make is not installed: run the tests with `make test`"
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert re.fullmatch(rf"Makefile:\d+: \*\*\* {re.escape(message)}.*\.  Stop\.", line), line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revision"], "error: a message is required"),
        (["revision", "m=x", "empty=yes"], "error: empty=yes is not understood"),
        (["downgrade", "n=abc"], "error: n=abc is not a positive whole number"),
        (["downgrade", "n=0"], "error: n=0 is not a positive whole number"),
        (["downgrade", "n=-1"], "error: n=-1 is not a positive whole number"),
        (["downgrade", "n=1", "r=1a2b3c4d5e6f"], "error: give n= or r=, not both"),
        (["stamp"], "error: a revision is required"),
        (["restore"], "error: a snapshot is required"),
        (["repair"], "error: a revision is required: make repair r=<revision id>"),
        (["repair", "r=a;b"], "error: r=a;b is not a revision"),
        (["squash"], "error: a revision is required: make squash r=<revision id>"),
        (["squash", "r=a;b"], "error: r=a;b is not a revision"),
        (["sql", "r=a b"], "error: r=a b is not a revision"),
        (["lint", "r=1a2b3c4d5e6f"], "error: r=1a2b3c4d5e6f is not a range"),
        (["review", "r=1a2b3c4d5e6f"], "error: r=1a2b3c4d5e6f is not a range"),
        (["review", "format=html"], "error: format=html is not understood"),
        (["bench", "BENCH_RUNS=many"], "error: BENCH_RUNS=many is not a positive whole number"),
        (["bench", "BENCH_ITEMS=a;b"], "error: BENCH_ITEMS=a;b is not a list of items"),
        (["revision", "m=x", "rename=a b"], "error: rename=a b is not a list of renames"),
        (["revision", "m=x", "rename=a:b", "empty=1"], "error: give empty= or rename=, not both"),
    ],
)
def test_bad_arguments_fail_before_any_container_starts(docker_calls, args, message):
    log, path = docker_calls
    assert_refused(make(*args, path=path), message)
    assert not log.exists(), "docker was called despite the bad arguments"


MIGRATOR = ["python", "-m", "migrator"]


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["revision", "m=add phone"], ["revision", "--autogenerate", "-m", "add phone"]),
        (["revision", "m=seed data", "empty=1"], ["revision", "-m", "seed data"]),
        (
            ["revision", 'm=it\'s "quoted" `id`'],
            ["revision", "--autogenerate", "-m", 'it\'s "quoted" `id`'],
        ),
        (
            ["revision", "m=rename", "rename=book.title:book.name,pets:animals"],
            ["-x", "rename=book.title:book.name,pets:animals", "revision", "--autogenerate"]
            + ["-m", "rename"],
        ),
        (["merge"], ["merge", "heads", "-m", "merge heads"]),
        (["downgrade"], ["downgrade", "-1"]),
        (["downgrade", "n=2"], ["downgrade", "-2"]),
        (["downgrade", "r=1a2b3c4d5e6f"], ["downgrade", "1a2b3c4d5e6f"]),
        (["upgrade"], ["upgrade", "head"]),
        (["sql"], ["sql"]),
        (["sql", "r=base:head"], ["sql", "base:head"]),
        (["sql", "r=1a2b3c4d5e6f"], ["sql", "1a2b3c4d5e6f"]),
        (["lint", "r=1a2b3c4d5e6f:head"], ["lint", "1a2b3c4d5e6f:head"]),
        (["review"], ["review", "", "text"]),
        (["review", "r=base:head", "format=json"], ["review", "base:head", "json"]),
        (["restore", "f=snapshots/a b.dump"], ["restore", "snapshots/a b.dump"]),
        (["repair", "r=1a2b3c4d5e6f"], ["repair", "1a2b3c4d5e6f"]),
        (["squash", "r=1a2b3c4d5e6f"], ["squash", "1a2b3c4d5e6f"]),
    ],
)
def test_good_arguments_reach_the_toolbox_as_literal_arguments(docker_calls, args, command):
    log, path = docker_calls
    assert make(*args, path=path).returncode == 0
    # Whether the toolbox runs is asked before the command, once.
    inspect, call = calls(log)
    assert inspect[:2] == ["container", "inspect"]
    start = call.index("python")
    assert call[0] == "exec" and call[start - 1].endswith("-dev-1")
    assert call[start : start + 3] == MIGRATOR
    assert call[start + 3 :] == command


def test_help_is_the_default_and_lists_every_target(docker_calls):
    _, path = docker_calls
    listed = make(path=path).stdout
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z0-9-]+):.*## ", makefile, re.MULTILINE)
    phony = re.search(r"^\.PHONY:((?:.*\\\n)*.*)", makefile, re.MULTILINE).group(1)
    assert sorted(targets) == sorted(phony.replace("\\", " ").split())
    for target in targets:
        assert f"make {target} " in listed


def test_the_toolbox_runs_each_command_as_its_caller(docker_calls):
    log, path = docker_calls
    assert make("current", "HOST_UID=1234", "HOST_GID=5678", path=path).returncode == 0
    # Without make: whoever runs the script.
    script = subprocess.run(
        ["sh", "scripts/toolbox", "true"],
        cwd=PROJECT_ROOT,
        env={k: v for k, v in {**os.environ, "PATH": path}.items() if not k.startswith("HOST_")},
    )
    assert script.returncode == 0
    users = [arg for call in calls(log) for arg in call if arg.startswith("--user=")]
    assert users == ["--user=1234:5678", f"--user={os.getuid()}:{os.getgid()}"]
