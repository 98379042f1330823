# The two commands a new user runs: `make demo` and `make test`. Each bootstraps .venv from the package
# registries on first use, so nothing needs installing by hand. What .venv holds comes from uv.lock alone, through
# the pinned and hashed files exported from it (`make lock`): requirements/demo.txt is the runtime dependencies
# and the demo's (the `demo` extra), requirements/dev.txt adds the tests, linters, type checker and SAM CLI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# Which set .venv holds; the development set includes the demo's.
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit integration bench layers lock lock-check clean

# --- the virtual environment, from the lock ---------------------------------------------------------------------

# uv first (pip checks its hashes), then uv installs the rest: a fraction of the time pip takes for the same set.
$(UV): requirements/uv.txt
	@echo "--- $(VENV): installing uv (requirements/uv.txt), which installs the rest"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --require-hashes --no-deps -r requirements/uv.txt
	touch $@

# `uv pip sync` makes .venv hold exactly the exported set (dropping what a previous lock or the other set had), then
# the project itself goes in as an editable install, its dependencies being there already. The development set
# includes the demo's, so installing it satisfies `make demo` too; installing the demo's set removes the rest.
define sync
	$(UV) pip sync --python $(BIN)/python --require-hashes $(1)
	$(UV) pip install --python $(BIN)/python --no-deps -e .
endef

$(DEMO_STAMP): requirements/demo.txt pyproject.toml $(UV)
	@echo "--- $(VENV): installing what the demo needs (requirements/demo.txt)"
	rm -f $(DEV_STAMP)
	$(call sync,requirements/demo.txt)
	touch $@

$(DEV_STAMP): requirements/dev.txt pyproject.toml $(UV)
	@echo "--- $(VENV): installing the development set (requirements/dev.txt)"
	$(call sync,requirements/dev.txt)
	touch $@ $(DEMO_STAMP)

# --- the two commands and their parts ---------------------------------------------------------------------------

demo: $(DEMO_STAMP)
	$(BIN)/intacct-assignar demo

test: lock-check lint typecheck unit integration

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(DEV_STAMP)
	$(BIN)/pytest tests/integration -q

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/intacct_pull.py
	$(BIN)/python benchmarks/puller_memory.py
	$(BIN)/python benchmarks/assignar_index.py
	$(BIN)/python benchmarks/inbound_sync.py
	$(BIN)/python benchmarks/outbound_push.py
	$(BIN)/python benchmarks/approval_watcher.py
	$(BIN)/python benchmarks/reconcile_week.py
	$(BIN)/python benchmarks/cold_import.py
	$(BIN)/python benchmarks/smart_events.py

# What deploys: `sam build` (no Docker; the layers are built by layers/dependencies/Makefile and shared/Makefile),
# then the size of each layer. tests/integration/test_built_layers.py checks the same build. Both layers carry bytecode
# for the runtime, so the build needs a python3.12 (pyenv's, else one on PATH; `LAYER_PYTHON` names another).
layers: $(DEV_STAMP)
	SAM_CLI_TELEMETRY=0 $(BIN)/sam build --template template.yaml --build-dir .aws-sam/build
	du -sh --apparent-size .aws-sam/build/DependenciesLayer .aws-sam/build/SharedLayer

# --- the lock and the files exported from it ----------------------------------------------------------------------

# Each file exported from uv.lock, and the `uv export` options that make it: pinned, hashed, for every platform
# (markers choose), without the project itself. The dependencies layer takes the runtime dependencies less boto3
# (the python3.12 runtime provides it) and typer and rich (only the CLI, which the layer leaves out, uses them),
# each with whatever only it pulls in.
EXPORTS := requirements/uv.txt requirements/demo.txt requirements/dev.txt layers/dependencies/requirements.txt
requirements/uv.txt_OPTIONS := --only-group lock
requirements/demo.txt_OPTIONS := --extra demo --group lock
requirements/dev.txt_OPTIONS := --extra dev --group lock
layers/dependencies/requirements.txt_OPTIONS := --no-default-groups --prune boto3 --prune typer --prune rich

# $(call export_all,DIR): write every export under DIR ("." is the repository itself).
define export_all
	@mkdir -p $(1)/requirements $(1)/layers/dependencies
	@$(foreach file,$(EXPORTS),{ \
	  echo "# Exported from uv.lock by \`make lock\` (uv export $($(file)_OPTIONS)): do not edit."; \
	  $(UV) export --quiet --frozen --no-emit-project --no-header $($(file)_OPTIONS); \
	} > $(1)/$(file) && ) true
endef

# After a change to the dependencies in pyproject.toml: re-resolve (keeping every other pin) and re-export.
# `make lock LOCK_OPTIONS=--upgrade` moves every pin to the newest release allowed (`--upgrade-package NAME`: one).
lock: $(UV)
	$(UV) lock $(LOCK_OPTIONS)
	$(call export_all,.)
	@echo "uv.lock and $(EXPORTS) written"

# Fails when uv.lock is out of step with pyproject.toml, or an exported file with uv.lock (CI runs it first).
STALE := echo "--- out of date: run \`make lock\` and commit what it changes"; exit 1

lock-check: $(UV)
	@$(UV) lock --check || { $(STALE); }
	@rm -rf build/lock-check
	$(call export_all,build/lock-check)
	@$(foreach file,$(EXPORTS),diff -u $(file) build/lock-check/$(file) && ) echo "uv.lock and $(EXPORTS) are current" \
	  || { $(STALE); }
	@rm -rf build/lock-check

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .aws-sam build/lock-check
