"""Describing a setup as routes.yaml: read.Setup -> the text, what cannot be expressed, what the first plan changes.

Pure: no AWS calls, no addresses paired (pair.py does that from the compiled plan). Each section of routes.yaml
has its own step; the steps share one _Context that collects the refusals (what routes.yaml cannot express: the
import is refused with all of them) and the changes (what the first plan changes even so: listed in the header).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import parse_qsl

from ..core import names
from ..core.deployed import LOG_FORMAT, STACK_TAG
from ..language.model import ALLOWLIST_IDENTITY, DEFAULT_TIMEOUT_MS, ECS_ATTRIBUTES
from ..language.schema import AUTHORIZER
from . import owned
from .read import ALLOWLIST, FAN_OUT, Function, Setup, lambda_target, service_id_of
from .yamltext import Document, comment, flow

DEFAULT_IDENTITY = AUTHORIZER.fields["identity_source"].default
ECS_MARKERS = frozenset({"ECS_SERVICE_NAME", "ECS_CLUSTER_NAME", "ECS_TASK_DEFINITION_FAMILY"})
ADDRESS_ATTRIBUTES = ("AWS_INSTANCE_IPV4", "AWS_INSTANCE_PORT")
NAMESPACE_TYPES = {"DNS_PRIVATE": "private_dns", "HTTP": "http", "DNS_PUBLIC": "public_dns"}

Line = tuple[str, Any, str]  # (key, value, comment) of one routes.yaml line


@dataclass
class Description:
    text: str  # the routes.yaml, without the header of changes (adopt adds it once the plan is known)
    namespace_id: Optional[str]  # the namespace adopted: its services are this stack's
    refusals: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


@dataclass
class _Context:
    setup: Setup
    stack: str
    out: Document = field(default_factory=Document)
    refusals: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # the API's tags routes.yaml sets on everything
    stage_name: str = "$default"
    route_settings: dict[str, dict] = field(default_factory=dict)
    namespace_id: Optional[str] = None
    service_keys: dict[str, str] = field(default_factory=dict)  # service id -> key
    authorizer_keys: dict[str, str] = field(default_factory=dict)  # authorizer id -> key

    @property
    def api_id(self) -> str:
        return self.setup.api["ApiId"]

    @property
    def api_name(self) -> str:
        return self.setup.api.get("Name", "")

    def refuse(self, reason: str) -> None:
        self.refusals.append(reason)

    def change(self, what: str) -> None:
        self.changes.append(what)

    def function(self, uri: str, kind: str) -> Optional[Function]:
        """This tool's function of that kind that the URI invokes, if it is one (read.Setup.functions)."""
        target = lambda_target(uri)
        found = self.setup.functions.get(target[0]) if target else None
        return found if found and found.kind == kind else None


def describe(setup: Setup, region: str, stack: str, tagged: bool, output: str) -> Description:
    """The routes.yaml text for a setup, with the reasons it cannot be written and what the first plan changes."""
    ctx = _Context(setup, stack, tags=_user_tags(setup.api.get("Tags") or {}))
    _api_changes(ctx, tagged)
    body = _api_body(ctx)
    link = _vpc_link_of(ctx)
    ctx.namespace_id = _main_namespace(setup)
    ctx.service_keys = _service_keys(setup)
    ctx.authorizer_keys = _authorizer_keys(ctx)
    _header(ctx, region, output)
    _section(ctx, "api", body)
    if link:
        _vpc_link(ctx, link)
    namespace = setup.namespaces.get(ctx.namespace_id) if ctx.namespace_id else None
    if namespace:
        _namespace(ctx, namespace)
    ctx.out.line("services:")
    for service_id, key in ctx.service_keys.items():
        _service(ctx, service_id, key)
    ctx.out.blank()
    _authorizers(ctx)
    _routes(ctx)
    return Description(ctx.out.text(), ctx.namespace_id, ctx.refusals, ctx.changes)


def _header(ctx: _Context, region: str, output: str) -> None:
    out, api = ctx.out, ctx.setup.api
    out.comment(0, f"routes.yaml for HTTP API {api['Name']!r} ({ctx.api_id}) in {region}, written by `main.py import`.")
    base = os.path.splitext(os.path.basename(output))[0]
    out.comment(0, f"Import blocks for every resource below: {base}.imports.tf.json; `main.py synth "
                   f"{os.path.basename(output)} --imports {base}.imports.tf.json` puts them in the stack.")
    out.line("version: 1")
    out.key(0, "region", region)
    out.blank()


