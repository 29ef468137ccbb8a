"""The routes.yaml language, declared once.

This table drives three things that must never disagree: the type/shape checks in `spec.py`, the published
JSON Schema (`routes.schema.json`, for editors via yaml-language-server) and the README's key reference.
Semantic rules that span several fields live in `validator.py`, where each can point at its own line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Union

# Cloud Map and API Gateway formats, each from the service model or the provider source (see AWS-FACTS).
SERVICE_NAME = r"^((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)$"
INSTANCE_ID = r"^[0-9a-zA-Z_/:.@-]{1,64}$"
LOGICAL_ID = r"^[a-z][a-z0-9_]{0,63}$"
STAGE_NAME = r"^(\$default|[A-Za-z0-9_-]{1,128})$"
SUBNET_ID = r"^subnet-[0-9a-f]{8,17}$"
SECURITY_GROUP_ID = r"^sg-[0-9a-f]{8,17}$"
VPC_ID = r"^vpc-[0-9a-f]{8,17}$"
NAMESPACE_ID = r"^ns-[a-z0-9]{16}$"
SERVICE_ID = r"^srv-[a-z0-9]{16}$"
SERVICE_ARN = r"^arn:aws(-[a-z]+){0,2}:servicediscovery:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:service/srv-[a-z0-9]{16}$"
REGION = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
# Tags go on the log group too, so the strictest service decides (CloudWatch Logs CreateLogGroup, with \p{Z}
# narrowed to the ASCII space); `aws:` keys are reserved by AWS, and `cloudmap-routes:` ones by this tool.
TAG_KEY = r"^(?![aA][wW][sS]:)(?!cloudmap-routes:)[\w.:/=+@ -]{1,128}$"
TAG_VALUE = r"^[\w .:/=+@-]{0,256}$"
# Free text reaches AWS as written (escaped for Terraform by the plan), but no control characters, lone
# surrogates or non-characters: Terraform turns a lone surrogate into U+FFFD and passes controls on unchanged.
SAFE_TEXT = r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]*$"
NAME_128 = r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]{1,128}$"
SCOPE = r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$"  # an OAuth scope token (RFC 6749 3.3); CreateRoute allows 64
HOSTNAME = r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
FUNCTION_ARN = r"^arn:aws(-[a-z]+){0,2}:lambda:[a-z]{2}-([a-z]+-){1,2}[0-9]:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
KMS_KEY_ARN = r"^arn:aws(-[a-z]+){0,2}:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:key/[A-Za-z0-9-]+$"
HEADER_NAME = r"^(\*|[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256})$"  # an HTTP token (RFC 9110), or *
ORIGIN = r"^(\*|https?://\*|https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?)$"
HEALTH_PATH = r"^/[!-~]{0,254}$"
JWT_IDENTITY = r"^\$request\.(header\.[!#$%&'*+.^_`|~0-9A-Za-z-]+|querystring\.[A-Za-z0-9._~-]+)$"
LAMBDA_IDENTITY = r"^\$(request\.(header\.[!#$%&'*+.^_`|~0-9A-Za-z-]+|querystring\.[A-Za-z0-9._~-]+)|context\.[A-Za-z][A-Za-z0-9_.]*|stageVariables\.[A-Za-z0-9_]+)$"
# lambda:AddPermission StatementId is at most 100 characters: "AllowApiGatewayAuthorizer-" (26) + the key.
AUTHORIZER_KEY = r"^[A-Za-z0-9_-]{1,74}$"
JWT_ISSUER = r"^https://[^\s]+$"
LOG_GROUP_NAME = r"^[.\-_/#A-Za-z0-9]{1,512}$"  # CreateLogGroup logGroupName
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # PutRetentionPolicy retentionInDays
# Per-field rules the validator checks with its own, more precise message (E300 route keys, E303-E305 attributes,
# E308 addresses). They are published in the JSON Schema only (`json_pattern`, `json_key_pattern`), so an editor
# flags the mistake as it is typed while `check` keeps the precise message; tests keep each equal to its rule.
ROUTE_KEY = (r"^(\$default|(ANY|DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT) (?=/.{0,999}$)"  # path of 1-1000 characters
             r"(?!.*\{([A-Za-z0-9_.-]+)\+?\}.*\{\3\+?\})"  # no parameter name twice
             # segments as CreateRoute accepts them (routekeys.PATH_SEGMENT), but no `.` or `..`; greedy last
             r"(/|(/((?!\.\.?(/|$))[A-Za-z0-9._:-]+|\{[A-Za-z0-9_.-]+\}))*(/\{[A-Za-z0-9_.-]+\+\})?))$")
IPV4 = r"^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$"
ATTRIBUTE_KEY = r"^(?!AWS_)[!-~]{1,255}$"  # DiscoverInstances AttrKey; AWS_* is Cloud Map's own
ATTRIBUTE_VALUE = r"^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*)?[a-zA-Z0-9!-~]?$"  # DiscoverInstances AttrValue
HEADER_TOKEN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$"  # an HTTP field name (RFC 9110 5.1)
# An S3 object URI (bucket naming rules: 3-63 lower-case letters, digits, '.' and '-'), as API Gateway takes a
# mutual TLS truststore (CreateDomainName MutualTlsAuthentication.TruststoreUri).
S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s]+$"


@dataclass(frozen=True)
class Str:
    pattern: str | None = None
    max_len: int | None = None
    min_len: int = 1
    # Where the provider counts UTF-8 bytes (validation.StringLenBetween), not characters.
    max_bytes: int | None = None
    enum: tuple[str, ...] | None = None
    example: str | None = None
    json_pattern: str | None = None  # JSON Schema only: the validator checks the same rule with a better message


@dataclass(frozen=True)
class Int:
    min: int | None = None
    max: int | None = None
    choices: tuple[int, ...] | None = None  # the only values allowed, when the service takes a fixed set
    example: int | None = None  # for hints that show a minimal valid document


@dataclass(frozen=True)
class Number:
    min: float | None = None
    max: float | None = None
    example: float | None = None


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class List:
    item: "Type"
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False


@dataclass(frozen=True)
class Map:
    """A free-form mapping (tags, attributes). `values` checks each value; keys are strings."""

    values: "Type"
    key_pattern: str | None = None
    max_items: int | None = None
    attribute_values: bool = False  # Cloud Map attribute: a YAML bool/number becomes its text, with W400
    json_key_pattern: str | None = None  # JSON Schema only, like Str.json_pattern
    overlay: bool = False  # an environment's override: merged entry by entry, `null` removes an entry


@dataclass(frozen=True)
class Field:
    type: "Type"
    doc: str
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Obj:
    fields: dict[str, Field]
    doc: str = ""
    # An environment's overrides of this object (`overlay`): every key optional, `null` removes one; merged onto
    # the document by compiler.language.environments. The reference table names it once instead of repeating its keys.
    overlay: bool = False


@dataclass(frozen=True)
class Terraform:
    """Raw Terraform arguments for one resource the plan emits (`overrides:`). The shape check takes any mapping;
    compiler.language.overrides checks it against the pinned provider's schema for `resource` and the catalogue's
    owned arguments, and the plan merges it in (compiler.terraform.overrides.merge)."""

    resource: str  # the Terraform type, e.g. aws_apigatewayv2_stage
    overlay: bool = False  # an environment's override of it: merged as JSON Merge Patch, `null` removes a key


Type = Union[Str, Int, Number, Bool, List, Map, Obj, Terraform]

def overrides(resource: str, what: str) -> Field:
    return Field(Terraform(resource), f"Raw Terraform arguments of {what} (`{resource}`, hashicorp/aws 5.100.0), "
                 "checked against the provider's schema and merged into what the tool emits (README, Overrides).")

THROTTLING = Obj({
    "burst_limit": Field(Int(0, 5000, example=100), "Requests that may arrive at once (token bucket size).", required=True),
    "rate_limit": Field(Number(0, 10000, example=50), "Steady-state requests per second.", required=True),
}, "Both numbers are always emitted: a half-set throttle is 0 and answers every request with 429.")

ATTRIBUTES = Map(Str(max_len=1024, min_len=0, json_pattern=ATTRIBUTE_VALUE), attribute_values=True,
                 json_key_pattern=ATTRIBUTE_KEY)

INSTANCE = Obj({
    "id": Field(Str(INSTANCE_ID, 64, example="node-1"), "Cloud Map instance id.", required=True),
    "ipv4": Field(Str(max_len=15, example="10.0.1.10", json_pattern=IPV4), "Private IPv4 address (AWS_INSTANCE_IPV4).", required=True),
    "port": Field(Int(1, 65535, example=8080), "Port the instance serves on (AWS_INSTANCE_PORT).", required=True),
    "attributes": Field(ATTRIBUTES, "Custom attributes (at most 30) that route filters match, e.g. leader: \"true\"."),
})

SERVICE = Obj({
    "name": Field(Str(SERVICE_NAME, 127), "Cloud Map service name; defaults to the key under `services`."),
    "description": Field(Str(SAFE_TEXT, 1024), "Service description."),
    "existing_arn": Field(Str(SERVICE_ARN, 2048), "Use an existing Cloud Map service (e.g. created by ECS or Copilot) instead of creating one."),
    "existing_id": Field(Str(SERVICE_ID, 20), "Use an existing Cloud Map service by id; its ARN is built from the provider's region and account."),
    "registered_by": Field(Str(enum=("ecs", "static", "other")), "Who registers instances: `ecs` (ECS service discovery; needs SRV records), `static` (the `instances` below), `other` (your application or another tool). Defaults to `static` when `instances` is given, else `other`."),
    "dns_records": Field(List(Obj({
        "type": Field(Str(enum=("SRV", "A", "AAAA", "CNAME")), "DNS record type.", required=True),
        "ttl": Field(Int(0, 2147483647), "Record TTL in seconds.", default=60),
    }), min_items=1, max_items=4), "DNS records Cloud Map keeps for each instance (DNS namespaces only)."),
    "routing_policy": Field(Str(enum=("MULTIVALUE", "WEIGHTED")), "DNS routing policy (DNS namespaces only).", default="MULTIVALUE"),
    "health_check": Field(Str(enum=("none", "custom", "route53")), "`custom`: the registrar reports health (ECS does). `route53`: Route 53 probes the instance (public DNS and HTTP namespaces). `none`: every instance receives traffic, dead or alive.", default="none"),
    "route53_health_check": Field(Obj({
        "type": Field(Str(enum=("HTTP", "HTTPS", "TCP")), "Probe protocol.", required=True),
        "resource_path": Field(Str(HEALTH_PATH, 255, example="/health"), "Path probed (HTTP/HTTPS).", default="/"),
        "failure_threshold": Field(Int(1, 10), "Consecutive failures before unhealthy.", default=3),
    }), "Route 53 health check settings; only with `health_check: route53`."),
    "app_attributes": Field(List(Str(max_len=255), unique=True), "Attribute keys your application sets on its own registration (ECS cannot set custom attributes), e.g. [leader]."),
    "instances": Field(List(INSTANCE), "Static instances to register (targets that are not ECS tasks)."),
    "force_destroy": Field(Bool(), "Let Terraform delete or replace the service while instances are registered: it deregisters them first (AWS refuses otherwise). `import` writes false, so adopting changes nothing; set it to true afterwards (no change in AWS).", default=True),
    "ecs": Field(Obj({
        "container_name": Field(Str(r"^[A-Za-z0-9_-]{1,255}$", 255, example="app"), "The container, as the task definition names it.", required=True),
        "container_port": Field(Int(1, 65535, example=8080), "The container port SRV records carry, as the task definition maps it.", required=True),
    }), "For `registered_by: ecs`: the container and port the ECS service's `service_registries` names, passed on in the `service_<key>_registry` output. ECS needs them in bridge and host network mode, and with SRV records (which API Gateway needs for ECS tasks) in awsvpc mode too, where a `port` may replace them."),
    "overrides": overrides("aws_service_discovery_service", "this service"),
})

AUTHORIZER = Obj({
    "type": Field(Str(enum=("jwt", "lambda", "allowlist")), "`jwt` (issuer + audiences), `lambda` (your request authorizer function) or `allowlist` (admits only the source addresses in `cidrs`; the stack creates the function from the shipped handler).", required=True),
    "issuer": Field(Str(max_len=2048, json_pattern=JWT_ISSUER, example="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"), "JWT issuer URL (jwt)."),
    "audiences": Field(List(Str(SAFE_TEXT, 2048), min_items=1, max_items=50, unique=True), "Accepted JWT audiences, at most 50 (jwt)."),
    "identity_source": Field(Str(LAMBDA_IDENTITY, 2048, example="$request.header.Authorization"), "Where the token is read from: `$request.header.NAME` or `$request.querystring.NAME` (jwt and lambda), `$context.NAME` or `$stageVariables.NAME` (lambda).", default="$request.header.Authorization"),
    "function_arn": Field(Str(FUNCTION_ARN, 140), "Lambda function ARN (lambda)."),
    "result_ttl_seconds": Field(Int(0, 3600), "How long API Gateway caches a lambda authorizer's answer.", default=300),
    "simple_responses": Field(Bool(), "The lambda returns {isAuthorized: bool} instead of an IAM policy.", default=True),
    "cidrs": Field(List(Str(max_len=49, example="203.0.113.0/24"), min_items=1, max_items=60, unique=True), "Source address ranges (IPv4 and IPv6 CIDRs, or single addresses) the allow-list admits (allowlist). It reads `$context.identity.sourceIp`, the address that connected to API Gateway."),
    "overrides": overrides("aws_apigatewayv2_authorizer", "this authorizer"),
})

FAN_OUT = Obj({
    "per_instance_timeout_ms": Field(Int(50, 29500), "How long the function waits for each instance; it must fit in the route's `timeout_ms` less 500 ms.", default=2000),
    "concurrency": Field(Int(1, 64), "How many instances are called at once.", default=8),
    "include_unhealthy": Field(Bool(), "Call instances Cloud Map reports unhealthy too (DiscoverInstances HealthStatus ALL instead of HEALTHY).", default=False),
    "forward_headers": Field(List(Str(HEADER_TOKEN, 256, example="content-type"), max_items=20, unique=True), "Request headers passed on to every instance (others are dropped).", default=["content-type"]),
    "max_body_bytes": Field(Int(0, 262144), "Bytes of each instance's response body kept in the aggregate; longer bodies are cut and flagged `truncated`.", default=4096),
}, "Fan-out: one request in, one call per matching instance, one aggregate out.")

ROUTE = Obj({
    "route": Field(Str(max_len=1200, example="GET /leader", json_pattern=ROUTE_KEY), "Route key: `METHOD /path` (ANY DELETE GET HEAD OPTIONS PATCH POST PUT; `{param}`, greedy `{proxy+}` last) or `$default`.", required=True),
    "id": Field(Str(LOGICAL_ID, 64), "Stable id for the Terraform address; give one before renaming the path so the change is an in-place update. Defaults to one derived from the route key (`GET /leader` -> `get_leader`)."),
    "service": Field(Str(max_len=127, example="app"), "Key of the target under `services`.", required=True),
    "filter": Field(Map(Str(max_len=1024, min_len=0, json_pattern=ATTRIBUTE_VALUE), max_items=30, attribute_values=True,
                        json_key_pattern=ATTRIBUTE_KEY), "Attribute filter: only instances whose custom attributes match every pair receive the request."),
    "timeout_ms": Field(Int(50, 30000), "Integration timeout in milliseconds (API Gateway default 30000)."),
    "authorization": Field(Str(max_len=128), "`none`, `iam`, or the key of an authorizer under `authorizers`. Defaults to `api.default_authorization`."),
    "scopes": Field(List(Str(SCOPE, 64, example="raft/admin"), max_items=10, unique=True), "OAuth scopes the JWT must carry (at most 10)."),
    "public": Field(Bool(), "Declare that a route with a filter is deliberately reachable without authorization.", default=False),
    "forward_stage_in_path": Field(Bool(), "Keep the stage name at the front of the backend path (named stages only). By default it is stripped.", default=False),
    "tls_server_name": Field(Str(HOSTNAME, 253, example="raft.internal"), "Call the backend over HTTPS and verify this server name."),
    "throttling": Field(THROTTLING, "Per-route throttling overriding the stage default."),
    "fan_out": Field(FAN_OUT, "Send each request to every instance that matches the filter, not one of them: a Lambda function the stack creates calls them all and answers with one JSON aggregate (200 all succeeded, 207 some failed, 502 all failed or none matched). Needs `vpc_link.vpc_id` (or a private DNS namespace) and a way to reach Cloud Map (`vpc_link.cloud_map_access`)."),
    "overrides": Field(Obj({
        "route": overrides("aws_apigatewayv2_route", "the route"),
        "integration": overrides("aws_apigatewayv2_integration", "the route's integration"),
    }), "Raw Terraform arguments for the route's two resources."),
})

API = Obj({
    "name": Field(Str(NAME_128, 128, max_bytes=128, example="my-api"), "HTTP API name.", required=True),
    "description": Field(Str(SAFE_TEXT, 1024, max_bytes=1024), "HTTP API description."),
    "stage": Field(Str(STAGE_NAME, 128), "Stage name: `$default` (no path prefix) or a name (becomes the first path segment).", default="$default"),
    "tags": Field(Map(Str(TAG_VALUE, 256, min_len=0), key_pattern=TAG_KEY, max_items=49), "Tags for every taggable resource (at most 49: the API also carries `cloudmap-routes:stack`, which `status` finds it by)."),
    "default_authorization": Field(Str(max_len=128), "Authorization for routes that name none: `none`, `iam` or an authorizer key.", default="none"),
    "throttling": Field(THROTTLING, "Stage-wide default throttling."),
    "access_logs": Field(Obj({
        "enabled": Field(Bool(), "Write JSON access logs to CloudWatch.", default=True),
        "retention_days": Field(Int(1, 3653, choices=LOG_RETENTION_DAYS), "Log retention in days (one of the values CloudWatch Logs accepts).", default=365),
        "group_name": Field(Str(LOG_GROUP_NAME, 512), "Log group name; defaults to `/aws/apigateway/<api.name>/access` (`/aws/apigateway/<api.name>/<environment>/access` in an environment)."),
        "kms_key_arn": Field(Str(KMS_KEY_ARN, 256), "KMS key for the log group."),
    }), "Access logging (on unless disabled)."),
    "cors": Field(Obj({
        "allow_origins": Field(List(Str(ORIGIN, 2048, example="https://console.example.com"), min_items=1, unique=True), "Allowed origins (`*` for any).", required=True),
        "allow_methods": Field(List(Str(enum=("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")), unique=True), "Allowed methods."),
        "allow_headers": Field(List(Str(HEADER_NAME, 256, example="content-type"), unique=True), "Allowed request headers."),
        "expose_headers": Field(List(Str(HEADER_NAME, 256, example="x-request-id"), unique=True), "Response headers exposed to the browser."),
        "max_age": Field(Int(0, 86400), "Seconds a preflight answer may be cached."),
        "allow_credentials": Field(Bool(), "Allow cookies / credentials (not with a `*` origin).", default=False),
    }), "CORS, answered by API Gateway itself (backend CORS headers are then ignored)."),
    "custom_domain": Field(Obj({
        "domain_name": Field(Str(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", 253, example="api.example.com"), "Domain name.", required=True),
        "certificate_arn": Field(Str(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$", 2048,
                                           example="arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"), "ACM certificate ARN in the API's region.", required=True),
        "base_path": Field(Str(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$", 1024), "API mapping key (path under the domain); empty maps the root."),
        "mutual_tls": Field(Obj({
            "truststore_uri": Field(Str(S3_URI, 1024, example="s3://example-truststore/admin-ca.pem"), "S3 URI of the PEM bundle of CA certificates clients' certificates must chain to.", required=True),
            "truststore_version": Field(Str(SAFE_TEXT, 1024), "S3 object version of the truststore (a versioned bucket); a new version is picked up when this changes."),
        }), "Mutual TLS: only clients presenting a certificate from your CA complete the TLS handshake. Set `disable_execute_api_endpoint` too, or clients go around it."),
    }), "Custom domain with an API mapping (a regional endpoint with the TLS_1_2 security policy)."),
    "disable_execute_api_endpoint": Field(Bool(), "Turn off the default execute-api URL (clients must use the custom domain).", default=False),
    "overrides": Field(Obj({
        "api": overrides("aws_apigatewayv2_api", "the HTTP API"),
        "stage": overrides("aws_apigatewayv2_stage", "the stage"),
    }), "Raw Terraform arguments for the API and its stage."),
})

ACCOUNT_ID = r"^[0-9]{12}$"
ROLE_ARN = r"^arn:aws(-[a-z]+){0,2}:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"  # IAM role ARN (path and name)
PROFILE = r"^[A-Za-z0-9_.@+=,-]{1,128}$"  # a section of ~/.aws/config: kept to the characters every tool accepts
SESSION_NAME = r"^[A-Za-z0-9_+=,.@-]{2,64}$"  # STS AssumeRole RoleSessionName
EXTERNAL_ID = r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$"  # STS AssumeRole ExternalId
# s3://BUCKET/KEY: a bucket name S3 accepts and a key of S3's safe characters (both reach Terraform verbatim).
STATE_URL = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9!_.*'()/-]{1,1024}$"
ENVIRONMENT_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"  # it names the stack: cdktf.out/stacks/<name>, the state file

PROVIDER = Obj({
    "allowed_account_ids": Field(List(Str(ACCOUNT_ID, 12, example="123456789012"), min_items=1, max_items=20, unique=True), "The only AWS accounts Terraform may change; any other account stops the plan (the provider's `allowed_account_ids`)."),
    "profile": Field(Str(PROFILE, 128, example="prod"), "Named profile from the shared AWS config and credentials files."),
    "assume_role": Field(Obj({
        "role_arn": Field(Str(ROLE_ARN, 2048, example="arn:aws:iam::123456789012:role/deploy"), "Role to assume.", required=True),
        "session_name": Field(Str(SESSION_NAME, 64, example="cloudmap-routes"), "Session name, shown in CloudTrail."),
        "external_id": Field(Str(EXTERNAL_ID, 1224, example="routes-deploy"), "External id the role's trust policy asks for."),
    }), "Assume this role with the credentials found (for example a CI identity deploying into each account)."),
})

NAMESPACE = Obj({
    "type": Field(Str(enum=("http", "private_dns", "public_dns")), "Namespace kind; DNS records need a DNS namespace.", required=True),
    "name": Field(Str(r"^(?!arn:)[!-~]{1,1024}$", 1024), "Namespace name (created namespaces)."),
    "vpc_id": Field(Str(VPC_ID, 21), "VPC of a private DNS namespace."),
    "description": Field(Str(SAFE_TEXT, 1024), "Namespace description."),
    "existing_id": Field(Str(NAMESPACE_ID, 19), "Use an existing namespace (its `type` must still be given)."),
})

ROOT = Obj({
    "version": Field(Int(1, 1), "Language version; only 1 exists.", required=True),
    "region": Field(Str(REGION, 32), "AWS region for the provider; defaults to the provider's environment (AWS_REGION)."),
    "provider": Field(PROVIDER, "Which AWS account and credentials the provider may use (guards and credentials; environments usually set these)."),
    "api": Field(API, "The HTTP API and its stage.", required=True),
    "vpc_link": Field(Obj({
        "name": Field(Str(NAME_128, 128, max_bytes=128), "VPC link name; defaults to the API name (`<api.name>-<environment>` in an environment)."),
        "subnet_ids": Field(List(Str(SUBNET_ID, 24, example="subnet-0123456789abcdef0"), min_items=1, max_items=10, unique=True), "Private subnets (at most 10; changing them replaces the link).", required=True),
        "security_group_ids": Field(List(Str(SECURITY_GROUP_ID, 20, example="sg-0123456789abcdef0"), min_items=1, max_items=5, unique=True), "Security groups of the link's network interfaces (changing them replaces the link).", required=True),
        "vpc_id": Field(Str(VPC_ID, 21), "The VPC of the subnets; fan-out functions get a security group in it. Defaults to a private DNS namespace's `vpc_id`."),
        "cloud_map_access": Field(Str(enum=("create_endpoint", "existing_endpoint", "nat")), "How fan-out functions in these subnets reach Cloud Map's DiscoverInstances API (data-servicediscovery): `create_endpoint` (the stack creates an interface VPC endpoint with private DNS), `existing_endpoint` (the VPC has one) or `nat` (the subnets route to a NAT gateway)."),
        "overrides": overrides("aws_apigatewayv2_vpc_link", "the VPC link"),
    }), "The VPC link API Gateway uses to reach the services.", required=True),
    "namespace": Field(NAMESPACE, "The Cloud Map namespace for created services (not needed when every service is existing)."),
    "services": Field(Map(SERVICE, key_pattern=SERVICE_NAME, max_items=300), "Cloud Map services, keyed by name.", required=True),
    "authorizers": Field(Map(AUTHORIZER, key_pattern=AUTHORIZER_KEY, max_items=10), "Authorizers (at most 10) routes refer to by key."),
    "routes": Field(List(ROUTE, min_items=1), "Routes: each reaches a service, optionally only the instances that match a filter.", required=True),
})


def overlay(t: Type) -> Type:
    """An environment's overrides of `t`: objects with every key optional and no defaults (a key left out keeps the
    document's value; `null` removes it); maps of objects likewise, entry by entry. Lists and scalars replace."""
    if isinstance(t, Obj):
        return Obj({name: Field(overlay(f.type), f.doc) for name, f in t.fields.items()}, t.doc, overlay=True)
    if isinstance(t, Map) and isinstance(t.values, Obj):
        return replace(t, values=overlay(t.values))
    if isinstance(t, Map):
        return replace(t, overlay=True)
    if isinstance(t, Terraform):
        return replace(t, overlay=True)
    return t


