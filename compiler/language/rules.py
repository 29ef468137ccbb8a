"""Every semantic check of a spec, each reporting problems at their own location.

Each rule is a small function that reads the spec through a Context and reports diagnostics; `RULES` is the
ordered tuple `validator.validate` runs, so one run reports everything. The few readings of the spec that the
model is built from too (a route's id, who registers a service's instances, a route's authorization) are
written once, in the first section, and the validator's model building calls the same functions.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Callable, Iterator

from ..core import names
from ..core.diagnostics import Diagnostic, did_you_mean, loc_text
from ..handlers import settings as fanout_settings
from . import arns
from .loader import ROUTE_QUOTA, Path
from .model import (
    DEFAULT_TIMEOUT_MS,
    ECS_ATTRIBUTES,
    FAN_OUT_RESERVE_MS,
    NO_AUTHORIZATION,
    RESERVED_AUTHORIZATIONS,
    AttributeFilter,
    Authorization,
    default_log_group,
)
from .overrides import check_overrides
from .routekeys import PARAM, RouteKey
from .routekeys import normalised as normalised_key
from .schema import IPV4, JWT_IDENTITY, JWT_ISSUER, LOG_GROUP_NAME
from .spec import Spec

MAX_ROUTES = ROUTE_QUOTA  # HTTP API quota, raisable on request (a file is read up to it: loader.ROUTE_QUOTA)
MAX_INTEGRATIONS = ROUTE_QUOTA  # HTTP API quota, not raisable
MAX_CUSTOM_ATTRIBUTES = 30  # RegisterInstance
MAX_ATTRIBUTE_CHARS = 5000  # RegisterInstance: sum of all keys and values
MAX_URI = 2048  # CreateIntegration IntegrationUri
# arn:<partition>:servicediscovery:<region>:<account>:service/srv-<16>, for an ARN known only after apply:
# the longest partition (aws-iso-b, aws-us-gov: 10) and, when routes.yaml names no region, a long one (25).
LONGEST_PARTITION, LONGEST_REGION = 10, 25

ATTR_KEY = re.compile(r"^[a-zA-Z0-9!-~]{1,255}$")  # DiscoverInstances AttrKey
ATTR_VALUE = re.compile(r"^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*)?[a-zA-Z0-9!-~]?$")  # AttrValue
HTTP_NAMESPACE = re.compile(r"^[0-9A-Za-z._-]{1,1024}$")  # provider validation of aws_service_discovery_http_namespace
# CreatePublicDnsNamespace Name: at least two labels, no `_`, no trailing dot (botocore NamespaceNamePublic).
PUBLIC_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
DNS_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$")


class Context:
    """What every rule needs: the spec, a way to report at a path, and shared lookups."""

    def __init__(self, spec: Spec) -> None:
        self.data = spec.data
        self.source = spec.source
        self.problems: list[Diagnostic] = []

    def report(self, path: Path, code: str, message: str, hint: str = "", at_key: bool = False) -> None:
        pos = self.source.key(path) if at_key else self.source.value(path)
        self.problems.append(Diagnostic(pos.line, pos.col, code, message, hint, loc=loc_text(path)))

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


# --- readings of the spec that the model is built from too ------------------------------------------------

def route_id_of(route: dict) -> str | None:
    """The route's Terraform address (names.route), or None when its key is malformed."""
    key, _, _ = RouteKey.parse(route.get("route", ""))
    return names.route(key.method, key.path, route.get("id")) if key else None


def registered_by_of(service: dict) -> str:
    """Who registers a service's instances: as written, else `static` when it lists instances, else `other`.

    The one place this default is decided: the rules and the model (Service.registered_by) both read it."""
    return service.get("registered_by") or ("static" if service.get("instances") else "other")


def vpc_id_of(data: dict) -> str | None:
    """The VPC of the link's subnets: vpc_link.vpc_id as written, else a private DNS namespace's VPC."""
    written = data.get("vpc_link", {}).get("vpc_id")
    namespace = data.get("namespace") or {}
    return written or (namespace.get("vpc_id") if namespace.get("type") == "private_dns" else None)


def resolve_authorization(name: str, authorizers: dict) -> Authorization:
    """`none`, `iam` or an authorizer key -> the typed value every later stage reads."""
    if name in RESERVED_AUTHORIZATIONS:
        return Authorization(name) if name != "none" else NO_AUTHORIZATION
    return Authorization(authorizers[name]["type"], name)


# --- rules -----------------------------------------------------------------------------------------------

def check_routes(ctx: Context) -> None:
    seen: dict[str, Path] = {}
    for path, route in ctx.routes():
        text = route.get("route")
        if text is None:
            continue
        key, problem, hint = RouteKey.parse(text)
        if key is None:
            ctx.report(path + ("route",), "E300", problem, hint)
        normalised = normalised_key(text)
        if normalised in seen:
            ctx.report(path + ("route",), "E301", f"route {text!r} is declared twice",
                       f"first declared at {ctx.where(seen[normalised] + ('route',))}")
        else:
            seen[normalised] = path
    count = sum(1 for _ in ctx.routes())
    pos = ctx.source.value(("routes",))
    ctx.problems += route_quota(count, pos.line, pos.col)


