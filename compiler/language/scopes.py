"""Names two environments of one routes.yaml would both give AWS, where AWS keeps names unique.

Each stack claims names in scopes (`claims`): a Lambda function's name in an account and region, a security group's
in a VPC, a custom domain's in a region across every account. The names this tool makes up carry the environment
(compiler.core.names); the names a user writes reach AWS as written, so two environments that inherit one would
collide: the second apply fails, or (a namespace name) two namespaces that clients cannot tell apart. `collisions`
reports each at the second environment: where it overrides the value, else at its key under `environments`.

Whether two environments may share an account and region is read from what the file says: regions both given and
different, or account ids both known (provider.allowed_account_ids, else the assumed role's account) and disjoint,
keep them apart; anything else may share. Scopes and their AWS sources: /work/shared-notes/aws-scopes.md, section 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from ..core import names
from ..core.diagnostics import Diagnostic, loc_text
from . import functions
from .arns import Arn
from .loader import Path
from .model import Model

# Where AWS keeps a name unique. A keyed scope (a VPC, a namespace, a function) is shared when the keys are equal;
# the others when the environments may share a region (and an account).
ACCOUNT_REGION, REGION, EVERYWHERE, VPC, NAMESPACE, FUNCTION = "account_region", "region", "everywhere", "vpc", \
    "namespace", "function"


@dataclass(frozen=True)
class Claim:
    kind: str  # what AWS names, as messages say it
    scope: str  # one of the scopes above
    key: str  # the scope's own id (a VPC id, ...); "" for the unkeyed scopes
    name: str  # as AWS compares it (lower-cased where AWS ignores case)
    shown: str  # as written
    path: Path  # where the name comes from in the document
    code: str = "E317"  # W408: AWS may accept both, but clients cannot tell the two apart
    hint: str = ""


def claims(model: Model) -> list[Claim]:
    """Every name the stack gives AWS in a scope wider than the stack itself."""
    return [*_function_claims(model), *_network_claims(model), *_user_claims(model)]


def _function_claims(model: Model) -> Iterator[Claim]:
    api, environment = model.api.name, model.environment
    functions = [("fanout", route.id) for route in model.fan_out_routes]
    functions += [("allowlist", a.key) for a in model.authorizers if a.type == "allowlist"]
    renamed = "give the environments api.name values that stay apart (the names are <api.name>-<environment>-...)"
    for kind, ident in functions:
        function = names.function_name(api, kind, ident, environment)
        yield Claim("Lambda function", ACCOUNT_REGION, "", function, function, ("api", "name"), hint=renamed)
        log_group = names.lambda_log_group(function)
        yield Claim("log group", ACCOUNT_REGION, "", log_group, log_group, ("api", "name"), hint=renamed)
        if kind == "fanout":
            group = names.security_group(api, kind, ident, environment)
            yield Claim("security group", VPC, model.vpc_link.vpc_id or "", group.lower(), group, ("api", "name"),
                        hint=renamed)
    for authorizer in model.authorizers:
        if authorizer.type == "lambda":  # permissions on a function that is not the stack's own
            statement = names.authorizer_statement(authorizer.key, environment)
            yield Claim("permission statement", FUNCTION, authorizer.function_arn or "", statement, statement,
                        ("authorizers", authorizer.key, "function_arn"))


def _network_claims(model: Model) -> Iterator[Claim]:
    link = model.vpc_link
    if model.fan_out_routes and link.cloud_map_access == "create_endpoint":
        group = names.security_group(model.api.name, "cloudmap", "endpoint", model.environment)
        yield Claim("security group", VPC, link.vpc_id or "", group.lower(), group, ("api", "name"))
        # One interface endpoint per service and VPC can have private DNS: the second is refused ("private-dns-
        # enabled cannot be set because there is already a conflicting DNS domain ... in the VPC").
        for api in functions.cloud_map_apis(model):  # each API the function calls has its endpoint
            service = f"com.amazonaws.{model.region or '<region>'}.{api}"
            yield Claim("interface VPC endpoint with private DNS", VPC, link.vpc_id or "", service, service,
                        ("vpc_link", "cloud_map_access"), hint="let one environment create the endpoints and the "
                        "other use them: vpc_link.cloud_map_access: existing_endpoint")


def _user_claims(model: Model) -> Iterator[Claim]:
    logs = model.api.access_logs
    if logs.enabled:
        yield Claim("log group", ACCOUNT_REGION, "", logs.group_name, logs.group_name, ("api", "access_logs",
                    "group_name"), hint="give the environment its own api.access_logs.group_name")
    domain = model.api.custom_domain
    if domain:  # "A custom domain name must be unique within a Region across all AWS accounts."
        yield Claim("custom domain", REGION, "", domain.domain_name.lower(), domain.domain_name,
                    ("api", "custom_domain", "domain_name"), hint="give the environment a domain name of its own")
    yield from _namespace_claims(model)


def _namespace_claims(model: Model) -> Iterator[Claim]:
    namespace = model.namespace
    if namespace is None:
        return
    if namespace.existing_id:  # services of one name in one namespace: ServiceAlreadyExists
        for service in model.services:
            if service.created:
                name = service.name.lower() if namespace.has_dns else service.name
                yield Claim("Cloud Map service", NAMESPACE, namespace.existing_id, name, service.name,
                            ("services", service.key), hint="give the environment's service its own name "
                            f"(services.{service.key}.name), or its own namespace")
        return
    path = ("namespace", "name")
    if namespace.type == "private_dns":  # Route 53: one private zone of a name per VPC (ConflictingDomainExists)
        yield Claim("private DNS namespace", VPC, namespace.vpc_id or "", namespace.name.lower().rstrip("."),
                    namespace.name, path, hint="give the environment its own VPC (namespace.vpc_id), or its own "
                    "namespace.name")
    elif namespace.type == "http":  # Cloud Map adds a hash to a reused name's HttpName, if it accepts the reuse
        yield Claim("HTTP namespace", ACCOUNT_REGION, "", namespace.name, namespace.name, path, "W408",
                    "give the environment its own namespace.name: DiscoverInstances finds a namespace by name only")
    else:  # a public zone of that name in each: only one can be the domain's delegated zone
        yield Claim("public DNS namespace", EVERYWHERE, "", namespace.name.lower().rstrip("."), namespace.name,
                    path, "W408", "give the environment its own namespace.name: resolvers find one delegated zone")


def accounts(model: Model) -> Optional[frozenset[str]]:
    """The accounts the stack may be applied in, when the file says: the account guard, else the assumed role's."""
    provider = model.provider
    if provider.allowed_account_ids:
        return frozenset(provider.allowed_account_ids)
    role = Arn.parse(provider.assume_role.role_arn) if provider.assume_role else None
    return frozenset({role.account}) if role else None


