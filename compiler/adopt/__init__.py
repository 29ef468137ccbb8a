"""`main.py import`: adopt an HTTP API built by hand (console, CLI, another tool) into routes.yaml.

It reads the API (routes, integrations, authorizers, stage, VPC link, custom domain) and the Cloud Map namespace,
services and instances its integrations target, with Get*/List* calls only, and writes two files:

- a routes.yaml that describes them, with `#` comments where the deployed setup says something routes.yaml cannot
  (each such difference is also listed at the top: the first plan changes it);
- Terraform `import` blocks (Terraform >= 1.5) at exactly the addresses synth uses (`synth --imports FILE`).

The addresses are never computed here: the written routes.yaml is compiled and planned exactly as synth will
(compiler.terraform.plan), and each block of that plan is paired with the AWS id found for it, in the import id
format of its resource type (the provider's import documentation, one row of IMPORT_IDS each). A block without an AWS
counterpart is listed as one the first plan creates.

What the language cannot express is refused, with every reason at once, and nothing is written: a REST or
WebSocket API, an integration that is not a Cloud Map private integration, several stages or VPC links, request
or response parameters beyond the stage-prefix rewrite, authorizers of another shape. If the routes.yaml written
for a setup would not compile, that is refused too (with the diagnostics): a file `check` rejects is never
written.

The only write to AWS is opt-in: `--tag-api` tags the API with `cloudmap-routes:stack` (the tag synth puts on it
and `status` finds it by), so that the first plan is imports only.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import parse_qsl

from ..core import names
from ..core.aws import pages as _pages
from ..core.deployed import LOG_FORMAT, STACK_TAG

DEFAULT_TIMEOUT_MS = 30000  # API Gateway's integration timeout when none is set
DEFAULT_IDENTITY = "$request.header.Authorization"
ECS_MARKERS = frozenset({"ECS_SERVICE_NAME", "ECS_CLUSTER_NAME", "ECS_TASK_DEFINITION_FAMILY"})
ADDRESS_ATTRIBUTES = ("AWS_INSTANCE_IPV4", "AWS_INSTANCE_PORT")
NAMESPACE_TYPES = {"DNS_PRIVATE": "private_dns", "HTTP": "http", "DNS_PUBLIC": "public_dns"}
# Import ids by resource type (terraform-provider-aws, each resource's "Import" section).
IMPORT_IDS = {
    "aws_apigatewayv2_api": "API_ID",
    "aws_apigatewayv2_route": "API_ID/ROUTE_ID",
    "aws_apigatewayv2_integration": "API_ID/INTEGRATION_ID",
    "aws_apigatewayv2_authorizer": "API_ID/AUTHORIZER_ID",
    "aws_apigatewayv2_stage": "API_ID/STAGE_NAME",
    "aws_apigatewayv2_vpc_link": "VPC_LINK_ID",
    "aws_apigatewayv2_domain_name": "DOMAIN_NAME",
    "aws_apigatewayv2_api_mapping": "API_MAPPING_ID/DOMAIN_NAME",
    "aws_service_discovery_private_dns_namespace": "NAMESPACE_ID:VPC_ID",
    "aws_service_discovery_http_namespace": "NAMESPACE_ID",
    "aws_service_discovery_public_dns_namespace": "NAMESPACE_ID",
    "aws_service_discovery_service": "SERVICE_ID",
    "aws_service_discovery_instance": "SERVICE_ID/INSTANCE_ID",
    "aws_cloudwatch_log_group": "LOG_GROUP_NAME",
}
_PLAIN = re.compile(r"[A-Za-z0-9_./$+()=:-][A-Za-z0-9_./$+()=: -]*(?<! )")  # nothing YAML gives a meaning to


class Refused(Exception):
    """The setup holds something routes.yaml cannot express; nothing was written. One reason per line."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


@dataclass
class Adoption:
    text: str  # the routes.yaml
    imports: list[tuple[str, str]]  # (Terraform address, import id), in plan order
    changes: list[str]  # what the first plan changes even so (also in the file's header)
    creates: list[str]  # addresses the first plan creates: nothing in AWS corresponds to them
    warnings: list[str] = field(default_factory=list)  # the written file's own warnings, rendered

    def imports_json(self) -> str:
        """Terraform JSON: `{"import": [{"id": ..., "to": ...}]}` (what `synth --imports` reads, and a valid
        *.tf.json a plain Terraform user can drop into the stack's directory)."""
        blocks = [{"to": address, "id": _tf_literal(import_id)} for address, import_id in self.imports]
        return json.dumps({"import": blocks}, indent=2) + "\n"


def _tf_literal(text: str) -> str:
    from ..terraform.plan import tf_literal
    return tf_literal(text)


class ImportsFileError(ValueError):
    """An imports file `synth --imports` cannot read."""


