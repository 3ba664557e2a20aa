# Everyday verbs. The README's Quickstart names two: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
ARGS   ?=

.PHONY: install run test lint format migrations-check ci bench bench-login worker beat clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## run: the product with its Clever look-alike and demo district at http://127.0.0.1:8000
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v 0
	DEBUG=1 $(BIN)/python manage.py demo $(ARGS)

## test: the whole suite (DATABASE_URL / CELERY_BROKER_URL when set, else SQLite and skips)
test: install
	DEBUG=1 $(BIN)/python -m pytest $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

worker: install
	$(BIN)/celery -A config worker -l info

beat: install
	$(BIN)/celery -A config beat -l info

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

## bench-login: complete Clever logins at 1, 10 and 50 concurrent users (gunicorn + look-alike)
bench-login: install
	$(BIN)/python bench/login.py $(ARGS)

## bench: the sync benchmark into PostgreSQL (DATABASE_URL): 10k and 100k students; ARGS=--million adds 1M
bench: install
	DEBUG=1 $(BIN)/python bench/sync.py $(ARGS)

## bench-lookalike: load and page a synthetic 100k-student district in the Clever look-alike
bench-lookalike: install
	DEBUG=1 $(BIN)/python bench/bench_lookalike.py --students 100000