def _section(ctx: _Context, name: str, body: list[Line]) -> None:
    ctx.out.line(f"{name}:")
    for key, value, note in body:
        ctx.out.block(2, key, value, note)
    ctx.out.blank()


# --- the API and its stage ----------------------------------------------------------------------------------

def _api_changes(ctx: _Context, tagged: bool) -> None:
    api = ctx.setup.api
    if (api.get("Tags") or {}).get(STACK_TAG) != ctx.stack and not tagged:
        ctx.change(f"aws_apigatewayv2_api.api: adds the tag {STACK_TAG}={ctx.stack} (`status` finds the API by it); "
                   "`import --tag-api` adds it now instead")
    if api.get("ApiKeySelectionExpression") not in (None, "$request.header.x-api-key"):
        ctx.change("aws_apigatewayv2_api.api: api_key_selection_expression returns to its default")


def _api_body(ctx: _Context) -> list[Line]:
    """The `api:` mapping: name, description, stage, throttling, access logs, CORS, custom domain, tags."""
    api, setup = ctx.setup.api, ctx.setup
    body: list[Line] = [("name", api["Name"], "")]
    if api.get("Description"):
        body.append(("description", api["Description"], ""))
    if len(setup.stage_names) > 1:
        ctx.refuse(f"API {ctx.api_id} has {len(setup.stage_names)} stages ({', '.join(setup.stage_names)}): "
                   "routes.yaml describes exactly one")
    ctx.stage_name = setup.stage["StageName"] if setup.stage else "$default"
    if setup.stage is None and not setup.stage_names:
        ctx.change("aws_apigatewayv2_stage.stage: created ($default, auto-deploy): the API has no stage")
    body.append(("stage", ctx.stage_name, ""))
    if setup.stage:
        body += _stage_body(ctx, setup.stage)
    elif not setup.stage_names:
        body.append(("access_logs", {"enabled": False}, ""))
    if api.get("CorsConfiguration"):
        body.append(("cors", _cors(api["CorsConfiguration"]), ""))
    if api.get("DisableExecuteApiEndpoint"):
        body.append(("disable_execute_api_endpoint", True, ""))
    if setup.domains:
        body.append(("custom_domain", _custom_domain(ctx, setup.domains), ""))
    if ctx.tags:
        body.append(("tags", ctx.tags, ""))
    return body


def _stage_body(ctx: _Context, stage: dict) -> list[Line]:
    """Throttling and access logs, and what the stage has that routes.yaml does not say."""
    _expect_tags(ctx, "aws_apigatewayv2_stage.stage", ctx.setup.tags.get("stage", {}))
    if not stage.get("AutoDeploy"):
        ctx.change("aws_apigatewayv2_stage.stage: auto_deploy is turned on (cloudmap-routes always deploys changes "
                   "at once)")
    if stage.get("StageVariables"):
        variables = ", ".join(sorted(stage["StageVariables"]))
        ctx.change(f"aws_apigatewayv2_stage.stage: stage variables are removed ({variables})")
    if stage.get("Description"):
        ctx.change("aws_apigatewayv2_stage.stage: the description is removed")
    body: list[Line] = []
    defaults = stage.get("DefaultRouteSettings") or {}
    throttling = _throttling(defaults)
    if throttling:
        body.append(("throttling", throttling, ""))
    elif defaults.get("ThrottlingBurstLimit") is not None or defaults.get("ThrottlingRateLimit") is not None:
        ctx.change("aws_apigatewayv2_stage.stage: default throttling has one of its two numbers unset; it is removed")
    if defaults.get("DetailedMetricsEnabled"):
        ctx.change("aws_apigatewayv2_stage.stage: detailed metrics are turned off")
    ctx.route_settings = dict(stage.get("RouteSettings") or {})
    access = stage.get("AccessLogSettings") or {}
    if not access.get("DestinationArn"):
        body.append(("access_logs", {"enabled": False}, "the stage writes no access logs"))
        return body
    body.append(("access_logs", _access_logs(ctx, access), ""))
    group = ctx.setup.log_group
    if group and not group.get("missing"):
        _expect_tags(ctx, "aws_cloudwatch_log_group.access_logs", ctx.setup.tags.get("log group", {}))
    return body


def _throttling(settings: dict) -> Optional[dict]:
    burst, rate = settings.get("ThrottlingBurstLimit"), settings.get("ThrottlingRateLimit")
    if burst is None or rate is None:
        return None
    return {"burst_limit": int(burst), "rate_limit": int(rate) if float(rate).is_integer() else float(rate)}