def read_imports(path: str, limit: int = 4 * 1024 * 1024) -> list[tuple[str, str]]:
    """(address, import id) pairs from a Terraform JSON file of import blocks (what `import` writes).

    Ids are read back from Terraform's template syntax (`$${` is a literal `${`); the plan escapes them again
    when it writes them (plan.with_imports, the engines). Raises ImportsFileError naming what is wrong."""
    from ..core.files import read_capped
    raw, why = read_capped(path, limit)
    if raw is None:
        raise ImportsFileError(f"{path}: cannot read the file: {why}")
    if len(raw) > limit:
        raise ImportsFileError(f"{path}: larger than {limit} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportsFileError(f"{path}: not JSON: {exc}") from None
    blocks = data.get("import") if isinstance(data, dict) else None
    if not isinstance(blocks, list) or set(data) != {"import"}:
        raise ImportsFileError(f'{path}: expected {{"import": [{{"to": ADDRESS, "id": ID}}, ...]}}')
    pairs = []
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or set(block) != {"to", "id"} or not all(
                isinstance(block[k], str) for k in ("to", "id")):
            raise ImportsFileError(f'{path}: import[{i}] must be {{"to": ADDRESS, "id": ID}} (two strings)')
        pairs.append((block["to"], block["id"].replace("$${", "${").replace("%%{", "%{")))
    return pairs


# --- reading ------------------------------------------------------------------------------------------------


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


@dataclass
class Clients:
    """boto3 clients for one region (compiler.live.discovery.aws_client builds them: real AWS or a local endpoint)."""

    apigatewayv2: Any
    servicediscovery: Any
    logs: Any
    ec2: Any
    route53: Any
    apigateway: Any  # v1: only to say that an id is a REST API's
    region: str


def clients(region: Optional[str], local_aws: Optional[str]) -> Clients:
    from ..core.aws import LOCAL_REGION, aws_client
    made = {name: aws_client(name, region, local_aws)
            for name in ("apigatewayv2", "servicediscovery", "logs", "ec2", "route53", "apigateway")}
    resolved = made["apigatewayv2"].meta.region_name or region or LOCAL_REGION
    return Clients(**made, region=resolved)


@dataclass
class Setup:
    """What AWS holds, as read: the raw API answers the routes.yaml is written from."""

    api: dict
    stage: Optional[dict]
    routes: list[dict]
    integrations: dict[str, dict]  # by integration id
    authorizers: dict[str, dict]  # by authorizer id
    vpc_link: Optional[dict]
    services: dict[str, dict]  # by service id
    instances: dict[str, list[dict]]  # by service id
    namespaces: dict[str, dict]  # by namespace id
    stage_names: list[str] = field(default_factory=list)  # every stage (routes.yaml has one)
    log_group: Optional[dict] = None
    domains: list[tuple[dict, dict]] = field(default_factory=list)  # (domain name, its API mapping to this API)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # by ARN (Cloud Map), "stage", "log group"
    # GetNamespace does not say which VPC a private DNS namespace is in: its hosted zone does (Route 53), and
    # the VPC link's subnets name theirs (the fallback).
    zone_vpcs: dict[str, list[str]] = field(default_factory=dict)  # by namespace id
    subnet_vpcs: list[str] = field(default_factory=list)


def read_setup(c: Clients, api_id: str) -> Setup:
    """Every Get/List call the import makes. Raises Refused for an id that is not an HTTP API's."""
    from botocore.exceptions import BotoCoreError, ClientError
    agw, sd = c.apigatewayv2, c.servicediscovery
    try:
        api = agw.get_api(ApiId=api_id)
    except ClientError as exc:
        if _error_code(exc) != "NotFoundException":
            raise
        raise Refused([_not_http_api(c, api_id)]) from None
    if api.get("ProtocolType") != "HTTP":
        raise Refused([f"API {api_id} is a {api.get('ProtocolType')} API: routes.yaml describes HTTP APIs only"])
    stages = _pages(agw.get_stages, "Items", ApiId=api_id)
    routes = _pages(agw.get_routes, "Items", ApiId=api_id)
    integrations = {i["IntegrationId"]: i for i in _pages(agw.get_integrations, "Items", ApiId=api_id)}
    try:
        authorizers = {a["AuthorizerId"]: a for a in _pages(agw.get_authorizers, "Items", ApiId=api_id)}
    except (BotoCoreError, ClientError, NotImplementedError):  # a local AWS without GetAuthorizers: read those
        # the routes name
        wanted = sorted({r["AuthorizerId"] for r in routes if r.get("AuthorizerId")})
        authorizers = {a: agw.get_authorizer(ApiId=api_id, AuthorizerId=a) for a in wanted}
    links = sorted({i["ConnectionId"] for i in integrations.values()
                    if i.get("ConnectionType") == "VPC_LINK" and i.get("ConnectionId")})
    vpc_link = agw.get_vpc_link(VpcLinkId=links[0]) if len(links) == 1 else None
    services: dict[str, dict] = {}
    for integration in integrations.values():
        service_id = _service_id(integration.get("IntegrationUri", ""))
        if service_id and service_id not in services:
            services[service_id] = sd.get_service(Id=service_id)["Service"]
    instances = {s: _pages(sd.list_instances, "Instances", ServiceId=s) for s in services}
    namespaces = {n: sd.get_namespace(Id=n)["Namespace"]
                  for n in sorted({s["NamespaceId"] for s in services.values() if s.get("NamespaceId")})}
    setup = Setup(api, stages[0] if len(stages) == 1 else None, routes, integrations, authorizers, vpc_link,
                  services, instances, namespaces, sorted(s["StageName"] for s in stages))
    if setup.stage:
        setup.tags["stage"] = setup.stage.get("Tags") or {}
    for arn in [s["Arn"] for s in services.values()] + [n["Arn"] for n in namespaces.values()]:
        setup.tags[arn] = {t["Key"]: t["Value"] for t in sd.list_tags_for_resource(ResourceARN=arn).get("Tags", [])}
    log_arn = ((setup.stage or {}).get("AccessLogSettings") or {}).get("DestinationArn")
    if log_arn:
        group = log_arn.split(":log-group:", 1)[-1].removesuffix(":*")
        found = [g for g in c.logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
                 if g["logGroupName"] == group]
        setup.log_group = found[0] if found else {"logGroupName": group, "missing": True}
        if found:
            setup.tags["log group"] = c.logs.list_tags_log_group(logGroupName=group).get("tags", {})
    setup.domains = _domains(agw, api_id)
    for namespace_id, namespace in namespaces.items():
        zone = ((namespace.get("Properties") or {}).get("DnsProperties") or {}).get("HostedZoneId")
        if namespace.get("Type") == "DNS_PRIVATE" and zone:
            try:
                setup.zone_vpcs[namespace_id] = [v["VPCId"] for v in c.route53.get_hosted_zone(Id=zone).get("VPCs", [])]
            except (BotoCoreError, ClientError):  # no permission for Route 53: the subnets' VPC is the fallback
                pass
    if vpc_link and vpc_link.get("SubnetIds"):
        setup.subnet_vpcs = sorted({s["VpcId"] for s in c.ec2.describe_subnets(
            SubnetIds=vpc_link["SubnetIds"]).get("Subnets", [])})
    return setup


def _not_http_api(c: Clients, api_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        rest = c.apigateway.get_rest_api(restApiId=api_id)
    except (BotoCoreError, ClientError):
        return f"no HTTP API with id {api_id!r} in {c.region}"
    return (f"{api_id} is a REST API ({rest.get('name')!r}, API Gateway v1): routes.yaml describes HTTP APIs "
            "(API Gateway v2) only")


def _domains(agw, api_id: str) -> list[tuple[dict, dict]]:
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        domains = _pages(agw.get_domain_names, "Items")
    except (BotoCoreError, ClientError):
        return []
    found = []
    for domain in domains:
        for mapping in _pages(agw.get_api_mappings, "Items", DomainName=domain["DomainName"]):
            if mapping.get("ApiId") == api_id:
                found.append((domain, mapping))
    return found


def _service_id(uri: str) -> Optional[str]:
    arn = uri.partition("?")[0]
    parts = arn.split(":")
    if len(parts) == 6 and parts[2] == "servicediscovery" and parts[5].startswith("service/"):
        return parts[5][len("service/"):]
    return None


# --- describing: AWS answers -> routes.yaml ---------------------------------------------------------------

class _Yaml:
    """The routes.yaml text, line by line, with comments where they explain something."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, indent: int, text: str) -> None:
        self.lines.append(" " * indent + "# " + _comment(text))

    def key(self, indent: int, key: str, value: Any = None, note: str = "") -> None:
        line = " " * indent + f"{_scalar(key)}:" + ("" if value is None else " " + _flow(value))
        self.lines.append(line + (f"  # {_comment(note)}" if note else ""))

    def item(self, indent: int, key: str, value: Any, note: str = "") -> None:
        line = " " * indent + f"- {_scalar(key)}: {_flow(value)}"
        self.lines.append(line + (f"  # {_comment(note)}" if note else ""))

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _comment(text: str) -> str:
    """Text for a YAML comment: whatever AWS returned, it stays on its line (controls shown as escapes)."""
    from ..core.text import visible
    return visible(text)


def _scalar(value: Any) -> str:
    """A YAML scalar: plain when YAML reads it back as this very string in block and flow context alike
    (`GET /leader`, `$default`, `10.0.1.10`), else a JSON string, which YAML reads as a double-quoted scalar."""
    import yaml
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and ": " not in text and " #" not in text and not text.startswith(("-", "?", ":")):
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


@dataclass
class _Found:
    """What the description found out, besides the text: ids by address, refusals and changes."""

    ids: dict[str, str] = field(default_factory=dict)  # Terraform address -> import id
    refusals: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


def describe(setup: Setup, region: str, stack: str, tagged: bool, output: str) -> tuple[str, _Found]:
    """The routes.yaml text for a setup, and the AWS ids by the addresses the plan will give them."""
    found = _Found()
    api, api_id = setup.api, setup.api["ApiId"]
    out = _Yaml()
    refuse, change = found.refusals.append, found.changes.append

    # The API ----------------------------------------------------------------------------------------------
    found.ids[names.address("aws_apigatewayv2_api", names.API)] = api_id
    tags = _user_tags(api.get("Tags") or {})
    if (api.get("Tags") or {}).get(STACK_TAG) != stack and not tagged:
        change(f"aws_apigatewayv2_api.api: adds the tag {STACK_TAG}={stack} (`status` finds the API by it); "
               "`import --tag-api` adds it now instead")
    if api.get("ApiKeySelectionExpression") not in (None, "$request.header.x-api-key"):
        change("aws_apigatewayv2_api.api: api_key_selection_expression returns to its default")
    body: list[tuple[str, Any, str]] = [("name", api["Name"], "")]
    if api.get("Description"):
        body.append(("description", api["Description"], ""))

    stage = setup.stage
    stage_names = setup.stage_names
    if len(stage_names) > 1:
        refuse(f"API {api_id} has {len(stage_names)} stages ({', '.join(stage_names)}): routes.yaml describes "
               "exactly one")
    stage_name = stage["StageName"] if stage else "$default"
    if stage is None and not stage_names:
        change("aws_apigatewayv2_stage.stage: created ($default, auto-deploy): the API has no stage")
    body.append(("stage", stage_name, ""))
    route_settings: dict[str, dict] = {}
    log_group = setup.log_group
    if stage:
        found.ids[names.address("aws_apigatewayv2_stage", names.STAGE)] = f"{api_id}/{stage_name}"
        _expect_tags(found, "aws_apigatewayv2_stage.stage", setup.tags.get("stage", {}), tags)
        if not stage.get("AutoDeploy"):
            change("aws_apigatewayv2_stage.stage: auto_deploy is turned on (cloudmap-routes always deploys "
                   "changes at once)")
        if stage.get("StageVariables"):
            variables = ", ".join(sorted(stage["StageVariables"]))
            change(f"aws_apigatewayv2_stage.stage: stage variables are removed ({variables})")
        if stage.get("Description"):
            change("aws_apigatewayv2_stage.stage: the description is removed")
        defaults = stage.get("DefaultRouteSettings") or {}
        throttling = _throttling(defaults)
        if throttling:
            body.append(("throttling", throttling, ""))
        elif defaults.get("ThrottlingBurstLimit") is not None or defaults.get("ThrottlingRateLimit") is not None:
            change("aws_apigatewayv2_stage.stage: default throttling has one of its two numbers unset; it is removed")
        if defaults.get("DetailedMetricsEnabled"):
            change("aws_apigatewayv2_stage.stage: detailed metrics are turned off")
        route_settings = {s: v for s, v in (stage.get("RouteSettings") or {}).items()}
        access = stage.get("AccessLogSettings") or {}
        if not access.get("DestinationArn"):
            body.append(("access_logs", {"enabled": False}, "the stage writes no access logs"))
        else:
            body.append(("access_logs", _access_logs(access, log_group, found), ""))
            if log_group and not log_group.get("missing"):
                _expect_tags(found, "aws_cloudwatch_log_group.access_logs", setup.tags.get("log group", {}), tags)
    elif not stage_names:
        body.append(("access_logs", {"enabled": False}, ""))
    if api.get("CorsConfiguration"):
        body.append(("cors", _cors(api["CorsConfiguration"]), ""))
    if api.get("DisableExecuteApiEndpoint"):
        body.append(("disable_execute_api_endpoint", True, ""))
    if setup.domains:
        body.append(("custom_domain", _custom_domain(setup.domains, stage_name, found), ""))
    if tags:
        body.append(("tags", tags, ""))

    # The VPC link --------------------------------------------------------------------------------------------
    links = sorted({i.get("ConnectionId") for i in setup.integrations.values()
                    if i.get("ConnectionType") == "VPC_LINK"})
    link = setup.vpc_link
    if len(links) > 1:
        refuse(f"the integrations use {len(links)} VPC links ({', '.join(links)}): routes.yaml has one")
    elif link is None:
        refuse("no integration uses a VPC link: routes.yaml describes private integrations to Cloud Map")
    else:
        found.ids[names.address("aws_apigatewayv2_vpc_link", names.VPC_LINK)] = link["VpcLinkId"]
        _expect_tags(found, "aws_apigatewayv2_vpc_link.vpc_link", link.get("Tags") or {}, tags)

    # Services and their namespace ----------------------------------------------------------------------------
    namespace_id = _main_namespace(setup)
    namespace = setup.namespaces.get(namespace_id) if namespace_id else None
    service_keys: dict[str, str] = {}  # service id -> key
    for service_id, service in sorted(setup.services.items(), key=lambda kv: kv[1]["Name"]):
        key = service["Name"]
        if key in service_keys.values():
            key = f"{key}-{service_id.removeprefix('srv-')[:6]}"
        service_keys[service_id] = key

    # Routes and integrations ---------------------------------------------------------------------------------
    route_lines: list[list[tuple[str, Any, str]]] = []
    used_integrations: dict[str, str] = {}  # integration id -> first route key that imports it
    for route in sorted(setup.routes, key=lambda r: r["RouteKey"]):
        item = _route(setup, route, service_keys, stage_name, route_settings, used_integrations, found)
        if item:
            route_lines.append(item)

    # Write the document ------------------------------------------------------------------------------------
    out.comment(0, f"routes.yaml for HTTP API {api['Name']!r} ({api_id}) in {region}, written by `main.py import`.")
    base = os.path.splitext(os.path.basename(output))[0]
    out.comment(0, f"Import blocks for every resource below: {base}.imports.tf.json; `main.py synth "
                   f"{os.path.basename(output)} --imports {base}.imports.tf.json` puts them in the stack.")
    out.lines.append("version: 1")
    out.key(0, "region", region)
    out.blank()
    out.lines.append("api:")
    for key, value, note in body:
        _block(out, 2, key, value, note)
    out.blank()
    if link:
        out.lines.append("vpc_link:")
        out.key(2, "name", link["Name"])
        out.key(2, "subnet_ids", list(link.get("SubnetIds") or []))
        out.key(2, "security_group_ids", list(link.get("SecurityGroupIds") or []))
        out.blank()
    if namespace:
        _namespace(out, setup, namespace, found, tags)
    out.lines.append("services:")
    for service_id, key in service_keys.items():
        _service(out, setup, service_id, key, namespace_id, found, tags)
    authorizer_keys = _authorizers(out, setup, found)
    out.blank()
    out.lines.append("routes:")
    for item in route_lines:
        first = True
        for key, value, note in item:
            if key == "authorization" and value in authorizer_keys:
                value = authorizer_keys[value]
            if first:
                out.item(2, key, value, note)
                first = False
            else:
                _block(out, 4, key, value, note)
    return out.text(), found


def _block(out: _Yaml, indent: int, key: str, value: Any, note: str = "") -> None:
    """A key whose value is written in block style when it is a mapping of scalars and lists (readable)."""
    if isinstance(value, dict) and value and len(_flow(value)) > 60:
        out.key(indent, key, None, note)
        for k, v in value.items():
            out.key(indent + 2, k, v)
    else:
        out.key(indent, key, value, note)


def _throttling(settings: dict) -> Optional[dict]:
    burst, rate = settings.get("ThrottlingBurstLimit"), settings.get("ThrottlingRateLimit")
    if burst is None or rate is None:
        return None
    return {"burst_limit": int(burst), "rate_limit": int(rate) if float(rate).is_integer() else float(rate)}


def _access_logs(access: dict, group: Optional[dict], found: _Found) -> dict:
    name = (group or {}).get("logGroupName") or access["DestinationArn"].split(":log-group:", 1)[-1]
    logs: dict[str, Any] = {"group_name": name}
    if group is None or group.get("missing"):
        found.changes.append(f"aws_cloudwatch_log_group.access_logs: created: the stage logs to {name!r}, which "
                             "does not exist")
    else:
        found.ids[names.address("aws_cloudwatch_log_group", names.ACCESS_LOGS)] = name
        retention = group.get("retentionInDays")
        if retention is None:
            found.changes.append("aws_cloudwatch_log_group.access_logs: retention becomes 365 days (the group keeps "
                                 "logs forever, which routes.yaml cannot say)")
        else:
            logs["retention_days"] = retention
        if group.get("kmsKeyId"):
            logs["kms_key_arn"] = group["kmsKeyId"]
    if access.get("Format") != json.dumps(LOG_FORMAT, separators=(",", ":")):
        found.changes.append("aws_apigatewayv2_stage.stage: the access log format becomes cloudmap-routes' JSON "
                             "format (README, access logs)")
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


def _custom_domain(found_domains: list[tuple[dict, dict]], stage_name: str, found: _Found) -> dict:
    if len(found_domains) > 1:
        found.refusals.append(f"the API is mapped to {len(found_domains)} custom domains or paths "
                              f"({', '.join(d['DomainName'] for d, _ in found_domains)}): routes.yaml has one")
        return {}
    domain, mapping = found_domains[0]
    configs = domain.get("DomainNameConfigurations") or [{}]
    config = configs[0]
    out: dict[str, Any] = {"domain_name": domain["DomainName"], "certificate_arn": config.get("CertificateArn")}
    if mapping.get("ApiMappingKey"):
        out["base_path"] = mapping["ApiMappingKey"]
    if mapping.get("Stage") != stage_name:
        found.refusals.append(f"custom domain {domain['DomainName']} maps stage {mapping.get('Stage')!r}, not the "
                              f"API's stage {stage_name!r}")
    if config.get("EndpointType", "REGIONAL") != "REGIONAL" or config.get("SecurityPolicy", "TLS_1_2") != "TLS_1_2":
        found.changes.append("aws_apigatewayv2_domain_name.domain: becomes a REGIONAL endpoint with TLS_1_2")
    if domain.get("MutualTlsAuthentication", {}).get("TruststoreUri"):
        found.refusals.append(f"custom domain {domain['DomainName']} uses mutual TLS: write `mutual_tls` by hand")
    found.ids[names.address("aws_apigatewayv2_domain_name", names.DOMAIN)] = domain["DomainName"]
    found.ids[names.address("aws_apigatewayv2_api_mapping", names.DOMAIN)] = \
        f"{mapping['ApiMappingId']}/{domain['DomainName']}"
    return out


def _main_namespace(setup: Setup) -> Optional[str]:
    """The namespace this stack manages: the one most targeted services live in (others stay existing)."""
    counts: dict[str, int] = {}
    for service in setup.services.values():
        if service.get("NamespaceId"):
            counts[service["NamespaceId"]] = counts.get(service["NamespaceId"], 0) + 1
    return min(counts, key=lambda n: (-counts[n], n)) if counts else None


def _namespace(out: _Yaml, setup: Setup, namespace: dict, found: _Found, tags: dict) -> None:
    kind = NAMESPACE_TYPES.get(namespace.get("Type", ""))
    if kind is None:
        found.refusals.append(f"namespace {namespace['Id']} has type {namespace.get('Type')!r}")
        return
    type_ = f"aws_service_discovery_{kind}_namespace"
    address = names.address(type_, names.NAMESPACE)
    out.lines.append("namespace:")
    out.key(2, "type", kind)
    out.key(2, "name", namespace["Name"])
    if kind == "private_dns":
        vpc, how = _namespace_vpc(setup, namespace)
        if vpc is None:
            found.refusals.append(f"cannot tell which VPC private DNS namespace {namespace['Name']} "
                                  f"({namespace['Id']}) is in: {how}")
        else:
            out.key(2, "vpc_id", vpc, how)
            found.ids[address] = f"{namespace['Id']}:{vpc}"
    else:
        found.ids[address] = namespace["Id"]
    if namespace.get("Description"):
        out.key(2, "description", namespace["Description"])
    _expect_tags(found, address, setup.tags.get(namespace["Arn"], {}), tags)
    out.blank()


def _namespace_vpc(setup: Setup, namespace: dict) -> tuple[Optional[str], str]:
    """GetNamespace does not say; the namespace's private hosted zone does, else the VPC link's subnets' VPC."""
    vpcs = setup.zone_vpcs.get(namespace["Id"], [])
    if len(vpcs) == 1:
        return vpcs[0], ""
    if len(setup.subnet_vpcs) == 1:
        return setup.subnet_vpcs[0], "the VPC of the VPC link's subnets (the hosted zone names none): check it"
    return None, "its hosted zone names no single VPC, and neither do the VPC link's subnets"


def _service(out: _Yaml, setup: Setup, service_id: str, key: str, namespace_id: Optional[str], found: _Found,
             tags: dict) -> None:
    service = setup.services[service_id]
    out.key(2, key)
    if service.get("NamespaceId") != namespace_id:
        out.key(4, "existing_arn", service["Arn"], f"in namespace {service.get('NamespaceId')}, not adopted")
        out.key(4, "registered_by", "other")
        return
    address = names.address("aws_service_discovery_service", names.service(key))
    found.ids[address] = service_id
    _expect_tags(found, address, setup.tags.get(service["Arn"], {}), tags)
    if key != service["Name"]:
        out.key(4, "name", service["Name"])
    if service.get("Description"):
        out.key(4, "description", service["Description"])
    # Terraform's own setting: an import leaves it false in the state, so `true` would be the first plan's change.
    out.key(4, "force_destroy", False, "set true once adopted (no change in AWS): lets Terraform replace the "
            "service while instances are registered")
    if service.get("Type") == "HTTP" and setup.namespaces[namespace_id].get("Type") != "HTTP":
        found.refusals.append(f"service {service['Name']} ({service_id}) is an API-only (Type HTTP) service in a "
                              "DNS namespace")
    dns = service.get("DnsConfig") or {}
    if dns.get("DnsRecords"):
        out.key(4, "dns_records", None)
        for record in dns["DnsRecords"]:
            out.item(6, "type", record["Type"])
            out.key(8, "ttl", record["TTL"])
    if dns.get("RoutingPolicy", "MULTIVALUE") != "MULTIVALUE":
        out.key(4, "routing_policy", dns["RoutingPolicy"])
    if dns and dns.get("NamespaceId") not in (None, namespace_id):
        found.refusals.append(f"service {service['Name']}: DnsConfig names namespace {dns['NamespaceId']}")
    elif dns.get("DnsRecords") and not dns.get("NamespaceId"):
        # The provider's dns_config.namespace_id is required and forces a new service: it must read it back.
        found.changes.append(f"{address}: replaced: Cloud Map returns no DnsConfig.NamespaceId for it "
                             "(the provider then sees a new namespace)")
    if service.get("HealthCheckCustomConfig") is not None:
        out.key(4, "health_check", "custom")
        if (service["HealthCheckCustomConfig"] or {}).get("FailureThreshold") not in (None, 1):
            found.changes.append(f"{address}: replaced: its custom health check's failure threshold is not 1")
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
    _instances(out, setup.instances.get(service_id, []), service_id, key, setup, found)


def _instances(out: _Yaml, instances: list[dict], service_id: str, key: str, setup: Setup, found: _Found) -> None:
    """Static instances are adopted; instances ECS or an application registers stay theirs."""
    from ..language.schema import ATTRIBUTE_KEY, ATTRIBUTE_VALUE, INSTANCE_ID, IPV4
    if not instances:
        return
    attributes = [i.get("Attributes") or {} for i in instances]
    uris = [i.get("IntegrationUri", "") for i in setup.integrations.values()]
    filter_keys = sorted({k for uri in uris if _service_id(uri) == service_id
                          for k, _ in parse_qsl(uri.partition("?")[2])})
    if any(ECS_MARKERS & a.keys() for a in attributes):
        out.key(4, "registered_by", "ecs", f"{len(instances)} task(s) registered now; ECS keeps registering them")
        app = [k for k in filter_keys if k not in ECS_MARKERS and not k.startswith("AWS_")
               and k not in {"AVAILABILITY_ZONE", "REGION", "EC2_INSTANCE_ID", "ECS_TASK_SET_EXTERNAL_ID"}]
        if app:
            out.key(4, "app_attributes", app)
        return
    problems = []
    for instance, attrs in zip(instances, attributes):
        port = attrs.get("AWS_INSTANCE_PORT", "")
        extra = sorted(k for k in attrs if k.startswith("AWS_") and k not in ADDRESS_ATTRIBUTES)
        if not re.match(INSTANCE_ID, instance["Id"]):
            problems.append(f"{instance['Id']}: an id routes.yaml does not accept")
        elif not re.match(IPV4, attrs.get("AWS_INSTANCE_IPV4", "")) or not (port.isdigit() and 0 < int(port) < 65536):
            problems.append(f"{instance['Id']}: no AWS_INSTANCE_IPV4 and AWS_INSTANCE_PORT")
        elif extra:
            problems.append(f"{instance['Id']}: {', '.join(extra)}")
        elif any(not re.match(ATTRIBUTE_KEY, k) or not re.match(ATTRIBUTE_VALUE, v)
                 for k, v in attrs.items() if k not in ADDRESS_ATTRIBUTES):
            problems.append(f"{instance['Id']}: an attribute routes.yaml does not accept")
    if problems:
        out.key(4, "registered_by", "other", "instances left as they are (not adopted): " + "; ".join(problems))
        return
    out.key(4, "instances", None)
    for instance, attrs in sorted(zip(instances, attributes), key=lambda p: p[0]["Id"]):
        custom = {k: v for k, v in sorted(attrs.items()) if k not in ADDRESS_ATTRIBUTES}
        entry = {"id": instance["Id"], "ipv4": attrs["AWS_INSTANCE_IPV4"], "port": int(attrs["AWS_INSTANCE_PORT"])}
        if custom:
            entry["attributes"] = custom
        out.lines.append(" " * 6 + "- " + _flow(entry))
        found.ids[names.address("aws_service_discovery_instance", names.instance(key, instance["Id"]))] = \
            f"{service_id}/{instance['Id']}"


def _authorizers(out: _Yaml, setup: Setup, found: _Found) -> dict[str, str]:
    """Writes `authorizers:`; returns authorizer id -> key."""
    from ..language.schema import AUTHORIZER_KEY, FUNCTION_ARN
    keys: dict[str, str] = {}
    if not setup.authorizers:
        return keys
    out.blank()
    out.lines.append("authorizers:")
    api_id = setup.api["ApiId"]
    for authorizer_id, a in sorted(setup.authorizers.items(), key=lambda kv: kv[1]["Name"]):
        key = a["Name"]
        if not re.match(AUTHORIZER_KEY, key) or key in ("none", "iam"):
            found.refusals.append(f"authorizer {a['Name']!r} ({authorizer_id}): routes.yaml names authorizers with "
                                  "1-74 letters, digits, - and _ (and not none or iam), and uses the name as the key")
            continue
        keys[authorizer_id] = key
        sources = a.get("IdentitySource") or []
        if len(sources) != 1:
            found.refusals.append(f"authorizer {key}: {len(sources)} identity sources; routes.yaml takes exactly one")
            continue
        out.key(2, key)
        if a.get("AuthorizerType") == "JWT":
            jwt = a.get("JwtConfiguration") or {}
            out.key(4, "type", "jwt")
            out.key(4, "issuer", jwt.get("Issuer"))
            out.key(4, "audiences", list(jwt.get("Audience") or []))
        elif a.get("AuthorizerType") == "REQUEST":
            match = re.search(r":lambda:path/2015-03-31/functions/(.+)/invocations$", a.get("AuthorizerUri", ""))
            function = match.group(1) if match else ""
            if not re.match(FUNCTION_ARN, function):
                found.refusals.append(f"authorizer {key}: its URI does not invoke a Lambda function by ARN")
                continue
            if a.get("AuthorizerPayloadFormatVersion") != "2.0":
                found.refusals.append(f"authorizer {key}: payload format {a.get('AuthorizerPayloadFormatVersion')}; "
                                      "routes.yaml's lambda authorizers use 2.0")
            if a.get("AuthorizerCredentialsArn"):
                found.refusals.append(f"authorizer {key}: invokes its function with a role (credentials); "
                                      "routes.yaml's lambda authorizers use a resource policy")
            out.key(4, "type", "lambda")
            out.key(4, "function_arn", function)
            ttl = a.get("AuthorizerResultTtlInSeconds", 300)
            if ttl != 300:
                out.key(4, "result_ttl_seconds", ttl)
            if not a.get("EnableSimpleResponses"):
                out.key(4, "simple_responses", False)
            found.changes.append(f"aws_lambda_permission.{names.authorizer_permission(key)}: created: the statement "
                                 f"AllowApiGatewayAuthorizer-{key} that lets API Gateway invoke the function")
        else:
            found.refusals.append(f"authorizer {key}: type {a.get('AuthorizerType')!r}")
            continue
        if sources[0] != DEFAULT_IDENTITY:
            out.key(4, "identity_source", sources[0])
        found.ids[names.address("aws_apigatewayv2_authorizer", names.authorizer(key))] = f"{api_id}/{authorizer_id}"
    return keys


def _route(setup: Setup, route: dict, service_keys: dict[str, str], stage_name: str, route_settings: dict,
           used: dict[str, str], found: _Found) -> Optional[list[tuple[str, Any, str]]]:
    """One route's lines (key, value, comment), and its ids; None when the route is refused."""
    key, api_id = route["RouteKey"], setup.api["ApiId"]
    integration_id = (route.get("Target") or "").removeprefix("integrations/")
    integration = setup.integrations.get(integration_id)
    if integration is None:
        found.refusals.append(f"route {key}: no integration (target {route.get('Target')!r})")
        return None
    problems = _integration_problems(integration, stage_name)
    if problems:
        found.refusals += [f"route {key}: {p}" for p in problems]
        return None
    service_id = _service_id(integration["IntegrationUri"])
    uri_filter = dict(parse_qsl(integration["IntegrationUri"].partition("?")[2], keep_blank_values=True))
    lines: list[tuple[str, Any, str]] = [("route", key, ""), ("service", service_keys[service_id], "")]
    if uri_filter:
        lines.append(("filter", uri_filter, ""))
    # Each route gets an integration of its own (compiler.terraform.plan); a shared one is imported for its first route.
    route_id = _derived_id(key)
    if integration_id in used:
        found.changes.append(f"aws_apigatewayv2_integration.{route_id}: created (route {key} shares integration "
                             f"{integration_id} with {used[integration_id]}; each route gets its own)")
    else:
        used[integration_id] = key
        found.ids[names.address("aws_apigatewayv2_integration", names.integration(route_id))] = \
            f"{api_id}/{integration_id}"
    found.ids[names.address("aws_apigatewayv2_route", route_id)] = f"{api_id}/{route['RouteId']}"
    kind = route.get("AuthorizationType", "NONE")
    if kind == "NONE":
        lines.append(("public", True, "no authorization, as deployed"))
    elif kind == "AWS_IAM":
        lines.append(("authorization", "iam", ""))
    elif route.get("AuthorizerId") in setup.authorizers:
        lines.append(("authorization", route["AuthorizerId"], ""))  # the key replaces the id when written
    else:
        found.refusals.append(f"route {key}: authorization {kind} by an authorizer that cannot be read")
    if route.get("AuthorizationScopes"):
        lines.append(("scopes", list(route["AuthorizationScopes"]), ""))
    timeout = integration.get("TimeoutInMillis", DEFAULT_TIMEOUT_MS)
    if timeout != DEFAULT_TIMEOUT_MS:
        lines.append(("timeout_ms", timeout, ""))
    server_name = (integration.get("TlsConfig") or {}).get("ServerNameToVerify")
    if server_name:
        lines.append(("tls_server_name", server_name, ""))
    if stage_name != "$default" and not integration.get("RequestParameters"):
        lines.append(("forward_stage_in_path", True, ""))
    throttling = _throttling(route_settings.get(key) or {})
    if throttling:
        lines.append(("throttling", throttling, ""))
    if route.get("OperationName"):
        found.changes.append(f"aws_apigatewayv2_route.{route_id}: its operation name is removed")
    if integration.get("IntegrationMethod", "ANY") != "ANY":
        found.changes.append(f"aws_apigatewayv2_integration.{route_id}: integration_method becomes ANY "
                             f"(was {integration['IntegrationMethod']})")
    if integration.get("Description"):
        found.changes.append(f"aws_apigatewayv2_integration.{route_id}: its description is removed")
    return lines


def _derived_id(route_key: str) -> str:
    """The id routes.yaml derives for a route without an explicit one (compiler.core.names.route)."""
    method, _, path = route_key.partition(" ")
    return names.route("", "") if route_key == "$default" else names.route(method, path)


def _integration_problems(integration: dict, stage_name: str) -> list[str]:
    problems = []
    uri = integration.get("IntegrationUri", "")
    if integration.get("IntegrationType") != "HTTP_PROXY" or integration.get("ConnectionType") != "VPC_LINK" \
            or _service_id(uri) is None:
        what = integration.get("IntegrationSubtype") or integration.get("IntegrationType")
        problems.append(f"integration {integration['IntegrationId']} is not a Cloud Map private integration "
                        f"({what}, {integration.get('ConnectionType', 'INTERNET')}, {uri or 'no URI'}): "
                        "routes.yaml routes only to Cloud Map services through the VPC link")
        return problems
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


def _user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags routes.yaml sets: not AWS's own (`aws:*`, which the provider ignores too), not the stack tag."""
    return {k: v for k, v in tags.items() if not k.lower().startswith("aws:") and k != STACK_TAG}


def _expect_tags(found: _Found, address: str, actual: dict, wanted: dict) -> None:
    if _user_tags(actual) != wanted:
        found.changes.append(f"{address}: its tags become the API's ({_flow(wanted) if wanted else 'none'})")


# --- the command ------------------------------------------------------------------------------------------

def adopt(c: Clients, api_id: str, output: str, stack: str = "routes", tag_api: bool = False) -> Adoption:
    """Read the setup, write nothing; raise Refused with every reason the language cannot express it."""
    from ..core.diagnostics import has_errors, render_text
    from ..language import compile_text
    from ..terraform.plan import build

    setup = read_setup(c, api_id)
    text, found = describe(setup, c.region, stack, tag_api, output)
    if found.refusals:
        raise Refused(found.refusals)
    model, diagnostics = compile_text(text, output)
    if model is None or has_errors(diagnostics):
        raise Refused(["the routes.yaml written for this setup would not be valid:",
                       *render_text(diagnostics).splitlines()])
    plan = build(model)
    managed = [b.address for b in plan.blocks if b.mode == names.MANAGED]
    missing = sorted(set(found.ids) - set(managed))
    if missing:  # an address computed here that the plan does not have: a bug, never a wrong file
        raise Refused([f"internal: no block of the plan is at {a}" for a in missing])
    imports = [(a, found.ids[a]) for a in managed if a in found.ids]
    creates = [a for a in managed if a not in found.ids]
    explained = {c.split(":", 1)[0] for c in found.changes}
    changes = found.changes + [f"{a}: created" for a in creates if a not in explained]
    if changes:
        text = _with_changes(text, changes)
        if compile_text(text, output)[0] != model:  # comments only: the same document, or a bug
            raise Refused(["internal: the header comments changed what routes.yaml says"])
    warnings = render_text(diagnostics) if diagnostics else ""
    return Adoption(text, imports, changes, creates, [warnings] if warnings else [])


def _with_changes(text: str, changes: list[str]) -> str:
    head, _, rest = text.partition("version: 1\n")
    lines = ["# The first plan also changes what routes.yaml cannot say as deployed:"]
    lines += [f"#   - {_comment(c)}" for c in changes]
    return head + "\n".join(lines) + "\nversion: 1\n" + rest


def tag_api(c: Clients, api_id: str, stack: str) -> None:
    """The one write: the stack tag synth puts on the API (TagResource), so the first plan is imports only."""
    arn = f"arn:{_partition(c.region)}:apigateway:{c.region}::/apis/{api_id}"
    c.apigatewayv2.tag_resource(ResourceArn=arn, Tags={STACK_TAG: stack})


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def run_import(api_id: str, output: str, region: Optional[str], local_aws: Optional[str], stack: str,
               tag: bool, force: bool) -> int:
    """Exit 0 written; 1 refused (nothing written); 2 AWS could not be read or a file is in the way."""
    import sys

    from botocore.exceptions import BotoCoreError, ClientError
    imports_path = os.path.join(os.path.dirname(output), os.path.splitext(os.path.basename(output))[0]
                                + ".imports.tf.json")
    for path in (output, imports_path):
        if os.path.exists(path) and not force:
            print(f"main.py: error: {path} exists; pass --force to replace it", file=sys.stderr)
            return 2
    try:
        c = clients(region, local_aws)
        adoption = adopt(c, api_id, output, stack, tag)
        if tag:  # only once the setup is known to be expressible: a refusal writes nothing anywhere
            tag_api(c, api_id, stack)
    except Refused as exc:
        print(f"main.py: error: cannot adopt API {api_id}: routes.yaml cannot express what is deployed; nothing "
              "was written:", file=sys.stderr)
        for reason in exc.reasons:
            print(f"  - {reason}" if not reason.startswith((" ", "the routes.yaml")) else f"  {reason}",
                  file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"main.py: error: cannot read API {api_id}: {exc}", file=sys.stderr)
        return 2
    with open(output, "w", encoding="utf-8") as f:
        f.write(adoption.text)
    with open(imports_path, "w", encoding="utf-8") as f:
        f.write(adoption.imports_json())
    for warning in adoption.warnings:
        print(warning, file=sys.stderr)
    print(f"wrote {output} and {imports_path} ({len(adoption.imports)} import(s))", file=sys.stderr)
    if adoption.changes:
        print("the first plan also changes:", file=sys.stderr)
        for item in adoption.changes:
            print(f"  - {item}", file=sys.stderr)
    print(f"next: main.py synth {output} --imports {imports_path}, then terraform init and plan in "
          f"cdktf.out/stacks/{stack}", file=sys.stderr)
    return 0
