"""Terraform addresses: every logical id this tool emits is derived here, and only here.

An address is a promise to the user's state file: if it changes, Terraform destroys one resource and creates
another. So addresses come from names the user chose (a route's `id`, a service's key, an instance's id),
never from positions or from which other routes exist. Two different names can still slug to one address
(`raft-x` and `raft_x`); the validator calls these same functions to find such pairs and reports them
(E311) before anything is synthesized.
"""

from __future__ import annotations

import hashlib

# Singletons: one of each per stack, whatever routes.yaml says.
NAMESPACE = "namespace"
VPC_LINK = "vpc_link"
API = "api"
STAGE = "stage"
ACCESS_LOGS = "access_logs"
DOMAIN = "domain"
CURRENT = "current"  # the data sources for partition, region and account

MAX_ID = 64

MANAGED = "managed"  # Terraform's two modes of a block: a resource (`<type>.<name>`) ...
DATA = "data"  # ... or a data source (`data.<type>.<name>`)


def address(type_: str, name: str, mode: str = MANAGED) -> str:
    """A block's Terraform address: `aws_apigatewayv2_route.leader`, `data.aws_region.current`."""
    return f"data.{type_}.{name}" if mode == DATA else f"{type_}.{name}"


def slug(text: str) -> str:
    """A Terraform identifier: lower case, [a-z0-9_], no doubled or edge `_`, never empty, never a leading digit."""
    out = "".join(c if c.isascii() and c.isalnum() else "_" for c in text.lower())
    out = "_".join(part for part in out.split("_") if part)
    if not out or out[0].isdigit():
        out = "n_" + out
    return out


def route(method: str, path: str, explicit_id: str | None = None) -> str:
    """A route's address (and its integration's): the explicit `id`, else one derived from the route key.

    `GET /leader` -> get_leader, `GET /` -> get_root, `ANY /{proxy+}` -> any_proxy, `$default` -> default.
    """
    if explicit_id:
        return explicit_id
    if not method:
        return "default"
    rest = slug(path) if path != "/" else "root"
    out = f"{method.lower()}_{rest}".rstrip("_")
    if len(out) > MAX_ID:  # keep addresses readable and unique: a prefix plus a short digest of the whole key
        out = f"{out[:55]}_{hashlib.sha256(f'{method} {path}'.encode()).hexdigest()[:8]}"
    return out


def service(key: str) -> str:
    return slug(key)


def instance(service_key: str, instance_id: str) -> str:
    # slug() never yields "__", so the pair splits back unambiguously.
    return f"{slug(service_key)}__{slug(instance_id)}"


def authorizer(key: str) -> str:
    return slug(key)


def authorizer_permission(key: str) -> str:
    return f"authorizer_{slug(key)}"


def service_outputs(key: str) -> tuple[str, str]:
    """The output names carrying a created service's id and ARN."""
    return f"service_{slug(key)}_id", f"service_{slug(key)}_arn"


def service_registry_output(key: str) -> str:
    """The output carrying what an ECS service's service_registries block takes for a created service."""
    return f"service_{slug(key)}_registry"


def integration(route_id: str) -> str:
    """Each route has its own integration, at the route's own name."""
    return route_id


# Fan-out routes and allow-list authorizers bring a function with its role, log group and (fan-out) security
# group: each set is named by a prefix and the route id / authorizer key, so no two sets share an address.
CLOUD_MAP_ENDPOINT = "cloud_map"  # the interface VPC endpoint for Cloud Map's data API, and its security group
CLOUD_MAP_CONTROL_ENDPOINT = "cloud_map_api"  # the one for its control API (GetNamespace), beside it
LINK_VPC = "vpc_link"  # the data source reading the VPC link's VPC (its CIDR block)


def fan_out(route_id: str) -> str:
    """The fan-out function's blocks (function, role, policy, log group, permission, security group)."""
    return f"fanout_{route_id}"


def fan_out_egress(route_id: str, what: str) -> str:
    """One egress rule of a fan-out function's security group: `fanout_reload__cloud_map`, `..__port_8080`."""
    return f"fanout_{route_id}__{what}"


