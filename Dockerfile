# Two images from one file (docker compose builds both):
#   runtime  the migrator: the code and what it needs to run `alembic upgrade`
#   dev      the toolbox for make: + pytest, testcontainers, ruff, squawk,
#            pg_dump/psql for the server's version, the docker CLI; the working tree is mounted into it
# No `# syntax=` line and no RUN --mount: builds with Docker 20.10's classic
# builder as well as with BuildKit.

# The Python both stages build on, named once; the virtualenv built in one
# stage runs in the other only on the same interpreter.
ARG PYTHON_IMAGE=python:3.13-slim

# ---- uv resolves nothing at build time: it installs exactly what uv.lock pins.
FROM ${PYTHON_IMAGE} AS deps
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
WORKDIR /build
# Only the lock files: this layer, the slow one, is rebuilt only when they change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev

FROM deps AS dev-deps
RUN uv sync --frozen

# ---- what both images share: Python, the virtualenv on PATH, a non-root user.
FROM ${PYTHON_IMAGE} AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN useradd --uid 1000 --create-home app
WORKDIR /app

FROM base AS dev
# From .env, through docker-compose.yml: pg_dump refuses a newer server.
ARG POSTGRES_VERSION
# pg_dump/pg_restore/psql for snapshots (the server's major version or newer),
# the docker CLI + compose for the end-to-end test, make for the Makefile tests,
# graphviz for the ER diagram.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        postgresql-client-${POSTGRES_VERSION} docker-cli docker-compose make graphviz git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=dev-deps /opt/venv /opt/venv
# Runs as whatever user owns the working tree: give every user a writable home.
ENV HOME=/tmp
# The working tree is bind-mounted at /app; run as the host user (see compose),
# kept running as the toolbox the Makefile's targets `docker exec` into.
USER app
CMD ["sleep", "infinity"]

# ---- last, so a plain `docker build .` gives the migrator.
FROM base AS runtime
COPY --from=deps /opt/venv /opt/venv
COPY alembic.ini ./
COPY alembic alembic
COPY models models
COPY migrator migrator
# Byte-compiled now, so no start-up pays for compiling (the user can't write here).
RUN python -m compileall -q alembic models migrator
USER app
ENTRYPOINT ["python", "-m", "migrator"]
CMD ["upgrade", "head"]
