"""Shared test set-up: the snapshot flag, the example files, and one jsii runtime for the whole session."""

from __future__ import annotations

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted([ROOT / "routes.yaml", *(ROOT / "examples").glob("*.yaml")])

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-snapshots", action="store_true",
                     help="rewrite pinned outputs (snapshots, expected diagnostics, generated docs); review the diff")


@pytest.fixture(scope="session")
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--update-snapshots")


def pinned(path: pathlib.Path, actual: str, update: bool) -> None:
    """Compare with the pinned file, or rewrite it under --update-snapshots."""
    if update:
        path.write_text(actual)
        return
    assert path.exists(), f"{path} is missing; run `make snapshots` and review it"
    assert actual == path.read_text(), f"{path.name} differs; if the change is intended, `make snapshots` and review"


def example_id(path: pathlib.Path) -> str:
    return "bundled" if path.name == "routes.yaml" else path.stem


def environments_of(path: pathlib.Path) -> list[str | None]:
    """The environments an example declares, in order; [None] for one without environments."""
    import yaml
    declared = yaml.safe_load(path.read_text()).get("environments")
    return list(declared) if isinstance(declared, dict) and declared else [None]


# Every stack an example synthesizes: (path, environment), one per environment (or (path, None)).
STACKS = [(path, environment) for path in EXAMPLES for environment in environments_of(path)]


def stack_id(stack: tuple[pathlib.Path, str | None]) -> str:
    """`bundled`, `secure`, ...; `environments.prod` for an environment's stack."""
    path, environment = stack
    return example_id(path) + (f".{environment}" if environment else "")


STACK_IDS = [stack_id(stack) for stack in STACKS]


# --- tiers, tools and the one local AWS -----------------------------------------------------------------------
#
# Two markers split the suite: `terraform` (runs the terraform binary) and `localaws` (talks to moto's server on
# 127.0.0.1). `make test-fast` runs everything marked with neither. Tests are marked by what they use: a test whose
# fixtures (directly or through other fixtures) include `tf_env` gets `terraform`, one that includes `moto` gets
# `localaws` (pytest_collection_modifyitems below). Nothing else may reach them: while an unmarked test is set up or
# runs, `terraform` on PATH is a stub that fails it, and starting a local AWS raises (tests/localaws.py).

FULL_SUITE = os.environ.get("CLOUDMAP_ROUTES_FULL_SUITE") == "1"  # set by `make test`: every tool must be there
UNMARKED_TEST: str | None = None  # the test being set up or run, when it is not marked localaws
TOOL_FIXTURES = {"tf_env": "terraform", "moto": "localaws"}


def require(present: bool, missing: str) -> None:
    """Skip with the reason when a tool is missing; under `make test` (CLOUDMAP_ROUTES_FULL_SUITE=1), which installs
    every tool the suite uses, fail instead: a missing tool there is a broken set-up, not a test to leave out."""
    if present:
        return
    if FULL_SUITE:
        pytest.fail(f"{missing}; `make test` runs every test (CLOUDMAP_ROUTES_FULL_SUITE=1), so this is an error")
    pytest.skip(missing)


