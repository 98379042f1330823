# The two commands a new user runs: `make demo` and `make test`. Each bootstraps .venv from the package
# registries on first use, so nothing needs installing by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit integration bench layers clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/intacct-assignar demo

test: lint typecheck unit integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP)
	$(BIN)/pytest tests/integration -q

bench: $(STAMP)
	$(BIN)/python benchmarks/intacct_pull.py
	$(BIN)/python benchmarks/assignar_index.py
	$(BIN)/python benchmarks/inbound_sync.py
	$(BIN)/python benchmarks/outbound_push.py

# The two Lambda layers as `sam build` lays them out, without Docker: build/layers/<arch>/{dependencies,shared}/python
# and sizes.json. arm64 is what deploys; x86_64 is what this kind of machine can import to check them.
layers: $(STAMP)
	$(BIN)/python scripts/build_layers.py --arch arm64 --arch x86_64

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
