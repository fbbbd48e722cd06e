# Course workbook: `make demo` (grading round trip), `make test` (CI's suite) and `make test-full` (everything).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ASSIGNMENTS := $(notdir $(wildcard source/*))

.PHONY: all venv data system-deps demo test test-full test-browser test-fast test-hub chromium lint lab hub hub-deps hub-setup release lock bench bench-notebooks bench-hub clean

all: demo

# uv (pinned in the lock) installs the locked packages in parallel and compiles their bytecode (sandboxed
# grading runs cannot write it): ~1 min instead of pip's ~3.5 min on 2 cores
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements.lock)"
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -c requirements.lock -e '.[dev]'
	touch $@

venv: $(STAMP)

# Real Fashion-MNIST, offline where Debian's package can be installed, else downloaded once.
data:
	@sh .ci/get-data.sh

release: venv
	$(PY) -m course_utils.instructor.demo release $(ASSIGNMENTS)

demo: venv data
	$(PY) -m course_utils.instructor.demo all $(ASSIGNMENTS)

# The grader's sandbox (bubblewrap) and a real PostgreSQL server for the gradebook tests.
system-deps:
	@command -v bwrap >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| apt-get install -y -q bubblewrap postgresql >/dev/null \
		|| { apt-get update -q >/dev/null && apt-get install -y -q bubblewrap postgresql >/dev/null; }

# ruff: lint and formatting (settings in pyproject.toml)
lint: venv
	$(VENV)/bin/ruff check course_utils tests benchmarks nbgrader_config.py
	$(VENV)/bin/ruff format --check course_utils tests benchmarks nbgrader_config.py

PYTEST_ALL := $(PY) -m pytest -q -n 2 --dist loadscope tests --ignore=tests/browser --ignore=tests/hub --nbval-lax source

# CI's suite: every part once (the stock round trip on most examples, the grader on ps1's; see `test-full`)
test: venv data system-deps lint
	$(PYTEST_ALL)

# test plus the slow repeats (--full): every example in the stock round trip and in the grader, a second
# whole demo, every source notebook at its full training budget
test-full: venv data system-deps lint
	$(PYTEST_ALL) --full

# Real-browser tests (Debian chromium + Python playwright, no browser download).
chromium:
	@test -x /usr/bin/chromium || apt-get install -y -q chromium >/dev/null \
		|| { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }

test-browser: venv data chromium
	$(PY) -m pytest -q tests/browser -p no:cacheprovider -s

test-fast: venv
	$(PY) -m pytest -q tests --ignore=tests/browser --ignore=tests/hub -m "not pipeline"

lab: venv data
	$(PY) -m course_utils.instructor.lab

# The course on a real JupyterHub on 127.0.0.1 (as root: Unix accounts from hub/roster.csv, docs/hub.md)
# Only the missing ones: Debian's npm conflicts with a nodejs that bundles npm (as on CI's machines)
hub-deps:
	@missing=$$(for tool in sudo npm bwrap; do command -v $$tool >/dev/null || echo $$tool; done | sed s/bwrap/bubblewrap/); \
		test -z "$$missing" || apt-get install -y -q $$missing >/dev/null \
		|| { apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null; }

hub-setup: venv data hub-deps
	$(PY) -m course_utils.instructor.hub setup

hub: hub-setup
	$(PY) -m course_utils.instructor.hub start

# The hub end to end: accounts, students through their servers, Formgrader, grading, feedback (as root)
test-hub: venv data hub-deps chromium
	$(PY) -m pytest -q tests/hub -p no:cacheprovider

bench-hub: venv data hub-deps
	$(PY) benchmarks/hub_load.py

# The benchmarks with targets (ps2 explorers and autoencoder, course grade vs stock) and one summary table
bench: venv data system-deps
	$(PY) benchmarks/summary.py

bench-notebooks: venv data
	$(PY) benchmarks/notebook_times.py

lock: venv
	$(PY) -m pip freeze --exclude-editable | grep -v '^course-utils' > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf submitted autograded/*/ feedback gradebook.db grades.csv grades-*.csv grades.html grades_status.csv integrity-*.csv demo.log
