# The two commands of the quick start: `make run` and `make test`. Each sets up what is
# missing first: the virtualenv, the install (again only when pyproject.toml changed), the
# database schema.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint format install migrate bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-logo
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install lint
	node --test tests/js/
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: migrate
	$(BIN)/python -m bench $(BENCH_ARGS)

# The ten-minute reliability run: 1,000 sockets, events flowing, memory and delivery checked.
soak: migrate
	$(BIN)/python -m bench soak $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/test-*.sqlite3 .mypy_cache .pytest_cache .ruff_cache