def _access_logs(ctx: _Context, access: dict) -> dict:
    group = ctx.setup.log_group
    name = (group or {}).get("logGroupName") or access["DestinationArn"].split(":log-group:", 1)[-1]
    logs: dict[str, Any] = {"group_name": name}
    if group is None or group.get("missing"):
        ctx.change(f"aws_cloudwatch_log_group.access_logs: created: the stage logs to {name!r}, which does not exist")
    else:
        retention = group.get("retentionInDays")
        if retention is None:
            ctx.change("aws_cloudwatch_log_group.access_logs: retention becomes 365 days (the group keeps logs "
                       "forever, which routes.yaml cannot say)")
        else:
            logs["retention_days"] = retention
        if group.get("kmsKeyId"):
            logs["kms_key_arn"] = group["kmsKeyId"]
    if access.get("Format") != json.dumps(LOG_FORMAT, separators=(",", ":")):
        ctx.change("aws_apigatewayv2_stage.stage: the access log format becomes cloudmap-routes' JSON format "
                   "(README, access logs)")
    return logs


def _cors(cors: dict) -> dict:
    out: dict[str, Any] = {"allow_origins": list(cors.get("AllowOrigins") or [])}
    for key, aws in (("allow_methods", "AllowMethods"), ("allow_headers", "AllowHeaders"),
                     ("expose_headers", "ExposeHeaders")):
        if cors.get(aws):
            out[key] = list(cors[aws])
    if cors.get("MaxAge") is not None:
        out["max_age"] = cors["MaxAge"]
    if cors.get("AllowCredentials"):
        out["allow_credentials"] = True
    return out


def _custom_domain(ctx: _Context, found_domains: list[tuple[dict, dict]]) -> dict:
    if len(found_domains) > 1:
        ctx.refuse(f"the API is mapped to {len(found_domains)} custom domains or paths "
                   f"({', '.join(d['DomainName'] for d, _ in found_domains)}): routes.yaml has one")
        return {}
    domain, mapping = found_domains[0]
    config = (domain.get("DomainNameConfigurations") or [{}])[0]
    out: dict[str, Any] = {"domain_name": domain["DomainName"], "certificate_arn": config.get("CertificateArn")}
    if mapping.get("ApiMappingKey"):
        out["base_path"] = mapping["ApiMappingKey"]
    if mapping.get("Stage") != ctx.stage_name:
        ctx.refuse(f"custom domain {domain['DomainName']} maps stage {mapping.get('Stage')!r}, not the API's stage "
                   f"{ctx.stage_name!r}")
    if config.get("EndpointType", "REGIONAL") != "REGIONAL" or config.get("SecurityPolicy", "TLS_1_2") != "TLS_1_2":
        ctx.change("aws_apigatewayv2_domain_name.domain: becomes a REGIONAL endpoint with TLS_1_2")
    if domain.get("MutualTlsAuthentication", {}).get("TruststoreUri"):
        ctx.refuse(f"custom domain {domain['DomainName']} uses mutual TLS: write `mutual_tls` by hand")
    return out


# --- the VPC link, the namespace and the services ---------------------------------------------------------

def _vpc_link_of(ctx: _Context) -> Optional[dict]:
    links = sorted({i.get("ConnectionId") for i in ctx.setup.integrations.values()
                    if i.get("ConnectionType") == "VPC_LINK"})
    link = ctx.setup.vpc_link
    if len(links) > 1:
        ctx.refuse(f"the integrations use {len(links)} VPC links ({', '.join(links)}): routes.yaml has one")
        return None
    if link is None:
        ctx.refuse("no integration uses a VPC link: routes.yaml describes private integrations to Cloud Map")
        return None
    _expect_tags(ctx, "aws_apigatewayv2_vpc_link.vpc_link", link.get("Tags") or {})
    return link


def _vpc_link(ctx: _Context, link: dict) -> None:
    out = ctx.out
    out.line("vpc_link:")
    out.key(2, "name", link["Name"])
    out.key(2, "subnet_ids", list(link.get("SubnetIds") or []))
    out.key(2, "security_group_ids", list(link.get("SecurityGroupIds") or []))
    if any(f.kind == FAN_OUT for f in ctx.setup.functions.values()):
        vpc = owned.fan_out_vpc(ctx.setup)
        if vpc:
            out.key(2, "vpc_id", vpc, "the fan-out functions' VPC")
        out.key(2, "cloud_map_access", owned.cloud_map_access(ctx.setup))
    out.blank()


