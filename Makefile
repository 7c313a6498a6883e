# The two commands: `make run` (the site with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Run the suite on PostgreSQL: make test TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres
TEST_DATABASE_URL ?=
PYTEST_ARGS ?=

.PHONY: install run test browser translations extract-messages check-content clean bench bench-tools bench-quiz bench-org

install: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d lms/translations -D messages --statistics 2>&1 | tail -n 2

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract --ignore-dirs ".* test-artifacts instance" -F babel.cfg -k _l -k lazy_gettext -o lms/translations/messages.pot .
	$(BIN)/pybabel update -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching

# The site and the background worker together (scripts/dev.py): database, courseware and demo data first; one
# Ctrl-C stops both. Without an SMTP server, e-mails go to the local mailbox at /manage/mailbox.
run: install
	$(BIN)/python scripts/dev.py --host $(HOST) --port $(PORT)

browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "The browser tests need Debian's Chromium: sudo apt-get install chromium chromium-driver"; exit 1; fi; }

test: install browser
	TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest $(PYTEST_ARGS)

# The benchmark (README, "Benchmark"): the LMS against a floor app, a table of figures and goals, exit 1 when one
# is missed. make bench [DB=postgresql] [BENCH_ARGS="--small"]; the seeded organisation is cached in .cache/bench/
# (SQLite) or kept as a template database (PostgreSQL).
DB ?= sqlite
BENCH_POSTGRESQL_URL ?= postgresql://postgres@127.0.0.1:5432/
bench: install bench-tools
	BENCH_POSTGRESQL_URL="$(BENCH_POSTGRESQL_URL)" $(BIN)/python bench/run.py --db $(DB) $(BENCH_ARGS)

bench-tools:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "The benchmark needs Debian's wrk: sudo apt-get install wrk"; exit 1; fi; }

# Quiz submission under load against the floor (an endpoint inserting one row); figures in the README.
bench-quiz: install
	$(BIN)/python bench/quiz_submit.py $(BENCH_ARGS)

# The manager's pages on a synthetic organisation (10,000 agents, 1,000,000 attempts by default).
bench-org: install
	$(BIN)/python bench/org_pages.py $(BENCH_ARGS)

check-content: install
	$(BIN)/flask --app lms content check

clean:
	rm -rf $(VENV) instance .pytest_cache

# The role-play pre-check against the trainers' calibration set (roleplays/calibration/README.md): Spearman,
# per-criterion agreement, traps and excellent transcripts per band; exit 1 when a goal is missed.
.PHONY: bench-precheck
bench-precheck: install
	$(BIN)/python bench/precheck.py $(BENCH_ARGS)
