"""Validated model -> resource plan. Pure records; no cdktf.

The plan decides everything Terraform will see: resource types, stable logical ids (the Terraform address),
and argument values in Terraform's own shape (nested blocks as dicts / lists of dicts). The emitter only
translates it into constructs, so every decision here is testable without jsii.

Logical ids come from names, never positions (compiler.core.names): routes by route id, services by their key,
instances by service and instance id. Each route has its own integration, named like the route: an address that
depended on which other routes exist would be renamed by an unrelated edit, and Terraform would delete the old
integration while a route still pointed at it (AWS refuses that: ConflictException).

Every string in a plan is literal text. Terraform evaluates `${...}` and `%{...}` in every JSON string, so the
one conversion to Terraform JSON (`terraform_value`) escapes them; references are `Ref`/`Concat`, never text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Sequence, Union

from ..core import names
from ..core.deployed import (  # shared with the runtime tools (status, serve), which never import plan
    LOG_FORMAT,
    STACK_TAG,
)
from ..core.names import DATA, MANAGED
from ..language import functions
from ..language.model import Authorizer, IntegrationUri, Model, ProviderSettings, Route, Service
from . import bundle, catalogue, overrides, provider_schema
from .owners import Owner, OwnerKind, stamped


@dataclass(frozen=True)
class Ref:
    """A reference to another block's attribute: ${type.name.attr}, or ${data.type.name.attr}."""

    type: str
    name: str
    attr: str
    mode: str = MANAGED

    @property
    def address(self) -> str:
        """The address of the block referred to."""
        return names.address(self.type, self.name, self.mode)

    def __str__(self) -> str:
        return "${" + f"{self.address}.{self.attr}" + "}"


@dataclass(frozen=True)
class Concat:
    """String interpolation: literal text and references, joined."""

    parts: tuple[Union[str, Ref], ...]

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)


Value = Any  # str | int | float | bool | Ref | Concat | list[Value] | dict[str, Value]


@dataclass(frozen=True)
class Block:
    """A resource (mode `managed`) or a data source (mode `data`) with its Terraform arguments."""

    type: str
    name: str
    args: dict[str, Value]
    depends_on: tuple[tuple[str, str], ...] = ()  # (type, name) of resources (never data sources)
    # Terraform's lifecycle meta-arguments, e.g. (("create_before_destroy", True),): the catalogue's, by type
    lifecycle: tuple[tuple[str, Any], ...] = ()
    mode: str = MANAGED
    owner: Owner | None = None  # what it belongs to (owners.py); set by `build`, section by section

    def ref(self, attr: str) -> Ref:
        return Ref(self.type, self.name, attr, self.mode)

    @property
    def address(self) -> str:
        return names.address(self.type, self.name, self.mode)

    @property
    def bindings_type(self) -> str:
        """The provider bindings' name for the type (data sources: `data_aws_region`, class DataAwsRegion)."""
        return f"data_{self.type}" if self.mode == DATA else self.type

    @property
    def construct_id(self) -> str:
        """The block's construct id in the CDKTF tree; both engines write it into the metadata path."""
        return f"{self.bindings_type}.{self.name}"


@dataclass(frozen=True)
class Output:
    name: str
    value: Value
    description: str


@dataclass(frozen=True)
class ProviderConfig:
    region: str | None = None
    local_endpoint: str | None = None  # opt-in: every AWS endpoint at a local server, with test credentials
    state: str | None = None  # None: a local state file beside routes.yaml; or s3://BUCKET/KEY
    settings: ProviderSettings = ProviderSettings()  # routes.yaml's `provider`: account guard and credentials


# Every service endpoint these resources use, for the opt-in local mode (moto's server on 127.0.0.1).
LOCAL_ENDPOINT_SERVICES = ("apigatewayv2", "cloudwatchlogs", "ec2", "iam", "lambda", "servicediscovery", "sts")


@dataclass(frozen=True)
class Provider:
    """The `aws` provider block: its arguments as Terraform reads them."""

    args: dict[str, Value]


@dataclass(frozen=True)
class Backend:
    """Where Terraform keeps state: `type` is the backend (local, s3), `config` its arguments."""

    type: str
    config: dict[str, Value]


def aws_provider(config: ProviderConfig) -> Provider:
    args: dict[str, Value] = {}
    if config.region:
        args["region"] = config.region
    settings = config.settings
    if settings.allowed_account_ids:  # Terraform stops before any change when the credentials are another account's
        args["allowed_account_ids"] = list(settings.allowed_account_ids)
    if settings.profile and not config.local_endpoint:  # local mode uses test credentials, never a real identity
        args["profile"] = settings.profile
    if settings.assume_role and not config.local_endpoint:
        role = settings.assume_role
        args["assume_role"] = [_clean({"role_arn": role.role_arn, "session_name": role.session_name,
                                       "external_id": role.external_id})]
    if config.local_endpoint:
        # Opt-in only (see README): never on by default, never pointing anywhere but the given URL.
        args.update(
            access_key="test", secret_key="test", region=config.region or "us-east-1",
            skip_credentials_validation=True, skip_metadata_api_check="true", skip_requesting_account_id=True,
            endpoints=[{s: config.local_endpoint for s in LOCAL_ENDPOINT_SERVICES}],
        )
        if settings.allowed_account_ids:  # the guard needs the account: the local server's STS answers
            del args["skip_requesting_account_id"]
    return Provider(args)