def _main_namespace(setup: Setup) -> Optional[str]:
    """The namespace this stack manages: the one most targeted services live in (others stay existing)."""
    counts: dict[str, int] = {}
    for service in setup.services.values():
        if service.get("NamespaceId"):
            counts[service["NamespaceId"]] = counts.get(service["NamespaceId"], 0) + 1
    return min(counts, key=lambda n: (-counts[n], n)) if counts else None


def _service_keys(setup: Setup) -> dict[str, str]:
    """Service id -> its key under `services` (its name; a name taken twice gets a suffix of its id)."""
    keys: dict[str, str] = {}
    for service_id, service in sorted(setup.services.items(), key=lambda kv: kv[1]["Name"]):
        key = service["Name"]
        if key in keys.values():
            key = f"{key}-{service_id.removeprefix('srv-')[:6]}"
        keys[service_id] = key
    return keys


def _namespace(ctx: _Context, namespace: dict) -> None:
    kind = NAMESPACE_TYPES.get(namespace.get("Type", ""))
    if kind is None:
        ctx.refuse(f"namespace {namespace['Id']} has type {namespace.get('Type')!r}")
        return
    out = ctx.out
    out.line("namespace:")
    out.key(2, "type", kind)
    out.key(2, "name", namespace["Name"])
    if kind == "private_dns":
        vpc, how = _namespace_vpc(ctx.setup, namespace)
        if vpc is None:
            ctx.refuse(f"cannot tell which VPC private DNS namespace {namespace['Name']} ({namespace['Id']}) is in: "
                       f"{how}")
        else:
            out.key(2, "vpc_id", vpc, how)
    if namespace.get("Description"):
        out.key(2, "description", namespace["Description"])
    _expect_tags(ctx, names.address(f"aws_service_discovery_{kind}_namespace", names.NAMESPACE),
                 ctx.setup.tags.get(namespace["Arn"], {}))
    out.blank()


def _namespace_vpc(setup: Setup, namespace: dict) -> tuple[Optional[str], str]:
    """GetNamespace does not say; the namespace's private hosted zone does, else the VPC link's subnets' VPC."""
    vpcs = setup.zone_vpcs.get(namespace["Id"], [])
    if len(vpcs) == 1:
        return vpcs[0], ""
    if len(setup.subnet_vpcs) == 1:
        return setup.subnet_vpcs[0], "the VPC of the VPC link's subnets (the hosted zone names none): check it"
    return None, "its hosted zone names no single VPC, and neither do the VPC link's subnets"


def _service(ctx: _Context, service_id: str, key: str) -> None:
    service, out = ctx.setup.services[service_id], ctx.out
    out.key(2, key)
    if service.get("NamespaceId") != ctx.namespace_id:
        out.key(4, "existing_arn", service["Arn"], f"in namespace {service.get('NamespaceId')}, not adopted")
        out.key(4, "registered_by", "other")
        return
    address = names.address("aws_service_discovery_service", names.service(key))
    _expect_tags(ctx, address, ctx.setup.tags.get(service["Arn"], {}))
    if key != service["Name"]:
        out.key(4, "name", service["Name"])
    if service.get("Description"):
        out.key(4, "description", service["Description"])
    # Terraform's own setting: an import leaves it false in the state, so `true` would be the first plan's change.
    out.key(4, "force_destroy", False, "set true once adopted (no change in AWS): lets Terraform replace the "
            "service while instances are registered")
    if service.get("Type") == "HTTP" and ctx.setup.namespaces[ctx.namespace_id].get("Type") != "HTTP":
        ctx.refuse(f"service {service['Name']} ({service_id}) is an API-only (Type HTTP) service in a DNS namespace")
    _dns(ctx, service, address)
    _health_check(ctx, service, address)
    _instances(ctx, service_id, key)


def _dns(ctx: _Context, service: dict, address: str) -> None:
    dns = service.get("DnsConfig") or {}
    if dns.get("DnsRecords"):
        ctx.out.key(4, "dns_records", None)
        for record in dns["DnsRecords"]:
            ctx.out.item(6, "type", record["Type"])
            ctx.out.key(8, "ttl", record["TTL"])
    if dns.get("RoutingPolicy", "MULTIVALUE") != "MULTIVALUE":
        ctx.out.key(4, "routing_policy", dns["RoutingPolicy"])
    if dns and dns.get("NamespaceId") not in (None, ctx.namespace_id):
        ctx.refuse(f"service {service['Name']}: DnsConfig names namespace {dns['NamespaceId']}")
    elif dns.get("DnsRecords") and not dns.get("NamespaceId"):
        # The provider's dns_config.namespace_id is required and forces a new service: it must read it back.
        ctx.change(f"{address}: replaced: Cloud Map returns no DnsConfig.NamespaceId for it (the provider then sees "
                   "a new namespace)")


