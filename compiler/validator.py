"""Stage 4: spec -> validated model, plus every semantic problem with its own location.

`validate` runs the rules (compiler.rules) over the spec, so one run reports everything; a model is built
(`build_model`) only when there is no error (warnings are fine). Route keys are parsed by compiler.routekeys.
"""

from __future__ import annotations

from typing import Any

from .diagnostics import Diagnostic, has_errors
from .model import (AccessLogs, Api, AttributeFilter, Authorizer, Cors, CustomDomain, DnsRecord, Instance,
                    IntegrationOptions, Model, Namespace, Route, Route53HealthCheck, Service, Throttling, VpcLink,
                    default_log_group)
from .routekeys import RouteKey
from .rules import RULES, Context, registered_by_of, resolve_authorization, route_id_of
from .spec import Spec


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
        key, _, _ = RouteKey.parse(route["route"])
        assert key is not None
        routes.append(Route(
            id=route_id_of(route),
            key=key,
            service=route["service"],
            filter=AttributeFilter.of(route.get("filter", {})),
            options=IntegrationOptions(route.get("timeout_ms"), route.get("tls_server_name"),
                                       strip_stage=stage != "$default" and not route["forward_stage_in_path"]),
            authorization=resolve_authorization(route.get("authorization", default_auth), data.get("authorizers", {})),
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
                access_logs=AccessLogs(logs.get("enabled", True), logs.get("retention_days", 365), logs.get("kms_key_arn"),
                                       logs.get("group_name") or default_log_group(api["name"])),
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
        key=key, name=spec.get("name", key), description=spec.get("description"),
        existing_arn=spec.get("existing_arn"), existing_id=spec.get("existing_id"),
        registered_by=registered_by_of(spec),
        dns_records=tuple(DnsRecord(r["type"], r["ttl"]) for r in spec.get("dns_records", ())),
        routing_policy=spec["routing_policy"], health_check=spec["health_check"],
        route53_health_check=Route53HealthCheck(check["type"], check["resource_path"], check["failure_threshold"])
        if check else None,
        app_attributes=tuple(spec.get("app_attributes", ())),
        instances=tuple(sorted((Instance(i["id"], i["ipv4"], i["port"], tuple(sorted(i.get("attributes", {}).items())))
                                for i in spec.get("instances", ())), key=lambda i: i.id)),
    )


def _authorizer(key: str, spec: dict[str, Any]) -> Authorizer:
    return Authorizer(key=key, type=spec["type"], identity_source=spec["identity_source"],
                      issuer=spec.get("issuer"), audiences=tuple(spec.get("audiences", ())),
                      function_arn=spec.get("function_arn"), result_ttl_seconds=spec["result_ttl_seconds"],
                      simple_responses=spec["simple_responses"])
