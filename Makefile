# Every target runs its one command inside a container: nothing to install but
# Docker (Compose v2) and make. `make` alone lists them. Each target's plain
# `docker compose` command is in docs/development.md, for those without make.

.DEFAULT_GOAL := help
SHELL := /bin/sh

# ---- Arguments are data, never shell. Each variable is taken as the literal
# text given (`override X := $(value X)`: make never expands it), reaches the
# recipe's environment as is, and the recipe quotes it ("$$r"). First of all:
# make would expand a variable it exports to $(shell ...) below. The checks
# below look at the text itself with make's own functions, before any
# container starts; a bad value stops make with one line:
#   Makefile:NN: *** error: ...  Stop.
ARGUMENTS := r n m f empty format BENCH_RUNS BENCH_ITEMS rename
$(foreach v,$(ARGUMENTS),$(eval override $(v) := $$(value $(v))))
export $(ARGUMENTS)

# Files the dev container writes (revisions, snapshots) belong to you, not root.
export HOST_UID := $(shell id -u)
export HOST_GID := $(shell id -g)

# The dev profile holds the toolbox services (dev, test): naming it lets every
# Compose version build and run them.
COMPOSE := docker compose --profile dev
# The Alembic targets run in the dev toolbox container, started by the first of
# them and kept running until `make down`: `docker exec` into it costs a tenth
# of a second, a new container almost a second.
# exec: the recipe's shell gives way to the script, so make's SIGTERM on a
# stop reaches it, and through it the command in the toolbox.
TOOLBOX := exec sh scripts/toolbox
MIGRATOR := $(TOOLBOX) python -m migrator
# The test and bench containers see the working tree at its host path too: the
# Compose projects they start through the Docker socket mount paths inside it,
# which the daemon resolves on the host.
TESTS := $(COMPOSE) run --rm --build -v "$(CURDIR):$(CURDIR)" -w "$(CURDIR)"


nothing :=
space := $(nothing) $(nothing)
comma := ,
define newline


endef
# The text with every blank and `$` made visible, so that no character hides.
visible = $(subst $(newline),^,$(subst $(space),^,$(subst $$,^,$(1))))
# What is left of $(1) once every character in the list $(2) is taken out.
without = $(if $(2),$(call without,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,999,$(2))),$(1))
shown = $(subst $(newline),\n,$(value $(1)))
LOWER := a b c d e f g h i j k l m n o p q r s t u v w x y z
DIGITS := 0 1 2 3 4 5 6 7 8 9
# Alembic's revision syntax: ids, base/head(s), ranges, branch@, relative +N/-N.
UPPER := A B C D E F G H I J K L M N O P Q R S T U V W X Y Z
REVISION_CHARS := $(LOWER) $(UPPER) $(DIGITS) : + - @ _ .
NEWLINE_ERROR = $(error error: $(1)= holds a line break; give it on one line)

# $(call need,VAR,message): VAR must be given.
need = $(if $(value $(1)),,$(error error: $(2)))
# $(call revision,VAR): VAR is empty or in Alembic's revision syntax.
revision = $(if $(call without,$(call visible,$(value $(1))),$(REVISION_CHARS)),$(error error: $(1)=$(call shown,$(1)) is not a revision: use letters$(comma) digits and : + - @ _ . (e.g. $(1)=base:head)))
# $(call whole,VAR): VAR is empty or a positive whole number.
whole = $(if $(value $(1)),$(if $(or $(call without,$(call visible,$(value $(1))),$(DIGITS)),$(filter 0%,$(value $(1)))),$(error error: $(1)=$(call shown,$(1)) is not a positive whole number$(comma) e.g. $(1)=2)))
# $(call one_line,VAR): VAR has no line break.
one_line = $(if $(findstring $(newline),$(value $(1))),$(call NEWLINE_ERROR,$(1)))
not_both = $(if $(and $(value $(1)),$(value $(2))),$(error error: give $(1)= or $(2)=$(comma) not both))
range = $(call revision,r)$(if $(value r),$(if $(findstring :,$(value r)),,$(error error: r=$(call shown,r) is not a range: give r=<from>:<to>$(comma) e.g. r=base:head)))
flag = $(if $(filter-out 1,$(value $(1))),$(error error: $(1)=$(call shown,$(1)) is not understood: give $(1)=1 or leave it out))
# rename=book.title:book.name,pets:animals: names, dots, colons and commas only
# (the migrator checks each pair against the database and the models).
renames = $(if $(call without,$(call visible,$(value rename)),$(LOWER) $(UPPER) $(DIGITS) _ . : $(comma)),$(error error: rename=$(call shown,rename) is not a list of renames: use letters$(comma) digits$(comma) _ and . : $(comma) (e.g. rename=book.title:book.name$(comma)pets:animals)))$(call not_both,empty,rename)
form = $(if $(value format),$(if $(and $(filter text markdown json,$(value format)),$(filter 1,$(words $(value format)))),,$(error error: format=$(call shown,format) is not understood: give format=text$(comma) format=markdown or format=json)))
items = $(if $(call without,$(call visible,$(value BENCH_ITEMS)),$(LOWER) $(DIGITS) $(comma) -),$(error error: BENCH_ITEMS=$(call shown,BENCH_ITEMS) is not a list of items$(comma) e.g. BENCH_ITEMS=targets$(comma)refresh))

