"""Without Docker the suite must fail loudly, never skip itself green."""

import os
import subprocess
import sys

from migrator.settings import PROJECT_ROOT


def test_the_suite_stops_with_one_clear_message_when_docker_is_unreachable():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_migrations.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DOCKER_HOST": "tcp://127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stdout
    assert "Docker is not reachable, so no test can run" in result.stdout
    assert " passed" not in result.stdout
