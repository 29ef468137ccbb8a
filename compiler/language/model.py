"""The validated model. Frozen dataclasses, sorted collections, no positions, no YAML.

Everything in a Model is already checked; the planner trusts it. Collections are sorted by their stable
keys (service key, route id), so the order of the source file cannot leak into the output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import parse_qsl, quote

from ..core import names
from .routekeys import RouteKey

ECS_ATTRIBUTES = frozenset({"AVAILABILITY_ZONE", "REGION", "ECS_SERVICE_NAME", "ECS_CLUSTER_NAME", "EC2_INSTANCE_ID",
                            "ECS_TASK_DEFINITION_FAMILY", "ECS_TASK_SET_EXTERNAL_ID"})


@dataclass(frozen=True)
class AttributeFilter:
    """Key/value pairs an instance's custom attributes must all match (DiscoverInstances QueryParameters)."""

    pairs: tuple[tuple[str, str], ...] = ()  # sorted by key

    @classmethod
    def of(cls, mapping: dict[str, str]) -> "AttributeFilter":
        return cls(tuple(sorted(mapping.items())))

    def query(self) -> str:
        """The query string API Gateway reads from the integration URI: sorted keys, values percent-encoded."""
        return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.pairs)

    def matches(self, attributes: dict[str, str]) -> bool:
        return all(attributes.get(k) == v for k, v in self.pairs)

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.pairs) or "(all instances)"

    @classmethod
    def of_query(cls, query: str) -> "AttributeFilter":
        """The filter a URI query says (the inverse of `query`; empty values kept: Cloud Map allows them)."""
        return cls.of(dict(parse_qsl(query, keep_blank_values=True)))


@dataclass(frozen=True)
class IntegrationUri:
    """A Cloud Map private integration's URI, `<service ARN>?<filter query>`: built here for the plan, parsed here
    for review, status and import. API Gateway turns the query into DiscoverInstances' QueryParameters."""

    service_arn: str
    filter: AttributeFilter = AttributeFilter()

    @staticmethod
    def suffix(filter_: AttributeFilter) -> str:
        """What follows the service ARN: `?<query>`, or nothing for a route without a filter."""
        return "?" + filter_.query() if filter_ else ""

    def __str__(self) -> str:
        return self.service_arn + self.suffix(self.filter)

    @property
    def service_id(self) -> str:
        return self.service_arn.rsplit("/", 1)[-1]

    @classmethod
    def parse(cls, uri: str) -> Optional["IntegrationUri"]:
        """The URI read back; None when it is not a Cloud Map service ARN (an ALB listener, a function, text).

        >>> uri = IntegrationUri.parse("arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abc?leader=true")
        >>> uri.service_id, str(uri.filter), IntegrationUri.parse("arn:aws:lambda:eu-west-1:123456789012:function:f")
        ('srv-abc', 'leader=true', None)
        """
        arn, _, query = uri.partition("?")
        parts = arn.split(":")
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "servicediscovery" \
                or not parts[5].startswith("service/") or len(parts[5]) == len("service/"):
            return None
        return cls(arn, AttributeFilter.of_query(query))


