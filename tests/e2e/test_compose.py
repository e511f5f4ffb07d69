"""End to end: `make up`, `make upgrade` and `make revision` with the real
docker-compose.yml, in a copy of the project holding the toolkit's fixture."""

import json

import docker
import pytest

from tests.e2e.conftest import output
from tests.helpers import add_revision
from tests.toolkit.conftest import HEAD
from tests.toolkit.test_check import PHONE_MODULE

PSQL = ("docker", "compose", "exec", "-T", "db", "sh", "-c")


def test_make_up_migrates_a_fresh_database_then_is_a_no_op(project_copy):
    """And once the database is stopped, the migrator says so in one line."""
    copy, make = project_copy
    first = make("up")
    assert first.returncode == 0, output(first)
    assert "applied 2 revision(s); database at head" in first.stdout

    columns = make(
        *PSQL,
        'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "'
        "SELECT table_name || '.' || column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY 1\"",
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

    second = make("up")
    assert second.returncode == 0, output(second)
    assert "already at head" in second.stdout

    make("docker", "compose", "stop", "db")
    stopped = make(
        "docker", "compose", "run", "--rm", "--no-deps", "-e", "DB_WAIT_TIMEOUT=2", "migrator"
    )
    assert stopped.returncode == 1
    errors = [line for line in stopped.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stopped.stderr
    assert errors[0].startswith(
        "error: database not reachable at db:5432 (database app, user app) within DB_WAIT_TIMEOUT"
    )


def test_safe_defaults_port_on_loopback_non_root_image_no_credentials_baked_in(project_copy):
    copy, make = project_copy
    config = json.loads(make("docker", "compose", "config", "--format", "json").stdout)
    assert [p["host_ip"] for p in config["services"]["db"]["ports"]] == ["127.0.0.1"]

    assert make("docker", "compose", "build", "migrator").returncode == 0
    # Named after the Compose project: another checkout never overwrites it.
    (name,) = [
        image
        for image in make("docker", "compose", "config", "--images").stdout.split()
        if image.endswith("migrator")
    ]
    assert name.startswith(copy.name)
    try:
        image = docker.from_env().images.get(name)
    except docker.errors.ImageNotFound:
        pytest.fail(f"no {name} image after docker compose build")
    assert image.attrs["Config"]["User"] == "app"
    baked = " ".join(image.attrs["Config"]["Env"]) + " ".join(
        layer["CreatedBy"] for layer in image.history()
    )
    for secret in ("PASSWORD", "DATABASE_URL", "postgresql://", "psycopg2://"):
        assert secret not in baked
    assert "://" not in (copy / "alembic.ini").read_text()


def test_make_revision_writes_one_file_owned_by_the_user_who_ran_make(project_copy):
    copy, make = project_copy
    user = copy.stat().st_uid
    upgraded = make("upgrade")
    assert upgraded.returncode == 0, output(upgraded)
    (copy / "models" / "phone.py").write_text(PHONE_MODULE)
    before = set((copy / "alembic" / "versions").glob("*.py"))

    written = make("revision", "m=add phone")

    assert written.returncode == 0, output(written)
    (new,) = set((copy / "alembic" / "versions").glob("*.py")) - before
    assert new.name.endswith("_add_phone.py")
    assert (new.stat().st_uid, new.stat().st_gid) == (user, user)
    assert 'op.create_table(\n        "phone",' in new.read_text()
    assert "CREATE TABLE public.phone (" in (copy / "schema.sql").read_text()


def test_make_review_traces_a_pending_revision_on_a_copy_it_drops(project_copy):
    """Through make and Compose: the copy is made next to the development
    database, the Markdown is all that reaches stdout with make -s, and the
    development database is left where it was."""
    copy, make = project_copy
    assert make("upgrade").returncode == 0
    add_revision(copy, "e2e0e2e0e2e0", HEAD, 'op.add_column("address", sa.Column("x", sa.Text()))')

    reviewed = make("-s", "review", "format=markdown")

    assert reviewed.returncode == 0, output(reviewed)
    lines = reviewed.stdout.splitlines()
    assert lines[0].startswith(f"## make review: {HEAD}:head on a copy of ")
    assert "### revision e2e0e2e0e2e0: test revision e2e0e2e0e2e0" in lines
    assert any(
        line.startswith("| ALTER TABLE address ADD COLUMN x TEXT | AccessExclusiveLock on address")
        for line in lines
    )
    assert HEAD in make("current").stdout
    databases = make(
        *PSQL, 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "SELECT datname FROM pg_database"'
    )
    assert not [name for name in databases.stdout.split() if name.endswith("_review")]
