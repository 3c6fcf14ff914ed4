# Two entry points (see README): `make run` and `make test`. Each builds its own venv.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench venv clean

$(STAMP): pyproject.toml setup.py
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/aishell $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/aishell bench $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