.PHONY: help up down reset logs psql build revision upgrade downgrade history current heads \
        check merge stamp snapshot restore sql lint review schema erd test test-migrations e2e style \
        bench remove-example repair squash

help: ## list the targets (this text)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

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

build: ## build the images and restart the toolbox on the new one
	$(COMPOSE) up --detach --build --wait dev

revision: ## write a revision from the model changes: make revision m="add phone" [empty=1] [rename=book.title:book.name]
	$(call need,m,a message is required: make revision m="add phone to address")$(call one_line,m)$(call flag,empty)$(renames)$(MIGRATOR) $${rename:+-x "rename=$$rename"} revision $(if $(value empty),,--autogenerate) -m "$$m"

upgrade: ## apply the pending revisions: make upgrade [r=<rev>]
	$(call revision,r)$(MIGRATOR) upgrade "$${r:-head}"

downgrade: ## snapshot, then revert: make downgrade [n=1 | r=<rev>]
	$(call not_both,n,r)$(call whole,n)$(call revision,r)$(MIGRATOR) downgrade "$${r:--$${n:-1}}"

history: ## list the revisions, marking the database's
	$(MIGRATOR) history --indicate-current

current: ## show the database's revision
	$(MIGRATOR) current --verbose

heads: ## show the newest revision(s)
	$(MIGRATOR) heads --verbose

check: ## fail when models and migrations differ (one line each) or an applied revision was edited
	$(MIGRATOR) check

merge: ## join two heads into one revision: make merge [m="merge heads"]
	$(call one_line,m)$(MIGRATOR) merge heads -m "$${m:-merge heads}"

stamp: ## record a revision as applied without running it: make stamp r=<rev>
	$(call need,r,a revision is required: make stamp r=<revision id>)$(call revision,r)$(MIGRATOR) stamp "$$r"

repair: ## record an applied revision's file as it is now, after a reviewed edit: make repair r=<rev>
	$(call need,r,a revision is required: make repair r=<revision id>)$(call revision,r)$(MIGRATOR) repair "$$r"

sql: ## print the SQL make upgrade would run, running nothing: make sql [r=<from>:<to> | r=<rev>]
	$(call revision,r)$(MIGRATOR) sql $${r:+"$$r"}

lint: ## lint each revision's SQL with squawk: make lint [r=<from>:<to>]
	$(range)$(MIGRATOR) lint $${r:+"$$r"}

review: ## trace the pending revisions on a throwaway copy of the database: make review [r=<from>:<to>] [format=text|markdown|json]
	$(range)$(form)$(MIGRATOR) review "$$r" "$${format:-text}"

schema: ## rebuild schema.sql, the schema at head, from the migrations
	$(MIGRATOR) schema

erd: ## redraw the ER diagram of the models (docs/erd.md, docs/erd.svg)
	$(MIGRATOR) erd

snapshot: ## snapshot the database into snapshots/
	$(MIGRATOR) snapshot

restore: ## replace the database with a snapshot: make restore f=snapshots/<file>.dump
	$(call need,f,a snapshot is required: make restore f=snapshots/<file>.dump)$(call one_line,f)$(MIGRATOR) restore "$$f"

squash: ## replace the revisions up to <rev> with one, proven to build the same: make squash r=<rev>
	$(call need,r,a revision is required: make squash r=<revision id>)$(call revision,r)$(MIGRATOR) squash "$$r"

remove-example: ## delete the example (its models, revisions, data test, generated files)
	$(MIGRATOR) remove-example

# A worker that runs out of tests takes some of another's queue (worksteal):
# with xdist's default a worker keeps the tests it was handed at the start, and
# one that drew the stairway of a long history finishes long after the others.
PYTEST_WORKERS := -n auto --dist worksteal

test: ## run the test suite: your migrations and the toolkit (pytest + testcontainers)
	$(TESTS) test $(PYTEST_WORKERS)

test-migrations: ## run only the tests of your migrations (tests/migrations/)
	$(TESTS) test $(PYTEST_WORKERS) tests/migrations

e2e: ## run the end-to-end scenarios: make driven in copies of the project (slow; the dev container's: .ci/run)
	$(TESTS) test -n 2 tests/e2e --ignore=tests/e2e/test_devcontainer.py

style: ## ruff check and ruff format --check on the code
	$(TOOLBOX) sh -c 'ruff check . && ruff format --check .'

bench: ## time the targets, the refresh, make up and make test against their floors [BENCH_RUNS=5 BENCH_ITEMS=...]
	$(call whole,BENCH_RUNS)$(items)$(TESTS) -e BENCH_RUNS -e BENCH_ITEMS --entrypoint python test -m bench
