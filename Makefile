# The two commands of the README: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck pytest pytest-postgres schema clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/retailos demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy bench  # apart: bench's scripts share names with packages of src

# The whole suite on the embedded SQLite database.
pytest: $(STAMP)
	$(BIN)/python -m pytest

# Everything that touches the database again, on a throwaway PostgreSQL cluster that the
# suite starts itself; skipped with a message where PostgreSQL is not installed.
pytest-postgres: $(STAMP)
	RETAILOS_TEST_BACKEND=postgres $(BIN)/python -m pytest --ignore=tests/walkout --ignore=tests/sim

test: lint typecheck pytest pytest-postgres

# Before the first release the schema is one migration, regenerated from the models.
schema: $(STAMP)
	rm -f src/retailos/migrations/versions/0001_initial_schema.py
	$(BIN)/python -m retailos.core.migrate regenerate

clean:
	rm -rf $(VENV) .retailos
