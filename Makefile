# Every target runs its one command inside a container: nothing to install but
# Docker (Compose v2) and make. `make` alone lists them. Each target's plain
# `docker compose` command is in the README, for those without make.

.DEFAULT_GOAL := help
SHELL := /bin/sh

# Files the dev container writes (revisions, snapshots) belong to you, not root.
export HOST_UID := $(shell id -u)
export HOST_GID := $(shell id -g)

# The dev profile holds the toolbox services (dev, test): naming it lets every
# Compose version build and run them.
COMPOSE := docker compose --profile dev
DEV := $(COMPOSE) run --rm dev
# The test and bench containers see the working tree at its host path too: the
# Compose projects they start through the Docker socket mount paths inside it,
# which the daemon resolves on the host.
AT_HOST_PATH := -v "$(CURDIR):$(CURDIR)" -w "$(CURDIR)"

# Argument checks. They are expanded before the recipe runs, so bad input stops
# make with one line ("Makefile:NN: *** error: ...  Stop.") and no container starts.
comma := ,
need = $(if $($(1)),,$(error error: $(2)))
whole = $(if $(shell printf '%s' '$($(1))' | grep -Ex '[1-9][0-9]*'),,$(error error: $(1)=$($(1)) is not a positive whole number$(comma) e.g. $(1)=2))
not_both = $(if $(and $($(1)),$($(2))),$(error error: give $(1)= or $(2)=$(comma) not both))
range = $(if $(r),$(if $(findstring :,$(r)),,$(error error: r=$(r) is not a range: give r=<from>:<to>$(comma) e.g. r=base:head)))

.PHONY: help up down reset logs psql build revision upgrade downgrade history current heads \
        check merge stamp backup restore test bench sql lint schema erd

help: ## list the targets (this text)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

up: ## start PostgreSQL and migrate it to head
	$(COMPOSE) run --rm --build migrator

down: ## stop the containers (the data stays)
	$(COMPOSE) down

reset: ## delete the database volume: every row is gone (asks nothing)
	@echo "reset: removing the containers and the database volume; run 'make up' for an empty, migrated database"
	$(COMPOSE) down --volumes

logs: ## follow the logs of the containers (the database's, mostly)
	$(COMPOSE) logs --follow

psql: ## open psql in the database container
	$(COMPOSE) exec db sh -c 'psql -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"'

build: ## build the migrator and dev images
	$(COMPOSE) build migrator dev

revision: ## write a revision from the model changes: make revision m="add phone" [empty=1]
	$(call need,m,a message is required: make revision m="add phone to address")$(DEV) revision $(if $(filter 1,$(empty)),,--autogenerate) -m "$$m"

upgrade: ## apply the pending revisions: make upgrade [r=<rev>]
	$(DEV) upgrade $(or $(r),head)

downgrade: ## snapshot, then revert: make downgrade [n=1 | r=<rev>]
	$(call not_both,n,r)$(if $(n),$(call whole,n))$(DEV) downgrade $(or $(r),-$(or $(n),1))

history: ## list the revisions, marking the database's
	$(DEV) history --indicate-current

current: ## show the database's revision
	$(DEV) current --verbose

heads: ## show the newest revision(s)
	$(DEV) heads --verbose

check: ## fail when models and migrations differ (one line each) or an applied revision was edited
	$(DEV) check

merge: ## join two heads into one revision: make merge [m="merge heads"]
	$(DEV) merge heads -m "$${m:-merge heads}"

stamp: ## record a revision as applied without running it: make stamp r=<rev>
	$(call need,r,a revision is required: make stamp r=1a2b3c4d5e6f)$(DEV) stamp $(r)

sql: ## print the SQL make upgrade would run, running nothing: make sql [r=<from>:<to>]
	$(range)$(DEV) sql $(r)

lint: ## lint each revision's SQL with squawk: make lint [r=<from>:<to>]
	$(range)$(DEV) lint $(r)

schema: ## rebuild schema.sql, the schema at head, from the migrations
	$(DEV) schema

erd: ## redraw the ER diagram of the models (README.md and erd.svg)
	$(DEV) erd

backup: ## snapshot the database into backups/
	$(DEV) backup

restore: ## replace the database with a snapshot: make restore f=backups/<file>.dump
	$(call need,f,a snapshot is required: make restore f=backups/<file>.dump)$(DEV) restore "$$f"

test: build ## run the test suite (pytest + testcontainers)
	$(COMPOSE) run --rm $(AT_HOST_PATH) test

bench: build ## time make up, long chains, tests, image sizes against their floors [BENCH_RUNS=5]
	$(COMPOSE) run --rm $(AT_HOST_PATH) -e BENCH_RUNS -e BENCH_ITEMS --entrypoint python test bench/run.py