def route_quota(count: int, line: int, col: int) -> list[Diagnostic]:
    """E309 for a file of `count` routes over the API's quotas, at `routes`. The loader reads at most ROUTE_QUOTA
    of them (a larger file costs no more to refuse), which the hint says when it did."""
    unread = f"; the routes after the {ROUTE_QUOTA}th were not checked" if count > ROUTE_QUOTA else ""
    found = []
    if count > MAX_ROUTES:
        found.append(Diagnostic(line, col, "E309", f"{count} routes; an HTTP API allows {MAX_ROUTES}",
                                "ask AWS for a higher 'Routes per API' quota, then split the file or raise the limit "
                                "here" + unread, loc="routes"))
    if count > MAX_INTEGRATIONS:  # every route has its own integration (see compiler.terraform.plan)
        found.append(Diagnostic(line, col, "E309", f"{count} routes need {count} integrations; an HTTP API allows "
                                f"{MAX_INTEGRATIONS} and that quota cannot be raised",
                                "split the routes over two APIs" + unread, loc="routes"))
    return found


def check_route_variables(ctx: Context) -> None:
    """One variable name per level: API Gateway refuses a route whose path variable at some level has another name
    than another route's at the same level, with 409 ConflictException "The provided route key "GET /public/orgs/
    {orgId}/stages/{stageId}/questions" has a conflicting variable on the same hierarchical level as "GET /public/
    orgs/{orgId}/stages/{stage_id}/questions"" (a real deploy, plutomi/plutomi#271). The level is the path before
    the variable, whatever the method (REST APIs, whose resource tree HTTP APIs share the vocabulary of, refuse the
    same across methods: "A sibling ({bizId}) of this resource already has a variable path part -- only one is
    allowed"); this tool maps no path parameter, so one name per level costs nothing. A greedy variable is compared
    with greedy ones only: `ANY /{proxy+}` beside `GET /{id}` is the documented pattern."""
    first: dict[tuple[tuple[str, ...], bool], tuple[str, Path, str]] = {}  # (level, greedy) -> (name, path, key)
    for path, route in ctx.routes():
        text = route.get("route")
        key = RouteKey.parse(text)[0] if isinstance(text, str) else None
        if key is None or not key.path:
            continue
        segments = key.path[1:].split("/")
        level: tuple[str, ...] = ()  # the path before this segment, every variable written as {} or {+}
        for i, segment in enumerate(segments):
            variable = PARAM.match(segment)
            if variable:
                name, greedy = variable[1], bool(variable[2])
                seen = first.setdefault((level, greedy), (name, path, text))
                if seen[0] != name:
                    _conflicting_variable(ctx, path, text, "/" + "".join(s + "/" for s in segments[:i]), segment, seen)
                    break
            level += ("{+}" if variable and variable[2] else "{}" if variable else segment,)


def _conflicting_variable(ctx: Context, path: Path, text: str, before: str, segment: str,
                          seen: tuple[str, Path, str]) -> None:
    other = segment.replace(segment[1:-1].rstrip("+"), seen[0], 1)
    ctx.report(path + ("route",), "E316", f"route {text!r} has {segment} after {before!r} where route {seen[2]!r} "
               f"(at {ctx.where(seen[1] + ('route',))}) has {other}: API Gateway refuses two variable names at one "
               "level of the path (ConflictException)", f"write {other} in both routes")


def check_route_ids(ctx: Context) -> None:
    owners: dict[str, Path] = {}
    for path, route in ctx.routes():
        route_id = route_id_of(route)
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
    for path, route in ctx.routes():
        service = ctx.services.get(route.get("service", ""))
        filter_ = route.get("filter", {})
        for key, value in filter_.items():
            _check_attribute(ctx, path + ("filter", key), key, value, "filter")
        query = AttributeFilter.of(filter_).query()
        uri_length = _service_arn_length(ctx, service) + (1 + len(query) if query else 0)
        if uri_length > MAX_URI and "fan_out" not in route:  # a fan-out's integration targets its function
            ctx.report(path + ("filter",), "E309", f"the integration URI (service ARN + '?' + filter) would be "
                       f"{uri_length} characters; API Gateway allows {MAX_URI}", "shorten the filter keys or values")
        if service is None or not filter_:
            continue
        if service.get("instances"):
            instances = [i for i in service["instances"] if isinstance(i, dict)]
            if not any(AttributeFilter.of(filter_).matches(i.get("attributes", {})) for i in instances):
                ctx.report(path + ("filter",), "W401",
                           f"filter {AttributeFilter.of(filter_)} matches none of the static instances of "
                           f"{route['service']!r}; they have {_instance_values(instances, filter_)}",
                           "every request to this route will fail (API Gateway answers 500 when no instance matches)")
        registered_by = registered_by_of(service)
        for key in filter_:
            if registered_by == "ecs" and key not in ECS_ATTRIBUTES and key not in service.get("app_attributes", []):
                ctx.report(path + ("filter", key), "W403",
                           f"ECS never sets the attribute {key!r}, so no task of {route['service']!r} matches this filter "
                           "unless your application adds it", f"if it does, say so: app_attributes: [{key}]", at_key=True)
            elif registered_by != "ecs" and key in ECS_ATTRIBUTES:
                ctx.report(path + ("filter", key), "W405",
                           f"{key!r} is an attribute ECS sets, but {route['service']!r} is not registered by ECS",
                           "set registered_by: ecs, or filter on an attribute the registrar sets", at_key=True)