def _health_check(ctx: _Context, service: dict, address: str) -> None:
    out = ctx.out
    if service.get("HealthCheckCustomConfig") is not None:
        out.key(4, "health_check", "custom")
        if (service["HealthCheckCustomConfig"] or {}).get("FailureThreshold") not in (None, 1):
            ctx.change(f"{address}: replaced: its custom health check's failure threshold is not 1")
    elif service.get("HealthCheckConfig"):
        check = service["HealthCheckConfig"]
        out.key(4, "health_check", "route53")
        settings = {"type": check["Type"]}
        if check.get("ResourcePath") and check["Type"] != "TCP":
            settings["resource_path"] = check["ResourcePath"]
        if check.get("FailureThreshold") is not None:
            settings["failure_threshold"] = check["FailureThreshold"]
        out.key(4, "route53_health_check", settings)
    else:
        out.key(4, "health_check", "none", "as deployed: every instance receives traffic, healthy or not")


def _instances(ctx: _Context, service_id: str, key: str) -> None:
    """Static instances are adopted; instances ECS or an application registers stay theirs."""
    instances = ctx.setup.instances.get(service_id, [])
    if not instances:
        return
    attributes = [i.get("Attributes") or {} for i in instances]
    if any(ECS_MARKERS & a.keys() for a in attributes):
        ctx.out.key(4, "registered_by", "ecs", f"{len(instances)} task(s) registered now; ECS keeps registering them")
        app = [k for k in _filter_keys(ctx.setup, service_id) if k not in ECS_ATTRIBUTES and not k.startswith("AWS_")]
        if app:
            ctx.out.key(4, "app_attributes", app)
        return
    problems = [p for p in (_instance_problem(i, a) for i, a in zip(instances, attributes)) if p]
    if problems:
        ctx.out.key(4, "registered_by", "other", "instances left as they are (not adopted): " + "; ".join(problems))
        return
    ctx.out.key(4, "instances", None)
    for instance, attrs in sorted(zip(instances, attributes), key=lambda p: p[0]["Id"]):
        custom = {k: v for k, v in sorted(attrs.items()) if k not in ADDRESS_ATTRIBUTES}
        entry = {"id": instance["Id"], "ipv4": attrs["AWS_INSTANCE_IPV4"], "port": int(attrs["AWS_INSTANCE_PORT"])}
        if custom:
            entry["attributes"] = custom
        ctx.out.entry(6, entry)


def _filter_keys(setup: Setup, service_id: str) -> list[str]:
    """The attribute keys the routes to a service filter on (integration URIs and fan-out environments)."""
    keys = {k for i in setup.integrations.values() if service_id_of(i.get("IntegrationUri", "")) == service_id
            for k, _ in parse_qsl(i["IntegrationUri"].partition("?")[2])}
    for function in setup.functions.values():
        if function.service_id == service_id:
            try:
                keys |= set(json.loads(function.environment.get("FILTER") or "{}"))
            except (ValueError, TypeError):
                pass
    return sorted(keys)


def _instance_problem(instance: dict, attrs: dict) -> str:
    from ..language.schema import ATTRIBUTE_KEY, ATTRIBUTE_VALUE, INSTANCE_ID, IPV4
    port = attrs.get("AWS_INSTANCE_PORT", "")
    extra = sorted(k for k in attrs if k.startswith("AWS_") and k not in ADDRESS_ATTRIBUTES)
    if not re.match(INSTANCE_ID, instance["Id"]):
        return f"{instance['Id']}: an id routes.yaml does not accept"
    if not re.match(IPV4, attrs.get("AWS_INSTANCE_IPV4", "")) or not (
            re.fullmatch("[0-9]{1,5}", port) and 0 < int(port) < 65536):
        return f"{instance['Id']}: no AWS_INSTANCE_IPV4 and AWS_INSTANCE_PORT"
    if extra:
        return f"{instance['Id']}: {', '.join(extra)}"
    if any(not isinstance(v, str) or not re.match(ATTRIBUTE_KEY, k) or not re.match(ATTRIBUTE_VALUE, v)
           for k, v in attrs.items() if k not in ADDRESS_ATTRIBUTES):
        return f"{instance['Id']}: an attribute routes.yaml does not accept"
    return ""


