"""Stage 5: validated model -> resource plan. Pure records; no cdktf.

The plan decides everything Terraform will see: resource types, stable logical ids (the Terraform address),
and argument values in Terraform's own shape (nested blocks as dicts / lists of dicts). The emitter only
translates it into constructs, so every decision here is testable without jsii.

Logical ids come from names, never positions: routes by route id, services by their key, instances by
service and instance id, integrations by the first (sorted) id of the routes that share them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union

from .model import Authorizer, Model, Route, Service

LOG_FORMAT = {  # what an operator needs when a filter matched nothing: integration status and error message
    "requestId": "$context.requestId",
    "sourceIp": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "errorMessage": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
}


@dataclass(frozen=True)
class Ref:
    """A reference to another block's attribute: ${type.name.attr}."""

    type: str
    name: str
    attr: str

    def __str__(self) -> str:
        prefix = "data." if self.type.startswith("data_") else ""
        kind = self.type[len("data_"):] if prefix else self.type
        return "${" + f"{prefix}{kind}.{self.name}.{self.attr}" + "}"


@dataclass(frozen=True)
class Concat:
    """String interpolation: literal text and references, joined."""

    parts: tuple[Union[str, Ref], ...]

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)


Value = Any  # str | int | float | bool | Ref | Concat | list[Value] | dict[str, Value]


@dataclass(frozen=True)
class Block:
    """A resource (`aws_*`) or data source (`data_aws_*`) with its Terraform arguments."""

    type: str
    name: str
    args: dict[str, Value]
    depends_on: tuple[tuple[str, str], ...] = ()

    def ref(self, attr: str) -> Ref:
        return Ref(self.type, self.name, attr)

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}" if not self.type.startswith("data_") else f"data.{self.type[5:]}.{self.name}"


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


@dataclass(frozen=True)
class Integration:
    """One integration shared by every route with the same service, filter and options."""

    name: str
    service: str
    route: Route  # the route that names it (first by id); its filter and options are the group's


