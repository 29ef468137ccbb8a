"""Reading AWS for `import`: every Get/List/Describe call it makes, and nothing else.

`read_setup` returns the raw answers (a Setup); describing them as routes.yaml and pairing them with the plan are
pure functions of it (describe.py, pair.py). Nothing here raises on what AWS holds; an id that is not an HTTP
API's raises Refused, and the calls' own errors (BotoCoreError, ClientError) reach the command.

The functions this tool creates for fan-out routes and allow-list authorizers are read only for an API that carries
the stack tag (`cloudmap-routes:stack`, which synth puts on every API it creates), and only those whose names
start as compiler.core.names gives them (`<api>-fanout-`, `<api>-allowlist-`): with each, its role and role
policies, its log group, its resource policy's statements and its security groups with their rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ..core import names
from ..core.aws import pages
from ..core.deployed import STACK_TAG
from ..language import functions

# An API Gateway integration or authorizer URI that invokes a Lambda function (the function's invoke ARN).
LAMBDA_URI = re.compile(r"arn:[a-z-]+:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/"
                        r"(arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:function:([A-Za-z0-9_-]{1,64}))/invocations")
FAN_OUT, ALLOWLIST = "fanout", "allowlist"  # the kinds of function names.function_name names
# The Cloud Map data API's interface endpoint service, as the plan creates it (language.functions.cloud_map_apis).
DATA_SERVICE = "com.amazonaws.{region}." + functions.CLOUD_MAP_DATA_API


class Refused(Exception):
    """The setup holds something routes.yaml cannot express; nothing was written. One reason per line."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


def error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


@dataclass
class Clients:
    """boto3 clients for one region (compiler.core.aws.aws_client builds them: real AWS or a local endpoint)."""

    apigatewayv2: Any
    servicediscovery: Any
    logs: Any
    ec2: Any
    route53: Any
    apigateway: Any  # v1: only to say that an id is a REST API's
    lambda_: Any
    iam: Any
    region: str


def clients(region: Optional[str], local_aws: Optional[str]) -> Clients:
    from ..core.aws import LOCAL_REGION, aws_client
    made = {name: aws_client(name, region, local_aws)
            for name in ("apigatewayv2", "servicediscovery", "logs", "ec2", "route53", "apigateway", "lambda", "iam")}
    made["lambda_"] = made.pop("lambda")
    resolved = made["apigatewayv2"].meta.region_name or region or LOCAL_REGION
    return Clients(**made, region=resolved)


@dataclass
class Function:
    """A function this tool creates (fan-out or allow-list), with what it created beside it, as read."""

    kind: str  # FAN_OUT or ALLOWLIST
    arn: str
    config: dict = field(default_factory=dict)  # GetFunction's Configuration ({} when it cannot be read)
    tags: dict[str, str] = field(default_factory=dict)
    role: Optional[dict] = None  # GetRole's Role
    role_policies: list[str] = field(default_factory=list)  # inline policy names
    attached_policies: list[str] = field(default_factory=list)  # managed policy ARNs
    log_group: Optional[dict] = None  # /aws/lambda/<name>
    log_tags: dict[str, str] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)  # the Sids of its resource policy
    service_id: Optional[str] = None  # fan-out: the Cloud Map service its environment names
    problem: str = ""  # why it, or its fan-out's service, could not be read

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[1]

    @property
    def environment(self) -> dict[str, str]:
        return dict((self.config.get("Environment") or {}).get("Variables") or {})

    @property
    def group_ids(self) -> list[str]:
        return list((self.config.get("VpcConfig") or {}).get("SecurityGroupIds") or [])


@dataclass
class Setup:
    """What AWS holds, as read: the raw API answers the routes.yaml is written from."""

    api: dict
    stage: Optional[dict]
    routes: list[dict]
    integrations: dict[str, dict]  # by integration id
    authorizers: dict[str, dict]  # by authorizer id
    vpc_link: Optional[dict]
    services: dict[str, dict] = field(default_factory=dict)  # by service id
    instances: dict[str, list[dict]] = field(default_factory=dict)  # by service id
    namespaces: dict[str, dict] = field(default_factory=dict)  # by namespace id
    stage_names: list[str] = field(default_factory=list)  # every stage (routes.yaml has one)
    log_group: Optional[dict] = None
    domains: list[tuple[dict, dict]] = field(default_factory=list)  # (domain name, its API mapping to this API)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # by ARN (Cloud Map), "stage", "log group"
    # GetNamespace does not say which VPC a private DNS namespace is in: its hosted zone does (Route 53), and
    # the VPC link's subnets name theirs (the fallback).
    zone_vpcs: dict[str, list[str]] = field(default_factory=dict)  # by namespace id
    subnet_vpcs: list[str] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)  # this tool's functions, by function ARN
    groups: dict[str, dict] = field(default_factory=dict)  # their security groups (and the endpoint's), by id
    rules: list[dict] = field(default_factory=list)  # those groups' rules
    endpoints: list[dict] = field(default_factory=list)  # Cloud Map data API endpoints in the functions' VPC

    @property
    def is_stack(self) -> bool:
        """Whether synth made this API (it tags every API it creates with the stack)."""
        return STACK_TAG in (self.api.get("Tags") or {})