# --- authorizers ----------------------------------------------------------------------------------------------

def _authorizer_keys(ctx: _Context) -> dict[str, str]:
    """Authorizer id -> key (its name); a name routes.yaml cannot use as a key is refused."""
    from ..language.schema import AUTHORIZER_KEY
    keys = {}
    for authorizer_id, a in sorted(ctx.setup.authorizers.items(), key=lambda kv: kv[1]["Name"]):
        if not re.match(AUTHORIZER_KEY, a["Name"]) or a["Name"] in ("none", "iam"):
            ctx.refuse(f"authorizer {a['Name']!r} ({authorizer_id}): routes.yaml names authorizers with 1-74 letters, "
                       "digits, - and _ (and not none or iam), and uses the name as the key")
        else:
            keys[authorizer_id] = a["Name"]
    return keys


def _authorizers(ctx: _Context) -> None:
    """Writes `authorizers:`."""
    if not ctx.authorizer_keys:
        return
    ctx.out.line("authorizers:")
    for authorizer_id, key in ctx.authorizer_keys.items():
        a = ctx.setup.authorizers[authorizer_id]
        sources = a.get("IdentitySource") or []
        if len(sources) != 1:
            ctx.refuse(f"authorizer {key}: {len(sources)} identity sources; routes.yaml takes exactly one")
            continue
        body = _authorizer_body(ctx, key, a)
        if body is None:
            continue
        if body[0][1] != "allowlist" and sources[0] != DEFAULT_IDENTITY:
            body.append(("identity_source", sources[0], ""))
        ctx.out.key(2, key)
        for k, value, note in body:
            ctx.out.key(4, k, value, note)
    ctx.out.blank()


def _authorizer_body(ctx: _Context, key: str, a: dict) -> Optional[list[Line]]:
    kind = a.get("AuthorizerType")
    if kind == "JWT":
        jwt = a.get("JwtConfiguration") or {}
        return [("type", "jwt", ""), ("issuer", jwt.get("Issuer"), ""),
                ("audiences", list(jwt.get("Audience") or []), "")]
    if kind != "REQUEST":
        ctx.refuse(f"authorizer {key}: type {kind!r}")
        return None
    function = ctx.function(a.get("AuthorizerUri", ""), ALLOWLIST)
    cidrs = owned.allowlist_cidrs(ctx.api_name, key, function) if function else None
    if cidrs is not None:
        return _allowlist(ctx, key, a, cidrs)
    return _lambda_authorizer(ctx, key, a)


def _allowlist(ctx: _Context, key: str, a: dict, cidrs: list[str]) -> list[Line]:
    """An allow-list authorizer this tool made: its CIDRs from its function's environment (ALLOWED_CIDRS)."""
    address = names.address("aws_apigatewayv2_authorizer", names.authorizer(key))
    if (a.get("IdentitySource") or [""])[0] != ALLOWLIST_IDENTITY:
        ctx.change(f"{address}: its identity source becomes {ALLOWLIST_IDENTITY} (the caller's address)")
    if not a.get("EnableSimpleResponses"):
        ctx.change(f"{address}: simple responses are turned on (the allow-list answers {{isAuthorized: bool}})")
    body: list[Line] = [("type", "allowlist", ""), ("cidrs", cidrs, "")]
    ttl = a.get("AuthorizerResultTtlInSeconds", 300)
    if ttl != 300:
        body.append(("result_ttl_seconds", ttl, ""))
    return body


def _lambda_authorizer(ctx: _Context, key: str, a: dict) -> Optional[list[Line]]:
    from ..language.schema import FUNCTION_ARN
    target = lambda_target(a.get("AuthorizerUri", ""))
    function = target[0] if target else ""
    if not re.match(FUNCTION_ARN, function):
        ctx.refuse(f"authorizer {key}: its URI does not invoke a Lambda function by ARN")
        return None
    if a.get("AuthorizerPayloadFormatVersion") != "2.0":
        ctx.refuse(f"authorizer {key}: payload format {a.get('AuthorizerPayloadFormatVersion')}; routes.yaml's lambda "
                   "authorizers use 2.0")
    if a.get("AuthorizerCredentialsArn"):
        ctx.refuse(f"authorizer {key}: invokes its function with a role (credentials); routes.yaml's lambda "
                   "authorizers use a resource policy")
    body: list[Line] = [("type", "lambda", ""), ("function_arn", function, "")]
    ttl = a.get("AuthorizerResultTtlInSeconds", 300)
    if ttl != 300:
        body.append(("result_ttl_seconds", ttl, ""))
    if not a.get("EnableSimpleResponses"):
        body.append(("simple_responses", False, ""))
    ctx.change(f"aws_lambda_permission.{names.authorizer_permission(key)}: created: the statement "
               f"AllowApiGatewayAuthorizer-{key} that lets API Gateway invoke the function")
    return body


