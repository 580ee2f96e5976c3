# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test test-fast lint format lock migrate demo smoke bench-airtable bench-generate bench-scrape bench-engage bench-health bench-inbox bench-report clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv==0.13.8
	$(UV) pip install -q --python $(PY) -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --no-input -v0

## Demo leads with their messages written (the review queue starts full; nothing is sent before approval).
demo: migrate
	$(PY) manage.py loaddata -v0 demo_leads
	$(PY) manage.py generate --limit 100 > /dev/null
	$(PY) manage.py collectstatic --no-input -v0
	$(PY) manage.py ensure_admin

## The app on its embedded default: SQLite, the ORM broker, emails as files under var/outbox, demo leads.
## The demo sends at any hour, a few seconds apart, so approved emails leave within a minute; a real
## team's window and gap (README, "Sending at a human pace") apply when these are set in the shell.
run: export OUTREACH_SEND_WINDOW ?=
run: export OUTREACH_SEND_GAP_SECONDS ?= 2-5
run: demo
	$(PY) manage.py setup_schedules
	$(VENV)/bin/honcho start -f Procfile

## Lint, format check, container linters, then the whole suite.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint --failure-threshold warning Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## The inner loop: lint, then everything but the browser and slow tests, on both cores (under two minutes).
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -m "not slow and not browser" -n 2 -q $(PYTEST_ARGS)

## The whole pipeline once through the queue against local fakes (PostgreSQL and Redis when they answer).
smoke: $(STAMP)
	$(PY) -m tests.smoke

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Re-pin requirements*.txt after editing requirements*.in.
lock: $(STAMP)
	$(UV) pip compile -q requirements.in -o requirements.txt
	$(UV) pip compile -q requirements-dev.in -o requirements-dev.txt

## Pull 10,000 records (then 10 edited ones, incrementally) and push 1,000 changes through the fake Airtable, rate limit on, then off.
bench-airtable: $(STAMP)
	$(PY) -m tests.benchmarks.airtable

## 200 leads against the fake OpenAI server at 300 ms per call: messages/s at concurrency 1 and 8; then the
## grounding check's time per message, LLM calls per lead, and the grounding test set's results.
bench-generate: $(STAMP)
	$(PY) -m tests.benchmarks.generate

## engage --dry-run over 1,000 and 10,000 leads, then real runs into a local SMTP server; one tick of 10 mailboxes
## over 10,000 leads in 40 zones, and a simulated day of sending (smallest gap, sends outside a window).
bench-engage: $(STAMP)
	$(PY) -m tests.benchmarks.engage

## /health under load, alone and while the cluster runs a CPU-heavy job.
bench-health: $(STAMP)
	$(PY) -m tests.benchmarks.health

## 10,000 messages behind Dovecot: check_inbox messages/s, a second run with nothing new, classify_email over the corpus.
bench-inbox: $(STAMP)
	$(PY) -m tests.benchmarks.inbox

## 100,000 leads, 200,000 emails and 200,000 inbound messages in PostgreSQL (DATABASE_URL's server, a database
## of its own): report --json and the admin dashboard, timed, with their query counts.
bench-report: $(STAMP)
	$(PY) -m tests.benchmarks.report

clean:
	rm -rf $(VENV) var

## The scraper against 200 local sites answering in 200 ms: pages/s at concurrency 1 and at the default.
bench-scrape: $(STAMP)
	$(PY) -m tests.benchmarks.scrape
