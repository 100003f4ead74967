# Two commands on a bare machine: `make demo` and `make test`. Everything else is set up by them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIMULATOR := scripts/backstage_simulator

.PHONY: demo test chromium lint score benchmark db-start db-stop clean

# The simulator is its own distribution (a development tool): in the same command, so pip takes it for the dev
# extra (the tool first: an older pip would look for the simulator's dependency, the tool, on the index).
$(STAMP): pyproject.toml $(SIMULATOR)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e $(SIMULATOR)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cogito-migrate db start
	$(BIN)/cogito-migrate simulate --scale 1 --seed 42 > .demo-manifest.json
	$(BIN)/cogito-migrate run

# Two pytest processes, one a core: most of a test's time is one dbt process or one server backend. Each module runs
# whole on one of them (its session fixtures, the migrated templates, are built once per process that needs them).
TEST_PROCESSES ?= 2

test: $(STAMP) chromium
	$(BIN)/cogito-migrate db start
	$(BIN)/pytest --numprocesses $(TEST_PROCESSES) --dist loadfile

# The browser tests' Chromium (Debian's, through apt when missing; Playwright, in the dev extra, drives it and
# downloads no browser): checked on every `make test`, a no-op once installed.
chromium:
	scripts/ensure-chromium.sh

lint: $(STAMP)
	$(BIN)/cogito-migrate db start
	$(BIN)/sqlfluff lint

# dbt-score on the parsed manifest (rules, thresholds: [tool.dbt-score] in pyproject.toml); parse needs no database.
score: $(STAMP)
	DBT_PROFILES_DIR=profiles $(BIN)/dbt parse --quiet
	$(BIN)/dbt-score lint

benchmark: $(STAMP)
	$(BIN)/cogito-migrate benchmark

db-start: $(STAMP)
	$(BIN)/cogito-migrate db start

db-stop: $(STAMP)
	$(BIN)/cogito-migrate db stop

clean:
	-$(BIN)/cogito-migrate db stop
	rm -rf $(VENV) .pgdata target logs dbt_packages .demo-manifest.json
