# Call Center AI: developer entry points. `make install` is implied by every target that needs it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1

.PHONY: install demo dev simulate test lint format clean bench

$(STAMP): requirements.txt requirements-dev.txt requirements-media.txt pyproject.toml scripts/install-system-packages.sh scripts/install-node-tools.sh
	bash scripts/install-system-packages.sh
	bash scripts/install-node-tools.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## One whole phone call, offline: a caller rings, talks with the assistant over real audio, the claim fills.
demo: $(STAMP)
	$(BIN)/callcenter demo

## The function app, the media host and the ACS simulator on loopback, until Ctrl-C.
dev: $(STAMP)
	$(BIN)/callcenter dev

## Every shipped scenario as a phone call.
simulate: $(STAMP)
	$(BIN)/callcenter simulate scenarios/

## Benchmarks (numbers go to docs/performance.md).
bench: $(STAMP)
	$(BIN)/python -m bench.incoming_call

## Run the whole test suite (real redis-server, no cloud).
test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .data test-artifacts
