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
# The page tests (tests/test_pages.py) run Debian's headless Chromium, and render Mermaid with mermaid's own
# bundle: one file of the npm package, unpacked from `npm pack` and checked against its pinned digest.
MERMAID_VERSION := 12.3.0
MERMAID_SHA256  := 336df803d87a38b70a01e736e666c8f7601d2ce42f5e47c8fafe5d721074b9a3
MERMAID_JS      := .mermaid/mermaid-$(MERMAID_VERSION).min.js
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1

.PHONY: synth check test snapshots bench clean deploy-local chromium

synth: $(VENV)/.runtime
	$(PY) main.py synth routes.yaml

check: $(VENV)/.runtime
	$(PY) main.py check routes.yaml

test: $(VENV)/.dev $(CDKTF_CLI_STAMP) .venv-checkov/.installed chromium $(MERMAID_JS)
	$(PY) -m pytest

# Rewrite the pinned snapshots (and the generated schema and README table) after a reviewed change.
snapshots: $(VENV)/.dev
	$(PY) -m pytest tests/test_snapshots.py tests/test_docs.py --update-snapshots -q

# A local AWS (moto on 127.0.0.1) and `cdktf deploy` of routes.yaml into it, in .local-aws/; Ctrl-C stops it.
# ROUTES_FILE=examples/environments.yaml ROUTES_ENV=dev deploys one environment of another file.
deploy-local: $(VENV)/.dev $(CDKTF_CLI_STAMP)
	$(PY) -m tests.deploy_local $(if $(ROUTES_FILE),--file $(ROUTES_FILE)) $(if $(ROUTES_ENV),--env $(ROUTES_ENV))

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

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium fonts-dejavu-core; }

$(MERMAID_JS):
	rm -rf .mermaid/package && mkdir -p .mermaid
	cd .mermaid && npm pack --silent mermaid@$(MERMAID_VERSION) >/dev/null && \
		tar -xzf mermaid-$(MERMAID_VERSION).tgz package/dist/mermaid.min.js && rm mermaid-$(MERMAID_VERSION).tgz
	echo "$(MERMAID_SHA256)  .mermaid/package/dist/mermaid.min.js" | sha256sum --check --quiet
	mv .mermaid/package/dist/mermaid.min.js $@ && rm -rf .mermaid/package

clean:
	rm -rf $(VENV) .venv-checkov .cdktf-cli .mermaid cdktf.out .pytest_cache .hypothesis .local-aws