def _instance_values(instances: list[dict], filter_: dict) -> str:
    """What the instances carry for the filtered keys: `leader=true (node-1), leader=false (node-2, node-3)`."""
    seen: dict[str, list[str]] = {}
    for instance in instances:
        attributes = instance.get("attributes", {})
        values = ", ".join(f"{k}={attributes[k]}" if k in attributes else f"no {k}" for k in sorted(filter_))
        seen.setdefault(values, []).append(str(instance.get("id", "?")))
    return "; ".join(f"{values} ({', '.join(ids)})" for values, ids in sorted(seen.items()))


def _service_arn_length(ctx: Context, service: dict | None) -> int:
    """The service ARN's length: exact for existing_arn, otherwise the longest it can be."""
    if service and isinstance(service.get("existing_arn"), str):
        return len(service["existing_arn"])
    region = ctx.data.get("region")
    region_length = len(region) if isinstance(region, str) else LONGEST_REGION
    return len("arn::servicediscovery::123456789012:service/srv-0123456789abcdef") + LONGEST_PARTITION + region_length


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
    if name and kind == "public_dns" and DNS_NAME.match(name) and not PUBLIC_DNS_NAME.match(name):
        ctx.report(("namespace", "name"), "E204", f"public DNS namespace name {name!r} is not a domain name AWS "
                   "accepts", "at least two labels of letters, digits and '-', no '_' and no trailing dot: "
                   "nodes.example.com")
    if name and kind in ("private_dns", "public_dns") and not DNS_NAME.match(name):
        ctx.report(("namespace", "name"), "E204", f"DNS namespace name {name!r} is not a valid DNS name",
                   "for example raft.internal (at most 253 characters)")


def _existing(service: dict) -> bool:
    return "existing_arn" in service or "existing_id" in service


MANAGED_ELSEWHERE = ("name", "description", "dns_records", "routing_policy", "health_check",
                     "route53_health_check", "instances", "force_destroy", "ecs", "overrides")


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
        if "ecs" in service and registered_by_of(service) != "ecs":
            ctx.report(at + ("ecs",), "E310", "ecs names the container and port an ECS service registers: it needs "
                       "registered_by: ecs", "set registered_by: ecs, or remove ecs", at_key=True)


def _check_dns(ctx: Context, at: Path, service: dict, kind: str | None) -> None:
    records = [r for r in service.get("dns_records", []) if isinstance(r, dict) and "type" in r]
    types = [r["type"] for r in records]
    registered_by = registered_by_of(service)
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
    check = service.get("route53_health_check")
    if isinstance(check, dict) and check.get("type") == "TCP" and at + ("route53_health_check", "resource_path") in ctx.source.keys:
        ctx.report(at + ("route53_health_check", "resource_path"), "E307",
                   "a TCP health check probes a port, not a path: Cloud Map refuses resource_path with type TCP",
                   "remove resource_path, or use type HTTP or HTTPS", at_key=True)
    records = [r.get("type") for r in service.get("dns_records", []) if isinstance(r, dict)]
    if health == "route53" and "CNAME" in records:
        ctx.report(at + ("health_check",), "E307", "Route 53 health checks cannot be combined with CNAME records",
                   "use A or SRV records, or health_check: custom")
    if health == "none":
        ctx.report(at, "W402", f"service {at[-1]!r} has no health check: Cloud Map returns every instance, "
                   "dead ones too, and API Gateway keeps sending them requests",
                   "health_check: custom (ECS reports container health) or route53", at_key=True)
    if registered_by_of(service) == "ecs" and health == "route53":
        ctx.report(at + ("health_check",), "E307", "ECS reports task health through a custom health check",
                   "health_check: custom")


def _check_instances(ctx: Context, at: Path, service: dict) -> None:
    instances = service.get("instances", [])
    if instances and registered_by_of(service) != "static":
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
            parsed = _instance_address(ctx, ip + ("ipv4",), address)
            if parsed is not None:
                if service.get("health_check") == "route53" and not parsed.is_global:
                    # Route 53 health checkers run on the internet and refuse private, shared and reserved ranges.
                    ctx.report(ip + ("ipv4",), "E307", f"Route 53 cannot health-check {address}: it is not a public "
                               "address (private, shared, loopback, documentation or reserved range)",
                               "use health_check: custom and report health from the instance, or a public address")
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