# --- routes ---------------------------------------------------------------------------------------------------

def _routes(ctx: _Context) -> None:
    items = [item for item in (_route(ctx, r) for r in sorted(ctx.setup.routes, key=lambda r: r["RouteKey"])) if item]
    ctx.out.line("routes:")
    for item in items:
        (key, value, note), rest = item[0], item[1:]
        ctx.out.item(2, key, value, note)
        for key, value, note in rest:
            ctx.out.block(4, key, value, note)


def _route(ctx: _Context, route: dict) -> Optional[list[Line]]:
    """One route's lines; None when the route is refused."""
    key = route["RouteKey"]
    integration = ctx.setup.integrations.get((route.get("Target") or "").removeprefix("integrations/"))
    if integration is None:
        ctx.refuse(f"route {key}: no integration (target {route.get('Target')!r})")
        return None
    function = ctx.function(integration.get("IntegrationUri", ""), FAN_OUT) if ctx.setup.is_stack else None
    if integration.get("IntegrationType") == "AWS_PROXY" and function is not None:
        return _fan_out_route(ctx, route, integration, function)
    problems = _integration_problems(integration, ctx.stage_name)
    if problems:
        ctx.refusals += [f"route {key}: {p}" for p in problems]
        return None
    uri_filter = dict(parse_qsl(integration["IntegrationUri"].partition("?")[2], keep_blank_values=True))
    service = ctx.service_keys[service_id_of(integration["IntegrationUri"])]
    lines: list[Line] = [("route", key, ""), ("service", service, "")]
    if uri_filter:
        lines.append(("filter", uri_filter, ""))
    strip = bool(integration.get("RequestParameters"))
    return lines + _route_options(ctx, route, integration, _derived_id(key), integration.get("TlsConfig") or {}, strip)


def _fan_out_route(ctx: _Context, route: dict, integration: dict, function: Function) -> Optional[list[Line]]:
    """A fan-out route this tool made: its options from its function's environment (handlers/settings.py)."""
    key = route["RouteKey"]
    fan_out, why = owned.fan_out_route(ctx.api_name, key, function)
    if fan_out is None:
        ctx.refuse(f"route {key}: integration {integration['IntegrationId']} invokes function {function.name}, which "
                   f"looks like this tool's fan-out function but cannot be read back: {why}")
        return None
    if integration.get("PayloadFormatVersion") != "2.0":
        ctx.refuse(f"route {key}: integration {integration['IntegrationId']}: payload format "
                   f"{integration.get('PayloadFormatVersion')}; fan-out integrations use 2.0")
        return None
    settings = fan_out.settings
    lines: list[Line] = [("route", key, "")]
    if fan_out.route_id != _derived_id(key):
        lines.append(("id", fan_out.route_id, "the fan-out function's name carries it"))
    lines.append(("service", ctx.service_keys[function.service_id], ""))
    if settings.filter:
        lines.append(("filter", dict(settings.filter), ""))
    tls = {"ServerNameToVerify": settings.tls_server_name} if settings.tls_server_name else {}
    lines += _route_options(ctx, route, integration, fan_out.route_id, tls, settings.strip_stage)
    lines.append(("fan_out", owned.fan_out_options(settings), ""))
    return lines


