# The two commands of the quick start: `make run` and `make test`. Each sets up what is
# missing first: the virtualenv, the install (again only when pyproject.toml changed), the
# database schema.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-js lint format install migrate bench soak clean

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

test: install lint test-js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The JS client's tests need Node.js; without it they are skipped with a message, except
# where JOBSENTINEL_REQUIRE_SERVICES says every test must run (CI).
test-js:
	@if command -v node >/dev/null 2>&1; then \
		node --test tests/js/; \
	elif [ -n "$$JOBSENTINEL_REQUIRE_SERVICES" ]; then \
		echo "Node.js is required (JOBSENTINEL_REQUIRE_SERVICES is set): install it to run tests/js/" >&2; \
		exit 1; \
	else \
		echo "Node.js not found: skipping the JS client's tests (tests/js/); install Node.js to run them."; \
	fi

bench: migrate
	$(BIN)/python -m bench $(BENCH_ARGS)

# The ten-minute reliability run: 1,000 sockets, events flowing, memory and delivery checked.
soak: migrate
	$(BIN)/python -m bench soak $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/test-*.sqlite3 .mypy_cache .pytest_cache .ruff_cache