def read_setup(c: Clients, api_id: str) -> Setup:
    """Every read the import makes, step by step. Raises Refused for an id that is not an HTTP API's."""
    setup = _api(c, api_id)
    if setup.is_stack:
        _own_functions(c, setup)
    _services(c, setup)
    _cloud_map(c, setup)
    _access_log_group(c, setup)
    setup.domains = _domains(c.apigatewayv2, api_id)
    _vpcs(c, setup)
    if setup.functions:
        _networks(c, setup)
    return setup


def _api(c: Clients, api_id: str) -> Setup:
    """The API with its stages, routes, integrations, authorizers and VPC link."""
    from botocore.exceptions import BotoCoreError, ClientError
    agw = c.apigatewayv2
    try:
        api = agw.get_api(ApiId=api_id)
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
        raise Refused([_not_http_api(c, api_id)]) from None
    if api.get("ProtocolType") != "HTTP":
        raise Refused([f"API {api_id} is a {api.get('ProtocolType')} API: routes.yaml describes HTTP APIs only"])
    stages = pages(agw.get_stages, "Items", ApiId=api_id)
    routes = pages(agw.get_routes, "Items", ApiId=api_id)
    integrations = {i["IntegrationId"]: i for i in pages(agw.get_integrations, "Items", ApiId=api_id)}
    try:
        authorizers = {a["AuthorizerId"]: a for a in pages(agw.get_authorizers, "Items", ApiId=api_id)}
    except (BotoCoreError, ClientError, NotImplementedError):  # a local AWS without GetAuthorizers: read those
        # the routes name
        wanted = sorted({r["AuthorizerId"] for r in routes if r.get("AuthorizerId")})
        authorizers = {a: agw.get_authorizer(ApiId=api_id, AuthorizerId=a) for a in wanted}
    links = sorted({i["ConnectionId"] for i in integrations.values()
                    if i.get("ConnectionType") == "VPC_LINK" and i.get("ConnectionId")})
    vpc_link = agw.get_vpc_link(VpcLinkId=links[0]) if len(links) == 1 else None
    setup = Setup(api, stages[0] if len(stages) == 1 else None, routes, integrations, authorizers, vpc_link,
                  stage_names=sorted(s["StageName"] for s in stages))
    if setup.stage:
        setup.tags["stage"] = setup.stage.get("Tags") or {}
    return setup