@dataclass(frozen=True)
class ResourcePlan:
    provider: ProviderConfig
    blocks: tuple[Block, ...]
    outputs: tuple[Output, ...]
    tags: dict[str, str] = field(default_factory=dict)

    def block(self, address: str) -> Block:
        return next(b for b in self.blocks if b.address == address)

    def of_type(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


def group_integrations(model: Model) -> dict[str, Integration]:
    """route id -> its integration. Routes that share service, filter and options share one integration."""
    groups: dict[tuple, list[Route]] = {}
    for route in model.routes:  # sorted by id, so the first route of a group is stable
        groups.setdefault((route.service, route.filter, route.options), []).append(route)
    by_route = {}
    for routes in groups.values():
        integration = Integration(routes[0].id, routes[0].service, routes[0])
        for route in routes:
            by_route[route.id] = integration
    return by_route


def build(model: Model, local_endpoint: str | None = None, state: str | None = None) -> ResourcePlan:
    tags = dict(model.api.tags)
    blocks: list[Block] = []
    add = blocks.append

    namespace_id: Value = None
    if model.namespace and model.namespace.existing_id:
        namespace_id = model.namespace.existing_id
    elif model.namespace:
        ns = model.namespace
        kind = {"http": "aws_service_discovery_http_namespace",
                "private_dns": "aws_service_discovery_private_dns_namespace",
                "public_dns": "aws_service_discovery_public_dns_namespace"}[ns.type]
        namespace = Block(kind, "namespace", _clean({"name": ns.name, "vpc": ns.vpc_id, "description": ns.description,
                                                     "tags": tags or None}))
        add(namespace)
        namespace_id = namespace.ref("id")

    if any(s.existing_id for s in model.services):
        for kind in ("data_aws_partition", "data_aws_region", "data_aws_caller_identity"):
            add(Block(kind, "current", {}))

    service_arns: dict[str, Value] = {}
    for service in model.services:
        if service.existing_arn:
            service_arns[service.key] = service.existing_arn
            continue
        if service.existing_id:
            service_arns[service.key] = Concat((
                "arn:", Ref("data_aws_partition", "current", "partition"), ":servicediscovery:",
                Ref("data_aws_region", "current", "name"), ":", Ref("data_aws_caller_identity", "current", "account_id"),
                f":service/{service.existing_id}"))
            continue
        block = _service(service, namespace_id, model.namespace.has_dns if model.namespace else False, tags)
        add(block)
        service_arns[service.key] = block.ref("arn")
        for instance in service.instances:
            attributes = {"AWS_INSTANCE_IPV4": instance.ipv4, "AWS_INSTANCE_PORT": str(instance.port),
                          **dict(instance.attributes)}
            add(Block("aws_service_discovery_instance", f"{service.logical_id}__{instance.logical_id}",
                      {"instance_id": instance.id, "service_id": block.ref("id"), "attributes": attributes}))

    vpc_link = Block("aws_apigatewayv2_vpc_link", "vpc_link", _clean({
        "name": model.vpc_link.name, "subnet_ids": list(model.vpc_link.subnet_ids),
        "security_group_ids": list(model.vpc_link.security_group_ids), "tags": tags or None}))
    add(vpc_link)

    api_model = model.api
    api = Block("aws_apigatewayv2_api", "api", _clean({
        "name": api_model.name, "protocol_type": "HTTP", "description": api_model.description,
        "disable_execute_api_endpoint": api_model.disable_execute_api_endpoint or None,
        "cors_configuration": _cors(model), "tags": tags or None}))
    add(api)
    api_id = api.ref("id")

    authorizer_ids: dict[str, Ref] = {}
    for authorizer in model.authorizers:
        for block in _authorizer(authorizer, api):
            add(block)
        authorizer_ids[authorizer.key] = Ref("aws_apigatewayv2_authorizer", authorizer.logical_id, "id")

    integrations = group_integrations(model)
    for integration in sorted({i.name: i for i in integrations.values()}.values(), key=lambda i: i.name):
        route = integration.route
        uri: Value = service_arns[integration.service]
        if route.filter:
            uri = Concat((*(uri.parts if isinstance(uri, Concat) else (uri,)), "?" + route.filter.query()))
        add(Block("aws_apigatewayv2_integration", integration.name, _clean({
            "api_id": api_id,
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
        })))

    route_blocks = []
    for route in model.routes:
        auth = route.authorization
        authorizer = next((a for a in model.authorizers if a.key == auth), None)
        block = Block("aws_apigatewayv2_route", route.id, _clean({
            "api_id": api_id,
            "route_key": route.key.text,
            "target": Concat(("integrations/", Ref("aws_apigatewayv2_integration", integrations[route.id].name, "id"))),
            "authorization_type": {"none": "NONE", "iam": "AWS_IAM"}.get(auth)
            or {"jwt": "JWT", "lambda": "CUSTOM"}[authorizer.type],
            "authorizer_id": authorizer_ids.get(auth),
            "authorization_scopes": list(route.scopes) or None,
        }))
        route_blocks.append(block)
        add(block)

    log_group = None
    if api_model.access_logs.enabled:
        log_group = Block("aws_cloudwatch_log_group", "access_logs", _clean({
            "name": f"/aws/apigateway/{api_model.name}/access",
            "retention_in_days": api_model.access_logs.retention_days,
            "kms_key_id": api_model.access_logs.kms_key_arn, "tags": tags or None}))
        add(log_group)

    throttled = [r for r in model.routes if r.throttling]
    stage = Block("aws_apigatewayv2_stage", "stage", _clean({
        "api_id": api_id, "name": api_model.stage, "auto_deploy": True,
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
    }), depends_on=tuple((b.type, b.name) for b in route_blocks if b.name in {r.id for r in throttled}))
    add(stage)

    if api_model.custom_domain:
        domain = api_model.custom_domain
        domain_block = Block("aws_apigatewayv2_domain_name", "domain", _clean({
            "domain_name": domain.domain_name,
            "domain_name_configuration": {"certificate_arn": domain.certificate_arn, "endpoint_type": "REGIONAL",
                                          "security_policy": "TLS_1_2"},
            "tags": tags or None}))
        add(domain_block)
        add(Block("aws_apigatewayv2_api_mapping", "domain", _clean({
            "api_id": api_id, "domain_name": domain_block.ref("id"), "stage": stage.ref("id"),
            "api_mapping_key": domain.base_path})))

    outputs = [
        Output("api_endpoint", api.ref("api_endpoint"), "The HTTP API's default endpoint."),
        Output("stage_invoke_url", stage.ref("invoke_url"), "URL that invokes the stage."),
        Output("vpc_link_id", vpc_link.ref("id"), "VPC link id."),
    ]
    for service in model.services:
        if service.created:
            outputs.append(Output(f"service_{service.logical_id}_id", Ref("aws_service_discovery_service", service.logical_id, "id"),
                                  f"Cloud Map service id of {service.key}."))
            outputs.append(Output(f"service_{service.logical_id}_arn", Ref("aws_service_discovery_service", service.logical_id, "arn"),
                                  f"Cloud Map service ARN of {service.key} (for an ECS service's service_registries)."))
    return ResourcePlan(ProviderConfig(model.region, local_endpoint, state), tuple(blocks), tuple(outputs), tags)


def _service(service: Service, namespace_id: Value, has_dns: bool, tags: dict) -> Block:
    health = None
    if service.route53_health_check:
        check = service.route53_health_check
        health = _clean({"type": check.type, "failure_threshold": check.failure_threshold,
                         "resource_path": check.resource_path if check.type != "TCP" else None})
    return Block("aws_service_discovery_service", service.logical_id, _clean({
        "name": service.name,
        "description": service.description,
        # Cloud Map reads the top-level namespace_id; dns_config.namespace_id is the older spelling.
        "namespace_id": namespace_id,
        "dns_config": {"namespace_id": namespace_id, "routing_policy": service.routing_policy,
                       "dns_records": [{"ttl": r.ttl, "type": r.type} for r in service.dns_records]}
        if has_dns and service.dns_records else None,
        "health_check_custom_config": {"failure_threshold": 1} if service.health_check == "custom" else None,
        "health_check_config": health,
        "tags": tags or None,
    }))


def _authorizer(authorizer: Authorizer, api: Block) -> list[Block]:
    if authorizer.type == "jwt":
        return [Block("aws_apigatewayv2_authorizer", authorizer.logical_id, {
            "api_id": api.ref("id"), "authorizer_type": "JWT", "name": authorizer.key,
            "identity_sources": [authorizer.identity_source],
            "jwt_configuration": {"audience": list(authorizer.audiences), "issuer": authorizer.issuer}})]
    arn = authorizer.function_arn
    _, partition, _, region, *_ = arn.split(":")
    block = Block("aws_apigatewayv2_authorizer", authorizer.logical_id, {
        "api_id": api.ref("id"), "authorizer_type": "REQUEST", "name": authorizer.key,
        "identity_sources": [authorizer.identity_source],
        "authorizer_uri": f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "authorizer_payload_format_version": "2.0",
        "enable_simple_responses": authorizer.simple_responses,
        "authorizer_result_ttl_in_seconds": authorizer.result_ttl_seconds})
    permission = Block("aws_lambda_permission", f"authorizer_{authorizer.logical_id}", {
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


def resolved(value: Value) -> Any:
    """The plan value as Terraform JSON would show it (references as ${...} strings)."""
    if isinstance(value, (Ref, Concat)):
        return str(value)
    if isinstance(value, dict):
        return {k: resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v) for v in value]
    return value