def allowlist(key: str) -> str:
    """An allow-list authorizer's function blocks (its authorizer and permission keep their own names)."""
    return f"allowlist_{slug(key)}"


# --- names in AWS ---------------------------------------------------------------------------------------------
# Each name the stack gives AWS, with the scope in which AWS keeps it unique. Where that scope is wider than one
# stack (an account and region, a VPC, a function's policy), the name carries the environment, so two environments
# of one routes.yaml can live in one account; a file without environments keeps the names it always had.
#   Lambda function, its log group /aws/lambda/<function>  account + region      function_name, lambda_log_group
#   IAM role                                              account (no case)      role_prefix (+ Terraform's suffix)
#   security group                                         VPC (no case)          security_group
#   permission statement on a Lambda function              the function's policy  authorizer_statement
#   inline role policy                                     the role               (fixed names; one role per function)
#   VPC link, HTTP API, stage, authorizer                  not unique / the API   (the VPC link carries it anyway)
# Names the user writes (namespaces, log group names, custom domains) reach AWS as written; two environments that
# would share one are refused by compiler.language.scopes.

FUNCTION_NAME = 64  # Lambda FunctionName: "If you specify only the function name, it is limited to 64 characters"
STATEMENT_ID = 100  # lambda:AddPermission StatementId, ([a-zA-Z0-9-_]+)
ROLE_PREFIX = 38  # IAM RoleName is 1-64 characters; Terraform's name_prefix appends a 26-character unique suffix


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _lambda_text(text: str, limit: int) -> str:
    """`text` in the characters Lambda accepts ([A-Za-z0-9_-]); a longer one keeps a prefix and a digest of the
    whole, so it stays unique."""
    clean = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in text)
    if len(clean) <= limit:
        return clean
    return f"{clean[:limit - 9]}-{_digest(text)}"


def function_name(api_name: str, kind: str, ident: str, environment: str | None = None) -> str:
    """The Lambda function's name in AWS: `<api>-<kind>-<ident>`, in an environment `<api>-<environment>-<kind>-
    <ident>` (function names are unique per account and region); [A-Za-z0-9_-], at most 64 characters.

    `raft-api`, `fanout`, `reload` -> `raft-api-fanout-reload`; in staging `raft-api-staging-fanout-reload`.
    """
    return _lambda_text(f"{api_name}-{environment}-{kind}-{ident}" if environment else f"{api_name}-{kind}-{ident}",
                        FUNCTION_NAME)


def lambda_log_group(function: str) -> str:
    """The log group Lambda writes a function's logs to: its name is fixed by the function's."""
    return f"/aws/lambda/{function}"


def role_prefix(function: str) -> str:
    """The `name_prefix` of a function's role: IAM role names are account-wide (function names are per region), so
    Terraform completes a readable prefix with a unique suffix."""
    return function[:ROLE_PREFIX - 1].rstrip("-_") + "-"


def security_group(api_name: str, kind: str, ident: str, environment: str | None = None) -> str:
    """A security group's name: unique per VPC regardless of case, and never starting with `sg-` (CreateSecurityGroup:
    "Names are case-insensitive and must be unique within the VPC ... Can't start with sg-"). Named like the function
    it guards, and carrying the environment as the function's name does."""
    name = function_name(api_name, kind, ident, environment)
    return f"cmr-{name}" if name.lower().startswith("sg-") else name


def authorizer_statement(key: str, environment: str | None = None) -> str:
    """The statement id of API Gateway's permission to invoke an authorizer's function: unique per function policy,
    and a `lambda` authorizer's function may serve other stacks (dev and staging alike) in its account. At most 100
    characters of [A-Za-z0-9_-]."""
    return _lambda_text(f"AllowApiGatewayAuthorizer-{environment}-{key}" if environment
                        else f"AllowApiGatewayAuthorizer-{key}", STATEMENT_ID)


FAN_OUT_STATEMENT = "AllowApiGatewayInvoke"  # on the fan-out's own function: unique in its policy