def _not_http_api(c: Clients, api_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        rest = c.apigateway.get_rest_api(restApiId=api_id)
    except (BotoCoreError, ClientError):
        return f"no HTTP API with id {api_id!r} in {c.region}"
    return (f"{api_id} is a REST API ({rest.get('name')!r}, API Gateway v1): routes.yaml describes HTTP APIs "
            "(API Gateway v2) only")


def lambda_target(uri: str) -> Optional[tuple[str, str]]:
    """(function ARN, function name) an integration or authorizer URI invokes, if it invokes one."""
    match = LAMBDA_URI.fullmatch(uri or "")
    return (match.group(1), match.group(2)) if match else None


def function_kind(api_name: str, function_name: str) -> Optional[str]:
    """FAN_OUT or ALLOWLIST when the name starts as compiler.core.names names this tool's functions of the API."""
    for kind in (FAN_OUT, ALLOWLIST):
        if function_name.startswith(names.function_name(api_name, kind, "")):
            return kind
    return None


def _own_functions(c: Clients, setup: Setup) -> None:
    """The functions the API's fan-out integrations and REQUEST authorizers invoke, when they are this tool's."""
    uris = [i.get("IntegrationUri", "") for i in setup.integrations.values() if i.get("IntegrationType") == "AWS_PROXY"]
    uris += [a.get("AuthorizerUri", "") for a in setup.authorizers.values() if a.get("AuthorizerType") == "REQUEST"]
    for uri in uris:
        target = lambda_target(uri)
        kind = target and function_kind(setup.api.get("Name", ""), target[1])
        if target and kind and target[0] not in setup.functions:
            setup.functions[target[0]] = _function(c, kind, target[0])


def _function(c: Clients, kind: str, arn: str) -> Function:
    from botocore.exceptions import BotoCoreError, ClientError
    found = Function(kind, arn)
    try:
        answer = c.lambda_.get_function(FunctionName=arn)
        found.config, found.tags = answer.get("Configuration") or {}, answer.get("Tags") or {}
    except (BotoCoreError, ClientError) as exc:
        found.problem = f"cannot read function {found.name}: {exc}"
        return found
    try:
        found.statements = _statements(c, arn)
        _role(c, found)
        _function_log_group(c, found)
    except (BotoCoreError, ClientError) as exc:  # without permission for one of them: that one is not imported
        found.problem = f"cannot read what function {found.name} uses: {exc}"
    return found


def _statements(c: Clients, arn: str) -> list[str]:
    import json

    from botocore.exceptions import ClientError
    try:
        policy = c.lambda_.get_policy(FunctionName=arn).get("Policy") or "{}"
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":  # no resource policy at all
            return []
        raise
    try:
        statements = json.loads(policy).get("Statement") or []
    except (ValueError, AttributeError):
        return []
    return sorted(s["Sid"] for s in statements if isinstance(s, dict) and isinstance(s.get("Sid"), str))


def _role(c: Clients, found: Function) -> None:
    role_arn = found.config.get("Role", "")
    if ":role/" not in role_arn:
        return
    role_name = role_arn.rsplit("/", 1)[1]
    found.role = c.iam.get_role(RoleName=role_name)["Role"]
    found.role_policies = sorted(pages(c.iam.list_role_policies, "PolicyNames", RoleName=role_name))
    found.attached_policies = sorted(p["PolicyArn"] for p in pages(
        c.iam.list_attached_role_policies, "AttachedPolicies", RoleName=role_name))


def _function_log_group(c: Clients, found: Function) -> None:
    name = f"/aws/lambda/{found.name}"
    groups = [g for g in c.logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
              if g["logGroupName"] == name]
    if groups:
        found.log_group = groups[0]
        found.log_tags = c.logs.list_tags_log_group(logGroupName=name).get("tags", {})


def _services(c: Clients, setup: Setup) -> None:
    """The Cloud Map services the integrations target, and those the fan-out functions' environments name."""
    for integration in setup.integrations.values():
        service_id = service_id_of(integration.get("IntegrationUri", ""))
        if service_id and service_id not in setup.services:
            setup.services[service_id] = c.servicediscovery.get_service(Id=service_id)["Service"]
    fan_outs = [f for f in setup.functions.values() if f.kind == FAN_OUT and f.config]
    if not fan_outs:
        return
    namespaces = pages(c.servicediscovery.list_namespaces, "Namespaces")
    for function in fan_outs:
        _fan_out_service(c, setup, function, namespaces)


def _fan_out_service(c: Clients, setup: Setup, function: Function, namespaces: list[dict]) -> None:
    """The service a fan-out function discovers: CLOUD_MAP_SERVICE in the namespace CLOUD_MAP_NAMESPACE names
    (its HTTP name, or its name); among namespaces of that name, the one the API's other services are in."""
    env = function.environment
    wanted, service_name = env.get("CLOUD_MAP_NAMESPACE", ""), env.get("CLOUD_MAP_SERVICE", "")
    candidates = [n for n in namespaces if wanted in (n.get("Name"), _http_name(n))]
    known = {s.get("NamespaceId") for s in setup.services.values()}
    preferred = [n for n in candidates if n["Id"] in known] or candidates
    if len(preferred) != 1:
        function.problem = (f"its environment names namespace {wanted!r}, and {len(preferred)} namespaces have that "
                            "name" if preferred else f"its environment names namespace {wanted!r}, which is not there")
        return
    namespace_id = preferred[0]["Id"]
    services = pages(c.servicediscovery.list_services, "Services",
                     Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id], "Condition": "EQ"}])
    found = [s for s in services
             if s.get("Name") == service_name and s.get("NamespaceId", namespace_id) == namespace_id]
    if len(found) != 1:
        function.problem = (f"its environment names service {service_name!r}, which namespace {namespace_id} "
                            "does not have")
        return
    function.service_id = found[0]["Id"]
    if function.service_id not in setup.services:
        setup.services[function.service_id] = c.servicediscovery.get_service(Id=function.service_id)["Service"]


def _http_name(namespace: dict) -> Optional[str]:
    return ((namespace.get("Properties") or {}).get("HttpProperties") or {}).get("HttpName")


