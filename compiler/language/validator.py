"""Spec -> validated model, plus every semantic problem with its own location.

`validate` runs the rules (compiler.language.rules) over the spec, so one run reports everything; a model is built
(`build_model`) only when there is no error (warnings are fine). Route keys are parsed by compiler.language.routekeys.
"""

from __future__ import annotations

from typing import Any

from ..core.diagnostics import Diagnostic, has_errors
from .model import (
    ALLOWLIST_IDENTITY,
    AccessLogs,
    Api,
    AssumeRole,
    AttributeFilter,
    Authorizer,
    Cors,
    CustomDomain,
    DnsRecord,
    EcsRegistration,
    FanOut,
    Instance,
    IntegrationOptions,
    Model,
    MutualTls,
    Namespace,
    ProviderSettings,
    Route,
    Route53HealthCheck,
    Service,
    TerraformArguments,
    Throttling,
    VpcLink,
    default_log_group,
    default_vpc_link_name,
)
from .routekeys import RouteKey
from .rules import RULES, Context, registered_by_of, resolve_authorization, route_id_of, vpc_id_of
from .spec import Spec


def validate(spec: Spec, shape_problems: list[Diagnostic] = ()) -> tuple[Model | None, list[Diagnostic]]:
    ctx = Context(spec)
    for rule in RULES:
        rule(ctx)
    problems = list(shape_problems) + ctx.problems
    if has_errors(problems):
        return None, problems
    return build_model(spec.data, spec.environment), problems


# --- model construction (only for valid specs) -----------------------------------------------------------

def build_model(data: dict, environment: str | None = None) -> Model:
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
            fan_out=_fan_out(route.get("fan_out")),
            overrides=TerraformArguments.of(route.get("overrides", {}).get("route")),
            integration_overrides=TerraformArguments.of(route.get("overrides", {}).get("integration")),
        ))
    logs = api.get("access_logs", {})
    cors = api.get("cors")
    domain = api.get("custom_domain")
    return Model(
        api=Api(name=api["name"], stage=stage, description=api.get("description"),
                tags=tuple(sorted(api.get("tags", {}).items())), throttling=_throttling(api.get("throttling")),
                access_logs=AccessLogs(logs.get("enabled", True), logs.get("retention_days", 365), logs.get("kms_key_arn"),
                                       logs.get("group_name") or default_log_group(api["name"], environment)),
                cors=Cors(tuple(cors["allow_origins"]), tuple(cors.get("allow_methods", ())),
                          tuple(cors.get("allow_headers", ())), tuple(cors.get("expose_headers", ())),
                          cors.get("max_age"), cors["allow_credentials"]) if cors else None,
                custom_domain=CustomDomain(domain["domain_name"], domain["certificate_arn"], domain.get("base_path"),
                                           _mutual_tls(domain.get("mutual_tls"))) if domain else None,
                disable_execute_api_endpoint=api["disable_execute_api_endpoint"],
                overrides=TerraformArguments.of(api.get("overrides", {}).get("api")),
                stage_overrides=TerraformArguments.of(api.get("overrides", {}).get("stage"))),
        vpc_link=VpcLink(data["vpc_link"].get("name") or default_vpc_link_name(api["name"], environment), tuple(data["vpc_link"]["subnet_ids"]),
                         tuple(data["vpc_link"]["security_group_ids"]), vpc_id_of(data),
                         data["vpc_link"].get("cloud_map_access"),
                         TerraformArguments.of(data["vpc_link"].get("overrides"))),
        services=tuple(_service(k, s) for k, s in sorted(data["services"].items())),
        routes=tuple(sorted(routes, key=lambda r: r.id)),
        namespace=Namespace(**data["namespace"]) if data.get("namespace") else None,
        authorizers=tuple(_authorizer(k, a) for k, a in sorted(data.get("authorizers", {}).items())),
        region=data.get("region"),
        provider=_provider(data.get("provider") or {}),
        environment=environment,
    )


def _provider(spec: dict) -> ProviderSettings:
    role = spec.get("assume_role")
    return ProviderSettings(tuple(spec.get("allowed_account_ids", ())), spec.get("profile"),
                            AssumeRole(role["role_arn"], role.get("session_name"), role.get("external_id"))
                            if role else None)


def _throttling(spec: dict | None) -> Throttling | None:
    return Throttling(spec["burst_limit"], spec["rate_limit"]) if spec else None


def _fan_out(spec: dict | None) -> FanOut | None:
    if spec is None:
        return None
    return FanOut(spec["per_instance_timeout_ms"], spec["concurrency"], spec["include_unhealthy"],
                  tuple(h.lower() for h in spec["forward_headers"]), spec["max_body_bytes"])


def _mutual_tls(spec: dict | None) -> MutualTls | None:
    return MutualTls(spec["truststore_uri"], spec.get("truststore_version")) if spec else None


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
        force_destroy=spec.get("force_destroy", True),
        ecs=EcsRegistration(spec["ecs"]["container_name"], spec["ecs"]["container_port"]) if spec.get("ecs") else None,
        overrides=TerraformArguments.of(spec.get("overrides")),
        instances=tuple(sorted((Instance(i["id"], i["ipv4"], i["port"], tuple(sorted(i.get("attributes", {}).items())))
                                for i in spec.get("instances", ())), key=lambda i: i.id)),
    )


def _authorizer(key: str, spec: dict[str, Any]) -> Authorizer:
    allowlist = spec["type"] == "allowlist"  # reads the caller's address, and answers {isAuthorized: bool}
    return Authorizer(key=key, type=spec["type"],
                      identity_source=ALLOWLIST_IDENTITY if allowlist else spec["identity_source"],
                      issuer=spec.get("issuer"), audiences=tuple(spec.get("audiences", ())),
                      function_arn=spec.get("function_arn"), result_ttl_seconds=spec["result_ttl_seconds"],
                      simple_responses=True if allowlist else spec["simple_responses"],
                      cidrs=tuple(spec.get("cidrs", ())), overrides=TerraformArguments.of(spec.get("overrides")))
