"""Stage 6: resource plan -> CDKTF constructs. The only module (with bindings and synth) that imports cdktf.

`CloudMapRoutes` is a reusable construct: any CDKTF Python app can place it in its own stack. Every block
gets an explicit logical id (the plan's name), so Terraform addresses read `aws_apigatewayv2_route.leader`
rather than a hashed construct path.
"""

from __future__ import annotations

from typing import Any

from .bindings import resource_class, struct_class  # first: it quiets jsii's banner before jsii starts

import cdktf  # noqa: E402
from constructs import Construct  # noqa: E402
from .model import Model
from .plan import Block, Concat, ProviderConfig, Ref, ResourcePlan, build

# Every service endpoint these resources use, for the opt-in local mode (moto's server on 127.0.0.1).
LOCAL_ENDPOINT_SERVICES = ("apigatewayv2", "cloudwatchlogs", "ec2", "iam", "lambda", "servicediscovery", "sts")


class CloudMapRoutes(Construct):
    """API Gateway HTTP API -> VPC link -> Cloud Map services, from a validated model (or a resource plan)."""

    def __init__(self, scope: Construct, id: str, model: Model | ResourcePlan) -> None:
        super().__init__(scope, id)
        self.plan = model if isinstance(model, ResourcePlan) else build(model)
        self.blocks: dict[tuple[str, str], cdktf.TerraformElement] = {}
        for block in self.plan.blocks:
            self.blocks[(block.type, block.name)] = self._emit(block)
        for output in self.plan.outputs:
            out = cdktf.TerraformOutput(self, output.name, value=self._value(output.value),
                                        description=output.description)
            out.override_logical_id(output.name)

    def element(self, type_: str, name: str) -> cdktf.TerraformElement:
        return self.blocks[(type_, name)]

    def _emit(self, block: Block) -> cdktf.TerraformElement:
        cls = resource_class(block.type)
        kwargs = {key: self._arg(cls, (key,), value) for key, value in block.args.items()}
        if block.depends_on:
            kwargs["depends_on"] = [self.blocks[d] for d in block.depends_on]
        element = cls(self, f"{block.type}.{block.name}", **kwargs)
        element.override_logical_id(block.name)
        return element

    def _arg(self, cls: type, path: tuple[str, ...], value: Any) -> Any:
        """Plan values to constructor arguments: references to tokens, nested blocks to struct classes."""
        if isinstance(value, dict) and path[-1] not in ("tags", "attributes", "request_parameters"):
            struct = struct_class(cls, path)
            converted = {k: self._arg(cls, path + (k,), v) for k, v in value.items()}
            return struct(**converted) if struct else converted
        if isinstance(value, list):
            return [self._arg(cls, path, v) for v in value]
        return self._value(value)

    def _value(self, value: Any) -> Any:
        if isinstance(value, Ref):
            element = self.blocks[(value.type, value.name)]
            return getattr(element, value.attr)
        if isinstance(value, Concat):
            return "".join(str(self._value(p)) for p in value.parts)
        if isinstance(value, dict):
            return {k: self._value(v) for k, v in value.items()}
        return value


class RoutesStack(cdktf.TerraformStack):
    """The stack `python main.py` synthesizes: provider, a relative local backend and CloudMapRoutes."""

    def __init__(self, scope: Construct, id: str, plan: ResourcePlan) -> None:
        super().__init__(scope, id)
        provider_cls = resource_class("provider")
        provider_cls(self, "aws", **provider_arguments(plan.provider))
        if plan.provider.state:
            bucket, _, key = plan.provider.state.removeprefix("s3://").partition("/")
            cdktf.S3Backend(self, bucket=bucket, key=key, encrypt=True,
                            **({"region": plan.provider.region} if plan.provider.region else {}))
            # S3-native locking (Terraform >= 1.10); cdktf 0.21's S3Backend predates the argument.
            self.add_override("terraform.backend.s3.use_lockfile", True)
        else:
            # cdktf's default local backend writes an absolute path into the JSON; a relative one keeps two
            # checkouts byte-identical. Terraform runs in cdktf.out/stacks/<id>/, so this is the project root,
            # outside cdktf.out, which synth replaces wholesale.
            cdktf.LocalBackend(self, path=f"../../../terraform.{id}.tfstate")
        self.routes = CloudMapRoutes(self, "routes", plan)


def provider_arguments(config: ProviderConfig) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if config.region:
        args["region"] = config.region
    if config.local_endpoint:
        # Opt-in only (see README): never on by default, never pointing anywhere but the given URL.
        args.update(
            access_key="test", secret_key="test", region=config.region or "us-east-1",
            skip_credentials_validation=True, skip_metadata_api_check="true", skip_requesting_account_id=True,
            endpoints=[{s: config.local_endpoint for s in LOCAL_ENDPOINT_SERVICES}],
        )
    return args
