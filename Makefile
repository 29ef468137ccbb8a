# Two commands do all set-up on a fresh machine (Python 3.11, Node and Terraform present):
#   make synth   compile the bundled routes.yaml into cdktf.out/stacks/routes/cdk.tf.json
#   make test    run the whole test suite (every tool installed; a missing one fails the run)
#   make test-fast   the tests that need neither terraform nor the local AWS (under a minute)
# Each creates .venv and installs the pinned packages when they are missing or the pins changed.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
# The real cdktf CLI, for the tests that run `cdktf synth` and `cdktf deploy` (npm installs it).
CDKTF_CLI_VERSION := 0.21.0
CDKTF_CLI_STAMP   := .cdktf-cli/.installed-$(CDKTF_CLI_VERSION)
# pytest-xdist over every core; tests that share a module's (or class's) fixtures stay on one worker, the heaviest
# start first (tests/conftest.py), in that order (--no-loadscope-reorder).
XDIST := -n auto --dist loadgroup --no-loadscope-reorder
# The page tests (tests/test_pages.py) run Debian's headless Chromium, and render Mermaid with mermaid's own
# bundle: one file of the npm package, unpacked from `npm pack` and checked against its pinned digest.
MERMAID_VERSION := 12.3.0
MERMAID_SHA256  := 336df803d87a38b70a01e736e666c8f7601d2ce42f5e47c8fafe5d721074b9a3
MERMAID_JS      := .mermaid/mermaid-$(MERMAID_VERSION).min.js
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1

.PHONY: synth check test test-fast snapshots bench clean deploy-local provider-schema chromium

synth: $(VENV)/.runtime
	$(PY) main.py synth routes.yaml

check: $(VENV)/.runtime
	$(PY) main.py check routes.yaml

# CLOUDMAP_ROUTES_FULL_SUITE=1: a test whose tool (terraform, the cdktf CLI, checkov) is missing fails, not skips.
test: $(VENV)/.dev $(CDKTF_CLI_STAMP) .venv-checkov/.installed chromium $(MERMAID_JS)
	CLOUDMAP_ROUTES_FULL_SUITE=1 $(PY) -m pytest $(XDIST)

# Everything that needs neither terraform nor the local AWS (the `terraform` and `localaws` markers).
test-fast: $(VENV)/.dev
	$(PY) -m pytest $(XDIST) -m "not terraform and not localaws"

# Rewrite the pinned snapshots (and the generated schema and README table) after a reviewed change.
snapshots: $(VENV)/.dev
	$(PY) -m pytest tests/test_snapshots.py tests/test_docs.py --update-snapshots -q

# Regenerate compiler/terraform/provider_schema.json (what `overrides:` is checked against) from the pinned provider,
# installed by real terraform from TF_PROVIDER_MIRROR when set (tests/test_provider_schema.py compares the two).
provider-schema: $(VENV)/.runtime
	$(PY) -m compiler.terraform.provider_schema --write

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