def _route_options(ctx: _Context, route: dict, integration: dict, route_id: str, tls: dict,
                   strip_stage: bool) -> list[Line]:
    """What proxy and fan-out routes share: authorization, scopes, timeout, TLS, the stage in the path,
    throttling; and what the first plan changes of them."""
    lines = _authorization(ctx, route)
    if route.get("AuthorizationScopes"):
        lines.append(("scopes", list(route["AuthorizationScopes"]), ""))
    timeout = integration.get("TimeoutInMillis", DEFAULT_TIMEOUT_MS)
    if timeout != DEFAULT_TIMEOUT_MS:
        lines.append(("timeout_ms", timeout, ""))
    if tls.get("ServerNameToVerify"):
        lines.append(("tls_server_name", tls["ServerNameToVerify"], ""))
    if ctx.stage_name != "$default" and not strip_stage:
        lines.append(("forward_stage_in_path", True, ""))
    throttling = _throttling(ctx.route_settings.get(route["RouteKey"]) or {})
    if throttling:
        lines.append(("throttling", throttling, ""))
    if route.get("OperationName"):
        ctx.change(f"aws_apigatewayv2_route.{route_id}: its operation name is removed")
    fan_out = integration.get("IntegrationType") == "AWS_PROXY"
    if integration.get("IntegrationMethod", "ANY") != ("POST" if fan_out else "ANY"):
        method = "POST" if fan_out else "ANY"
        ctx.change(f"aws_apigatewayv2_integration.{route_id}: integration_method becomes {method} "
                   f"(was {integration['IntegrationMethod']})")
    if integration.get("Description"):
        ctx.change(f"aws_apigatewayv2_integration.{route_id}: its description is removed")
    return lines


def _authorization(ctx: _Context, route: dict) -> list[Line]:
    kind = route.get("AuthorizationType", "NONE")
    if kind == "NONE":
        return [("public", True, "no authorization, as deployed")]
    if kind == "AWS_IAM":
        return [("authorization", "iam", "")]
    if route.get("AuthorizerId") in ctx.authorizer_keys:
        return [("authorization", ctx.authorizer_keys[route["AuthorizerId"]], "")]
    if route.get("AuthorizerId") not in ctx.setup.authorizers:  # one whose name is refused is reported as such
        ctx.refuse(f"route {route['RouteKey']}: authorization {kind} by an authorizer that cannot be read")
    return []


def _derived_id(route_key: str) -> str:
    """The id routes.yaml derives for a route without an explicit one (compiler.core.names.route)."""
    method, _, path = route_key.partition(" ")
    return names.route("", "") if route_key == "$default" else names.route(method, path)


def _integration_problems(integration: dict, stage_name: str) -> list[str]:
    uri = integration.get("IntegrationUri", "")
    if integration.get("IntegrationType") != "HTTP_PROXY" or integration.get("ConnectionType") != "VPC_LINK" \
            or service_id_of(uri) is None:
        what = integration.get("IntegrationSubtype") or integration.get("IntegrationType")
        return [f"integration {integration['IntegrationId']} is not a Cloud Map private integration "
                f"({what}, {integration.get('ConnectionType', 'INTERNET')}, {uri or 'no URI'}): "
                "routes.yaml routes only to Cloud Map services through the VPC link (and to the fan-out functions "
                "of a stack this tool deployed)"]
    problems = []
    if integration.get("PayloadFormatVersion", "1.0") != "1.0":
        problems.append(f"integration {integration['IntegrationId']}: payload format "
                        f"{integration['PayloadFormatVersion']}")
    parameters = integration.get("RequestParameters") or {}
    if parameters and (parameters != {"overwrite:path": "$request.path"} or stage_name == "$default"):
        problems.append(f"integration {integration['IntegrationId']} rewrites the request "
                        f"({', '.join(f'{k}={v}' for k, v in sorted(parameters.items()))}): routes.yaml only strips "
                        "a named stage from the path")
    if integration.get("ResponseParameters"):
        problems.append(f"integration {integration['IntegrationId']} rewrites responses (response parameters)")
    return problems


# --- tags and the header ------------------------------------------------------------------------------------

def _user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags routes.yaml sets: not AWS's own (`aws:*`, which the provider ignores too), not the stack tag."""
    return {k: v for k, v in tags.items() if not k.lower().startswith("aws:") and k != STACK_TAG}


def _expect_tags(ctx: _Context, address: str, actual: dict) -> None:
    if _user_tags(actual) != ctx.tags:
        ctx.change(f"{address}: its tags become the API's ({flow(ctx.tags) if ctx.tags else 'none'})")


def with_changes(text: str, changes: list[str]) -> str:
    """The routes.yaml with the changes the first plan makes listed in its header (comments only)."""
    if not changes:
        return text
    head, _, rest = text.partition("version: 1\n")
    lines = ["# The first plan also changes what routes.yaml cannot say as deployed:"]
    lines += [f"#   - {comment(c)}" for c in changes]
    return head + "\n".join(lines) + "\nversion: 1\n" + rest