# The document keys an environment may override. `version` and `routes` are shared: routes are written once.
OVERRIDABLE = ("region", "provider", "api", "vpc_link", "namespace", "services", "authorizers")

ENVIRONMENT = Obj({
    **{name: Field(overlay(ROOT.fields[name].type), f"Overrides `{name}` for this environment.") for name in OVERRIDABLE},
    "state": Field(Str(STATE_URL, 1100, example="s3://my-tf-state/routes/prod.tfstate"), "Keep this environment's Terraform state in S3 (encrypted, S3 locking): s3://BUCKET/KEY. Defaults to a local file, terraform.<environment>.tfstate."),
})

ROOT.fields["environments"] = Field(
    Map(ENVIRONMENT, key_pattern=ENVIRONMENT_NAME, max_items=20, overlay=True),  # `dev:` alone: no overrides
    "Environments (e.g. dev, staging, prod), each its own stack `cdktf.out/stacks/<name>/`: the document with this "
    "environment's overrides merged in (mappings key by key, `null` removes a key, lists and values replace).")


# --- JSON Schema and reference table, generated from the table above -------------------------------------

def json_schema() -> dict:
    schema = _json(ROOT)
    # No `$id`: the project publishes the schema at no URL it can promise to keep (an `$id` is a SHOULD, not a MUST).
    # JSON Schema 2020-12 core, 9.1.1: "If a schema document defines no explicit base URI with "$id" (embedded in
    # content), the base URI is that determined per RFC 3986 section 5" (where it was read from). `cloudmap-routes
    # init` writes the schema beside routes.yaml, and the starter's `$schema=./routes.schema.json` names it.
    schema.update({"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "title": "routes.yaml: API Gateway HTTP API routes to Cloud Map services"})
    return schema


def _json(t: Type) -> dict:
    """The JSON Schema of one type (editors complete and check routes.yaml with it)."""
    for kind, schema in _JSON_SCHEMAS:
        if isinstance(t, kind):
            return schema(t)
    raise TypeError(f"no JSON Schema for {type(t).__name__}")


def _set(out: dict, **entries: Any) -> dict:
    """`out` with each entry whose value says something (not None, not empty, not 0/False)."""
    out.update({k: v for k, v in entries.items() if v})
    return out


def _json_terraform(t: Terraform) -> dict:
    if t.overlay:  # `null` may remove any key: the merged result is what is checked
        return {"type": "object"}
    from ..terraform.overrides import json_schema  # the provider's arguments, less those routes.yaml owns
    return json_schema(t.resource)


def _json_string(t: Str) -> dict:
    return _set({"type": "string"}, enum=list(t.enum) if t.enum else None, pattern=t.pattern or t.json_pattern,
                maxLength=t.max_len, minLength=t.min_len if not t.enum else None)


def _json_number(t: Int | Number) -> dict:
    out = _set({"type": "integer" if isinstance(t, Int) else "number"},
               enum=list(t.choices) if isinstance(t, Int) and t.choices else None)
    out.update({k: v for k, v in (("minimum", t.min), ("maximum", t.max)) if v is not None})  # 0 is a bound
    return out


def _json_list(t: List) -> dict:
    out = _set({"type": "array", "items": _json(t.item)}, minItems=t.min_items)
    if t.max_items is not None:
        out["maxItems"] = t.max_items
    return _set(out, uniqueItems=t.unique)


def _json_map(t: Map) -> dict:
    values = _json(t.values)
    if t.attribute_values:  # YAML authors write leader: true; we accept it with a warning
        values = {"type": ["string", "boolean", "number"], "maxLength": 1024}
        if isinstance(t.values, Str) and t.values.json_pattern:
            values["pattern"] = t.values.json_pattern  # applies to strings only
    if t.overlay:
        values = {"anyOf": [values, {"type": "null"}]}
    out = {"type": "object", "additionalProperties": values}
    if t.key_pattern or t.json_key_pattern:
        out["propertyNames"] = {"pattern": t.key_pattern or t.json_key_pattern}
    if t.max_items is not None:
        out["maxProperties"] = t.max_items
    return out


def _json_object(t: Obj) -> dict:
    props = {}
    for name, f in t.fields.items():
        prop = _json(f.type)
        if t.overlay:  # an environment's override: `null` removes the key
            prop = {"anyOf": [prop, {"type": "null"}]}
        prop["description"] = f.doc
        if f.default is not None:
            prop["default"] = f.default
        props[name] = prop
    required = [n for n, f in t.fields.items() if f.required]
    return _set({"type": "object", "additionalProperties": False, "properties": props}, required=required)


# In this order: the first kind a type is an instance of picks its schema.
_JSON_SCHEMAS = ((Terraform, _json_terraform), (Str, _json_string), ((Int, Number), _json_number),
                 (Bool, lambda t: {"type": "boolean"}), (List, _json_list), (Map, _json_map), (Obj, _json_object))


def describe(t: Type) -> str:
    """A short human name of a type, for messages and the reference table."""
    if isinstance(t, Terraform):
        return "Terraform arguments"
    if isinstance(t, Str):
        return " \\| ".join(f"`{v}`" for v in t.enum) if t.enum else "string"
    if isinstance(t, Int) and t.choices:
        return "integer, one of " + ", ".join(map(str, t.choices))
    if isinstance(t, Int):
        return "integer" + (f" {t.min}..{t.max}" if t.min is not None and t.max is not None and t.min != t.max else "")
    if isinstance(t, Number):
        return f"number {t.min:g}..{t.max:g}" if t.min is not None and t.max is not None else "number"
    if isinstance(t, Bool):
        return "boolean"
    if isinstance(t, List):
        return f"list of {describe(t.item)}"
    if isinstance(t, Map):
        return "map of string" if not isinstance(t.values, Obj) else "map of object"
    return "object"


def reference_rows(t: Obj = ROOT, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key path, type, required/default, description) for every key, depth first."""
    rows = []
    for name, f in t.fields.items():
        path = f"{prefix}{name}"
        default = "required" if f.required else ("" if f.default is None else f"`{f.default}`")
        rows.append((path, describe(f.type), default, f.doc))
        inner = f.type
        suffix = ""
        if isinstance(inner, List) and isinstance(inner.item, Obj):
            inner, suffix = inner.item, "[]"
        elif isinstance(inner, Map) and isinstance(inner.values, Obj):
            inner, suffix = inner.values, ".<name>"
        if isinstance(inner, Obj) and not inner.overlay:  # an override takes the keys of what it overrides
            rows.extend(reference_rows(inner, f"{path}{suffix}."))
    return rows


def reference_markdown() -> str:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for path, kind, default, doc in reference_rows():
        doc = doc.replace("|", "\\|")
        lines.append(f"| `{path}` | {kind} | {default} | {doc} |")
    return "\n".join(lines)
