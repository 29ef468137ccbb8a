"""Load only the provider submodules we use, without executing the bindings' package root.

`cdktf_cdktf_provider_aws/__init__.py` imports all ~2,200 submodules (hashicorp/terraform-cdk#3753), which
costs ~9 s and ~400 MB before the first construct exists; each submodule itself needs only the package's
`_jsii` module. We register an empty package object with the real search path, then import the submodules
we need by name. If the bindings' layout ever changes, this fails with BindingsError, never half-works.
"""

from __future__ import annotations

import importlib
import os
import sys
import types

PACKAGE = "cdktf_cdktf_provider_aws"

# jsii prints a Node 20 end-of-life banner on every run unless this names the version (it must contain 20).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


class BindingsError(RuntimeError):
    pass


def _package() -> types.ModuleType:
    loaded = sys.modules.get(PACKAGE)
    if loaded is not None:
        return loaded  # the real package (someone imported it whole) or our light one
    import importlib.util  # here: the CLI imports this module for BindingsError on every synth, either engine

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BindingsError(f"{PACKAGE} is not installed; run `make synth` to create the environment")
    package = types.ModuleType(PACKAGE)
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    package.__package__ = PACKAGE
    sys.modules[PACKAGE] = package
    return package


def resource_class(tf_type: str) -> type:
    """aws_apigatewayv2_api -> Apigatewayv2Api; data_aws_region -> DataAwsRegion; provider -> AwsProvider."""
    _package()
    module_name = tf_type[len("aws_"):] if tf_type.startswith("aws_") else tf_type
    class_name = "AwsProvider" if tf_type == "provider" else "".join(p.capitalize() for p in module_name.split("_"))
    try:
        module = importlib.import_module(f"{PACKAGE}.{module_name}")
    except ImportError as exc:
        raise BindingsError(f"the provider bindings have no module {module_name!r} for {tf_type}: {exc}") from exc
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise BindingsError(f"{PACKAGE}.{module_name} has no class {class_name}; the bindings' layout changed") from None


def struct_class(resource_cls: type, path: tuple[str, ...]) -> type | None:
    """The struct class for a nested block, by the bindings' naming rule: Apigatewayv2Stage + RouteSettings."""
    module = sys.modules[resource_cls.__module__]
    name = resource_cls.__name__ + "".join("".join(p.capitalize() for p in part.split("_")) for part in path)
    return getattr(module, name, None)