IPV4_DOTTED = re.compile(IPV4)
# Addresses an instance can never be reached at through a VPC link, and that a fan-out function must never call:
# "this network" (RFC 791), link-local with the instance metadata service at 169.254.169.254 (RFC 3927), multicast
# (RFC 5771) and the reserved block up to the limited broadcast address 255.255.255.255 (RFC 1112, RFC 919).
UNREACHABLE = tuple(ipaddress.IPv4Network(n) for n in ("0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"))
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


def _instance_address(ctx: Context, path: Path, address: str) -> ipaddress.IPv4Address | None:
    """A static instance's AWS_INSTANCE_IPV4: four ASCII decimal octets, in a range a VPC link can reach (loopback
    only warns: `serve` runs the instances locally)."""
    try:
        parsed = ipaddress.IPv4Address(address) if IPV4_DOTTED.match(address) else None
    except ValueError:
        parsed = None
    if parsed is None:
        ctx.report(path, "E308", f"{address!r} is not an IPv4 address", "for example 10.0.1.10")
        return None
    network = next((n for n in UNREACHABLE if parsed in n), None)
    if network is not None:
        ctx.report(path, "E308", f"{address} is in {network} ({_RANGE_NAMES[str(network)]}): no VPC link reaches an "
                   "instance there, and a fan-out route would call it", "use the instance's private address in the VPC")
        return None
    if parsed in LOOPBACK:
        ctx.report(path, "W409", f"{address} is a loopback address: `serve` reaches it on this machine, but the VPC "
                   "link of a deployed stack cannot", "use the instance's private address in the VPC for a stack "
                   "you deploy")
    return parsed


_RANGE_NAMES = {"0.0.0.0/8": "'this network'", "169.254.0.0/16": "link-local, where the instance metadata service is",
                "224.0.0.0/4": "multicast", "240.0.0.0/4": "reserved, up to the broadcast address 255.255.255.255"}


# What each kind of authorizer needs, and the options that belong to other kinds.
AUTHORIZER_NEEDS = {"jwt": ("issuer", "audiences"), "lambda": ("function_arn",), "allowlist": ("cidrs",)}
AUTHORIZER_REFUSES = {"jwt": ("function_arn", "result_ttl_seconds", "simple_responses", "cidrs"),
                      "lambda": ("issuer", "audiences", "cidrs"),
                      # The shipped handler reads the caller's address and answers {isAuthorized: bool}.
                      "allowlist": ("issuer", "audiences", "function_arn", "identity_source", "simple_responses")}


def check_authorization(ctx: Context) -> None:
    """Each authorizer's options, then each route's authorization against what its authorizer can do."""
    authorizers = ctx.data.get("authorizers", {})
    for key, auth in authorizers.items():
        _check_authorizer(ctx, key, auth)
    default = ctx.data.get("api", {}).get("default_authorization", "none")
    usable = {k: a for k, a in authorizers.items()
              if isinstance(a, dict) and "type" in a and k not in RESERVED_AUTHORIZATIONS}
    for path, route in ctx.routes():
        name = route.get("authorization", default)
        if name in RESERVED_AUTHORIZATIONS or name in usable:  # else undeclared (E302) or broken, reported elsewhere
            _check_route_authorization(ctx, path, route, name, resolve_authorization(name, usable))


def _check_authorizer(ctx: Context, key: str, auth: Any) -> None:
    at = ("authorizers", key)
    if key in RESERVED_AUTHORIZATIONS:
        ctx.report(at, "E310", f"authorizer key {key!r} is reserved: routes write {key!r} for "
                   f"{'no authorization' if key == 'none' else 'IAM (SigV4) authorization'}",
                   f"rename the authorizer, e.g. {key}_{auth.get('type', 'jwt') if isinstance(auth, dict) else 'jwt'}",
                   at_key=True)
    if not isinstance(auth, dict) or "type" not in auth:
        return
    kind = auth["type"]
    for option in AUTHORIZER_NEEDS[kind]:
        if option not in auth and at + (option,) not in ctx.source.keys:
            ctx.report(at, "E202", f"{_a(kind)} authorizer needs {option}", "", at_key=True)
    for option in AUTHORIZER_REFUSES[kind]:
        if at + (option,) in ctx.source.keys:
            ctx.report(at + (option,), "E310", f"{option} does not apply to {_a(kind)} authorizer", "remove it",
                       at_key=True)
    _check_authorizer_values(ctx, at, auth)


def _check_authorizer_values(ctx: Context, at: Path, auth: dict) -> None:
    for i, cidr in enumerate(auth.get("cidrs", []) if auth["type"] == "allowlist" else []):
        if isinstance(cidr, str):
            _check_cidr(ctx, at + ("cidrs", i), cidr)
    issuer = auth.get("issuer")
    if isinstance(issuer, str) and not re.match(JWT_ISSUER, issuer):
        ctx.report(at + ("issuer",), "E204", f"JWT issuer {issuer!r} must be an https:// URL without blanks",
                   "API Gateway fetches the issuer's keys over HTTPS: https://auth.example.com")
    source = auth.get("identity_source")
    if auth["type"] == "jwt" and isinstance(source, str) and not re.match(JWT_IDENTITY, source):
        ctx.report(at + ("identity_source",), "E204", f"a JWT authorizer reads its token from one header or "
                   f"query parameter; {source!r} is neither",
                   "$request.header.Authorization or $request.querystring.token")