def local_s3_backend(endpoint: str, region: str | None) -> dict[str, Value]:
    """The S3 backend's settings for the opt-in local mode only: the local server's S3, path-style, test
    credentials and no calls to STS, IMDS or the region list (all of which would reach for the real AWS)."""
    return {"endpoints": {"s3": endpoint}, "use_path_style": True, "region": region or "us-east-1",
            "access_key": "test", "secret_key": "test", "skip_credentials_validation": True,
            "skip_requesting_account_id": True, "skip_metadata_api_check": True, "skip_region_validation": True}


def state_backend(config: ProviderConfig, stack: str) -> Backend:
    if config.state:
        bucket, _, key = config.state.removeprefix("s3://").partition("/")
        # Encrypted, with S3-native locking (Terraform >= 1.10): no DynamoDB table to manage.
        settings: dict[str, Value] = {"bucket": bucket, "key": key, "encrypt": True,
                                      **({"region": config.region} if config.region else {}), "use_lockfile": True}
        if config.local_endpoint:
            settings.update(local_s3_backend(config.local_endpoint, config.region))
        return Backend("s3", settings)
    # A relative path keeps two checkouts byte-identical (cdktf's default is absolute). Terraform runs in
    # cdktf.out/stacks/<stack>/, so this is the project root, outside cdktf.out, which synth replaces wholesale.
    return Backend("local", {"path": f"../../../terraform.{stack}.tfstate"})


