"""Stage 5: validated model -> resource plan. Pure records; no cdktf.

The plan decides everything Terraform will see: resource types, stable logical ids (the Terraform address),
and argument values in Terraform's own shape (nested blocks as dicts / lists of dicts). The emitter only
translates it into constructs, so every decision here is testable without jsii.

Logical ids come from names, never positions (compiler.names): routes by route id, services by their key,
instances by service and instance id. Each route has its own integration, named like the route: an address that
depended on which other routes exist would be renamed by an unrelated edit, and Terraform would delete the old
integration while a route still pointed at it (AWS refuses that: ConflictException).

Every string in a plan is literal text. Terraform evaluates `${...}` and `%{...}` in every JSON string, so the
one conversion to Terraform JSON (`terraform_value`) escapes them; references are `Ref`/`Concat`, never text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union

from . import catalogue, names
from .deployed import LOG_FORMAT, STACK_TAG  # shared with the runtime tools (status, serve), which never import plan
from .model import Authorizer, Model, Service
from .names import DATA, MANAGED


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
    if config.local_endpoint:
        # Opt-in only (see README): never on by default, never pointing anywhere but the given URL.
        args.update(
            access_key="test", secret_key="test", region=config.region or "us-east-1",
            skip_credentials_validation=True, skip_metadata_api_check="true", skip_requesting_account_id=True,
            endpoints=[{s: config.local_endpoint for s in LOCAL_ENDPOINT_SERVICES}],
        )
    return Provider(args)


def state_backend(config: ProviderConfig, stack: str) -> Backend:
    if config.state:
        bucket, _, key = config.state.removeprefix("s3://").partition("/")
        # Encrypted, with S3-native locking (Terraform >= 1.10): no DynamoDB table to manage.
        return Backend("s3", {"bucket": bucket, "key": key, "encrypt": True,
                              **({"region": config.region} if config.region else {}), "use_lockfile": True})
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

    def block(self, address: str) -> Block:
        return next(b for b in self.blocks if b.address == address)

    def of_type(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


def build(model: Model, local_endpoint: str | None = None, state: str | None = None,
          stack: str = "routes") -> ResourcePlan:
    """The whole plan: one function per section, in dependency order; each returns its blocks."""
    tags = dict(model.api.tags)
    namespace = namespace_blocks(model, tags)
    services = service_blocks(model, _namespace_id(model, namespace), tags)
    vpc_link = vpc_link_block(model, tags)
    api = api_block(model, tags, stack)
    authorizers = authorizer_blocks(model, api)
    routes = route_blocks(model, api, vpc_link)
    logs = log_blocks(model, tags)
    stage = stage_block(model, api, logs, routes, tags)
    domain = domain_blocks(model, api, stage, tags)
    blocks = (*namespace, *services, vpc_link, api, *authorizers, *routes, *logs, stage, *domain)
    config = ProviderConfig(model.region, local_endpoint, state)
    return ResourcePlan(config, blocks, outputs(model, api, stage, vpc_link), aws_provider(config),
                        state_backend(config, stack), tags)


def _resource(type_: str, name: str, args: dict[str, Value], depends_on: tuple[tuple[str, str], ...] = ()) -> Block:
    """A resource block, with the lifecycle the catalogue gives its type (every type emitted is catalogued)."""
    return Block(type_, name, args, depends_on, catalogue.TYPES[(MANAGED, type_)].lifecycle)


def _data(type_: str) -> Block:
    """One of the data sources for the current partition, region and account."""
    assert (DATA, type_) in catalogue.TYPES, type_
    return Block(type_, names.CURRENT, {}, mode=DATA)


CURRENT = ("aws_partition", "aws_region", "aws_caller_identity")  # what an existing service's ARN is built from


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
    """The data sources an existing service's ARN needs, then each created service with its static instances."""
    blocks = [_data(kind) for kind in CURRENT] if any(s.existing_id for s in model.services) else []
    has_dns = model.namespace.has_dns if model.namespace else False
    for service in model.services:
        if not service.created:
            continue
        block = _service(service, namespace_id, has_dns, tags)
        blocks.append(block)
        for instance in service.instances:
            attributes = {"AWS_INSTANCE_IPV4": instance.ipv4, "AWS_INSTANCE_PORT": str(instance.port),
                          **dict(instance.attributes)}
            blocks.append(_resource("aws_service_discovery_instance", names.instance(service.key, instance.id),
                                    {"instance_id": instance.id, "service_id": block.ref("id"),
                                     "attributes": attributes}))
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


def authorizer_blocks(model: Model, api: Block) -> list[Block]:
    return [block for authorizer in model.authorizers for block in _authorizer(authorizer, api)]


def route_blocks(model: Model, api: Block, vpc_link: Block) -> list[Block]:
    """Per route, its own integration (named like the route) and the route."""
    blocks = []
    for route in model.routes:
        uri: Value = service_arn(model.service(route.service))
        if route.filter:
            uri = Concat((*(uri.parts if isinstance(uri, Concat) else (uri,)), "?" + route.filter.query()))
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
        auth = route.authorization
        blocks += [integration, _resource("aws_apigatewayv2_route", route.id, _clean({
            "api_id": api.ref("id"),
            "route_key": route.key.text,
            "target": Concat(("integrations/", integration.ref("id"))),
            "authorization_type": auth.api_type,
            "authorizer_id": Ref("aws_apigatewayv2_authorizer", names.authorizer(auth.authorizer), "id")
            if auth.authorizer else None,
            "authorization_scopes": list(route.scopes) or None,
        }))]
    return blocks


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
        "domain_name_configuration": {"certificate_arn": domain.certificate_arn, "endpoint_type": "REGIONAL",
                                      "security_policy": "TLS_1_2"},
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
    return tuple(found)


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
        "force_destroy": True,
        "tags": tags or None,
    }))


def _authorizer(authorizer: Authorizer, api: Block) -> list[Block]:
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
        "statement_id": f"AllowApiGatewayAuthorizer-{authorizer.key}", "action": "lambda:InvokeFunction",
        "function_name": arn, "principal": "apigateway.amazonaws.com",
        "source_arn": Concat((api.ref("execution_arn"), "/authorizers/", block.ref("id")))})
    return [block, permission]


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


resolved = terraform_value  # the name review.py reads plans with