def _check_route_authorization(ctx: Context, path: Path, route: dict, name: str, auth: Authorization) -> None:
    """Scopes need a JWT authorizer; `public` must not contradict the authorization; an open route is flagged."""
    if route.get("scopes") and auth.kind == "allowlist":
        ctx.report(path + ("scopes",), "E312", f"scopes need a JWT authorizer, and an HTTP API route has exactly "
                   f"one authorizer: this route's is the allow-list {name!r}, which checks the caller's address, "
                   "not a token", "to require both an address and a token, use authorization: iam on a role "
                   "whose policy has an aws:SourceIp condition, or a lambda authorizer of your own that checks "
                   "both; or drop scopes", at_key=True)
    elif route.get("scopes") and auth.kind != "jwt":
        kind = f" (a {auth.kind} authorizer)" if auth.authorizer else ""
        ctx.report(path + ("scopes",), "E312", "scopes need a JWT authorizer",
                   f"this route's authorization is {name!r}{kind}", at_key=True)
    if route.get("public") and auth.required:
        ctx.report(path + ("public",), "E310", f"public: true contradicts authorization {name!r}",
                   "remove public, or set authorization: none", at_key=True)
    if not auth.required and route.get("filter") and not route.get("public"):
        ctx.report(path + ("filter",), "E313",
                   f"route {route.get('route')!r} singles out instances (filter {AttributeFilter.of(route['filter'])}) "
                   "and has no authorization; an HTTP API is on the internet",
                   "add authorization: <authorizer> or iam, or say public: true if this is deliberate",
                   at_key=True)
    elif not auth.required and not route.get("public") and "route" in route:
        ctx.report(path + ("route",), "W404", f"route {route['route']!r} has no authorization; anyone on the "
                   "internet can call it", "add authorization, or public: true to silence this")


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _check_cidr(ctx: Context, path: Path, text: str) -> None:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        ctx.report(path, "E204", f"{text!r} is not an IPv4 or IPv6 address or address range",
                   "for example 203.0.113.0/24, 2001:db8::/32 or 198.51.100.7")
        return
    try:
        ipaddress.ip_network(text)  # strict: no bits set after the prefix
    except ValueError:
        ctx.report(path, "E204", f"{text!r} has host bits set: the range it names is {network}", f"write {network}")
        return
    if network.prefixlen == 0:
        ctx.report(path, "E310", f"{text!r} admits every address, so the allow-list keeps no one out",
                   "list the ranges your operators connect from; for a deliberately open route, "
                   "authorization: none with public: true says so")


