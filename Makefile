# Two commands do all set-up on a fresh machine (Python 3.11, Node and Terraform present):
#   make synth   compile the bundled routes.yaml into cdktf.out/stacks/routes/cdk.tf.json
#   make test    run the whole test suite
# Each creates .venv and installs the pinned packages when they are missing or the pins changed.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
# The real cdktf CLI, for the test that runs `cdktf synth` (installed only where npm exists).
CDKTF_CLI_VERSION := 0.21.0
CDKTF_CLI_STAMP   := $(if $(shell command -v npm),.cdktf-cli/.installed-$(CDKTF_CLI_VERSION))
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1

.PHONY: synth check test snapshots bench clean deploy-local

synth: $(VENV)/.runtime
	$(PY) main.py synth routes.yaml

check: $(VENV)/.runtime
	$(PY) main.py check routes.yaml

test: $(VENV)/.dev $(CDKTF_CLI_STAMP) .venv-checkov/.installed
	$(PY) -m pytest

# Rewrite the pinned snapshots (and the generated schema and README table) after a reviewed change.
snapshots: $(VENV)/.dev
	$(PY) -m pytest tests/test_snapshots.py tests/test_docs.py --update-snapshots -q

# A local AWS (moto on 127.0.0.1) with routes.yaml deployed into it by terraform, in .local-aws/; Ctrl-C stops it
# (`main.py local up`: the installed `cloudmap-routes local up`). ROUTES_FILE=examples/environments.yaml
# ROUTES_ENV=dev deploys one environment of another file.
deploy-local: $(VENV)/.dev
	$(PY) main.py local up $(or $(ROUTES_FILE),routes.yaml) $(if $(ROUTES_ENV),--env $(ROUTES_ENV))

bench: $(VENV)/.dev
	$(PY) -m benchmarks

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	touch $@

$(VENV)/.runtime: requirements.txt $(VENV)/.created
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# checkov lives in its own venv: its dependencies conflict with the runtime's and moto's pins.
.venv-checkov/.installed: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

.cdktf-cli/.installed-$(CDKTF_CLI_VERSION):
	npm install --prefix .cdktf-cli --no-audit --no-fund --loglevel=error cdktf-cli@$(CDKTF_CLI_VERSION)
	touch $@

clean:
	rm -rf $(VENV) .venv-checkov .cdktf-cli cdktf.out .pytest_cache .hypothesis .local-aws