def shared(scope: str, key: str, a: Model, b: Model, other_key: str) -> bool:
    """Whether a name in `scope` of stack a and one of stack b are in the same scope."""
    if scope == EVERYWHERE:
        return True
    regions_apart = bool(a.region and b.region and a.region != b.region)
    if scope in (VPC, NAMESPACE, FUNCTION):  # ids of one region: one id in two regions is two resources
        return bool(key) and key == other_key and not regions_apart
    if scope == REGION:
        return not regions_apart
    known = accounts(a), accounts(b)
    return not regions_apart and not (None not in known and not known[0] & known[1])


def collisions(stacks: Iterable[tuple[str, Model]], where) -> list[Diagnostic]:
    """A diagnostic for each name an environment claims that an earlier one claims in the same scope. `where(name,
    path)` gives (line, col, loc) for environment `name`'s value at document `path`."""
    seen: list[tuple[str, Model, dict[tuple[str, str], Claim]]] = []
    found = []
    for name, model in stacks:
        mine = {(c.kind, c.name): c for c in claims(model)}
        for claim in mine.values():
            other = next(((n, c) for n, m, theirs in seen for c in [theirs.get((claim.kind, claim.name))]
                          if c is not None and shared(claim.scope, claim.key, model, m, c.key)), None)
            if other is not None:
                found.append(_diagnostic(other[0], name, claim, where(name, claim.path)))
        seen.append((name, model, mine))
    return found


_SCOPES = {ACCOUNT_REGION: "one account and region", REGION: "one region (of any account)", VPC: "one VPC",
           NAMESPACE: "one namespace", FUNCTION: "one function's policy", EVERYWHERE: "public DNS"}


def _diagnostic(first: str, second: str, claim: Claim, at: tuple[int, int, str]) -> Diagnostic:
    line, col, loc = at
    if claim.code == "W408":
        where = "the internet resolves one delegated zone per name" if claim.scope == EVERYWHERE \
            else f"they may share {_SCOPES[claim.scope]}"
        message = (f"environments {first} and {second} both create the {claim.kind} {claim.shown!r}, and {where}: "
                   "clients that look it up by name cannot tell the two apart")
    else:
        message = (f"environments {first} and {second} would both create the {claim.kind} {claim.shown!r} in "
                   f"{_SCOPES[claim.scope]}, where AWS keeps the name unique: the second apply fails")
    hint = claim.hint or f"set {loc_text(claim.path)} for {second}"
    return Diagnostic(line, col, claim.code, message, hint + _APART.get(claim.scope, ""), loc=loc)


_APART = {ACCOUNT_REGION: "; or say that they are apart: different `region`s, or provider.allowed_account_ids",
          REGION: "; or put the environments in different regions"}