def check_fan_out(ctx: Context) -> None:
    """Fan-out routes: the function must know Cloud Map's names, fit its budget and reach Cloud Map."""
    fan_outs = [(path, route) for path, route in ctx.routes() if isinstance(route.get("fan_out"), dict)]
    if not fan_outs:
        return
    namespace = ctx.namespace or {}
    if vpc_id_of(ctx.data) is None and isinstance(ctx.data.get("vpc_link"), dict):
        ctx.report(("vpc_link",), "E202", "fan-out routes run a function in the VPC link's subnets, and its "
                   "security group needs the VPC: vpc_link.vpc_id is missing",
                   "vpc_id: vpc-0123456789abcdef0 (the VPC of subnet_ids)", at_key=True)
    if "cloud_map_access" not in ctx.data.get("vpc_link", {}):
        path = fan_outs[0][0]
        ctx.report(path + ("fan_out",), "W406", "the fan-out function runs in the VPC link's subnets, where it "
                   "reaches Cloud Map's DiscoverInstances API (and, for a DNS namespace, GetNamespace) only through "
                   "interface VPC endpoints (com.amazonaws.<region>.data-servicediscovery, and "
                   "com.amazonaws.<region>.servicediscovery for a DNS namespace; private DNS on) or a NAT gateway; "
                   "vpc_link.cloud_map_access declares neither", "set vpc_link.cloud_map_access: create_endpoint "
                   "(this stack creates the endpoint), existing_endpoint or nat", at_key=True)
    for path, route in fan_outs:
        spec = route["fan_out"]
        at = path + ("fan_out",)
        service = ctx.services.get(route.get("service", ""))
        if (service is not None and _existing(service)) or "existing_id" in namespace:
            ctx.report(at, "E312", "a fan-out route calls DiscoverInstances with the namespace's and the service's "
                       "names, which this file knows only for a namespace and service it creates",
                       "fan out to a service created here, or use an ordinary route", at_key=True)
        timeout = route.get("timeout_ms", DEFAULT_TIMEOUT_MS)
        per_instance = spec.get("per_instance_timeout_ms")
        if isinstance(timeout, int) and timeout < 2 * FAN_OUT_RESERVE_MS:
            ctx.report(path + ("timeout_ms",), "E310", f"a fan-out route needs timeout_ms of at least "
                       f"{2 * FAN_OUT_RESERVE_MS}: {FAN_OUT_RESERVE_MS} ms of it are kept for the function's start "
                       "and its answer", f"timeout_ms: {DEFAULT_TIMEOUT_MS} (the largest API Gateway allows)")
        elif isinstance(timeout, int) and isinstance(per_instance, int) and per_instance > timeout - FAN_OUT_RESERVE_MS:
            written = at + ("per_instance_timeout_ms",)
            ctx.report(written if written in ctx.source.keys else at, "E310",
                       f"per_instance_timeout_ms {per_instance} does not fit in the route's timeout_ms {timeout} "
                       f"less the {FAN_OUT_RESERVE_MS} ms the function keeps for itself",
                       f"at most {timeout - FAN_OUT_RESERVE_MS}, or raise timeout_ms (up to {DEFAULT_TIMEOUT_MS})",
                       at_key=written not in ctx.source.keys)
        for i, header in enumerate(spec.get("forward_headers", [])):
            if isinstance(header, str) and header.lower() in NOT_FORWARDED:
                ctx.report(at + ("forward_headers", i), "E310", f"{header!r} is not forwarded: it describes one "
                           "connection (or one message), and the function sets its own for each call",
                           "remove it")
        if None in (spec.get(k) for k in ("per_instance_timeout_ms", "concurrency", "include_unhealthy",
                                          "forward_headers", "max_body_bytes")):
            continue  # a value was refused by the schema: reported there
        variables = fanout_settings.environment(fanout_settings.Settings(
            namespace=str(namespace.get("name", "")), namespace_id=NAMESPACE_ID_BYTES * "x",
            service=str((service or {}).get("name", route.get("service", ""))),
            filter=AttributeFilter.of({k: v for k, v in route.get("filter", {}).items() if isinstance(v, str)}).pairs,
            per_instance_timeout_ms=spec["per_instance_timeout_ms"], concurrency=spec["concurrency"],
            total_timeout_ms=DEFAULT_TIMEOUT_MS, stage=ctx.stage,
            forward_headers=frozenset(h for h in spec["forward_headers"] if isinstance(h, str)),
            max_body_bytes=spec["max_body_bytes"], tls_server_name=str(route.get("tls_server_name", ""))))
        size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
        if size > LAMBDA_ENVIRONMENT_BYTES:
            ctx.report(path + ("filter",), "E309", f"the fan-out function's environment (filter, names, headers) "
                       f"would be {size} bytes; Lambda allows {LAMBDA_ENVIRONMENT_BYTES}",
                       "shorten the filter or forward fewer headers", at_key=True)


LAMBDA_ENVIRONMENT_BYTES = 4096  # Lambda quota: "Function environment variables: 4 KB", all of them together
# CLOUD_MAP_NAMESPACE_ID is known only at apply; counted at its longest: NamespaceSummary "Id ... Length
# Constraints: Maximum length of 64." (docs.aws.amazon.com/cloud-map/latest/api/API_NamespaceSummary.html)
NAMESPACE_ID_BYTES = 64
# Fields that describe one connection or one message (RFC 9110 7.6.1), or that the caller sets per call.
NOT_FORWARDED = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                           "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"})


def check_addresses(ctx: Context) -> None:
    """Two names that become one Terraform address would make synth fail (or diff merge them): say so here.

    Route ids are checked by check_route_ids (E311 too); this covers everything else that gets a derived name.
    """
    owners: dict[tuple[str, str], tuple[Path, str]] = {}

    def claim(kind: str, address: str, path: Path, written: str, what: str) -> None:
        first = owners.setdefault((kind, address), (path, written))
        if first[0] != path and first[1] != written:  # the very same name twice has a rule of its own
            ctx.report(path, "E311", f"{what} {written!r} and {first[1]!r} (at {ctx.where(first[0])}) both become "
                       f"the Terraform address {kind}.{address}",
                       "rename one: names are compared after lower-casing and turning every other character into '_'",
                       at_key=isinstance(path[-1], str))

    for key, service in ctx.services.items():
        if _existing(service):
            continue
        claim("aws_service_discovery_service", names.service(key), ("services", key), key, "service")
        for i, instance in enumerate(service.get("instances", [])):
            if isinstance(instance, dict) and isinstance(instance.get("id"), str):
                claim("aws_service_discovery_instance", names.instance(key, instance["id"]),
                      ("services", key, "instances", i, "id"), instance["id"], "instance id")
    for key in ctx.data.get("authorizers", {}):
        claim("aws_apigatewayv2_authorizer", names.authorizer(key), ("authorizers", key), key, "authorizer")


CDKTF_MARKERS = ("${TfToken[", "#{TfToken[")


