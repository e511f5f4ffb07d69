"""End to end: `make up` with the real docker-compose.yml, under a project name
of its own so it never touches the developer's database."""

import contextlib
import json
import os
import shutil
import subprocess
import uuid

import docker
import pytest

from migrator.settings import PROJECT_ROOT
from tests.toolkit.test_check import PHONE_MODULE


def run(*args: str, environ: dict, cwd=PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300)


@pytest.fixture
def stack():
    environ = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": f"e2e{uuid.uuid4().hex[:10]}",
        # Any free host port: the developer's database may hold 5432.
        "POSTGRES_PORT": "0",
    }
    yield environ
    run("docker", "compose", "--profile", "dev", "down", "--volumes", environ=environ)


def test_make_up_migrates_a_fresh_database_then_is_a_no_op(stack):
    """And once the database is stopped, the migrator says so in one line."""
    first = run("make", "up", environ=stack)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "applied 2 revision(s); database at head" in first.stdout

    columns = run(
        "docker",
        "compose",
        "exec",
        "-T",
        "db",
        "sh",
        "-c",
        'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "'
        "SELECT table_name || '.' || column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY 1\"",
        environ=stack,
    )
    assert columns.stdout.split() == [
        "address.id",
        "address.permanent_addr",
        "address.temporary_addr",
        "alembic_checksums.applied_at",
        "alembic_checksums.checksum",
        "alembic_checksums.revision",
        "alembic_version.version_num",
        "family.id",
        "family.permanent_addr",
        "family.temporary_addr",
    ], columns.stderr

    second = run("make", "up", environ=stack)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already at head" in second.stdout

    run("docker", "compose", "stop", "db", environ=stack)
    stopped = run(
        "docker",
        "compose",
        "run",
        "--rm",
        "--no-deps",
        "-e",
        "DB_WAIT_TIMEOUT=2",
        "migrator",
        environ=stack,
    )
    assert stopped.returncode == 1
    errors = [line for line in stopped.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stopped.stderr
    assert errors[0].startswith(
        "error: database not reachable at db:5432 (database app, user app) within DB_WAIT_TIMEOUT"
    )


def test_safe_defaults_port_on_loopback_non_root_image_no_credentials_baked_in(stack):
    config = json.loads(
        run("docker", "compose", "config", "--format", "json", environ=stack).stdout
    )
    assert [p["host_ip"] for p in config["services"]["db"]["ports"]] == ["127.0.0.1"]

    try:
        image = docker.from_env().images.get("migrations/migrator")
    except docker.errors.ImageNotFound:
        pytest.fail("no migrations/migrator image: run `make build` first")
    assert image.attrs["Config"]["User"] == "app"
    baked = " ".join(image.attrs["Config"]["Env"]) + " ".join(
        layer["CreatedBy"] for layer in image.history()
    )
    for secret in ("PASSWORD", "DATABASE_URL", "postgresql://", "psycopg2://"):
        assert secret not in baked
    assert "://" not in (PROJECT_ROOT / "alembic.ini").read_text()


def test_make_revision_writes_one_file_owned_by_the_user_who_ran_make(stack):
    # A copy of the project inside the working tree: the dev container mounts
    # it by its path, which the Docker daemon must see too (`make test` mounts
    # the tree at the same path in the test container).
    copy = PROJECT_ROOT / ".e2e" / stack["COMPOSE_PROJECT_NAME"]
    shutil.copytree(
        PROJECT_ROOT,
        copy,
        ignore=shutil.ignore_patterns(".git", ".e2e", "backups", "__pycache__", "tests", "bench"),
    )
    user = os.getuid() or 4321  # root plays another user
    if os.getuid() == 0:
        for path in [copy, *copy.rglob("*")]:
            os.chown(path, user, user)
    ids = (f"HOST_UID={user}", f"HOST_GID={user}")
    try:
        upgraded = run("make", "upgrade", *ids, environ=stack, cwd=copy)
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        (copy / "models" / "phone.py").write_text(PHONE_MODULE)
        before = set((copy / "alembic" / "versions").glob("*.py"))

        written = run("make", "revision", "m=add phone", *ids, environ=stack, cwd=copy)

        assert written.returncode == 0, written.stdout + written.stderr
        (new,) = set((copy / "alembic" / "versions").glob("*.py")) - before
        assert new.name.endswith("_add_phone.py")
        assert (new.stat().st_uid, new.stat().st_gid) == (user, user)
        assert 'op.create_table(\n        "phone",' in new.read_text()
        assert "CREATE TABLE public.phone (" in (copy / "schema.sql").read_text()
    finally:
        run("docker", "compose", "--profile", "dev", "down", "--volumes", environ=stack, cwd=copy)
        shutil.rmtree(copy)
        with contextlib.suppress(OSError):  # left only if another run's copy is in it
            copy.parent.rmdir()