@dataclass(frozen=True)
class ResourcePlan:
    provider: ProviderConfig
    blocks: tuple[Block, ...]
    outputs: tuple[Output, ...]
    aws_provider: Provider  # what Terraform sees of `provider`: both engines render these two records
    backend: Backend
    tags: dict[str, str] = field(default_factory=dict)
    # Files both engines write beside cdk.tf.json in stacks/<stack>/ (the functions' zips): (file name, bytes),
    # sorted by name. Terraform reads them relative to that directory (aws_lambda_function.filename).
    assets: tuple[tuple[str, bytes], ...] = ()
    # Terraform `import` blocks, (address, import id), for adopting resources that exist already (`main.py
    # import` writes them, `synth --imports` reads them; with_imports checks them). Both engines emit them.
    imports: tuple[tuple[str, str], ...] = ()

    def block(self, address: str) -> Block:
        return next(b for b in self.blocks if b.address == address)

    def of_type(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


def build(model: Model, local_endpoint: str | None = None, state: str | None = None,
          stack: str = "routes") -> ResourcePlan:
    """The whole plan: one function per section, in dependency order; each returns its blocks."""
    tags = dict(model.api.tags)
    current = data_blocks(model)
    namespace = namespace_blocks(model, tags)
    services = service_blocks(model, _namespace_id(model, namespace), tags)
    vpc_link = vpc_link_block(model, tags)
    api = api_block(model, tags, stack)
    network = cloud_map_endpoint_blocks(model, tags)
    functions = fan_out_blocks(model, api, namespace, tags)
    authorizers = authorizer_blocks(model, api, tags)
    routes = route_blocks(model, api, vpc_link)
    logs = log_blocks(model, tags)
    stage = stage_block(model, api, logs, routes, tags)
    domain = domain_blocks(model, api, stage, tags)
    shared = lambda kind, blocks: stamped(Owner(kind), blocks)  # noqa: E731 (services, routes, authorizers: their own)
    blocks = (*shared(OwnerKind.STACK, current), *shared(OwnerKind.NAMESPACE, namespace), *services,
              *shared(OwnerKind.VPC_LINK, [vpc_link]), *shared(OwnerKind.API, [api]), *shared(OwnerKind.NETWORK, network),
              *functions, *authorizers, *routes, *shared(OwnerKind.API, [*logs, stage, *domain]))
    config = ProviderConfig(model.region, local_endpoint, state or model.state, model.provider)
    blocks = with_overrides(model, blocks)  # the one place `overrides:` enters the plan
    return ResourcePlan(config, blocks, (*outputs(model, api, stage, vpc_link), *fan_out_outputs(model)),
                        aws_provider(config), state_backend(config, stack), tags, assets(blocks))


def overrides_of(model: Model) -> dict[tuple[str, str], dict[str, Value]]:
    """(type, name) of a block -> the raw Terraform arguments routes.yaml's `overrides:` give it."""
    found = {("aws_apigatewayv2_api", names.API): model.api.overrides,
             ("aws_apigatewayv2_stage", names.STAGE): model.api.stage_overrides,
             ("aws_apigatewayv2_vpc_link", names.VPC_LINK): model.vpc_link.overrides}
    found.update({("aws_service_discovery_service", s.logical_id): s.overrides for s in model.services if s.created})
    found.update({("aws_apigatewayv2_authorizer", a.logical_id): a.overrides for a in model.authorizers})
    for route in model.routes:
        found[("aws_apigatewayv2_route", route.id)] = route.overrides
        found[("aws_apigatewayv2_integration", names.integration(route.id))] = route.integration_overrides
    return {key: arguments.arguments for key, arguments in found.items() if arguments}


def with_overrides(model: Model, blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """The one place overrides enter the plan (so both engines, diff and the replacement rules see them): each
    block's arguments with its override merged in (compiler.terraform.overrides.merge says how)."""
    wanted = overrides_of(model)
    if not wanted:
        return blocks
    return tuple(replace(b, args=overrides.merge(b.args, wanted[(b.type, b.name)], provider_schema.of(b.type)))
                 if b.mode == MANAGED and (b.type, b.name) in wanted else b for b in blocks)


def _resource(type_: str, name: str, args: dict[str, Value], depends_on: tuple[tuple[str, str], ...] = ()) -> Block:
    """A resource block, with the lifecycle the catalogue gives its type (every type emitted is catalogued)."""
    return Block(type_, name, args, depends_on, catalogue.TYPES[(MANAGED, type_)].lifecycle)


def _data(type_: str) -> Block:
    """One of the data sources for the current partition, region and account."""
    assert (DATA, type_) in catalogue.TYPES, type_
    return Block(type_, names.CURRENT, {}, mode=DATA)


CURRENT = ("aws_partition", "aws_region", "aws_caller_identity")  # what an existing service's ARN is built from


def data_blocks(model: Model) -> list[Block]:
    """The data sources the plan reads: partition, region and account for an existing service's ARN; for
    fan-out routes the partition (a managed policy's ARN), the region when routes.yaml names none (the Cloud Map
    endpoint's service name), and the VPC link's VPC (its CIDR block bounds the functions' egress)."""
    needed = set(CURRENT) if any(s.existing_id for s in model.services) else set()
    if model.fan_out_routes:
        needed.add("aws_partition")
        if model.vpc_link.cloud_map_access == "create_endpoint" and not model.region:
            needed.add("aws_region")
    blocks = [_data(kind) for kind in CURRENT if kind in needed]
    if model.fan_out_routes:
        blocks.append(Block("aws_vpc", names.LINK_VPC, {"id": model.vpc_link.vpc_id}, mode=DATA))
    return blocks


def namespace_blocks(model: Model, tags: dict) -> list[Block]:
    """The Cloud Map namespace, when routes.yaml creates one."""
    ns = model.namespace
    if ns is None or ns.existing_id:
        return []
    kind = {"http": "aws_service_discovery_http_namespace",
            "private_dns": "aws_service_discovery_private_dns_namespace",
            "public_dns": "aws_service_discovery_public_dns_namespace"}[ns.type]
    return [_resource(kind, names.NAMESPACE, _clean({"name": ns.name, "vpc": ns.vpc_id, "description": ns.description,
                                                     "tags": tags or None}))]


def _namespace_id(model: Model, namespace: list[Block]) -> Value:
    if model.namespace and model.namespace.existing_id:
        return model.namespace.existing_id
    return namespace[0].ref("id") if namespace else None


def service_blocks(model: Model, namespace_id: Value, tags: dict) -> list[Block]:
    """Each created service with its static instances (the data sources an existing one needs: data_blocks)."""
    blocks = []
    has_dns = model.namespace.has_dns if model.namespace else False
    for service in model.services:
        if not service.created:
            continue
        block = _service(service, namespace_id, has_dns, tags)
        own = [block]
        for instance in service.instances:
            attributes = {"AWS_INSTANCE_IPV4": instance.ipv4, "AWS_INSTANCE_PORT": str(instance.port),
                          **dict(instance.attributes)}
            own.append(_resource("aws_service_discovery_instance", names.instance(service.key, instance.id),
                                 {"instance_id": instance.id, "service_id": block.ref("id"),
                                  "attributes": attributes}))
        blocks += stamped(Owner.service(service.key), own)
    return blocks


def service_arn(service: Service) -> Value:
    """The Cloud Map service ARN an integration targets: given, built from an existing id, or the created one's."""
    if service.existing_arn:
        return service.existing_arn
    if service.existing_id:
        partition, region, account = (_data(kind) for kind in CURRENT)
        return Concat(("arn:", partition.ref("partition"), ":servicediscovery:", region.ref("name"), ":",
                       account.ref("account_id"), f":service/{service.existing_id}"))
    return Ref("aws_service_discovery_service", service.logical_id, "arn")


def vpc_link_block(model: Model, tags: dict) -> Block:
    return _resource("aws_apigatewayv2_vpc_link", names.VPC_LINK, _clean({
        "name": model.vpc_link.name, "subnet_ids": list(model.vpc_link.subnet_ids),
        "security_group_ids": list(model.vpc_link.security_group_ids), "tags": tags or None}))


def api_block(model: Model, tags: dict, stack: str) -> Block:
    api = model.api
    return _resource("aws_apigatewayv2_api", names.API, _clean({
        "name": api.name, "protocol_type": "HTTP", "description": api.description,
        "disable_execute_api_endpoint": api.disable_execute_api_endpoint or None,
        "cors_configuration": _cors(model), "tags": {**tags, STACK_TAG: stack}}))


def authorizer_blocks(model: Model, api: Block, tags: dict) -> list[Block]:
    return [block for authorizer in model.authorizers
            for block in stamped(Owner.authorizer(authorizer.key), _authorizer(model, authorizer, api, tags))]


# --- functions: fan-out routes and allow-list authorizers ---------------------------------------------------

LAMBDA_ASSUME_ROLE = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
    separators=(",", ":"))
# AWS-managed: CloudWatch Logs writes plus the EC2 network-interface calls a function in a VPC needs.
VPC_ACCESS_POLICY = ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
FAN_OUT_MEMORY_MB = 256  # threads waiting on sockets; the aggregate stays under 6 MB (handlers/fanout.py)
ALLOWLIST_MEMORY_MB = 128
ALLOWLIST_TIMEOUT_S = 3  # a set membership test; API Gateway waits at most 10 s for an authorizer
TRACING = {"mode": "PassThrough"}  # Lambda's default, written out: trace only what an upstream caller sampled
HTTPS = 443
# The interface endpoint for Cloud Map's data plane (DiscoverInstances is served at data-servicediscovery.<region>,
# botocore's `hostPrefix: data-`). Service names from the AWS PrivateLink guide, "AWS services that integrate with
# AWS PrivateLink" (docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html; Cloud Map:
# com.amazonaws.<region>.servicediscovery, ...-fips, ...data-servicediscovery, ...data-servicediscovery-fips; AWS
# CDK's InterfaceVpcEndpointAwsService.CLOUD_MAP_DATA_SERVICE_DISCOVERY). Private DNS makes the default endpoint name
# resolve to it, so the SDK needs no endpoint override; the Cloud Map guide ("Access AWS Cloud Map using an interface
# endpoint", docs.aws.amazon.com/cloud-map/latest/dg/vpc-interface-endpoints.html) asks its security group to admit
# 443 from the subnets, and notes endpoints work with the Amazon-provided DNS.
CLOUD_MAP_ENDPOINTS = {functions.CLOUD_MAP_DATA_API: names.CLOUD_MAP_ENDPOINT,  # the endpoint for each API
                       functions.CLOUD_MAP_CONTROL_API: names.CLOUD_MAP_CONTROL_ENDPOINT}


@lru_cache(maxsize=None)
def package(name: str) -> tuple[str, bytes, str]:
    """A shipped handler's deployment package: (asset file name, zip bytes, source_code_hash)."""
    data = bundle.handler_zip(name)
    return f"{name}.zip", data, bundle.source_code_hash(data)


def assets(blocks: tuple[Block, ...]) -> tuple[tuple[str, bytes], ...]:
    """The zips the plan's functions are created from, by file name."""
    names_ = sorted({b.args["filename"].removesuffix(".zip") for b in blocks if b.type == "aws_lambda_function"})
    return tuple(package(name)[:2] for name in names_)


def _function(name: str, handler: str, function_name: str, description: str, role: Block, log_group: Block,
              timeout_s: int, memory_mb: int, environment: dict[str, Value], tags: dict,
              vpc_config: dict | None = None, after: tuple[Block, ...] = ()) -> Block:
    file_name, _, code_hash = package(handler)
    return _resource("aws_lambda_function", name, _clean({
        "function_name": function_name, "description": description, "role": role.ref("arn"),
        "runtime": bundle.RUNTIME, "handler": bundle.HANDLER_ENTRY[handler], "filename": file_name,
        "source_code_hash": code_hash, "timeout": timeout_s, "memory_size": memory_mb,
        "environment": {"variables": environment}, "vpc_config": vpc_config, "tracing_config": TRACING,
        "tags": tags or None,
        # The role's permissions first (a VPC function's ENIs are created with them) and the log group, so that
        # Lambda does not create one of its own, unencrypted and kept forever.
    }), depends_on=tuple((b.type, b.name) for b in (log_group, *after)))


def _role(name: str, function_name: str, tags: dict) -> Block:
    return _resource("aws_iam_role", name, _clean({
        "name_prefix": names.role_prefix(function_name), "assume_role_policy": LAMBDA_ASSUME_ROLE,
        "tags": tags or None}))


def _log_group(name: str, function_name: str, model: Model, tags: dict) -> Block:
    """A function's log group, with the API's retention and key."""
    logs = model.api.access_logs
    return _resource("aws_cloudwatch_log_group", name, _clean({
        "name": names.lambda_log_group(function_name), "retention_in_days": logs.retention_days,
        "kms_key_id": logs.kms_key_arn, "tags": tags or None}))


def _http_name(model: Model, namespace: list[Block]) -> Value:
    """CLOUD_MAP_NAMESPACE: an HTTP namespace's computed http_name (what DiscoverInstances takes); a DNS namespace's
    name, which the function's messages use until GetNamespace answers with the HttpName."""
    if not functions.reads_http_name(model):
        return namespace[0].ref("http_name")
    return model.namespace.name


def _vpc_cidr() -> Ref:
    return Ref("aws_vpc", names.LINK_VPC, "cidr_block", DATA)


def fan_out_blocks(model: Model, api: Block, namespace: list[Block], tags: dict) -> list[Block]:
    """Per fan-out route: its function and what the function needs (role, log group, security group, permission).

    The role may only DiscoverInstances on the route's service and GetNamespace on its namespace: the Service
    Authorization Reference (docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html) lists
    DiscoverInstances with two required resource types, `namespace` and `service`, and GetNamespace with one,
    `namespace`, so the policy names those ARNs and nothing else. (The policy keeps its name, discover-instances,
    so that stacks applied before GetNamespace was added update it in place.)
    """
    blocks = []
    for route in model.fan_out_routes:
        service = model.service(route.service)
        name = names.fan_out(route.id)
        function_name = names.function_name(model.api.name, "fanout", route.id, model.environment)
        role = _role(name, function_name, tags)
        get_namespace = (',{"Action":"servicediscovery:GetNamespace","Effect":"Allow","Resource":"',
                         namespace[0].ref("arn"), '"}') if functions.reads_http_name(model) else ()
        discover = _resource("aws_iam_role_policy", name, {
            "name": "discover-instances", "role": role.ref("id"),
            "policy": Concat(('{"Statement":[{"Action":"servicediscovery:DiscoverInstances","Effect":"Allow",'
                              '"Resource":["', namespace[0].ref("arn"), '","', service_arn(service), '"]}',
                              *get_namespace, '],"Version":"2012-10-17"}'))})
        vpc_access = _resource("aws_iam_role_policy_attachment", name, {
            "role": role.ref("name"),
            "policy_arn": Concat(("arn:", _data("aws_partition").ref("partition"), VPC_ACCESS_POLICY))})
        log_group = _log_group(name, function_name, model, tags)
        group = _resource("aws_security_group", name, _clean({
            "name": names.security_group(model.api.name, "fanout", route.id, model.environment),
            "description": f"Fan-out function of route {route.id}: egress to the "
            "instances and to Cloud Map only", "vpc_id": model.vpc_link.vpc_id, "tags": tags or None}))
        environment: dict[str, Value] = dict(functions.fanout_environment(model, route, model.namespace.name,
                                                                        service.name))
        environment["CLOUD_MAP_NAMESPACE"] = _http_name(model, namespace)
        if functions.reads_http_name(model):
            environment["CLOUD_MAP_NAMESPACE_ID"] = namespace[0].ref("id")
        function = _function(name, "fanout", function_name,
                             f"Fans {route.key.text} out to every matching instance of {service.name}", role,
                             log_group, math.ceil(route.timeout_ms / 1000), FAN_OUT_MEMORY_MB, environment, tags,
                             {"subnet_ids": list(model.vpc_link.subnet_ids),
                              "security_group_ids": [group.ref("id")]}, after=(discover, vpc_access))
        permission = _resource("aws_lambda_permission", name, {
            "statement_id": names.FAN_OUT_STATEMENT, "action": "lambda:InvokeFunction",
            "function_name": function.ref("function_name"), "principal": "apigateway.amazonaws.com",
            "source_arn": Concat((api.ref("execution_arn"), "/*/*"))})
        blocks += stamped(Owner.route(route.id), [role, discover, vpc_access, log_group, group,
                                                  *_egress(model, route, group, tags), function, permission])
    return blocks


def _egress(model: Model, route: Route, group: Block, tags: dict) -> list[Block]:
    """The fan-out function's only ways out: the instances' ports within the VPC, and HTTPS to Cloud Map (the
    endpoint in the VPC, or anywhere through the NAT gateway)."""
    service = model.service(route.service)
    nat = model.vpc_link.cloud_map_access == "nat"
    rules = [("cloud_map", HTTPS, HTTPS, "0.0.0.0/0" if nat else _vpc_cidr(),
              "HTTPS to Cloud Map's DiscoverInstances API" + (" through the NAT gateway" if nat else
                                                             " (its interface endpoint in the VPC)"))]
    ports = sorted({i.port for i in service.instances})
    if service.registered_by == "static" and ports:
        rules += [(f"port_{p}", p, p, _vpc_cidr(), f"The instances of {service.key} on port {p}")
                  for p in ports if nat or p != HTTPS]  # 443 within the VPC is open already
    else:  # ECS or the application registers them: their ports are known only at run time
        rules.append(("instances", 1, 65535, _vpc_cidr(), f"The instances of {service.key} on their registered "
                      "ports (known only at run time)"))
    return [_resource("aws_vpc_security_group_egress_rule", names.fan_out_egress(route.id, what), _clean({
        "security_group_id": group.ref("id"), "ip_protocol": "tcp", "from_port": low, "to_port": high,
        "cidr_ipv4": cidr, "description": description, "tags": tags or None}))
        for what, low, high, cidr, description in rules]


def cloud_map_endpoint_blocks(model: Model, tags: dict) -> list[Block]:
    """The interface VPC endpoints for Cloud Map's data API (DiscoverInstances) and, for a DNS namespace, its control
    API (GetNamespace), when fan-out routes ask this stack to create them."""
    if not model.fan_out_routes or model.vpc_link.cloud_map_access != "create_endpoint":
        return []
    link = model.vpc_link
    group = _resource("aws_security_group", names.CLOUD_MAP_ENDPOINT, _clean({
        "name": names.security_group(model.api.name, "cloudmap", "endpoint", model.environment),
        "description": "Cloud Map data API endpoint: HTTPS from the VPC", "vpc_id": link.vpc_id,
        "tags": tags or None}))
    ingress = _resource("aws_vpc_security_group_ingress_rule", names.CLOUD_MAP_ENDPOINT, _clean({
        "security_group_id": group.ref("id"), "ip_protocol": "tcp", "from_port": HTTPS, "to_port": HTTPS,
        "cidr_ipv4": _vpc_cidr(), "description": "HTTPS from the VPC (fan-out functions)", "tags": tags or None}))
    region: Value = model.region or _data("aws_region").ref("name")
    endpoints = [_resource("aws_vpc_endpoint", CLOUD_MAP_ENDPOINTS[api], _clean({
        "vpc_id": link.vpc_id, "service_name": Concat(("com.amazonaws.", region, "." + api)),
        "vpc_endpoint_type": "Interface", "subnet_ids": list(link.subnet_ids),
        "security_group_ids": [group.ref("id")], "private_dns_enabled": True, "tags": tags or None}))
        for api in functions.cloud_map_apis(model)]
    return [group, ingress, *endpoints]


def fan_out_outputs(model: Model) -> tuple[Output, ...]:
    return tuple(Output(f"{names.fan_out(r.id)}_security_group_id",
                        Ref("aws_security_group", names.fan_out(r.id), "id"),
                        f"Security group of route {r.id}'s fan-out function: the instances must admit it on their "
                        "port.") for r in model.fan_out_routes)


def route_blocks(model: Model, api: Block, vpc_link: Block) -> list[Block]:
    """Per route, its own integration (named like the route) and the route."""
    blocks = []
    for route in model.routes:
        if route.fan_out:
            blocks += stamped(Owner.route(route.id), _fan_out_route(route, api))
            continue
        uri: Value = service_arn(model.service(route.service))
        if route.filter:  # <service ARN>?<filter>: model.IntegrationUri builds it, and parses it back
            uri = Concat((*(uri.parts if isinstance(uri, Concat) else (uri,)), IntegrationUri.suffix(route.filter)))
        integration = _resource("aws_apigatewayv2_integration", names.integration(route.id), _clean({
            "api_id": api.ref("id"),
            "integration_type": "HTTP_PROXY",
            "connection_type": "VPC_LINK",
            "connection_id": vpc_link.ref("id"),
            "integration_method": "ANY",
            "payload_format_version": "1.0",
            "integration_uri": uri,
            "timeout_milliseconds": route.options.timeout_ms,
            # A named stage is forwarded as the first path segment to private integrations; send the path
            # the client asked for instead.
            "request_parameters": {"overwrite:path": "$request.path"} if route.options.strip_stage else None,
            "tls_config": {"server_name_to_verify": route.options.tls_server_name}
            if route.options.tls_server_name else None,
        }))
        blocks += stamped(Owner.route(route.id), [integration, _route(route, api, integration)])
    return blocks


def _route(route: Route, api: Block, integration: Block) -> Block:
    auth = route.authorization
    block = _resource("aws_apigatewayv2_route", route.id, _clean({
        "api_id": api.ref("id"),
        "route_key": route.key.text,
        "target": Concat(("integrations/", integration.ref("id"))),
        "authorization_type": auth.api_type,
        "authorizer_id": Ref("aws_apigatewayv2_authorizer", names.authorizer(auth.authorizer), "id")
        if auth.authorizer else None,
        "authorization_scopes": list(route.scopes) or None,
    }))
    # AWS refuses to delete an integration a route targets; when the integration must be replaced (its type
    # changes), the route is replaced with it, and Terraform deletes the route first.
    return replace(block, lifecycle=block.lifecycle + (
        ("replace_triggered_by", (f"{integration.address}.integration_type",)),))


def _fan_out_route(route: Route, api: Block) -> list[Block]:
    """A fan-out route's integration invokes its function (Lambda proxy, payload format 2.0)."""
    integration = _resource("aws_apigatewayv2_integration", names.integration(route.id), _clean({
        "api_id": api.ref("id"),
        "integration_type": "AWS_PROXY",
        "integration_method": "POST",  # how API Gateway calls Lambda's Invoke API, whatever the client's method
        "integration_uri": Ref("aws_lambda_function", names.fan_out(route.id), "invoke_arn"),
        "payload_format_version": "2.0",
        "timeout_milliseconds": route.options.timeout_ms,
    }))
    return [integration, _route(route, api, integration)]


def log_blocks(model: Model, tags: dict) -> list[Block]:
    """The access log group, unless access logs are off."""
    logs = model.api.access_logs
    if not logs.enabled:
        return []
    return [_resource("aws_cloudwatch_log_group", names.ACCESS_LOGS, _clean({
        "name": logs.group_name, "retention_in_days": logs.retention_days, "kms_key_id": logs.kms_key_arn,
        "tags": tags or None}))]


def stage_block(model: Model, api: Block, logs: list[Block], routes: list[Block], tags: dict) -> Block:
    api_model = model.api
    log_group = logs[0] if logs else None
    throttled = [r for r in model.routes if r.throttling]
    throttled_ids = {r.id for r in throttled}
    return _resource("aws_apigatewayv2_stage", names.STAGE, _clean({
        "api_id": api.ref("id"), "name": api_model.stage, "auto_deploy": True,
        "access_log_settings": {"destination_arn": log_group.ref("arn"),
                                "format": json.dumps(LOG_FORMAT, separators=(",", ":"))} if log_group else None,
        # Both numbers, always: an unset one is 0 and every request is answered 429.
        "default_route_settings": {"throttling_burst_limit": api_model.throttling.burst_limit,
                                   "throttling_rate_limit": api_model.throttling.rate_limit}
        if api_model.throttling else None,
        "route_settings": [{"route_key": r.key.text, "throttling_burst_limit": r.throttling.burst_limit,
                            "throttling_rate_limit": r.throttling.rate_limit}
                           for r in sorted(throttled, key=lambda r: r.key.text)] or None,
        "tags": tags or None,
    }), depends_on=tuple((b.type, b.name) for b in routes
                         if b.type == "aws_apigatewayv2_route" and b.name in throttled_ids))


def domain_blocks(model: Model, api: Block, stage: Block, tags: dict) -> list[Block]:
    """The custom domain and its mapping to the stage, when routes.yaml gives one."""
    domain = model.api.custom_domain
    if not domain:
        return []
    domain_block = _resource("aws_apigatewayv2_domain_name", names.DOMAIN, _clean({
        "domain_name": domain.domain_name,
        # Mutual TLS needs exactly this: a regional endpoint with the TLS 1.2 policy (API Gateway refuses it on
        # edge-optimized endpoints), which is the only kind this tool emits.
        "domain_name_configuration": {"certificate_arn": domain.certificate_arn, "endpoint_type": "REGIONAL",
                                      "security_policy": "TLS_1_2"},
        "mutual_tls_authentication": _clean({"truststore_uri": domain.mutual_tls.truststore_uri,
                                             "truststore_version": domain.mutual_tls.truststore_version})
        if domain.mutual_tls else None,
        "tags": tags or None}))
    return [domain_block, _resource("aws_apigatewayv2_api_mapping", names.DOMAIN, _clean({
        "api_id": api.ref("id"), "domain_name": domain_block.ref("id"), "stage": stage.ref("id"),
        "api_mapping_key": domain.base_path}))]


def outputs(model: Model, api: Block, stage: Block, vpc_link: Block) -> tuple[Output, ...]:
    found = [
        Output("api_endpoint", api.ref("api_endpoint"), "The HTTP API's default endpoint."),
        Output("stage_invoke_url", stage.ref("invoke_url"), "URL that invokes the stage."),
        Output("vpc_link_id", vpc_link.ref("id"), "VPC link id."),
    ]
    for service in model.services:
        if service.created:
            id_output, arn_output = names.service_outputs(service.key)
            found.append(Output(id_output, Ref("aws_service_discovery_service", service.logical_id, "id"),
                                f"Cloud Map service id of {service.key}."))
            found.append(Output(arn_output, Ref("aws_service_discovery_service", service.logical_id, "arn"),
                                f"Cloud Map service ARN of {service.key} (for an ECS service's service_registries)."))
            found.append(registry_output(service))
    return tuple(found)


def registry_output(service: Service) -> Output:
    """What an ECS service's `service_registries` block takes, as one object: `registry_arn`, and the container and
    port from `services.<key>.ecs`. The ECS API Reference, ServiceRegistry (docs.aws.amazon.com/AmazonECS/latest/
    APIReference/API_ServiceRegistry.html): "If the task definition that your service task specifies uses the bridge
    or host network mode, you must specify a containerName and containerPort combination from the task definition.
    If the task definition that your service task specifies uses the awsvpc network mode and a type SRV DNS record
    is used, you must specify either a containerName and containerPort combination or a port value." API Gateway
    needs SRV records for ECS tasks, so every network mode needs one of them."""
    value: dict[str, Value] = {"registry_arn": Ref("aws_service_discovery_service", service.logical_id, "arn")}
    if service.ecs:
        value.update(container_name=service.ecs.container_name, container_port=service.ecs.container_port)
        how = "registry_arn, container_name and container_port: pass all three, in any network mode"
    elif service.registered_by == "ecs":
        how = ("registry_arn; with SRV records ECS also needs container_name and container_port (set "
               f"services.{service.key}.ecs) or, in awsvpc network mode only, a port")
    else:
        how = "registry_arn"
    return Output(names.service_registry_output(service.key), value,
                  f"An ECS service's service_registries for Cloud Map service {service.key}: {how}.")


def _service(service: Service, namespace_id: Value, has_dns: bool, tags: dict) -> Block:
    health = None
    if service.route53_health_check:
        check = service.route53_health_check
        health = _clean({"type": check.type, "failure_threshold": check.failure_threshold,
                         "resource_path": check.resource_path if check.type != "TCP" else None})
    return _resource("aws_service_discovery_service", service.logical_id, _clean({
        "name": service.name,
        "description": service.description,
        # Cloud Map reads the top-level namespace_id; dns_config.namespace_id is the older spelling.
        "namespace_id": namespace_id,
        "dns_config": {"namespace_id": namespace_id, "routing_policy": service.routing_policy,
                       "dns_records": [{"ttl": r.ttl, "type": r.type} for r in service.dns_records]}
        if has_dns and service.dns_records else None,
        "health_check_custom_config": {"failure_threshold": 1} if service.health_check == "custom" else None,
        "health_check_config": health,
        # Deleting a service that still has instances fails (ResourceInUse), and ECS's or an app's registrations
        # are not Terraform's to remove one by one: a replacement or destroy deregisters them first.
        "force_destroy": service.force_destroy or None,
        "tags": tags or None,
    }))


def _authorizer(model: Model, authorizer: Authorizer, api: Block, tags: dict) -> list[Block]:
    if authorizer.type == "allowlist":
        return _allowlist(model, authorizer, api, tags)
    if authorizer.type == "jwt":
        return [_resource("aws_apigatewayv2_authorizer", authorizer.logical_id, {
            "api_id": api.ref("id"), "authorizer_type": "JWT", "name": authorizer.key,
            "identity_sources": [authorizer.identity_source],
            "jwt_configuration": {"audience": list(authorizer.audiences), "issuer": authorizer.issuer}})]
    arn = authorizer.function_arn
    _, partition, _, region, *_ = arn.split(":")
    block = _resource("aws_apigatewayv2_authorizer", authorizer.logical_id, {
        "api_id": api.ref("id"), "authorizer_type": "REQUEST", "name": authorizer.key,
        "identity_sources": [authorizer.identity_source],
        "authorizer_uri": f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "authorizer_payload_format_version": "2.0",
        "enable_simple_responses": authorizer.simple_responses,
        "authorizer_result_ttl_in_seconds": authorizer.result_ttl_seconds})
    permission = _resource("aws_lambda_permission", names.authorizer_permission(authorizer.key), {
        "statement_id": names.authorizer_statement(authorizer.key, model.environment),
        "action": "lambda:InvokeFunction", "function_name": arn, "principal": "apigateway.amazonaws.com",
        "source_arn": Concat((api.ref("execution_arn"), "/authorizers/", block.ref("id")))})
    return [block, permission]


def _allowlist(model: Model, authorizer: Authorizer, api: Block, tags: dict) -> list[Block]:
    """A source-address allow-list: a REQUEST authorizer backed by the shipped handler (compiler/handlers/
    allowlist.py), whose identity source is the caller's address, so its cached answers are per address."""
    name = names.allowlist(authorizer.key)
    function_name = names.function_name(model.api.name, "allowlist", authorizer.key, model.environment)
    role = _role(name, function_name, tags)
    log_group = _log_group(name, function_name, model, tags)
    logging = _resource("aws_iam_role_policy", name, {
        "name": "write-logs", "role": role.ref("id"),
        "policy": Concat(('{"Statement":[{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow",'
                          '"Resource":"', log_group.ref("arn"), ':*"}],"Version":"2012-10-17"}'))})
    function = _function(name, "allowlist", function_name, f"Allow-list authorizer {authorizer.key}: admits only "
                         "its source address ranges", role, log_group, ALLOWLIST_TIMEOUT_S, ALLOWLIST_MEMORY_MB,
                         dict(functions.allowlist_environment(authorizer)), tags, after=(logging,))
    block = _resource("aws_apigatewayv2_authorizer", authorizer.logical_id, {
        "api_id": api.ref("id"), "authorizer_type": "REQUEST", "name": authorizer.key,
        "identity_sources": [authorizer.identity_source],
        "authorizer_uri": function.ref("invoke_arn"),
        "authorizer_payload_format_version": "2.0",
        "enable_simple_responses": True,
        "authorizer_result_ttl_in_seconds": authorizer.result_ttl_seconds})
    permission = _resource("aws_lambda_permission", names.authorizer_permission(authorizer.key), {
        "statement_id": names.authorizer_statement(authorizer.key, model.environment),
        "action": "lambda:InvokeFunction", "function_name": function.ref("function_name"),
        "principal": "apigateway.amazonaws.com",
        "source_arn": Concat((api.ref("execution_arn"), "/authorizers/", block.ref("id")))})
    return [role, log_group, logging, function, block, permission]  # each after what it refers to


def _cors(model: Model) -> dict | None:
    cors = model.api.cors
    if cors is None:
        return None
    return _clean({"allow_origins": list(cors.allow_origins), "allow_methods": list(cors.allow_methods) or None,
                   "allow_headers": list(cors.allow_headers) or None,
                   "expose_headers": list(cors.expose_headers) or None, "max_age": cors.max_age,
                   "allow_credentials": cors.allow_credentials or None})


def _clean(args: dict) -> dict:
    """Drop unset arguments so the JSON says only what we decided."""
    return {k: v for k, v in args.items() if v is not None}


class ImportsError(ValueError):
    """An import block that does not fit the plan: what is wrong, one problem per line."""


def with_imports(plan: ResourcePlan, imports: Sequence[tuple[str, str]]) -> ResourcePlan:
    """The plan with Terraform import blocks: each (address, import id) must name one of its resources, once,
    and the id must be one line of printable text. Raises ImportsError listing every problem."""
    managed = {b.address for b in plan.blocks if b.mode == MANAGED}
    problems, seen = [], set()
    for address, import_id in imports:
        if address not in managed:
            problems.append(f"{address}: no such resource in this stack (was routes.yaml changed since the import?)")
        elif address in seen:
            problems.append(f"{address}: imported twice")
        elif not isinstance(import_id, str) or not import_id or not import_id.isprintable() or len(import_id) > 2048:
            problems.append(f"{address}: the import id must be 1-2048 printable characters")
        seen.add(address)
    if problems:
        raise ImportsError("\n".join(problems))
    order = {b.address: i for i, b in enumerate(plan.blocks)}
    return replace(plan, imports=tuple(sorted(imports, key=lambda pair: order[pair[0]])))


def tf_literal(text: str) -> str:
    """Text as a Terraform JSON string that evaluates to exactly that text (no interpolation, no directive)."""
    return text.replace("${", "$${").replace("%{", "%%{")


def terraform_value(value: Value) -> Any:
    """A plan value as it is written in Terraform JSON: literals escaped, references as ${type.name.attr}."""
    if isinstance(value, str):
        return tf_literal(value)
    if isinstance(value, Ref):
        return str(value)
    if isinstance(value, Concat):
        return "".join(str(p) if isinstance(p, Ref) else tf_literal(p) for p in value.parts)
    if isinstance(value, dict):
        return {tf_literal(k): terraform_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [terraform_value(v) for v in value]
    return value