def check_literal_strings(ctx: Context) -> None:
    """CDKTF turns its token markers into references wherever they appear, so they cannot reach AWS as text.

    Everything else a user writes is escaped for Terraform (`${` -> `$${`, `%{` -> `%%{`) and arrives literally.
    """
    def walk(value, path: Path) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if any(m in key for m in CDKTF_MARKERS):
                    _marker(ctx, path + (key,), at_key=True)
                elif key == "__proto__":  # jsii refuses it as a map key ("Key '__proto__' is not supported")
                    ctx.report(path + (key,), "E314", "'__proto__' cannot be a key: CDKTF's JavaScript runtime "
                               "refuses it in maps", "rename the key", at_key=True)
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))
        elif isinstance(value, str) and any(m in value for m in CDKTF_MARKERS):
            _marker(ctx, path)

    walk(ctx.data, ())


def _marker(ctx: Context, path: Path, at_key: bool = False) -> None:
    ctx.report(path, "E314", "the text contains CDKTF's token marker ('${TfToken[' or '#{TfToken['), which synth "
               "would turn into a reference to another resource", "remove the marker; it cannot be sent as text",
               at_key=at_key)


def check_route_options(ctx: Context) -> None:
    for path, _ in ctx.routes():
        if ctx.stage == "$default" and path + ("forward_stage_in_path",) in ctx.source.keys:
            ctx.report(path + ("forward_stage_in_path",), "E312",
                       "forward_stage_in_path has no effect: the $default stage adds no path prefix",
                       "remove it, or use a named stage", at_key=True)


def check_api(ctx: Context) -> None:
    api = ctx.data.get("api", {})
    for option in ("allow_origins", "allow_headers", "expose_headers"):
        seen: dict[str, int] = {}
        for i, value in enumerate((api.get("cors") or {}).get(option) or []):
            if isinstance(value, str) and seen.setdefault(value.lower(), i) != i and value != api["cors"][option][seen[value.lower()]]:
                ctx.report(("api", "cors", option, i), "E206", f"{value!r} repeats "
                           f"{api['cors'][option][seen[value.lower()]]!r}: API Gateway compares CORS entries "
                           "without regard to case and keeps one", "remove one of them")
    logs = api.get("access_logs", {})
    if logs.get("enabled", True) and "group_name" not in logs and isinstance(api.get("name"), str):
        group = default_log_group(api["name"])
        if not re.match(LOG_GROUP_NAME, group):
            ctx.report(("api", "name"), "E204", f"the access log group would be named {group!r}, which CloudWatch "
                       "Logs refuses (letters, digits and . - _ / # only)",
                       "set api.access_logs.group_name, or use those characters in api.name")
    cors = api.get("cors")
    if cors and cors.get("allow_credentials") and "*" in cors.get("allow_origins", []):
        ctx.report(("api", "cors", "allow_credentials"), "E310",
                   "allow_credentials cannot be combined with the origin '*'",
                   "list the origins that may send credentials", at_key=True)
    domain = api.get("custom_domain") or {}
    if "mutual_tls" in domain and not api.get("disable_execute_api_endpoint"):
        ctx.report(("api", "custom_domain", "mutual_tls"), "W407", "mutual TLS guards the custom domain only: the "
                   "API's default execute-api endpoint is still on, and it asks no client certificate",
                   "set api.disable_execute_api_endpoint: true so every client must come through the custom domain",
                   at_key=True)
    if api.get("disable_execute_api_endpoint") and "custom_domain" not in api:
        ctx.report(("api", "disable_execute_api_endpoint"), "E310",
                   "with the execute-api endpoint disabled and no custom_domain, the API cannot be reached",
                   "add custom_domain, or remove disable_execute_api_endpoint", at_key=True)


# What the user names by ARN, and where AWS needs it. A regional custom domain's certificate: ACM certificates are
# regional and API Gateway reads it in the domain's region (the edge-optimized page says the opposite case out loud:
# "You must request or import a certificate for your edge-optimized custom domain name in the US East (N. Virginia)
# - us-east-1 Region", docs.aws.amazon.com/apigateway/latest/developerguide/how-to-edge-optimized-custom-domain-name.html;
# this tool makes REGIONAL domains only). A log group's KMS key: the key policy names the regional principal
# logs.<region>.amazonaws.com, and a key elsewhere is "The specified KMS Key Id could not be found" (CloudWatch Logs
# encrypt-log-data-kms.html; hashicorp/terraform#24194). A Lambda authorizer: another account may own it ("Each
# account can be in any region"), but API Gateway invokes it in the API's region: "Functions from 'us-west-2' are not
# reachable in this region ('us-east-1')" (aws/aws-cdk#17458). A Cloud Map service by ARN: the VPC link and the
# private integration are regional, so its service is in the API's region. An IAM role has no region, only a
# partition.
REGIONAL_ARNS = (("api", "custom_domain", "certificate_arn"), ("api", "access_logs", "kms_key_arn"))


