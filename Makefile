# One command builds the book, one runs the tests; both set up .venv first.
#   make book       execute every chapter with full parameters, then build the HTML book
#   make test       the whole test suite (unit tests, chapters on small parameters, book build)
#   make workshop   every chapter with workshop parameters (minutes), HTML in build/workshop
#   make test-fast  unit tests only
#   make metrics    model chapters' numbers against tests/recorded/metrics.json (long, on demand)

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: book workshop test test-fast metrics bench system clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Chromium for the reader test (Debian package); skipped without root or apt-get.
system:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed and no root: the browser test will be skipped"; fi; }

book: $(STAMP)
	$(PY) -m checkin_traj.build --profile full

workshop: $(STAMP)
	$(PY) -m checkin_traj.build --profile workshop

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

clean:
	rm -rf build book/_build .pytest_cache
