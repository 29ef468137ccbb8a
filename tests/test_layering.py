"""Data flows one way. Each stage imports only earlier stages; only the emission layer touches cdktf/jsii."""

from __future__ import annotations

import ast

from .conftest import ROOT

ORDER = ["handlers.fanout", "handlers.allowlist",  # shipped Lambda code: imports nothing from the project
         "diagnostics", "loader", "schema", "spec", "names", "routekeys", "model", "bundle", "environments",
         "deployed", "rules", "validator", "catalogue", "plan", "direct", "bindings", "emit", "synth", "review", "routing", "discovery", "status", "gateway", "adopt", "cli"]
EMISSION = {"bindings", "emit", "synth"}
RUNTIME = {"routing", "discovery", "status", "gateway"}  # read the model and the deployed system; never the emitters
HEAVY = {"cdktf", "constructs", "jsii", "cdktf_cdktf_provider_aws"}


def _imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "compiler" / f"{module.replace('.', '/')}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y / from . import x / from .handlers import fanout
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)} if node.module \
                    else {a.name for a in node.names}
            else:
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
    return found


def test_every_module_is_in_the_stage_order():
    modules = {p.stem for p in (ROOT / "compiler").glob("*.py")} - {"__init__"}
    # the shipped Lambda handlers (a subpackage; each is zipped alone, so they import nothing from here)
    modules |= {f"handlers.{p.stem}" for p in (ROOT / "compiler" / "handlers").glob("*.py")} - {"handlers.__init__"}
    assert modules == set(ORDER)


def test_stages_import_only_earlier_stages():
    for i, module in enumerate(ORDER):
        local = _imports(module) & set(ORDER)
        later = local - set(ORDER[:i])
        if module == "cli":  # the shell may start any stage, lazily
            continue
        assert not later, f"{module} imports later stages {later}"


def test_only_the_emission_layer_imports_cdktf():
    for module in ORDER:
        heavy = _imports(module) & HEAVY
        assert module in EMISSION or not heavy, f"{module} imports {heavy}"


def test_runtime_tools_read_the_model_never_the_emitters():
    for module in RUNTIME:
        emitters = _imports(module) & {"plan", "direct", "bindings", "emit", "synth"}
        assert not emitters, f"{module} imports {emitters}"


def test_the_direct_engine_reaches_no_cdktf_even_through_other_modules():
    """compiler.direct writes CDKTF's bytes without Node: nothing it imports, directly or not, loads cdktf/jsii."""
    seen, todo = set(), ["direct"]
    while todo:
        module = todo.pop()
        seen.add(module)
        imports = _imports(module)
        assert not imports & HEAVY, f"direct reaches {module}, which imports {imports & HEAVY}"
        todo += sorted((imports & set(ORDER)) - seen)
    assert not seen & EMISSION, f"direct reaches the CDKTF emission layer: {seen & EMISSION}"
