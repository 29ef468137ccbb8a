"""Installed like a tool: a fresh venv, `pip install .`, and the `cloudmap-routes` console script run from a new
folder outside the checkout: init -> check -> synth -> local up -> status -> diff -> local down.

Offline by construction. The fresh venv sees the pinned packages of this checkout's environment (a .pth file
naming its site-packages; nothing of the checkout itself), so pip resolves the declared dependency ranges against
exactly the versions CI pins (any requirement they do not satisfy fails the install: nothing is downloaded for
it), and the build backend (setuptools>=70.1, build-system.requires) comes only from the package sources pip is
configured with that are on this machine (file:// indexes, local find-links): never the network.
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

from .conftest import ROOT
from .freshvenv import fresh_venv, sources, tool
from .helpers import GIT_USER, PATH_ENV, git
from .terraform import available, terraform_env

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


# --- static: what the package declares ----------------------------------------------------------------------------

def third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the compiler modules importing it (every import, at module level or inside a function)."""
    stdlib = sys.stdlib_module_names
    found: dict[str, set[str]] = {}
    for path in (ROOT / "compiler").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else [])
            for name in names:
                top = name.split(".")[0]
                sibling = (path.parent / f"{top}.py").exists()  # a handler's zip-root import of its neighbour
                if top not in stdlib and top not in ("compiler", "__future__") and not sibling:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_third_party_import_is_a_declared_dependency_or_extra():
    from importlib.metadata import packages_distributions

    declared = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    extras = {name: {requirement_name(r) for r in reqs}
              for name, reqs in PYPROJECT["project"]["optional-dependencies"].items()}
    distributions = packages_distributions()
    for module, importers in sorted(third_party_imports().items()):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        where = [extra for extra, reqs in extras.items() if names & reqs]
        assert names & declared or where, f"{module} (imported by {sorted(importers)}) is not declared"
        if not names & declared:  # an extra's module is only imported lazily, inside the command that needs it
            for importer in importers:
                tree = ast.parse((ROOT / importer).read_text())
                top = {n.names[0].name.split(".")[0] if isinstance(n, ast.Import) else (n.module or "").split(".")[0]
                       for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
                assert module not in top or importer in ("compiler/terraform/emit.py",
                                                         "compiler/localaws/moto_launcher.py"), importer


def test_the_pins_ci_installs_satisfy_the_declared_ranges():
    from packaging.requirements import Requirement

    pins = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s#]+)", line.strip())
            if match:
                pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    requirements = [*PYPROJECT["project"]["dependencies"],
                    *(r for reqs in PYPROJECT["project"]["optional-dependencies"].values() for r in reqs)]
    for text in requirements:
        requirement = Requirement(text)
        pinned = pins.get(requirement.name.lower().replace("_", "-"))
        assert pinned is not None, f"{requirement.name} is declared but CI pins no version of it"
        assert requirement.specifier.contains(pinned, prereleases=True), f"{text} excludes the pinned {pinned}"


def test_synth_with_the_cdktf_engine_says_which_extra_is_missing(tmp_path, monkeypatch, capsys):
    import importlib.util

    from compiler.cli import common, console_main
    real = importlib.util.find_spec
    hidden = ("cdktf", "cdktf_cdktf_provider_aws")  # as in an install without the cdktf extra
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a))
    monkeypatch.setattr(sys, "argv", ["cloudmap-routes", "synth", "--engine", "cdktf", "--out", str(tmp_path / "o")])
    monkeypatch.chdir(ROOT)
    try:
        assert console_main() == 2
    finally:
        common.set_prog(common.PROG)
    err = capsys.readouterr().err
    assert err.startswith("cloudmap-routes: error: --engine cdktf needs the CDKTF packages (cdktf, "
                          "cdktf_cdktf_provider_aws missing): pip install 'cloudmap-routes[cdktf]'"), err
    assert not (tmp_path / "o").exists()


# --- a fresh venv ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> pathlib.Path:
    """A fresh venv where `pip install '.[local]'` installed a copy of the checkout; returns its bin directory."""
    return fresh_venv(tmp_path_factory.mktemp("fresh"))