def _cloud_map(c: Clients, setup: Setup) -> None:
    sd = c.servicediscovery
    setup.instances = {s: pages(sd.list_instances, "Instances", ServiceId=s) for s in setup.services}
    setup.namespaces = {n: sd.get_namespace(Id=n)["Namespace"]
                        for n in sorted({s["NamespaceId"] for s in setup.services.values() if s.get("NamespaceId")})}
    for arn in [s["Arn"] for s in setup.services.values()] + [n["Arn"] for n in setup.namespaces.values()]:
        setup.tags[arn] = {t["Key"]: t["Value"] for t in sd.list_tags_for_resource(ResourceARN=arn).get("Tags", [])}


def _access_log_group(c: Clients, setup: Setup) -> None:
    log_arn = ((setup.stage or {}).get("AccessLogSettings") or {}).get("DestinationArn")
    if not log_arn:
        return
    group = log_arn.split(":log-group:", 1)[-1].removesuffix(":*")
    found = [g for g in c.logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
             if g["logGroupName"] == group]
    setup.log_group = found[0] if found else {"logGroupName": group, "missing": True}
    if found:
        setup.tags["log group"] = c.logs.list_tags_log_group(logGroupName=group).get("tags", {})


def _domains(agw, api_id: str) -> list[tuple[dict, dict]]:
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        domains = pages(agw.get_domain_names, "Items")
    except (BotoCoreError, ClientError):
        return []
    found = []
    for domain in domains:
        for mapping in pages(agw.get_api_mappings, "Items", DomainName=domain["DomainName"]):
            if mapping.get("ApiId") == api_id:
                found.append((domain, mapping))
    return found


def _vpcs(c: Clients, setup: Setup) -> None:
    """Which VPC a private DNS namespace is in (its hosted zone), and the VPC of the VPC link's subnets."""
    from botocore.exceptions import BotoCoreError, ClientError
    for namespace_id, namespace in setup.namespaces.items():
        zone = ((namespace.get("Properties") or {}).get("DnsProperties") or {}).get("HostedZoneId")
        if namespace.get("Type") == "DNS_PRIVATE" and zone:
            try:
                setup.zone_vpcs[namespace_id] = [v["VPCId"] for v in c.route53.get_hosted_zone(Id=zone).get("VPCs", [])]
            except (BotoCoreError, ClientError):  # no permission for Route 53: the subnets' VPC is the fallback
                pass
    link = setup.vpc_link
    if link and link.get("SubnetIds"):
        setup.subnet_vpcs = sorted({s["VpcId"] for s in c.ec2.describe_subnets(
            SubnetIds=link["SubnetIds"]).get("Subnets", [])})


def _networks(c: Clients, setup: Setup) -> None:
    """The fan-out functions' security groups with their rules, and the Cloud Map data API endpoints in the groups'
    VPC with the endpoints' groups (a stack with `cloud_map_access: create_endpoint` made one). The VPC is read
    from the groups: a function's VpcConfig.VpcId is not always filled in (the local AWS invents one)."""
    group_ids = sorted({g for f in setup.functions.values() for g in f.group_ids})
    if group_ids:
        setup.groups = _groups(c, group_ids)
    vpcs = sorted({g.get("VpcId") for g in setup.groups.values()} - {None, ""})
    if vpcs:
        service = DATA_SERVICE.format(region=c.region)
        setup.endpoints = c.ec2.describe_vpc_endpoints(Filters=[
            {"Name": "vpc-id", "Values": vpcs}, {"Name": "service-name", "Values": [service]}]).get("VpcEndpoints", [])
    endpoint_groups = sorted({g["GroupId"] for e in setup.endpoints for g in e.get("Groups") or []} - set(setup.groups))
    if endpoint_groups:
        setup.groups.update(_groups(c, endpoint_groups))
    if setup.groups:
        setup.rules = pages(c.ec2.describe_security_group_rules, "SecurityGroupRules",
                            Filters=[{"Name": "group-id", "Values": sorted(setup.groups)}])


def _groups(c: Clients, group_ids: list[str]) -> dict[str, dict]:
    return {g["GroupId"]: g for g in c.ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]}


def service_id_of(uri: str) -> Optional[str]:
    """The Cloud Map service id of a private integration's URI (`arn:...:service/srv-x?filter`), if it has one."""
    arn = uri.partition("?")[0]
    parts = arn.split(":")
    if len(parts) == 6 and parts[2] == "servicediscovery" and parts[5].startswith("service/"):
        return parts[5][len("service/"):]
    return None
