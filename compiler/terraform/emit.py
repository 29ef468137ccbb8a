"""The CDKTF engine: resource plan -> CDKTF constructs. The only module (with bindings and synth) that imports cdktf.

`CloudMapRoutes` is a reusable construct: any CDKTF Python app can place it in its own stack. Every block
gets an explicit logical id (the plan's name), so Terraform addresses read `aws_apigatewayv2_route.leader`
rather than a hashed construct path.
"""

from __future__ import annotations

import inspect
from typing import Any

import cdktf  # noqa: E402
from constructs import Construct  # noqa: E402

from ..core import names
from ..language.model import Model
from . import catalogue
from .bindings import resource_class, struct_class  # first: it quiets jsii's banner before jsii starts
from .plan import Block, Concat, Ref, ResourcePlan, build, terraform_value, tf_literal


class CloudMapRoutes(Construct):
    """API Gateway HTTP API -> VPC link -> Cloud Map services, from a validated model (or a resource plan)."""

    def __init__(self, scope: Construct, id: str, model: Model | ResourcePlan) -> None:
        super().__init__(scope, id)
        self.plan = model if isinstance(model, ResourcePlan) else build(model)
        self.blocks: dict[str, cdktf.TerraformElement] = {}  # by Terraform address
        # Every jsii call is a round trip to Node: a reference's token and a lifecycle struct are made once each.
        self._tokens: dict[tuple[str, str], Any] = {}
        self._lifecycles: dict[tuple, Any] = {}
        for block in self.plan.blocks:
            self.blocks[block.address] = self._emit(block)
        for address, import_id in self.plan.imports:  # Terraform import blocks (plan.with_imports)
            self.blocks[address].import_from(tf_literal(import_id))
        for output in self.plan.outputs:
            out = cdktf.TerraformOutput(self, output.name, value=self._value(output.value),
                                        description=output.description)
            out.override_logical_id(output.name)

    def element(self, type_: str, name: str, mode: str = names.MANAGED) -> cdktf.TerraformElement:
        return self.blocks[names.address(type_, name, mode)]

    def _emit(self, block: Block) -> cdktf.TerraformElement:
        cls = resource_class(block.bindings_type)
        maps = catalogue.of(block.type, block.mode).map_arguments
        kwargs = {key: self._arg(cls, (key,), value, maps) for key, value in block.args.items()}
        if block.depends_on:
            kwargs["depends_on"] = [self.blocks[names.address(*d)] for d in block.depends_on]
        if block.lifecycle:
            if block.lifecycle not in self._lifecycles:
                self._lifecycles[block.lifecycle] = cdktf.TerraformResourceLifecycle(
                    **{k: list(v) if isinstance(v, tuple) else v for k, v in block.lifecycle})
            kwargs["lifecycle"] = self._lifecycles[block.lifecycle]
        element = cls(self, block.construct_id, **kwargs)
        element.override_logical_id(block.name)
        return element

    def _arg(self, cls: type, path: tuple[str, ...], value: Any, maps: tuple[str, ...]) -> Any:
        """Plan values to constructor arguments: references to tokens, nested blocks to struct classes
        (a map argument of the catalogue, such as `tags`, stays a dict)."""
        if isinstance(value, dict) and not (len(path) == 1 and path[0] in maps):
            struct = struct_class(cls, path)
            converted = {k: self._arg(cls, path + (k,), v, maps) for k, v in value.items()}
            # No struct: a map inside a block (an override's response_parameters.mappings), whose keys are text
            return struct(**converted) if struct else {tf_literal(k): v for k, v in converted.items()}
        if isinstance(value, list):
            return [self._arg(cls, path, v, maps) for v in value]
        return self._value(value)

    def _value(self, value: Any) -> Any:
        """Literal text escaped for Terraform (plan.tf_literal, as the direct engine does); refs as tokens."""
        if isinstance(value, str):
            return tf_literal(value)
        if isinstance(value, Ref):
            key = (value.address, value.attr)
            if key not in self._tokens:
                self._tokens[key] = getattr(self.blocks[value.address], value.attr)
            return self._tokens[key]
        if isinstance(value, Concat):
            return "".join(str(self._value(p)) for p in value.parts)
        if isinstance(value, dict):
            return {tf_literal(k): self._value(v) for k, v in value.items()}
        return value


class RoutesStack(cdktf.TerraformStack):
    """The stack `python main.py` synthesizes: the plan's provider and backend records, and CloudMapRoutes."""

    BACKENDS = {"local": cdktf.LocalBackend, "s3": cdktf.S3Backend}

    def __init__(self, scope: Construct, id: str, plan: ResourcePlan) -> None:
        super().__init__(scope, id)
        provider = resource_class("provider")
        args = terraform_value(plan.aws_provider.args)
        for key, value in args.items():  # a nested block (assume_role) as the bindings' struct class: jsii sends a
            struct = struct_class(provider, (key,))  # plain dict on as it is, and JavaScript reads camelCase keys
            if struct is not None and isinstance(value, list) and all(
                    k in inspect.signature(struct.__init__).parameters for item in value for k in item):
                args[key] = [struct(**item) for item in value]  # (endpoints' keys are the same either way)
        provider(self, "aws", **args)
        backend_cls = self.BACKENDS[plan.backend.type]
        config = terraform_value(plan.backend.config)
        accepted = inspect.signature(backend_cls.__init__).parameters
        backend_cls(self, **{k: v for k, v in config.items() if k in accepted})
        for key, value in config.items():
            if key not in accepted:  # an argument the backend class predates (cdktf 0.21's S3Backend: use_lockfile)
                self.add_override(f"terraform.backend.{plan.backend.type}.{key}", value)
        self.routes = CloudMapRoutes(self, "routes", plan)