@pytest.fixture(scope="session")
def tf_env(tmp_path_factory) -> dict[str, str]:
    """The environment every Terraform run of the session uses (the provider mirror's CLI config); marks its users
    `terraform`."""
    from .terraform import available, terraform_env
    require(available(), "terraform is not on PATH (README: Terraform is required)")
    return terraform_env(tmp_path_factory.mktemp("terraform"))


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory):
    """moto's server on 127.0.0.1, started once per test process. Under pytest-xdist every worker is its own process
    and starts its own server on its own port, so one worker's reset never touches another worker's state."""
    from .localaws import MotoServer
    server = MotoServer(tmp_path_factory.mktemp("moto") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto(local_aws):
    """The local AWS with an empty account for each test module (moto's reset API), shared by the module's tests;
    marks its users `localaws`."""
    if UNMARKED_TEST is not None:  # reached through request.getfixturevalue, so not marked at collection
        raise RuntimeError(f"{UNMARKED_TEST} uses the local AWS but is not marked localaws")
    local_aws.reset()
    return local_aws


@pytest.fixture(scope="session")
def cdktf_cli() -> pathlib.Path:
    """The real cdktf CLI, which `make test` installs into .cdktf-cli/ with npm."""
    import shutil
    cli = ROOT / ".cdktf-cli" / "node_modules" / ".bin" / "cdktf"
    require(cli.exists(), f"the cdktf CLI is not installed in {cli.parent.parent.parent}/ (`make test` installs it "
                          "with npm" + ("" if shutil.which("npm") else "; npm is not installed either") + ")")
    return cli


@pytest.fixture(scope="session")
def checkov() -> pathlib.Path:
    """checkov in its own venv, which `make test` creates in .venv-checkov/."""
    path = ROOT / ".venv-checkov" / "bin" / "checkov"
    require(path.exists(), "checkov is not installed in .venv-checkov/ (`make test` installs it)")
    return path


def pytest_configure(config: pytest.Config) -> None:
    import stat
    import tempfile
    stub = pathlib.Path(tempfile.mkdtemp(prefix="no-terraform-"))
    (stub / "terraform").write_text(
        '#!/bin/sh\necho "tests/conftest.py: this test runs terraform but is not marked terraform: request the tf_env '
        'fixture, which marks it" >&2\nexit 97\n')
    (stub / "terraform").chmod(stat.S_IRWXU)
    config._terraform_stub = stub  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil
    stub = getattr(config, "_terraform_stub", None)
    if stub is not None:
        shutil.rmtree(stub, ignore_errors=True)


class _Guard:
    """While an unmarked test is set up or runs: `terraform` is the stub, and no local AWS may start."""

    def __init__(self, item: pytest.Item) -> None:
        self.item = item

    def __enter__(self) -> None:
        global UNMARKED_TEST
        self.path = os.environ.get("PATH", "")
        if self.item.get_closest_marker("terraform") is None:
            os.environ["PATH"] = f"{self.item.config._terraform_stub}{os.pathsep}{self.path}"
        if self.item.get_closest_marker("localaws") is None:
            UNMARKED_TEST = self.item.nodeid

    def __exit__(self, *exc) -> None:
        global UNMARKED_TEST
        os.environ["PATH"] = self.path
        UNMARKED_TEST = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with _Guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _Guard(item):
        return (yield)


# Serial seconds of the slowest work units (baseline run), so that pytest-xdist starts them first and the two
# workers end together; a unit not listed is weighed by its markers (see _weight).
WEIGHTS = {
    "tests/test_local_aws.py::TestEveryChangeAppliesAndAppliesBack": 350,  # 640 for all six steps, now split in two
    "tests/test_local_aws.py::TestEveryOtherChangeAppliesAndAppliesBack": 350,
    "tests/test_local_aws.py::TestBundledExample": 420,
    "tests/test_cdktf_deploy.py::test_cdktf_diff_deploy_and_destroy_one_environment": 110,
    "tests/test_local_aws_admin.py": 105,
    "tests/test_environments.py::test_two_environments_in_one_account_apply_side_by_side": 75,
    "tests/test_terraform_validate.py": 30,  # one `terraform validate` of every stack
    "tests/test_local_aws.py::TestHttpNamespaceWithStaticInstances": 95, "tests/test_remote_state.py": 80,
    "tests/test_local_aws.py::TestSecureExample": 80, "tests/test_import.py": 70, "tests/test_hostile.py": 55,
}


def _unit(item: pytest.Item) -> str | None:
    """The work unit a test must share a worker with: its module when it uses a module-scoped fixture (other than
    `moto`, which any worker makes afresh), its class when it uses a class-scoped one, else none (any worker)."""
    scopes = {definitions[-1].scope for name, definitions in item._fixtureinfo.name2fixturedefs.items()
              if definitions and name != "moto"}
    if scopes & {"module", "package"}:
        return item.nodeid.split("::")[0]
    if "class" in scopes and isinstance(item.parent, pytest.Class):
        return item.parent.nodeid
    return None


def _weight(unit: str, items: list[pytest.Item]) -> float:
    if unit in WEIGHTS:
        return WEIGHTS[unit]
    return sum(30 if i.get_closest_marker("terraform") else 2 if i.get_closest_marker("localaws") else 0.1
               for i in items)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in TOOL_FIXTURES.items():
            if fixture in item.fixturenames and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # collected by an xdist worker (its own --dist option reads "no")
        # One xdist group per work unit (used by --dist loadgroup); heaviest first (run with --no-loadscope-reorder
        # to keep this order). Every worker collects alike, so they agree on the order.
        units: dict[str, list[pytest.Item]] = {}
        for item in items:
            units.setdefault(_unit(item) or item.nodeid, []).append(item)
        ordered = sorted(units.items(), key=lambda unit: -_weight(*unit))  # stable: a unit keeps its order
        items[:] = [item for _, unit_items in ordered for item in unit_items]
        for unit, unit_items in ordered:
            if len(unit_items) > 1 or unit != unit_items[0].nodeid:
                for item in unit_items:
                    item.add_marker(pytest.mark.xdist_group(unit))
