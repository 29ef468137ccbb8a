"""The package contract: which package of the compiler may import which (compiler/__init__.py draws it).

Data flows one way. The contract is written once, as ALLOWED, and checked over the real import graph read from
the source with `ast` (every import, at module level or inside a function). `check_contract` is a pure function
of a graph, so the tests below also prove that it fails for graphs that break the contract.
"""

from __future__ import annotations

import ast
import functools
import pathlib

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "compiler"

PROVIDER_FACTS = {"terraform.catalogue", "terraform.provider_schema", "terraform.overrides"}
# Which packages each package may import (itself always). A module of the handlers package is shipped to Lambda
# alone: handlers import nothing of the compiler. `handlers.settings` is the one handler module the compile
# stages may read (the description of the functions' environment, not their runtime); `live` may run the
# handlers' code (that is what `serve` is for). `adopt` reads the fan-out functions' environments back with the
# same description the stack writes them with (`handlers.settings.Settings.from_environ`), and needs nothing of
# review. `pictures` draws the routing from the model and the route descriptions (reach) and is pure: live
# instances reach it as data, so `live` and `review` may draw with it and it imports neither. `cli` is the shell
# and may start any stage, lazily.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "handlers": set(),
    # The provider's facts (the catalogue and the pinned provider's schema, plain data) and the pure function
    # checking an override against them: `check` validates `overrides:` without planning (compiler.language.overrides).
    "language": {"core", "handlers.settings", *PROVIDER_FACTS},
    "reach": {"core", "language", "handlers.settings"},
    "terraform": {"core", "language", "handlers.settings"},
    "review": {"core", "language", "reach", "terraform"},
    "live": {"core", "language", "reach", "handlers"},
    "adopt": {"core", "language", "terraform", "handlers.settings"},
    # The local AWS (`local up`): it synthesizes the file it deploys with the direct engine, so terraform too.
    "localaws": {"core", "language", "terraform"},
    "pictures": {"core", "language", "reach"},
    "cli": {"core", "language", "reach", "terraform", "review", "live", "adopt", "handlers", "localaws", "pictures"},
}
# Inside terraform, the CDKTF engine: the only modules that import cdktf/jsii. Nothing outside them imports them.
EMISSION = {"terraform.emit", "terraform.bindings", "terraform.synth"}
HEAVY = {"cdktf", "constructs", "jsii", "cdktf_cdktf_provider_aws"}
# What review may read of terraform: the plan and the catalogue, never an engine.
NOT_FOR_READERS = EMISSION | {"terraform.direct"}


