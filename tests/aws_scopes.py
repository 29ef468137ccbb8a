"""Where AWS keeps each name unique, written out for the tests (from the synthesized Terraform JSON, not from the
compiler's own model in compiler/language/scopes.py, so the two can disagree and a test notices).

SCOPES maps every resource type the tool emits to the names it gives AWS: (argument, scope, case-insensitive).
A scope says which stacks can see each other's name:
  account_region  one account and one region: stacks whose providers may be in the same account and region
  account         one account, every region (IAM)
  region          one region, every account (custom domain names)
  vpc             the value of `vpc_id`          (security groups, private DNS namespaces, interface endpoints)
  argument:<arg>  the value of another argument: a literal is shared by every stack that writes it; a reference
                  (${...}) is to the stack's own resource, so no other stack shares it
  stack           inside the stack's own resources (per API, per role, per service): never shared
Sources (quotes): /work/shared-notes/aws-scopes.md section 3.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator, Optional

SCOPES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    # "If you specify only the function name, it is limited to 64 characters"; unique in the account's region.
    "aws_lambda_function": (("function_name", "account_region", False),),
    # "Log group names must be unique within a Region for an Amazon Web Services account."
    "aws_cloudwatch_log_group": (("name", "account_region", False),),
    # "IAM user, group, role, and policy names must be unique within the account. Names are not distinguished by case."
    "aws_iam_role": (("name", "account", True),),  # name_prefix: Terraform adds a unique suffix (checked below)
    "aws_iam_role_policy": (("name", "stack", False),),  # per role: PutRolePolicy "Adds or updates"
    "aws_iam_role_policy_attachment": (),
    # "Names are case-insensitive and must be unique within the VPC."
    "aws_security_group": (("name", "vpc", True),),
    "aws_vpc_security_group_egress_rule": (),
    "aws_vpc_security_group_ingress_rule": (),
    # One interface endpoint with private DNS per service and VPC (the second's private DNS name conflicts).
    "aws_vpc_endpoint": (("service_name", "vpc", True),),
    # "A statement identifier that differentiates the statement from others in the same policy": per function.
    "aws_lambda_permission": (("statement_id", "argument:function_name", False),),
    # Route 53 ConflictingDomainExists: one private hosted zone of a name per VPC.
    "aws_service_discovery_private_dns_namespace": (("name", "vpc", True),),
    # Not shown to be unique (Cloud Map adds a hash to a reused name's HttpName): warned about (W408), see below.
    "aws_service_discovery_http_namespace": (),
    "aws_service_discovery_public_dns_namespace": (),
    # ServiceAlreadyExists: per namespace (an existing namespace's id is a literal every stack may write).
    "aws_service_discovery_service": (("name", "argument:namespace_id", True),),
    "aws_service_discovery_instance": (("instance_id", "stack", False),),  # per service
    # "A custom domain name must be unique within a Region across all AWS accounts."
    "aws_apigatewayv2_domain_name": (("domain_name", "region", True),),
    "aws_apigatewayv2_api_mapping": (),
    # Not unique: CreateVpcLink and CreateApi raise no ConflictException for a name.
    "aws_apigatewayv2_vpc_link": (),
    "aws_apigatewayv2_api": (),
    # Per API: "Authorizer name must be unique"; stages, routes and integrations belong to their API too.
    "aws_apigatewayv2_authorizer": (("name", "stack", False),),
    "aws_apigatewayv2_stage": (("name", "stack", False),),
    "aws_apigatewayv2_route": (("route_key", "stack", False),),
    "aws_apigatewayv2_integration": (),
}
AMBIGUOUS_NAMESPACES = {"aws_service_discovery_http_namespace": "account_region",
                        "aws_service_discovery_public_dns_namespace": "everywhere"}


@dataclass(frozen=True)
class Name:
    stack: str
    type: str
    address: str
    name: str  # as AWS compares it
    scope: str
    key: str  # the scope's id: a VPC id, a literal argument; "" for account/region scopes


@dataclass(frozen=True)
class Where:
    """What a stack's provider says of where it applies."""

    region: Optional[str]
    accounts: Optional[frozenset[str]]


def where(doc: dict) -> Where:
    provider = doc["provider"]["aws"][0]
    accounts = provider.get("allowed_account_ids")
    return Where(provider.get("region"), frozenset(accounts) if accounts else None)


PROVIDER_REGION = "${data.aws_region.current.name}"  # the provider's region: not the stack's own value


def names_of(stack: str, doc: dict) -> Iterator[Name]:
    """Every name the stack's JSON gives AWS, with its scope."""
    region = where(doc).region or "<the provider's region>"
    for type_, blocks in doc.get("resource", {}).items():
        assert type_ in SCOPES, f"{type_}: say where AWS keeps its names unique (tests/aws_scopes.py)"
        for name, args in blocks.items():
            if type_ == "aws_iam_role":
                assert "name" not in args and args["name_prefix"], "a role's name must get Terraform's unique suffix"
            for argument, scope, folded in SCOPES[type_]:
                if argument not in args:
                    continue
                value = args[argument].replace(PROVIDER_REGION, region)
                key = ""
                if scope == "vpc":
                    key = args.get("vpc_id") or args.get("vpc") or ""
                elif scope.startswith("argument:"):
                    key = args.get(scope.split(":", 1)[1], "")
                    key = f"{stack}:{key}" if "${" in key else key
                if scope == "stack":
                    key = stack
                if "${" in value:
                    value = f"{stack}:{value}"  # computed by the stack itself
                yield Name(stack, type_, f"{type_}.{name}", value.lower() if folded else value, scope, key)


def may_share(scope: str, a: Where, b: Where) -> bool:
    regions_apart = bool(a.region and b.region and a.region != b.region)
    accounts_apart = a.accounts is not None and b.accounts is not None and not a.accounts & b.accounts
    if scope == "everywhere":
        return True
    if scope == "region":
        return not regions_apart
    if scope == "account":
        return not accounts_apart
    if scope == "stack":
        return False
    return not regions_apart and not accounts_apart  # account_region, and ids that live in one region (VPC, ...)


def shared_names(stacks: dict[str, dict]) -> list[tuple[Name, Name]]:
    """Every pair of names two stacks give AWS in one scope."""
    found = []
    named = {stack: list(names_of(stack, doc)) for stack, doc in stacks.items()}
    for (a, a_names), (b, b_names) in itertools.combinations(named.items(), 2):
        if a == b:
            continue
        apart = {scope: not may_share(scope, where(stacks[a]), where(stacks[b])) for scope in
                 ("account_region", "account", "region", "vpc", "stack", "everywhere")}
        index = {(n.type, n.scope, n.key, n.name): n for n in a_names}
        for n in b_names:
            other = index.get((n.type, n.scope, n.key, n.name))
            scope = n.scope if n.scope in apart else "account_region"  # argument:...: the ids are regional
            if other is not None and not apart[scope]:
                found.append((other, n))
    return found


def ambiguous_namespaces(stacks: dict[str, dict]) -> set[tuple[str, str, str]]:
    """(first stack, second stack, namespace name) for namespaces of one name the two stacks may both see."""
    found = set()
    for (a, doc_a), (b, doc_b) in itertools.combinations(stacks.items(), 2):
        for type_, scope in AMBIGUOUS_NAMESPACES.items():
            mine = {args["name"].lower() for args in doc_a.get("resource", {}).get(type_, {}).values()}
            for args in doc_b.get("resource", {}).get(type_, {}).values():
                if args["name"].lower() in mine and may_share(scope, where(doc_a), where(doc_b)):
                    found.add((a, b, args["name"]))
    return found
