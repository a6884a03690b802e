# One command builds the book, one runs the tests; both set up .venv first.
#   make book       execute every chapter with full parameters, then build the HTML book
#   make test       the whole test suite (unit tests, chapters on small parameters, book build)
#   make workshop   every chapter with workshop parameters (minutes), HTML in build/workshop
#   make test-fast  unit tests only
#   make metrics    model chapters' numbers against tests/recorded/metrics.json (long, on demand)
#   make constraints  record the installed versions in constraints.txt (make book installs with them)
#   make format-notebooks  re-write notebooks/*.md as jupytext writes them (no diff when saved from Jupyter)
#   make pages      copy the chapters' #@save cells into src/checkin_traj/pages/ (after editing one)

#   CHECKIN_TRAJ_PROFILE=test make book   forces one profile on `book` and `workshop` (test:
#                   seconds, synthetic data; tests/test_docs.py runs the README's recipes so)

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

PROFILES = full workshop test
ifneq ($(CHECKIN_TRAJ_PROFILE),)
ifeq ($(filter $(CHECKIN_TRAJ_PROFILE),$(PROFILES)),)
$(error CHECKIN_TRAJ_PROFILE must be one of $(PROFILES), got '$(CHECKIN_TRAJ_PROFILE)')
endif
endif
BOOK_PROFILE     = $(or $(CHECKIN_TRAJ_PROFILE),full)
WORKSHOP_PROFILE = $(or $(CHECKIN_TRAJ_PROFILE),workshop)

.PHONY: book workshop test test-fast metrics bench system clean format-notebooks constraints pages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The book's numbers are rebuilt with the versions they were made with (constraints.txt).
BOOK_STAMP = $(VENV)/.constrained
$(BOOK_STAMP): $(STAMP) constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book]"
	touch $(BOOK_STAMP)

# Chromium for the reader test and the PostgreSQL server for the tuning workers test (Debian
# packages); skipped without root or apt-get.
system:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed and no root: the browser test will be skipped"; fi; }
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "postgresql not installed and no root: the PostgreSQL tuning test will be skipped"; fi; }

# A full build also records its headline numbers (benchmarks/records/quality.json) and the README's table.
book: $(BOOK_STAMP)
	$(PY) benchmarks/build_times.py --profile $(BOOK_PROFILE)
	if [ "$(BOOK_PROFILE)" = full ]; then $(PY) benchmarks/quality_record.py build/full --write; fi

workshop: $(BOOK_STAMP)
	$(PY) benchmarks/build_times.py --profile $(WORKSHOP_PROFILE)

test: $(STAMP) system
	$(PY) -m pytest -n 2 --dist loadgroup -m "not metrics"

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

metrics: $(STAMP)
	$(PY) -m pytest tests/test_metric_tier.py -m metrics

bench: $(STAMP)
	$(PY) benchmarks/bench_full_size.py --keep build/bench/checkins-full.txt --repeat 5 --write-record
	$(PY) benchmarks/bench_nyc.py --write-record
	$(PY) benchmarks/bench_build.py --profile test --write-record
	@if [ -d build/full/models/venue_ranker ]; then $(PY) benchmarks/bench_predict.py --workdir build/full --write-record; \
	else echo "bench_predict.py skipped: no full build yet (make book first; it saves the models predict reads)"; fi

# Record the installed versions as the book's constraints (after a deliberate upgrade).
constraints: $(STAMP)
	{ echo "# The exact versions the book's numbers were built with (Python $$($(PY) -c 'import platform; print(platform.python_version())'), Linux x86_64)."; \
	  echo "# make book installs with them: pip install -c constraints.txt -e \".[book]\"; make constraints re-writes this file."; \
	  $(PY) -m pip freeze --exclude checkin-traj; } > constraints.txt

format-notebooks: $(STAMP)
	$(PY) tools/format_notebooks.py

pages: $(STAMP)
	$(PY) tools/export_pages.py

clean:
	rm -rf build book/_build .pytest_cache