def module_name(path: pathlib.Path) -> str:
    """`language.model` for compiler/language/model.py, `language` for compiler/language/__init__.py, `cli`."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, pathlib.Path]:
    found = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    found.pop("", None)  # compiler/__init__.py: the package's map, imports nothing
    return found


def imports_of(path: pathlib.Path, name: str) -> set[str]:
    """Every compiler module `name` imports (as `pkg.module` names), plus the top-level third-party modules."""
    tree = ast.parse(path.read_text())
    here = name.split(".") if path.name != "__init__.py" else name.split(".") + ["__init__"]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                target = base + (node.module.split(".") if node.module else [])
                found.add(".".join(target))
                found |= {".".join(target + [a.name]) for a in node.names}
            elif node.module.split(".")[0] == "compiler":
                target = node.module.split(".")[1:]
                found.add(".".join(target))
                found |= {".".join(target + [a.name]) for a in node.names}
            else:
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                found.add(".".join(parts[1:]) if parts[0] == "compiler" else parts[0])
    return found


def graph() -> dict[str, set[str]]:
    """module -> the compiler modules it imports (names that are not modules, e.g. functions, are dropped)."""
    return {module: set(targets) for module, targets in _graph().items()}  # a copy: tests add edges to it


@functools.cache
def _graph() -> dict[str, frozenset[str]]:
    known = modules()
    return {name: frozenset(i for i in imports_of(path, name) if i in known) - {name} for name, path in known.items()}


def package_of(module: str) -> str:
    return module.split(".")[0]


def allowed(importer: str, imported: str) -> bool:
    source, target = package_of(importer), package_of(imported)
    if source == target:
        return True
    rules = ALLOWED.get(source, set())
    # `from ..handlers import settings` runs the package's __init__ on the way: a parent of an allowed module
    return target in rules or any(imported == rule or imported.startswith(rule + ".") or rule.startswith(imported + ".")
                                  for rule in rules)


def check_contract(edges: dict[str, set[str]]) -> list[str]:
    """Every import that breaks the contract, as `importer -> imported: why`."""
    problems = []
    for importer, targets in sorted(edges.items()):
        if package_of(importer) not in ALLOWED:
            problems.append(f"{importer}: in no package of the contract (add it to ALLOWED)")
            continue
        for imported in sorted(targets):
            if not allowed(importer, imported):
                problems.append(f"{importer} -> {imported}: {package_of(importer)} may import only "
                                f"{sorted(ALLOWED[package_of(importer)]) or 'nothing of the compiler'}")
            elif package_of(importer) in ("review", "adopt", "live", "reach") and imported in NOT_FOR_READERS:
                problems.append(f"{importer} -> {imported}: readers use the plan, never an engine")
    return problems


def test_every_module_belongs_to_a_package_of_the_contract():
    assert {package_of(m) for m in modules()} <= set(ALLOWED), set(map(package_of, modules())) - set(ALLOWED)


def test_the_code_keeps_the_contract():
    assert check_contract(graph()) == []


@pytest.mark.parametrize("importer, imported", [
    ("language.rules", "handlers.fanout"),  # a compile stage importing the handler's runtime
    ("terraform.bundle", "handlers.fanout"),
    ("handlers.fanout", "core.names"),  # deployed code reaching into the compiler
    ("live.status", "terraform.plan"),  # a live tool reading the emitters
    ("language.model", "terraform.plan"),  # data flowing back up
    ("language.overrides", "terraform.direct"),  # the language reads the provider's facts, never an engine
    ("core.names", "language.model"),
    ("review.diff", "terraform.synth"),  # a reader loading an engine
    ("review.diff", "live.status"),
    ("adopt", "terraform.emit"),
    ("adopt", "review.diff"),  # import needs nothing of review
    ("adopt.owned", "handlers.fanout"),  # the fan-out's settings, never its runtime
    ("newpackage.thing", "core.names"),  # a package the contract does not know
    ("pictures.graph", "live.discovery"),  # pictures are pure: live instances come in as data
    ("pictures.svg", "review.diff"),
])
def test_the_contract_check_fails_for_a_forbidden_import(importer, imported):
    edges = graph()
    edges.setdefault(importer, set()).add(imported)
    assert check_contract(edges), f"{importer} -> {imported} should break the contract"


def test_the_provider_facts_the_language_reads_import_only_core_and_each_other():
    """The language may read them only because they read nothing of the language or of the plan."""
    for module in PROVIDER_FACTS:
        outside = {t for t in graph()[module] if package_of(t) != "core" and t not in PROVIDER_FACTS | {"terraform"}}
        assert not outside, f"{module} imports {outside}: the language reads it, so it may import only core"


def test_no_compile_stage_imports_a_handler_module_but_its_settings():
    for module, targets in graph().items():
        if package_of(module) in ("language", "terraform", "reach", "review", "adopt"):
            handlers = {t for t in targets if package_of(t) == "handlers"} - {"handlers", "handlers.settings"}
            assert not handlers, f"{module} imports the handlers' runtime {handlers}"


def test_handlers_import_nothing_of_the_compiler():
    for module, targets in graph().items():
        if package_of(module) == "handlers":
            assert all(package_of(t) == "handlers" for t in targets), (module, targets)


def test_only_the_emission_layer_imports_cdktf():
    for name, path in modules().items():
        heavy = imports_of(path, name) & HEAVY
        assert name in EMISSION or not heavy, f"{name} imports {heavy}"


def test_the_direct_engine_reaches_no_cdktf_even_through_other_modules():
    """terraform.direct writes CDKTF's bytes without Node: nothing it imports, directly or not, loads cdktf/jsii."""
    known, edges = modules(), graph()
    seen, todo = set(), ["terraform.direct"]
    while todo:
        module = todo.pop()
        seen.add(module)
        heavy = imports_of(known[module], module) & HEAVY
        assert not heavy, f"direct reaches {module}, which imports {heavy}"
        todo += sorted(edges[module] - seen)
    assert not seen & EMISSION, f"direct reaches the CDKTF emission layer: {seen & EMISSION}"
