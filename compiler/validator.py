"""Stage 4 (rules): spec -> validated model, plus every semantic problem with its own location.

Each rule is a small function that reads the spec and appends diagnostics; `validate` runs them all, so one
run reports everything. A model is returned only when there is no error (warnings are fine).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any, Callable, Iterator

from .diagnostics import Diagnostic, did_you_mean, has_errors
from .loader import Path
from .model import (ECS_ATTRIBUTES, AccessLogs, Api, AttributeFilter, Authorizer, Cors, CustomDomain, DnsRecord,
                    Instance, IntegrationOptions, Model, Namespace, Route, Route53HealthCheck, RouteKey, Service,
                    Throttling, VpcLink, slug)
from .spec import Spec

METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
MAX_ROUTES = 300  # HTTP API quota, raisable on request
MAX_INTEGRATIONS = 300  # HTTP API quota, not raisable
MAX_CUSTOM_ATTRIBUTES = 30  # RegisterInstance
MAX_ATTRIBUTE_CHARS = 5000  # RegisterInstance: sum of all keys and values
MAX_URI = 2048  # CreateIntegration IntegrationUri
SERVICE_ARN_LENGTH = 90  # arn:aws:servicediscovery:<region>:<account>:service/srv-... with a long region name

ATTR_KEY = re.compile(r"^[a-zA-Z0-9!-~]{1,255}$")  # DiscoverInstances AttrKey
ATTR_VALUE = re.compile(r"^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*)?[a-zA-Z0-9!-~]?$")  # AttrValue
PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~:@!$&'()*,;=+-]+$")
PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")
HTTP_NAMESPACE = re.compile(r"^[0-9A-Za-z._-]{1,1024}$")  # provider validation of aws_service_discovery_http_namespace
DNS_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$")


class Context:
    """What every rule needs: the spec, a way to report at a path, and shared lookups."""

    def __init__(self, spec: Spec) -> None:
        self.data = spec.data
        self.source = spec.source
        self.problems: list[Diagnostic] = []

    def report(self, path: Path, code: str, message: str, hint: str = "", at_key: bool = False) -> None:
        pos = self.source.key(path) if at_key else self.source.value(path)
        self.problems.append(Diagnostic(pos.line, pos.col, code, message, hint))

    def where(self, path: Path) -> str:
        pos = self.source.value(path)
        return f"line {pos.line}, column {pos.col}"

    @property
    def services(self) -> dict[str, dict]:
        return {k: v for k, v in self.data.get("services", {}).items() if isinstance(v, dict)}

    @property
    def namespace(self) -> dict | None:
        return self.data.get("namespace")

    @property
    def stage(self) -> str:
        return self.data.get("api", {}).get("stage", "$default")

    def routes(self) -> Iterator[tuple[Path, dict]]:
        for i, route in enumerate(self.data.get("routes") or []):
            if isinstance(route, dict):
                yield ("routes", i), route


# --- route keys ------------------------------------------------------------------------------------------

def parse_route_key(text: str) -> tuple[RouteKey | None, str, str]:
    """Parse `METHOD /path` or `$default`. Returns (key, problem, hint); key is None when malformed."""
    if text == "$default":
        return RouteKey("", ""), "", ""
    method, _, path = text.partition(" ")
    if not path:
        return None, f"route {text!r} must be 'METHOD /path' or '$default'", "for example: GET /leader"
    if method.upper() in METHODS and method != method.upper():
        return None, f"method {method!r} must be upper case", f"write {method.upper()} {path}"
    if method not in METHODS:
        return None, f"unknown method {method!r}", did_you_mean(method.upper(), METHODS)
    if path != path.strip() or " " in path:
        return None, f"route {text!r} has extra spaces", "one space between method and path, none elsewhere"
    if not path.startswith("/"):
        return None, f"path {path!r} must start with '/'", f"write {method} /{path}"
    if path != "/" and path.endswith("/"):
        return None, f"path {path!r} must not end with '/'", f"write {method} {path.rstrip('/') or '/'}"
    if len(path) > 1000:
        return None, "path is longer than 1000 characters", ""
    segments = path[1:].split("/") if path != "/" else []
    names: set[str] = set()
    for i, segment in enumerate(segments):
        if not segment:
            return None, f"path {path!r} has an empty segment ('//')", "remove the extra '/'"
        param = PARAM.match(segment)
        if param:
            name, greedy = param.groups()
            if greedy and i != len(segments) - 1:
                return None, f"greedy parameter {segment} must be the last segment", f"move {segment} to the end"
            if name in names:
                return None, f"parameter {{{name}}} appears twice in {path!r}", "give each parameter its own name"
            names.add(name)
        elif "{" in segment or "}" in segment:
            return None, f"segment {segment!r} mixes a parameter with text", "a parameter must be a whole segment: /{name}"
        elif not PATH_SEGMENT.match(segment):
            return None, f"segment {segment!r} has characters not allowed in a route path", "use letters, digits and . _ ~ -"
    return RouteKey(method, path), "", ""


def default_route_id(key: RouteKey) -> str:
    """`GET /leader` -> get_leader, `GET /` -> get_root, `ANY /{proxy+}` -> any_proxy, `$default` -> default."""
    if not key.method:
        return "default"
    rest = slug(key.path) if key.path != "/" else "root"
    out = f"{key.method.lower()}_{rest}".rstrip("_")
    if len(out) > 64:  # keep addresses readable and unique: a prefix plus a short digest of the whole key
        out = f"{out[:55]}_{hashlib.sha256(key.text.encode()).hexdigest()[:8]}"
    return out


def _normalised_key(text: str) -> str:
    method, _, path = text.strip().partition(" ")
    path = path.strip()
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return f"{method.upper()} {path}" if path else method


# --- rules -----------------------------------------------------------------------------------------------

def check_routes(ctx: Context) -> None:
    seen: dict[str, Path] = {}
    for path, route in ctx.routes():
        text = route.get("route")
        if text is None:
            continue
        key, problem, hint = parse_route_key(text)
        if key is None:
            ctx.report(path + ("route",), "E300", problem, hint)
        normalised = _normalised_key(text)
        if normalised in seen:
            ctx.report(path + ("route",), "E301", f"route {text!r} is declared twice",
                       f"first declared at {ctx.where(seen[normalised] + ('route',))}")
        else:
            seen[normalised] = path
    count = sum(1 for _ in ctx.routes())
    if count > MAX_ROUTES:
        ctx.report(("routes",), "E309", f"{count} routes; an HTTP API allows {MAX_ROUTES}",
                   "ask AWS for a higher 'Routes per API' quota, then split the file or raise the limit here")


def check_route_ids(ctx: Context) -> None:
    owners: dict[str, Path] = {}
    for path, route in ctx.routes():
        key, _, _ = parse_route_key(route.get("route", ""))
        route_id = route.get("id") or (default_route_id(key) if key else None)
        if route_id is None:
            continue
        if route_id in owners:
            ctx.report(path + (("id",) if "id" in route else ("route",)), "E311",
                       f"route id {route_id!r} is also used by the route at {ctx.where(owners[route_id] + ('route',))}",
                       "give one of the two routes an explicit, different `id:`")
        else:
            owners[route_id] = path


def check_references(ctx: Context) -> None:
    services = ctx.services
    authorizers = ctx.data.get("authorizers", {})
    choices = ("none", "iam", *authorizers)
    default_auth = ctx.data.get("api", {}).get("default_authorization")
    if default_auth is not None and default_auth not in choices:
        ctx.report(("api", "default_authorization"), "E302", f"authorization {default_auth!r} is not declared",
                   did_you_mean(default_auth, choices))
    for path, route in ctx.routes():
        service = route.get("service")
        if service is not None and service not in ctx.data.get("services", {}):
            ctx.report(path + ("service",), "E302", f"service {service!r} is not declared under services",
                       did_you_mean(service, services))
        auth = route.get("authorization")
        if auth is not None and auth not in choices:
            ctx.report(path + ("authorization",), "E302", f"authorization {auth!r} is not declared",
                       did_you_mean(auth, choices))


def _check_attribute(ctx: Context, path: Path, key: str, value: str, what: str) -> None:
    if not ATTR_KEY.match(key):
        ctx.report(path, "E303", f"{what} key {key!r} is not a Cloud Map attribute key",
                   "keys are 1-255 printable ASCII characters without spaces", at_key=True)
    elif key.startswith("AWS_"):
        ctx.report(path, "E305", f"{what} key {key!r} is reserved by AWS",
                   "AWS_* attributes are set by Cloud Map itself; use your own key, e.g. leader", at_key=True)
    if len(value) > 1024 or not ATTR_VALUE.match(value):
        ctx.report(path, "E304", f"{what} value {value[:40]!r} is not a Cloud Map attribute value",
                   "values are up to 1024 printable ASCII characters and may not start with a space or tab")


def check_filters(ctx: Context) -> None:
    integrations: set[tuple] = set()
    for path, route in ctx.routes():
        service = ctx.services.get(route.get("service", ""))
        filter_ = route.get("filter", {})
        for key, value in filter_.items():
            _check_attribute(ctx, path + ("filter", key), key, value, "filter")
        query = AttributeFilter.of(filter_).query()
        if SERVICE_ARN_LENGTH + 1 + len(query) > MAX_URI:
            ctx.report(path + ("filter",), "E309", f"the integration URI would be {SERVICE_ARN_LENGTH + 1 + len(query)} "
                       f"characters; API Gateway allows {MAX_URI}", "shorten the filter keys or values")
        integrations.add((route.get("service"), query, route.get("timeout_ms"), route.get("tls_server_name"),
                          route.get("forward_stage_in_path")))
        if service is None or not filter_:
            continue
        if service.get("instances"):
            instances = [i for i in service["instances"] if isinstance(i, dict)]
            if not any(AttributeFilter.of(filter_).matches(i.get("attributes", {})) for i in instances):
                ctx.report(path + ("filter",), "W401",
                           f"filter {AttributeFilter.of(filter_)} matches none of the static instances of {route['service']!r}",
                           "every request to this route will fail (API Gateway answers 5xx when no instance matches)")
        registered_by = _registered_by(service)
        for key in filter_:
            if registered_by == "ecs" and key not in ECS_ATTRIBUTES and key not in service.get("app_attributes", []):
                ctx.report(path + ("filter", key), "W403",
                           f"ECS never sets the attribute {key!r}, so no task of {route['service']!r} matches this filter "
                           "unless your application adds it", f"if it does, say so: app_attributes: [{key}]", at_key=True)
            elif registered_by != "ecs" and key in ECS_ATTRIBUTES:
                ctx.report(path + ("filter", key), "W405",
                           f"{key!r} is an attribute ECS sets, but {route['service']!r} is not registered by ECS",
                           "set registered_by: ecs, or filter on an attribute the registrar sets", at_key=True)
    if len(integrations) > MAX_INTEGRATIONS:
        ctx.report(("routes",), "E309", f"the routes need {len(integrations)} distinct integrations; an HTTP API "
                   f"allows {MAX_INTEGRATIONS} and the quota cannot be raised",
                   "share integrations: routes with the same service, filter and options reuse one")


def _registered_by(service: dict) -> str:
    return service.get("registered_by") or ("static" if service.get("instances") else "other")


def check_namespace(ctx: Context) -> None:
    ns = ctx.namespace
    needs_namespace = [k for k, s in ctx.services.items() if not _existing(s)]
    if ns is None:
        for key in needs_namespace:
            ctx.report(("services", key), "E310", f"service {key!r} is created here, so a namespace is needed",
                       "add a `namespace:` (type and name), or use existing_arn for the service", at_key=True)
        return
    kind = ns.get("type")
    if "existing_id" in ns:
        for key in ("name", "vpc_id", "description"):
            if key in ns:
                ctx.report(("namespace", key), "E310", f"namespace.{key} cannot be set for an existing namespace",
                           "remove it; the existing namespace keeps its settings", at_key=True)
        return
    if ("namespace", "name") not in ctx.source.keys:  # given but invalid was already reported
        ctx.report(("namespace",), "E202", "namespace is missing the required key 'name'",
                   "give the name of the namespace to create, or existing_id to use one")
    name = ns.get("name", "")
    if kind == "private_dns" and ("namespace", "vpc_id") not in ctx.source.keys:
        ctx.report(("namespace",), "E202", "a private_dns namespace needs vpc_id", "vpc_id: vpc-0123456789abcdef0")
    if kind != "private_dns" and "vpc_id" in ns:
        ctx.report(("namespace", "vpc_id"), "E310", f"vpc_id only applies to private_dns namespaces, not {kind}",
                   "remove vpc_id", at_key=True)
    if name and kind == "http" and not HTTP_NAMESPACE.match(name):
        ctx.report(("namespace", "name"), "E204", f"HTTP namespace name {name!r} is not valid",
                   "use letters, digits, '.', '_' and '-'")
    if name and kind in ("private_dns", "public_dns") and not DNS_NAME.match(name):
        ctx.report(("namespace", "name"), "E204", f"DNS namespace name {name!r} is not a valid DNS name",
                   "for example raft.internal (at most 253 characters)")


def _existing(service: dict) -> bool:
    return "existing_arn" in service or "existing_id" in service


MANAGED_ELSEWHERE = ("name", "description", "dns_records", "routing_policy", "health_check",
                     "route53_health_check", "instances")


def check_services(ctx: Context) -> None:
    ns = ctx.namespace or {}
    kind = ns.get("type")
    lower_names: dict[str, str] = {}
    for key, service in ctx.services.items():
        at = ("services", key)
        if _existing(service):
            if "existing_arn" in service and "existing_id" in service:
                ctx.report(at + ("existing_id",), "E310", "give existing_arn or existing_id, not both", at_key=True)
            for option in MANAGED_ELSEWHERE:
                # Defaults were filled in by the spec stage; only options written in the file are conflicts.
                if at + (option,) in ctx.source.keys:
                    ctx.report(at + (option,), "E310", f"{option} cannot be set on an existing service",
                               "the existing service is managed where it was created; remove the key", at_key=True)
            continue
        name = service.get("name", key)
        if kind in ("private_dns", "public_dns"):
            previous = lower_names.setdefault(name.lower(), key)
            if previous != key:
                ctx.report(at, "E310", f"service names {previous!r} and {key!r} differ only by case",
                           "DNS names are case-insensitive; rename one", at_key=True)
        _check_dns(ctx, at, service, kind)
        _check_health(ctx, at, service, kind)
        _check_instances(ctx, at, service)


def _check_dns(ctx: Context, at: Path, service: dict, kind: str | None) -> None:
    records = [r for r in service.get("dns_records", []) if isinstance(r, dict) and "type" in r]
    types = [r["type"] for r in records]
    registered_by = _registered_by(service)
    if kind == "http":
        for option in ("dns_records", "routing_policy"):
            if at + (option,) in ctx.source.keys:
                ctx.report(at + (option,), "E306", f"{option} is not allowed in an HTTP namespace",
                           "HTTP namespaces are discovered only through the API; remove it, or use a DNS namespace",
                           at_key=True)
        return
    if kind is None:
        return
    if at + ("dns_records",) not in ctx.source.keys:
        ctx.report(at, "E306", f"a service in a {kind} namespace needs dns_records",
                   "dns_records: [{type: SRV, ttl: 10}]", at_key=True)
        return
    for i, t in enumerate(types):
        if t in types[:i]:
            ctx.report(at + ("dns_records", i, "type"), "E306", f"record type {t} is listed twice")
    if registered_by == "ecs" and "SRV" not in types:
        ctx.report(at + ("dns_records",), "E306", "API Gateway needs SRV records for services ECS registers",
                   "add {type: SRV}: 'If you use Amazon ECS to populate entries in AWS Cloud Map, you must configure "
                   "your task to use SRV records'")
    if "CNAME" in types and len(types) > 1:
        ctx.report(at + ("dns_records",), "E306", "a CNAME record cannot be combined with other record types")
    if "CNAME" in types and service.get("routing_policy") == "MULTIVALUE":
        ctx.report(at + ("routing_policy",), "E306", "CNAME records need routing_policy WEIGHTED",
                   "routing_policy: WEIGHTED")
    if registered_by == "static" and ("AAAA" in types or "CNAME" in types):
        bad = "AAAA" if "AAAA" in types else "CNAME"
        ctx.report(at + ("dns_records",), "E306", f"static instances have an IPv4 address and a port; {bad} records "
                   "cannot be built from them", "use SRV and/or A")


def _check_health(ctx: Context, at: Path, service: dict, kind: str | None) -> None:
    health = service.get("health_check", "none")
    has_block = "route53_health_check" in service
    if health == "route53" and not has_block:
        ctx.report(at + ("health_check",), "E307", "health_check: route53 needs a route53_health_check block",
                   "route53_health_check: {type: HTTP, resource_path: /health}")
    if health != "route53" and has_block:
        ctx.report(at + ("route53_health_check",), "E307",
                   f"route53_health_check given with health_check: {health}; a service has one kind of health check",
                   "set health_check: route53, or remove the block", at_key=True)
    if health == "route53" and kind == "private_dns":
        ctx.report(at + ("health_check",), "E307", "Route 53 health checks are for public DNS and HTTP namespaces",
                   "use health_check: custom and report health from the registrar")
    if health == "none":
        ctx.report(at, "W402", f"service {at[-1]!r} has no health check: Cloud Map returns every instance, "
                   "dead ones too, and API Gateway keeps sending them requests",
                   "health_check: custom (ECS reports container health) or route53", at_key=True)
    if service.get("registered_by") == "ecs" and health == "route53":
        ctx.report(at + ("health_check",), "E307", "ECS reports task health through a custom health check",
                   "health_check: custom")


def _check_instances(ctx: Context, at: Path, service: dict) -> None:
    instances = service.get("instances", [])
    if instances and service.get("registered_by", "static") != "static":
        ctx.report(at + ("instances",), "E310",
                   f"static instances on a service registered by {service['registered_by']}",
                   "set registered_by: static, or let the registrar add the instances", at_key=True)
    seen: dict[str, Path] = {}
    for i, instance in enumerate(instances):
        if not isinstance(instance, dict):
            continue
        ip = at + ("instances", i)
        instance_id = instance.get("id")
        if instance_id in seen:
            ctx.report(ip + ("id",), "E308", f"instance id {instance_id!r} is used twice",
                       f"first used at {ctx.where(seen[instance_id] + ('id',))}")
        elif instance_id:
            seen[instance_id] = ip
        address = instance.get("ipv4")
        if address is not None:
            try:
                ipaddress.IPv4Address(address)
            except ValueError:
                ctx.report(ip + ("ipv4",), "E308", f"{address!r} is not an IPv4 address", "for example 10.0.1.10")
        attributes = instance.get("attributes", {})
        if len(attributes) > MAX_CUSTOM_ATTRIBUTES:
            ctx.report(ip + ("attributes",), "E308", f"{len(attributes)} custom attributes; Cloud Map allows "
                       f"{MAX_CUSTOM_ATTRIBUTES} per instance", "drop attributes no route filters on")
        total = sum(len(k) + len(v) for k, v in attributes.items())
        if total > MAX_ATTRIBUTE_CHARS:
            ctx.report(ip + ("attributes",), "E308", f"attribute keys and values add up to {total} characters; "
                       f"Cloud Map allows {MAX_ATTRIBUTE_CHARS}")
        for key, value in attributes.items():
            _check_attribute(ctx, ip + ("attributes", key), key, value, "attribute")


def check_authorization(ctx: Context) -> None:
    authorizers = ctx.data.get("authorizers", {})
    for key, auth in authorizers.items():
        at = ("authorizers", key)
        if not isinstance(auth, dict) or "type" not in auth:
            continue
        needs = {"jwt": ("issuer", "audiences"), "lambda": ("function_arn",)}[auth["type"]]
        other = {"jwt": ("function_arn", "result_ttl_seconds", "simple_responses"),
                 "lambda": ("issuer", "audiences")}[auth["type"]]
        for option in needs:
            if option not in auth and at + (option,) not in ctx.source.keys:
                ctx.report(at, "E202", f"a {auth['type']} authorizer needs {option}", "", at_key=True)
        for option in other:
            if at + (option,) in ctx.source.keys:
                ctx.report(at + (option,), "E310", f"{option} does not apply to a {auth['type']} authorizer",
                           "remove it", at_key=True)
        issuer = auth.get("issuer")
        if issuer is not None and not issuer.startswith("https://"):
            ctx.report(at + ("issuer",), "E204", f"JWT issuer {issuer!r} must be an https:// URL")
    default = ctx.data.get("api", {}).get("default_authorization", "none")
    for path, route in ctx.routes():
        auth = route.get("authorization", default)
        kind = authorizers.get(auth, {}).get("type") if auth not in ("none", "iam") else auth
        if route.get("scopes") and kind != "jwt":
            ctx.report(path + ("scopes",), "E312", "scopes need a JWT authorizer",
                       f"this route's authorization is {auth!r}", at_key=True)
        if route.get("public") and auth != "none":
            ctx.report(path + ("public",), "E310", f"public: true contradicts authorization {auth!r}",
                       "remove public, or set authorization: none", at_key=True)
        if auth == "none" and route.get("filter") and not route.get("public"):
            ctx.report(path + ("filter",), "E313",
                       f"route {route.get('route')!r} singles out instances (filter {AttributeFilter.of(route['filter'])}) "
                       "and has no authorization; an HTTP API is on the internet",
                       "add authorization: <authorizer> or iam, or say public: true if this is deliberate",
                       at_key=True)
        elif auth == "none" and not route.get("public") and "route" in route:
            ctx.report(path + ("route",), "W404", f"route {route['route']!r} has no authorization; anyone on the "
                       "internet can call it", "add authorization, or public: true to silence this")


def check_route_options(ctx: Context) -> None:
    for path, _ in ctx.routes():
        if ctx.stage == "$default" and path + ("forward_stage_in_path",) in ctx.source.keys:
            ctx.report(path + ("forward_stage_in_path",), "E312",
                       "forward_stage_in_path has no effect: the $default stage adds no path prefix",
                       "remove it, or use a named stage", at_key=True)


def check_api(ctx: Context) -> None:
    api = ctx.data.get("api", {})
    cors = api.get("cors")
    if cors and cors.get("allow_credentials") and "*" in cors.get("allow_origins", []):
        ctx.report(("api", "cors", "allow_credentials"), "E310",
                   "allow_credentials cannot be combined with the origin '*'",
                   "list the origins that may send credentials", at_key=True)
    if api.get("disable_execute_api_endpoint") and "custom_domain" not in api:
        ctx.report(("api", "disable_execute_api_endpoint"), "E310",
                   "with the execute-api endpoint disabled and no custom_domain, the API cannot be reached",
                   "add custom_domain, or remove disable_execute_api_endpoint", at_key=True)


RULES: tuple[Callable[[Context], None], ...] = (
    check_routes, check_route_ids, check_references, check_filters, check_namespace, check_services,
    check_authorization, check_route_options, check_api,
)


def validate(spec: Spec, shape_problems: list[Diagnostic] = ()) -> tuple[Model | None, list[Diagnostic]]:
    ctx = Context(spec)
    for rule in RULES:
        rule(ctx)
    problems = list(shape_problems) + ctx.problems
    if has_errors(problems):
        return None, problems
    return build_model(spec.data), problems


# --- model construction (only for valid specs) -----------------------------------------------------------

def build_model(data: dict) -> Model:
    api = data["api"]
    stage = api["stage"]
    default_auth = api["default_authorization"]
    routes = []
    for route in data["routes"]:
        key, _, _ = parse_route_key(route["route"])
        assert key is not None
        routes.append(Route(
            id=route.get("id") or default_route_id(key),
            key=key,
            service=route["service"],
            filter=AttributeFilter.of(route.get("filter", {})),
            options=IntegrationOptions(route.get("timeout_ms"), route.get("tls_server_name"),
                                       strip_stage=stage != "$default" and not route["forward_stage_in_path"]),
            authorization=route.get("authorization", default_auth),
            scopes=tuple(route.get("scopes", ())),
            public=route["public"],
            throttling=_throttling(route.get("throttling")),
        ))
    logs = api.get("access_logs", {})
    cors = api.get("cors")
    domain = api.get("custom_domain")
    return Model(
        api=Api(name=api["name"], stage=stage, description=api.get("description"),
                tags=tuple(sorted(api.get("tags", {}).items())), throttling=_throttling(api.get("throttling")),
                access_logs=AccessLogs(logs.get("enabled", True), logs.get("retention_days", 365), logs.get("kms_key_arn")),
                cors=Cors(tuple(cors["allow_origins"]), tuple(cors.get("allow_methods", ())),
                          tuple(cors.get("allow_headers", ())), tuple(cors.get("expose_headers", ())),
                          cors.get("max_age"), cors["allow_credentials"]) if cors else None,
                custom_domain=CustomDomain(domain["domain_name"], domain["certificate_arn"],
                                           domain.get("base_path")) if domain else None,
                disable_execute_api_endpoint=api["disable_execute_api_endpoint"]),
        vpc_link=VpcLink(data["vpc_link"].get("name", api["name"]), tuple(data["vpc_link"]["subnet_ids"]),
                         tuple(data["vpc_link"]["security_group_ids"])),
        services=tuple(_service(k, s) for k, s in sorted(data["services"].items())),
        routes=tuple(sorted(routes, key=lambda r: r.id)),
        namespace=Namespace(**data["namespace"]) if data.get("namespace") else None,
        authorizers=tuple(_authorizer(k, a) for k, a in sorted(data.get("authorizers", {}).items())),
        region=data.get("region"),
    )


def _throttling(spec: dict | None) -> Throttling | None:
    return Throttling(spec["burst_limit"], spec["rate_limit"]) if spec else None


def _service(key: str, spec: dict[str, Any]) -> Service:
    check = spec.get("route53_health_check")
    return Service(
        key=key, name=spec.get("name", key), logical_id=slug(key), description=spec.get("description"),
        existing_arn=spec.get("existing_arn"), existing_id=spec.get("existing_id"),
        registered_by=_registered_by(spec),
        dns_records=tuple(DnsRecord(r["type"], r["ttl"]) for r in spec.get("dns_records", ())),
        routing_policy=spec["routing_policy"], health_check=spec["health_check"],
        route53_health_check=Route53HealthCheck(check["type"], check["resource_path"], check["failure_threshold"])
        if check else None,
        app_attributes=tuple(spec.get("app_attributes", ())),
        instances=tuple(sorted((Instance(i["id"], i["ipv4"], i["port"], tuple(sorted(i.get("attributes", {}).items())))
                                for i in spec.get("instances", ())), key=lambda i: i.id)),
    )


def _authorizer(key: str, spec: dict[str, Any]) -> Authorizer:
    return Authorizer(key=key, logical_id=slug(key), type=spec["type"], identity_source=spec["identity_source"],
                      issuer=spec.get("issuer"), audiences=tuple(spec.get("audiences", ())),
                      function_arn=spec.get("function_arn"), result_ttl_seconds=spec["result_ttl_seconds"],
                      simple_responses=spec["simple_responses"])
