"""The Makefile rejects bad arguments with one clear line before any container starts."""

import os
import re
import shutil
import subprocess

import pytest

from migrator.settings import PROJECT_ROOT


@pytest.fixture
def docker_calls(tmp_path):
    """A stand-in `docker` first on PATH that only records that it was called."""
    log = tmp_path / "docker-calls"
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    return log, f"{fake.parent}{os.pathsep}{os.environ['PATH']}"


def make(*args: str, path: str) -> subprocess.CompletedProcess:
    assert shutil.which("make"), "make is not installed: run the tests with `make test`"
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT_ROOT), *args],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revision"], "error: a message is required"),
        (["downgrade", "n=abc"], "error: n=abc is not a positive whole number"),
        (["downgrade", "n=0"], "error: n=0 is not a positive whole number"),
        (["downgrade", "n=-1"], "error: n=-1 is not a positive whole number"),
        (["downgrade", "n=1", "r=1a2b3c4d5e6f"], "error: give n= or r=, not both"),
        (["stamp"], "error: a revision is required"),
        (["restore"], "error: a snapshot is required"),
        (["sql", "r=head"], "error: r=head is not a range: give r=<from>:<to>"),
        (["lint", "r=1a2b3c4d5e6f"], "error: r=1a2b3c4d5e6f is not a range"),
    ],
)
def test_bad_arguments_fail_before_any_container_starts(docker_calls, args, message):
    log, path = docker_calls
    result = make(*args, path=path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert re.fullmatch(rf"Makefile:\d+: \*\*\* {re.escape(message)}.*\.  Stop\.", line), line
    assert not log.exists(), "docker was called despite the bad arguments"


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (
            ["revision", "m=add phone"],
            "compose --profile dev run --rm dev revision --autogenerate -m add phone",
        ),
        (
            ["revision", "m=seed data", "empty=1"],
            "compose --profile dev run --rm dev revision -m seed data",
        ),
        (
            ["revision", 'm=it\'s "quoted" `id`'],
            'compose --profile dev run --rm dev revision --autogenerate -m it\'s "quoted" `id`',
        ),
        (["merge"], "compose --profile dev run --rm dev merge heads -m merge heads"),
        (["downgrade"], "compose --profile dev run --rm dev downgrade -1"),
        (["downgrade", "n=2"], "compose --profile dev run --rm dev downgrade -2"),
        (
            ["downgrade", "r=1a2b3c4d5e6f"],
            "compose --profile dev run --rm dev downgrade 1a2b3c4d5e6f",
        ),
        (["upgrade"], "compose --profile dev run --rm dev upgrade head"),
        (["sql"], "compose --profile dev run --rm dev sql"),
        (["sql", "r=base:head"], "compose --profile dev run --rm dev sql base:head"),
        (
            ["lint", "r=1a2b3c4d5e6f:head"],
            "compose --profile dev run --rm dev lint 1a2b3c4d5e6f:head",
        ),
    ],
)
def test_good_arguments_reach_the_container(docker_calls, args, command):
    log, path = docker_calls
    assert make(*args, path=path).returncode == 0
    assert log.read_text().strip() == command


def test_help_is_the_default_and_lists_every_target(docker_calls):
    _, path = docker_calls
    listed = make(path=path).stdout
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z-]+):.*## ", makefile, re.MULTILINE)
    phony = re.search(r"^\.PHONY:((?:.*\\\n)*.*)", makefile, re.MULTILINE).group(1)
    assert sorted(targets) == sorted(phony.replace("\\", " ").split())
    for target in targets:
        assert f"make {target} " in listed