def test_the_console_script_runs_every_subcommand_from_the_installed_package(venv, tmp_path):
    from compiler.cli import parser

    where = subprocess.run([str(venv / "python"), "-c", "import compiler; print(compiler.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, env={"PATH": PATH_ENV})
    assert where.stdout.strip().startswith(str(venv.parent / "lib")), where  # the installed copy, not the checkout
    listed = tool(venv, tmp_path, "--help")
    assert listed.returncode == 0 and listed.stdout.startswith("usage: cloudmap-routes ")
    commands = parser()._subparsers._group_actions[0].choices  # noqa: SLF001 -- argparse keeps them only there
    for name in commands:
        assert name in listed.stdout
        assert tool(venv, tmp_path, name, "--help").returncode == 0, name
    version = tool(venv, tmp_path, "--version")
    assert version.stdout == ("cloudmap-routes 0.1.0\nprovider: hashicorp/aws 5.100.0 (pinned in every synthesized "
                              "stack)\nengine: direct (default; --engine cdktf runs the CDKTF constructs)\n")
    bare = tool(venv, tmp_path)
    assert bare.returncode == 2 and bare.stderr.startswith("usage: cloudmap-routes ")  # help, not a synth
    refused = tool(venv, tmp_path, "synth", "--local-aws", "http://10.0.0.1:4566")
    assert refused.returncode == 2 and refused.stderr.startswith("cloudmap-routes: error: --local-aws")
    argparse_refused = tool(venv, tmp_path, "check", "--format", "xml")
    assert argparse_refused.returncode == 2 and "cloudmap-routes check: error: argument --format" in argparse_refused.stderr


def test_the_package_holds_its_data_files(venv):
    record = next(venv.parent.glob("lib/python3.11/site-packages/cloudmap_routes-*.dist-info/RECORD")).read_text()
    files = {line.split(",")[0] for line in record.splitlines()}
    # Every file of the package that is not a module (templates, the starter, the provider schema, ...): a new one
    # missing from pyproject's package-data fails here, not in a user's first run.
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "compiler").rglob("*")
                if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    expected |= {f"compiler/handlers/{p.name}" for p in (ROOT / "compiler/handlers").glob("*.py")}
    expected |= {"compiler/localaws/moto_launcher.py", "../../../bin/cloudmap-routes"}
    assert expected <= files, expected - files


@pytest.mark.localaws
@pytest.mark.terraform  # it runs terraform (the guard in tests/conftest.py stubs it for unmarked tests)
@pytest.mark.skipif(not available(), reason="local up runs terraform, which is not on PATH")
def test_a_new_folder_outside_the_checkout_init_check_synth_local_up_status_diff(venv, tmp_path):
    folder = tmp_path / "my-api"
    config = tmp_path / "tf"
    config.mkdir()
    env = {k: v for k, v in terraform_env(config).items() if k.startswith("TF_") or k == "CHECKPOINT_DISABLE"}
    assert tool(venv, tmp_path, "init", "my-api").returncode == 0
    check = tool(venv, folder, "check", "--strict")
    assert check.returncode == 0 and check.stderr == "routes.yaml: ok (2 route(s), 1 service(s))\n", check.stderr
    synth = tool(venv, folder, "synth")
    assert synth.returncode == 0 and (folder / "cdktf.out" / "stacks" / "routes" / "cdk.tf.json").exists()
    up = tool(venv, folder, "local", "up", "--detach", env=env)
    try:
        assert up.returncode == 0, up.stderr
        url = json.loads((folder / ".local-aws" / "local.json").read_text())["url"]
        exports = {"CLOUDMAP_ROUTES_LOCAL_AWS": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        status = tool(venv, folder, "status", env=exports)
        assert status.returncode == 0, status.stderr
        assert "GET /primary  [primary]  deployed, as in routes.yaml" in status.stdout
        assert "2 of 2 route(s) ok" in status.stdout
    finally:
        down = tool(venv, folder, "local", "down")
    assert down.returncode == 0 and f"stopped the local AWS at {url}" in down.stderr
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, *GIT_USER, "commit", "-qm", "starter")
    (folder / "routes.yaml").write_text((folder / "routes.yaml").read_text().replace("role: primary}", "role: main}")
                                        .replace("filter: {role: primary}", "filter: {role: main}"))
    diff = tool(venv, folder, "diff", "HEAD:routes.yaml")
    assert diff.returncode == 0, diff.stderr
    assert "filter: role=primary -> role=main" in diff.stdout


def test_pip_install_from_a_git_url_packages_what_the_clone_holds(tmp_path):
    """`pip install git+URL`: pip clones, builds and installs; the starter and templates come with it."""
    clone = sources(tmp_path)
    git(clone, "init", "-q")
    git(clone, "add", "-A")
    git(clone, *GIT_USER, "commit", "-qm", "a release")
    bin_dir = fresh_venv(tmp_path, f"git+file://{clone}", source=tmp_path)
    assert tool(bin_dir, tmp_path, "init", "p").returncode == 0
    check = tool(bin_dir, tmp_path / "p", "check", "--strict")
    assert check.returncode == 0, check.stderr
    direct_url = json.loads(next(bin_dir.parent.glob("lib/python3.11/site-packages/cloudmap_routes-*.dist-info"))
                            .joinpath("direct_url.json").read_text())
    assert direct_url["vcs_info"]["vcs"] == "git"  # what init reads to name the action (a GitHub URL there)