@dataclass(frozen=True)
class TerraformArguments:
    """Raw Terraform arguments for one emitted resource (`overrides:`), checked against the provider's schema.

    Kept as canonical JSON text, so the model stays frozen and hashable and two are equal exactly when their
    arguments are; `arguments` gives a fresh copy to merge (compiler.terraform.overrides.merge)."""

    text: str = "{}"

    @classmethod
    def of(cls, arguments: dict | None) -> "TerraformArguments":
        return cls(json.dumps(arguments or {}, sort_keys=True, ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")))

    @property
    def arguments(self) -> dict[str, Any]:
        return json.loads(self.text)

    def __bool__(self) -> bool:
        return self.text != "{}"


NO_OVERRIDES = TerraformArguments()


@dataclass(frozen=True)
class EcsRegistration:
    """What an ECS service's `service_registries` names for bridge or host networking (awsvpc needs neither)."""

    container_name: str
    container_port: int


@dataclass(frozen=True)
class Throttling:
    burst_limit: int
    rate_limit: float


@dataclass(frozen=True)
class DnsRecord:
    type: str
    ttl: int


@dataclass(frozen=True)
class Route53HealthCheck:
    type: str
    resource_path: str
    failure_threshold: int


@dataclass(frozen=True)
class Instance:
    id: str
    ipv4: str
    port: int
    attributes: tuple[tuple[str, str], ...]  # custom attributes, sorted


def registrar_sets(registered_by: str, app_attributes, key: str) -> bool:
    """The rule behind W403, on plain values (the rules read the spec, reach reads the model)."""
    return registered_by != "ecs" or key in ECS_ATTRIBUTES or key in app_attributes


@dataclass(frozen=True)
class Service:
    key: str  # the key under `services`, what routes refer to
    name: str  # the Cloud Map name
    description: Optional[str] = None
    existing_arn: Optional[str] = None
    existing_id: Optional[str] = None
    registered_by: str = "other"
    dns_records: tuple[DnsRecord, ...] = ()
    routing_policy: str = "MULTIVALUE"
    health_check: str = "none"
    route53_health_check: Optional[Route53HealthCheck] = None
    app_attributes: tuple[str, ...] = ()
    instances: tuple[Instance, ...] = ()
    force_destroy: bool = True  # deregister what is registered before a delete or replacement
    ecs: Optional[EcsRegistration] = None  # registered_by: ecs with bridge/host networking
    overrides: TerraformArguments = NO_OVERRIDES  # aws_service_discovery_service

    @property
    def created(self) -> bool:
        return not (self.existing_arn or self.existing_id)

    def sets_attribute(self, key: str) -> bool:
        """Whether the service's registrar can give an instance attribute `key` (a filter on another one matches
        nothing). ECS sets only its own attributes, plus what the application adds (`app_attributes`); other
        registrars set what they like."""
        return registrar_sets(self.registered_by, self.app_attributes, key)

    @property
    def logical_id(self) -> str:
        return names.service(self.key)


@dataclass(frozen=True)
class Namespace:
    type: str  # http | private_dns | public_dns
    name: Optional[str] = None
    vpc_id: Optional[str] = None
    description: Optional[str] = None
    existing_id: Optional[str] = None

    @property
    def has_dns(self) -> bool:
        return self.type != "http"


ALLOWLIST_IDENTITY = "$context.identity.sourceIp"  # what an allow-list authorizer reads (and caches on)


@dataclass(frozen=True)
class Authorizer:
    key: str
    type: str  # jwt | lambda | allowlist
    identity_source: str
    issuer: Optional[str] = None
    audiences: tuple[str, ...] = ()
    function_arn: Optional[str] = None
    result_ttl_seconds: int = 300
    simple_responses: bool = True
    cidrs: tuple[str, ...] = ()  # allowlist: as written (IPv4 and IPv6)
    overrides: TerraformArguments = NO_OVERRIDES  # aws_apigatewayv2_authorizer

    @property
    def logical_id(self) -> str:
        return names.authorizer(self.key)


@dataclass(frozen=True)
class IntegrationOptions:
    timeout_ms: Optional[int] = None
    tls_server_name: Optional[str] = None
    strip_stage: bool = False  # overwrite:path = $request.path (named stages only)


@dataclass(frozen=True)
class Authorization:
    """How a route is authorized, resolved once: no authorization, IAM (SigV4), or a named authorizer."""

    kind: str  # none | iam | jwt | lambda | allowlist
    authorizer: Optional[str] = None  # the key under `authorizers` (jwt and lambda only)

    @property
    def required(self) -> bool:
        return self.kind != "none"

    @property
    def api_type(self) -> str:
        """API Gateway's AuthorizationType."""
        return {"none": "NONE", "iam": "AWS_IAM", "jwt": "JWT", "lambda": "CUSTOM", "allowlist": "CUSTOM"}[self.kind]

    def __str__(self) -> str:
        return self.authorizer or self.kind


NO_AUTHORIZATION = Authorization("none")
RESERVED_AUTHORIZATIONS = ("none", "iam")  # words routes.yaml uses for the two kinds without an authorizer


DEFAULT_TIMEOUT_MS = 30_000  # API Gateway's default (and largest) integration timeout for HTTP APIs
FAN_OUT_RESERVE_MS = 500  # of a fan-out route's timeout, kept for the function's start and its answer


@dataclass(frozen=True)
class FanOut:
    """A route that calls every matching instance (a Lambda function the stack creates) instead of one."""

    per_instance_timeout_ms: int = 2000
    concurrency: int = 8
    include_unhealthy: bool = False  # DiscoverInstances HealthStatus ALL instead of HEALTHY
    forward_headers: tuple[str, ...] = ("content-type",)  # lower case
    max_body_bytes: int = 4096  # of each instance's response body, in the aggregate


@dataclass(frozen=True)
class Route:
    id: str
    key: RouteKey
    service: str
    filter: AttributeFilter
    options: IntegrationOptions
    authorization: Authorization
    scopes: tuple[str, ...] = ()
    public: bool = False
    throttling: Optional[Throttling] = None
    fan_out: Optional[FanOut] = None  # None: a private integration to one instance
    overrides: TerraformArguments = NO_OVERRIDES  # aws_apigatewayv2_route
    integration_overrides: TerraformArguments = NO_OVERRIDES  # aws_apigatewayv2_integration

    @property
    def timeout_ms(self) -> int:
        """The integration timeout API Gateway applies (its default when routes.yaml sets none)."""
        return self.options.timeout_ms or DEFAULT_TIMEOUT_MS


def fan_out_total_ms(route: Route) -> int:
    """A fan-out's whole budget (TOTAL_TIMEOUT_MS): the integration timeout less a reserve, so the function
    answers with what it has before API Gateway gives up on it."""
    return route.timeout_ms - FAN_OUT_RESERVE_MS



@dataclass(frozen=True)
class AccessLogs:
    enabled: bool = True
    retention_days: int = 365
    kms_key_arn: Optional[str] = None
    group_name: str = ""


def default_log_group(api_name: str, environment: Optional[str] = None) -> str:
    """`/aws/apigateway/<api>/access`; in an environment `/aws/apigateway/<api>/<environment>/access`, so two
    environments in one account and region never claim one log group."""
    return f"/aws/apigateway/{api_name}/{environment}/access" if environment else f"/aws/apigateway/{api_name}/access"


def default_vpc_link_name(api_name: str, environment: Optional[str] = None) -> str:
    """The API's name; in an environment `<api>-<environment>`, so each environment's link is told apart."""
    return f"{api_name}-{environment}" if environment else api_name


@dataclass(frozen=True)
class AssumeRole:
    role_arn: str
    session_name: Optional[str] = None
    external_id: Optional[str] = None


@dataclass(frozen=True)
class ProviderSettings:
    """routes.yaml's `provider`: the account guard and where credentials come from (none: the environment's)."""

    allowed_account_ids: tuple[str, ...] = ()
    profile: Optional[str] = None
    assume_role: Optional[AssumeRole] = None


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: Optional[int] = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class MutualTls:
    truststore_uri: str  # s3://bucket/key
    truststore_version: Optional[str] = None


@dataclass(frozen=True)
class CustomDomain:
    domain_name: str
    certificate_arn: str
    base_path: Optional[str] = None
    mutual_tls: Optional[MutualTls] = None


@dataclass(frozen=True)
class Api:
    name: str
    stage: str = "$default"
    description: Optional[str] = None
    tags: tuple[tuple[str, str], ...] = ()
    throttling: Optional[Throttling] = None
    access_logs: AccessLogs = AccessLogs()
    cors: Optional[Cors] = None
    custom_domain: Optional[CustomDomain] = None
    disable_execute_api_endpoint: bool = False
    overrides: TerraformArguments = NO_OVERRIDES  # aws_apigatewayv2_api
    stage_overrides: TerraformArguments = NO_OVERRIDES  # aws_apigatewayv2_stage


@dataclass(frozen=True)
class VpcLink:
    name: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    vpc_id: Optional[str] = None  # as written, else a private DNS namespace's VPC
    cloud_map_access: Optional[str] = None  # create_endpoint | existing_endpoint | nat | None (undeclared)
    overrides: TerraformArguments = NO_OVERRIDES  # aws_apigatewayv2_vpc_link


@dataclass(frozen=True)
class Model:
    api: Api
    vpc_link: VpcLink
    services: tuple[Service, ...]  # sorted by key
    routes: tuple[Route, ...]  # sorted by id
    namespace: Optional[Namespace] = None
    authorizers: tuple[Authorizer, ...] = ()  # sorted by key
    region: Optional[str] = None
    provider: ProviderSettings = ProviderSettings()
    environment: Optional[str] = None  # the environment this model is (routes.yaml `environments`), if any
    state: Optional[str] = None  # the environment's s3://BUCKET/KEY, if it names one

    def service(self, key: str) -> Service:
        return next(s for s in self.services if s.key == key)

    @property
    def fan_out_routes(self) -> tuple[Route, ...]:
        return tuple(r for r in self.routes if r.fan_out)