def _user_arns(ctx: Context) -> Iterator[tuple[Path, str, bool]]:
    """(path, ARN, whether AWS needs it in the stack's region) for every ARN routes.yaml gives."""
    for path in REGIONAL_ARNS:
        value = _at(ctx.data, path)
        if isinstance(value, str):
            yield path, value, True
    for key, authorizer in (ctx.data.get("authorizers") or {}).items():
        if isinstance(authorizer, dict) and authorizer.get("type") == "lambda" \
                and isinstance(authorizer.get("function_arn"), str):
            yield ("authorizers", key, "function_arn"), authorizer["function_arn"], True
    for key, service in ctx.services.items():
        if isinstance(service.get("existing_arn"), str):
            yield ("services", key, "existing_arn"), service["existing_arn"], True
    role = _at(ctx.data, ("provider", "assume_role", "role_arn"))
    if isinstance(role, str):
        yield ("provider", "assume_role", "role_arn"), role, False


def _at(data: dict, path: Path):
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def check_arns(ctx: Context) -> None:
    """Each ARN in a partition AWS has, its region in that partition, and where the stack needs it: in the stack's
    partition, and (regional resources) in its region. With no `region`, the provider's region decides at plan time:
    ARNs that need two regions are refused, and the region they need is said once (W410)."""
    region = ctx.data.get("region")
    partition = arns.partition_of(region) if isinstance(region, str) else None
    pinned: dict[str, Path] = {}  # region -> the first ARN that needs it
    partitions: dict[str, Path] = {}
    for path, text, regional in _user_arns(ctx):
        arn = arns.Arn.parse(text)
        if arn is None or _arn_problem(ctx, path, arn):
            continue
        partitions.setdefault(arn.partition, path)
        want = partition or next(iter(partitions))  # the region's partition, else the first ARN's
        if arn.partition != want:
            ctx.report(path, "E319", f"{loc_text(path)} is in partition {arn.partition}, and this stack is in "
                       f"{want}" + (f" (region {region})" if partition else f" (as {loc_text(partitions[want])} "
                                    "says)") + ": an account lives in one partition",
                       f"use the ARN of the resource in {want}")
            continue
        if not regional:
            continue
        if isinstance(region, str) and arn.region != region:
            ctx.report(path, "E319", f"{loc_text(path)} is in {arn.region}, and the API is in {region}: "
                       f"{_NEEDS[path[-1]]}", f"use the {_WHAT[path[-1]]} in {region}, or set region: {arn.region}")
        elif region is None:
            pinned.setdefault(arn.region, path)
    _pinned_regions(ctx, pinned)
    truststore = _at(ctx.data, TRUSTSTORE)
    problem = arns.s3_object_problem(truststore) if isinstance(truststore, str) else ""
    if problem:  # CreateDomainName TruststoreUri: "An Amazon S3 URL ... for example, s3://bucket-name/key-name"
        ctx.report(TRUSTSTORE, "E204", f"truststore_uri {truststore!r}: {problem}",
                   "the S3 object of the PEM bundle: s3://bucket-name/key-name")


TRUSTSTORE = ("api", "custom_domain", "mutual_tls", "truststore_uri")


_NEEDS = {"certificate_arn": "API Gateway needs a regional custom domain's certificate in the API's region",
          "kms_key_arn": "CloudWatch Logs uses a KMS key of the log group's own region",
          "function_arn": "API Gateway invokes a Lambda authorizer in the API's region (another account is fine)",
          "existing_arn": "the VPC link reaches Cloud Map services of the API's region"}
_WHAT = {"certificate_arn": "certificate", "kms_key_arn": "key", "function_arn": "function",
         "existing_arn": "service"}


def _arn_problem(ctx: Context, path: Path, arn: arns.Arn) -> bool:
    """E319 when the ARN names a partition AWS does not have, or a region of another partition."""
    if arn.partition not in arns.PARTITION_NAMES:
        ctx.report(path, "E319", f"{loc_text(path)} names the partition {arn.partition!r}, which AWS does not have",
                   f"one of: {', '.join(arns.PARTITION_NAMES)}")
        return True
    home = arns.partition_of(arn.region) if arn.region else arn.partition
    if home is not None and home != arn.partition:
        ctx.report(path, "E319", f"{loc_text(path)} puts region {arn.region} in partition {arn.partition}; "
                   f"{arn.region} is in {home}", f"write arn:{home}:... (or check the region)")
        return True
    return False


def _pinned_regions(ctx: Context, pinned: dict[str, Path]) -> None:
    if len(pinned) > 1:
        (first_region, first), *others = pinned.items()
        for other_region, path in others:
            ctx.report(path, "E319", f"{loc_text(path)} is in {other_region}, and {loc_text(first)} (at "
                       f"{ctx.where(first)}) in {first_region}: one stack is in one region, and both need the API's",
                       "use resources of one region, and set region: to it")
    elif pinned:
        [(needed, path)] = pinned.items()
        ctx.report(path, "W410", f"routes.yaml names no region, so the stack goes to the provider's (AWS_REGION); "
                   f"{loc_text(path)} works only in {needed}", f"set region: {needed}")


RULES: tuple[Callable[[Context], None], ...] = (
    check_routes, check_route_variables, check_route_ids, check_references, check_filters, check_namespace,
    check_services, check_authorization, check_addresses, check_literal_strings, check_route_options, check_api,
    check_fan_out, check_arns, check_overrides,
)
