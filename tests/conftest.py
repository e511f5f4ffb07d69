"""One PostgreSQL container per test worker (the image Compose uses), and a
fresh database in it for every test that asks."""

import os
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from testcontainers.community.postgres import PostgresContainer

from migrator.settings import required

IN_MEMORY = "/var/lib/postgresql/in-memory"


def pytest_sessionstart(session: pytest.Session) -> None:
    # Every test needs Docker, directly or through the migrator's database: say
    # so once and stop, rather than skip (a green run that tested nothing).
    try:
        docker.from_env().ping()
    except Exception as exc:  # whatever the cause, the suite cannot run
        pytest.exit(f"Docker is not reachable, so no test can run: {exc}", returncode=3)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's: unknown under -p no:xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    # `-n auto` (make test): a good part of the suite waits (lock timeouts,
    # retry pauses, a database that is down), so one worker more than there
    # are cores keeps the cores busy meanwhile. xdist's own setting still wins.
    if configured := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(configured)
    return len(os.sched_getaffinity(0)) + 1


def workers() -> int:
    """The test workers of this run: pytest-xdist's (make test runs -n auto), else one."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


HISTORY = "tests/migrations"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The tests of your migrations cost more the longer your history (the
    # stairway's segments, the replays from base): each worker starts with its
    # turn of them, so that they run side by side.
    items[:] = dealt(items, workers(), lambda item: HISTORY in item.nodeid)


def dealt(items: list, count: int, heavy: Callable[[object], bool]) -> list:
    """``items`` reordered for ``count`` workers: xdist's worksteal hands each
    a contiguous share of the list (sized as here), and a worker that runs dry
    takes from the end of another's. So the ``heavy`` items are dealt in turn
    to the front of the shares that have room, and the light ones fill the
    rest, each kind in its order."""
    if count < 2:
        return list(items)
    sizes, left = [], len(items)
    for worker in range(count):
        sizes.append(left // (count - worker))
        left -= sizes[-1]
    shares: list[list] = [[] for _ in sizes]
    turn = 0
    for item in filter(heavy, items):
        while len(shares[turn % count]) == sizes[turn % count]:
            turn += 1
        shares[turn % count].append(item)
        turn += 1
    light = iter([item for item in items if not heavy(item)])
    for share, size in zip(shares, sizes, strict=True):
        share += [next(light) for _ in range(size - len(share))]
    return [item for share in shares for item in share]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresContainer]:
    # The data in memory, fsync off: the tests never survive a crash, and a
    # CREATE DATABASE takes 20 ms instead of 200 ms (a test that needs a
    # database makes one). PGDATA is set, not assumed: images move it.
    image = f"postgres:{required('POSTGRES_VERSION')}"
    container = (
        PostgresContainer(image, username="test", password="s3cret-pw", dbname="postgres")
        .with_command("postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        .with_env("PGDATA", IN_MEMORY)
        .with_tmpfs_mount(IN_MEMORY)
    )
    with container:
        yield container


@pytest.fixture(scope="session")
def admin(postgres: PostgresContainer) -> Iterator[Engine]:
    engine = create_engine(postgres.get_connection_url(), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def create_database(admin: Engine, template: str = "template0") -> URL:
    name = f"test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return admin.url.set(database=name)


def drop_database(admin: Engine, url: URL) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))


def new_database(admin: Engine, template: str = "template0") -> Iterator[URL]:
    url = create_database(admin, template)
    yield url
    drop_database(admin, url)


@pytest.fixture
def database_url(admin: Engine) -> Iterator[URL]:
    """An empty database of its own for this test."""
    yield from new_database(admin)


@pytest.fixture
def connection(database_url: URL) -> Iterator[Connection]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()
