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
